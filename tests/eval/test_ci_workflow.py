"""The GitHub Actions workflow of docs/scale-out.md: parsed, checked, and its merge job run.

The shard jobs' equivalent (three shard runs merged and compared with an unsharded run)
is tests/eval/test_shards.py; here the merge job's own command runs on shard reports laid
out as `actions/download-artifact` lays them out.
"""

from __future__ import annotations

import glob
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from synatest.cli.main import build_parser, main
from synatest.eval.results import ExampleResult, RunReport, ShardInfo, SuiteResult
from synatest.reports import write_reports

WORKFLOW = Path(__file__).parents[2] / "examples" / "ci" / "eval-shards.yml"


def workflow() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text())
    return data


def step(job: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in job["steps"] if s.get("name") == name)


def uses(job: dict[str, Any]) -> list[str]:
    return [s["uses"].split("@")[0] for s in job["steps"] if "uses" in s]


def test_the_shard_jobs_run_every_shard_with_uv_and_upload_their_reports() -> None:
    data = workflow()
    assert set(data["jobs"]) == {"eval", "merge"}
    job = data["jobs"]["eval"]
    count = int(data["env"]["SHARDS"])
    assert job["name"] == "eval shard ${{ matrix.shard }}"
    assert job["strategy"]["matrix"]["shard"] == list(range(1, count + 1))
    assert job["strategy"]["fail-fast"] is False
    assert job["env"]["SYNATEST_SHARD"] == f"${{{{ matrix.shard }}}}/{count}"
    assert uses(job) == [
        "actions/checkout",
        "astral-sh/setup-uv",
        "actions/upload-artifact",
    ]
    assert step(job, "Install")["run"] == "uv sync --locked"
    command = shlex.split(step(job, "Run shard")["run"])
    assert command[:4] == ["uv", "run", "pytest", "--synalinks-eval"]
    report_dir = command[command.index("--synalinks-report-dir") + 1]
    upload = step(job, "Upload the shard's reports")
    assert upload["with"]["path"] == report_dir
    assert upload["with"]["name"] == "eval-shard-${{ matrix.shard }}"
    assert upload["if"] == "${{ !cancelled() }}"


def test_the_merge_job_merges_gates_and_uploads_report_html() -> None:
    job = workflow()["jobs"]["merge"]
    assert job["name"] == "merge and gate"
    assert job["needs"] == "eval"
    assert job["if"] == "${{ !cancelled() }}"
    download = step(job, "Download the shards' reports")
    assert download["uses"].startswith("actions/download-artifact@")
    assert download["with"]["pattern"] == "eval-shard-*"
    command = shlex.split(step(job, "Merge and gate")["run"])
    assert command[:5] == ["uv", "run", "synatest", "report", "merge"]
    assert command[5] == f"{download['with']['path']}/eval-shard-*"
    args = build_parser().parse_args(command[3:])
    assert args.output == "reports/merged"
    upload = step(job, "Upload the merged report")
    assert "reports/merged/report.html" in upload["with"]["path"].split()
    assert upload["if"] == "${{ !cancelled() }}"


def shard_report(index: int, rewards: dict[int, float]) -> RunReport:
    examples = [
        ExampleResult(
            id=f"q{i}", suite="qa", nodeid=f"t.py::test_qa[q{i}]", reward=r, passed=r == 1
        )
        for i, r in rewards.items()
    ]
    return RunReport(
        git_commit="a" * 40,
        suites=[SuiteResult(name="qa", reward="exact_match", threshold=0.7, examples=examples)],
        shard=ShardInfo(
            index=index,
            count=2,
            run_id="123-1",
            order={e.nodeid or "": int(e.id[1:]) for e in examples},
        ),
    )


@pytest.mark.parametrize(("wrong", "verdict"), [(0, 0), (1, 0), (4, 1)])
def test_the_merge_step_gates_and_appends_report_md_to_the_step_summary(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    wrong: int,
    verdict: int,
) -> None:
    # As download-artifact leaves them: shards/<artifact name>/report.json.
    rewards = {i: 0.0 if i < wrong else 1.0 for i in range(10)}
    for index, part in ((1, range(0, 10, 2)), (2, range(1, 10, 2))):
        report = shard_report(index, {i: rewards[i] for i in part})
        write_reports(report, tmp_path / "shards" / f"eval-shard-{index}", ("json",))
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.chdir(tmp_path)
    command = shlex.split(step(workflow()["jobs"]["merge"], "Merge and gate")["run"])
    expanded = [m for arg in command[3:] for m in (sorted(glob.glob(arg)) or [arg])]
    assert main(expanded) == verdict, capsys.readouterr().err
    merged = tmp_path / "reports" / "merged"
    assert (merged / "report.html").is_file()
    assert summary.read_text().strip() == (merged / "report.md").read_text().strip()
    assert ("FAIL" if verdict else "PASS") + " suite 'qa'" in capsys.readouterr().out
