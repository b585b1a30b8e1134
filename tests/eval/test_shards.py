"""Shards: N=3 shard runs (one of them `-n 2`, one chosen by $SYNATEST_SHARD) merged by
`synatest report merge` give the report of an unsharded run: same examples in the same
order, rewards, means, CIs, passes, repeats (pass@k, pass^k, flaky), baseline regression
gate and verdict. The merge refuses missing, duplicated and overlapping shards and shards
of other runs, naming the files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from synatest.cli.main import main
from synatest.reports.json_report import timeless

pytest_plugins = ["pytester"]

INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
X_MESSAGE = "expected a shard as I/N (this machine runs shard I of N, 1-based), such as 1/4"

SUITE = """
import os
import pytest
import synalinks
import synatest


class Question(synalinks.DataModel):
    question: str


class Answer(synalinks.DataModel):
    answer: str


def number_of(request):
    return int(request.last_user_message.split("question ")[1].split("'")[0])


def reply(request):
    number = number_of(request)
    wrong = int(os.environ["WRONG_EVERY"])
    return {"answer": "wrong" if number % wrong == 0 else f"a{number}"}


def flaky_reply(request):
    number = number_of(request)
    return {"answer": "wrong" if (number + request.repeat) % 3 == 0 else f"a{number}"}


async def run(lm_reply, router, x):
    router.use(synatest.FunctionLM(lm_reply))
    lm = synalinks.LanguageModel(model="openai/gpt-4o-mini")
    inputs = synalinks.Input(data_model=Question)
    outputs = await synalinks.Generator(data_model=Answer, language_model=lm)(inputs)
    return await synalinks.Program(inputs=inputs, outputs=outputs)(x)


@synatest.parametrize_dataset("qa.jsonl", x=Question, y=Answer)
@pytest.mark.synalinks_eval(suite="qa", threshold=0.9)
async def test_qa(x, y, synalinks_router):
    return await run(reply, synalinks_router, x)


@synatest.parametrize_dataset("qa.jsonl", x=Question, y=Answer)
@pytest.mark.synalinks_eval(suite="flaky", repeat=3, gate="pass_at_k", threshold=0.5)
async def test_flaky(x, y, synalinks_router):
    return await run(flaky_reply, synalinks_router, x)


def test_plain():
    pass
"""

N = 24  # qa: every 4th answer wrong against a baseline with none: 6 worse, p < 0.05


def _report(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((path / "report.json").read_text())
    return data


def test_three_shards_merged_equal_the_unsharded_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("xdist")
    rows = [{"id": f"q{i}", "question": f"question {i}", "answer": f"a{i}"} for i in range(N)]
    (pytester.path / "qa.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    pytester.makepyfile(test_suite=SUITE)
    monkeypatch.delenv("SYNATEST_SHARD", raising=False)
    for name in ("SYNATEST_RUN_ID", "GITHUB_RUN_ID", "CI_PIPELINE_ID", "BUILDKITE_BUILD_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WRONG_EVERY", "1000")
    pytester.runpytest(
        "--synalinks-eval", "--synalinks-report-dir=base", "--synalinks-save-baseline=base.json"
    ).assert_outcomes(passed=2 * N + 1)
    monkeypatch.setenv("WRONG_EVERY", "4")
    gates = ("--synalinks-baseline=base.json", "--synalinks-fail-regression=0")
    whole = pytester.runpytest("--synalinks-eval", "--synalinks-report-dir=whole", *gates)
    whole.assert_outcomes(passed=2 * N + 1)
    assert whole.ret == 1  # qa: mean 0.75 < 0.9, and a significant drop from the baseline

    one = pytester.runpytest(
        "--synalinks-eval", "--synalinks-report-dir=s1", "--synalinks-shard", "1/3", *gates
    )
    two = pytester.runpytest_subprocess(
        "--synalinks-eval", "--synalinks-report-dir=s2", "--synalinks-shard=2/3", "-n", "2", *gates
    )
    monkeypatch.setenv("SYNATEST_SHARD", "3/3")
    three = pytester.runpytest("--synalinks-eval", "--synalinks-report-dir=s3", *gates)
    monkeypatch.delenv("SYNATEST_SHARD")
    shards = (one, two, three)
    # Gates are deferred: every shard passes (its tests did), and says why.
    assert [r.ret for r in shards] == [0, 0, 0]
    for result in shards:
        result.stdout.fnmatch_lines(["*shard ?/3: suite gates deferred*synatest report merge*"])
        result.stdout.fnmatch_lines(["qa*exact_match*deferred"])
    counts = [r.parseoutcomes() for r in shards]
    assert sum(c.get("passed", 0) for c in counts) == 2 * N + 1
    # Each suite split within one example; the plain test in shard 1 only.
    sizes = [
        [len(s["examples"]) for s in _report(pytester.path / f"s{i}")["suites"]] for i in (1, 2, 3)
    ]
    assert sorted(sum(size) for size in sizes) == [16, 16, 16]
    assert "test_plain PASSED" not in two.stdout.str() and counts[0]["passed"] == 17
    shard_report = _report(pytester.path / "s2")
    assert shard_report["shard"]["index"] == 2 and shard_report["shard"]["count"] == 3
    assert all(s["gates"] == [] for s in shard_report["suites"])
    assert "gates deferred" in shard_report["suites"][0]["notes"][-1]
    # Its report.md and report.html say so instead of PASS.
    md = (pytester.path / "s2" / "report.md").read_text()
    assert md.startswith("## synatest evaluation: ⏸ shard 2/3, gates deferred\n")
    assert "shard 2/3: gates deferred</span>" in (pytester.path / "s2" / "report.html").read_text()

    inputs = [str(pytester.path / f"s{i}") for i in (1, 2, 3)]
    merged_dir = pytester.path / "merged"
    flags = ["--baseline", str(pytester.path / "base.json"), "--fail-regression", "0"]
    code = main(["report", "merge", *inputs[::-1], "-o", str(merged_dir), *flags])
    out = capsys.readouterr()
    assert code == 1, out.err
    assert "FAIL suite 'qa'" in out.out and "regression gate: mean reward dropped" in out.out
    assert sorted(p.name for p in merged_dir.iterdir()) == [
        "examples.csv",
        "examples.jsonl",
        "report.html",
        "report.json",
        "report.md",
    ]
    merged, unsharded = _report(merged_dir), _report(pytester.path / "whole")
    assert merged["shard"] is None
    assert [e["id"] for e in merged["suites"][0]["examples"]] == [f"q{i}" for i in range(N)]
    assert merged["suites"][1]["flaky"] and merged["suites"][1]["pass_at_k"]
    assert {g["name"] for g in merged["suites"][0]["gates"]} == {
        "threshold",
        "regression",
        "max_error_rate",
    }
    assert timeless(merged) == timeless(unsharded)

    # Without the baseline flags the verdict is the threshold's alone; still 1 (qa < 0.9).
    assert main(["report", "merge", *inputs, "-o", str(pytester.path / "m2")]) == 1
    capsys.readouterr()

    def refused(*paths: str) -> str:
        assert main(["report", "merge", *paths, "-o", str(pytester.path / "bad")]) == 2
        return capsys.readouterr().err

    s1, s2, s3 = inputs
    assert f"shard(s) 3/3 missing: have 1/3 ({s1}/report.json), 2/3 ({s2}/report.json)" in (
        refused(s1, s2)
    )
    assert f"shard 1/3 is given more than once: {s1}/report.json, {s1}/report.json" in refused(
        s1, s1, s2, s3
    )
    # Shard 1's examples relabelled as shard 2: they overlap with shard... 1.
    fake = pytester.path / "fake"
    fake.mkdir()
    data = _report(pytester.path / "s1")
    data["shard"]["index"] = 2
    (fake / "report.json").write_text(json.dumps(data))
    message = refused(s1, str(fake), s3)
    assert f"is in both {s1}/report.json and {fake}/report.json: shards must not overlap" in (
        message
    )
    data["shard"]["index"], data["shard"]["run_id"] = 2, "other-run"
    (fake / "report.json").write_text(json.dumps(data))
    assert "the shards come from different CI runs (None: " in refused(s1, str(fake), s3)
    data["shard"]["run_id"], data["git_commit"] = None, "0" * 40
    (fake / "report.json").write_text(json.dumps(data))
    assert "different git commits (" in refused(s1, str(fake), s3)
    assert f"{pytester.path / 'whole'}/report.json is not a shard's report" in refused(
        str(pytester.path / "whole")
    )
    shutil.rmtree(fake)


def test_bad_shard_values_are_usage_errors(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_one="def test_one():\n    pass\n")
    monkeypatch.delenv("SYNATEST_SHARD", raising=False)
    for value, message in (
        ("0/2", "the shard index I must be between 1 and N=2 (shards are 1-based), got '0/2'"),
        ("3/2", "the shard index I must be between 1 and N=2 (shards are 1-based), got '3/2'"),
        ("x", f"{X_MESSAGE}, got 'x'"),
    ):
        result = pytester.runpytest(f"--synalinks-shard={value}")
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines([f"*argument --synalinks-shard: {message}"])
    monkeypatch.setenv("SYNATEST_SHARD", "x")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*$SYNATEST_SHARD: expected a shard as I/N*got 'x'"])
    monkeypatch.delenv("SYNATEST_SHARD")
    pytester.makeini(INI + "synalinks_shard = 3/2\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*ini synalinks_shard: invalid value '3/2'*1-based*"])
    result = pytester.runpytest(
        "--synalinks-eval", "--synalinks-shard=1/2", "--synalinks-save-baseline"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*--synalinks-save-baseline with --synalinks-shard 1/2 would save part of the run: "
            "merge the shards (`synatest report merge DIR... -o OUT`) and use OUT/report.json "
            "as the baseline"
        ]
    )
    # A good ini value shards; the command line wins over the environment.
    pytester.makeini(INI + "synalinks_shard = 2/2\n")
    pytester.runpytest().assert_outcomes(deselected=1)
    monkeypatch.setenv("SYNATEST_SHARD", "2/2")
    pytester.runpytest("--synalinks-shard=1/2").assert_outcomes(passed=1)
    pytester.runpytest("--synalinks-shard=2/2", "--synalinks-shard-all-tests").assert_outcomes(
        passed=1
    )
