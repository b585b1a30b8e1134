"""``synatest report compare``: the comparison core and the command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from synatest import cli
from synatest.eval.results import ExampleResult, RunReport, SuiteResult, Usage
from synatest.reports import compare, load_report, write_reports

from .conftest import build_report


def _suite(name: str, rewards: dict[str, float | None]) -> SuiteResult:
    examples = [
        ExampleResult(
            id=i,
            suite=name,
            reward=r,
            passed=None if r is None else r >= 1.0,
            error="LMCallFailed: timeout" if r is None else None,
            prediction={"answer": f"{i}:{r}"},
            expected={"answer": i},
        )
        for i, r in rewards.items()
    ]
    scored = [r for r in rewards.values() if r is not None]
    return SuiteResult(
        name=name,
        n=len(examples),
        mean=sum(scored) / len(scored) if scored else None,
        errors=sum(1 for r in rewards.values() if r is None),
        examples=examples,
        usage=Usage(calls=len(examples), prompt_tokens=10 * len(examples), cost=0.01),
    )


def test_flipped_examples_both_ways() -> None:
    a = RunReport(suites=[_suite("qa", {"1": 1.0, "2": 0.0, "3": 1.0, "4": None, "5": 1.0})])
    b = RunReport(suites=[_suite("qa", {"1": 0.0, "2": 1.0, "3": None, "4": 1.0, "5": 1.0})])
    result = compare.compare_runs(a, b, label_a="old", label_b="new")
    (suite,) = result.suites
    assert [f.id for f in suite.broken] == ["1", "3"]
    assert [f.id for f in suite.fixed] == ["2", "4"]
    broken = {f.id: f for f in suite.broken}
    assert (broken["3"].status_a, broken["3"].status_b) == ("passed", "error")
    assert broken["3"].error_b == "LMCallFailed: timeout"
    assert broken["1"].prediction_a == {"answer": "1:1.0"}
    assert broken["1"].prediction_b == {"answer": "1:0.0"}
    assert suite.n_paired == 3  # 1, 2, 5: scored in both runs
    assert suite.pass_rate_a == pytest.approx(3 / 5)
    assert suite.pass_rate_b == pytest.approx(3 / 5)


def test_means_delta_and_ci_on_paired_runs() -> None:
    a = build_report(n=400, seed=1, p=0.6, error_rate=0.0, suites=("qa",))
    # B: the same examples, with 20% of A's failures fixed and nothing broken.
    b = a.model_copy(deep=True)
    fixed = 0
    for e in b.suites[0].examples:
        if e.reward == 0.0 and fixed < 0.2 * 400:
            e.reward, e.passed = 1.0, True
            fixed += 1
    scored = [e.reward for e in b.suites[0].examples if e.reward is not None]
    b.suites[0].mean = sum(scored) / len(scored)
    (suite,) = compare.compare_runs(a, b).suites
    assert suite.delta == pytest.approx(fixed / 400)
    assert suite.ci_method == "paired bootstrap"
    assert suite.ci_low is not None and suite.ci_high is not None
    assert 0 < suite.ci_low < suite.delta < suite.ci_high
    assert suite.verdict == "better"
    assert len(suite.fixed) == fixed and suite.broken == []


def test_noise_alone_is_not_a_verdict() -> None:
    # Two independent runs of the same p=0.7 program: the CI contains 0.
    a = build_report(n=200, seed=3, p=0.7, error_rate=0.0, suites=("qa",))
    b = build_report(n=200, seed=4, p=0.7, error_rate=0.0, suites=("qa",))
    (suite,) = compare.compare_runs(a, b).suites
    assert suite.ci_low is not None and suite.ci_high is not None
    assert suite.ci_low < 0 < suite.ci_high
    assert suite.verdict == "same"
    assert not compare.compare_runs(a, b).regressed


def test_significant_drop_is_a_regression() -> None:
    a = build_report(n=300, seed=5, p=0.9, error_rate=0.0, suites=("qa",))
    b = build_report(n=300, seed=5, p=0.6, error_rate=0.0, suites=("qa",))
    result = compare.compare_runs(a, b)
    assert result.suites[0].verdict == "worse"
    assert result.regressed


def test_bootstrap_is_deterministic_and_unpaired_when_no_ids_match() -> None:
    a = RunReport(suites=[_suite("qa", {f"a{i}": float(i % 2) for i in range(30)})])
    b = RunReport(suites=[_suite("qa", {f"b{i}": float(i % 3 > 0) for i in range(30)})])
    first = compare.compare_runs(a, b).suites[0]
    second = compare.compare_runs(a, b).suites[0]
    assert first.ci_method == "unpaired bootstrap"
    assert (first.ci_low, first.ci_high) == (second.ci_low, second.ci_high)
    assert first.n_paired == 0
    assert len(first.only_a) == 30 and len(first.only_b) == 30
    assert first.broken == [] and first.fixed == []


def test_suites_in_one_run_only_and_usage_deltas() -> None:
    a = RunReport(suites=[_suite("qa", {"1": 1.0})], usage=Usage(calls=5, cost=0.5))
    b = RunReport(
        suites=[_suite("qa", {"1": 1.0, "2": 0.0}), _suite("new", {"x": 1.0})],
        usage=Usage(calls=8, prompt_tokens=40, cost=0.25),
    )
    result = compare.compare_runs(a, b)
    assert [s.name for s in result.suites] == ["qa", "new"]
    qa, new = result.suites
    assert qa.only_b == ["2"] and qa.ci_method is None  # one pair: no interval
    assert (new.in_a, new.in_b, new.mean_a, new.mean_b, new.delta) == (False, True, None, 1.0, None)
    assert result.usage.calls == 3
    assert result.usage.tokens == 40
    assert result.usage.cost == pytest.approx(-0.25)
    assert qa.usage.calls == 1


def test_same_labels_are_told_apart() -> None:
    report = build_report(label="run")
    result = compare.compare_runs(report, report)
    assert (result.a.label, result.b.label) == ("A: run", "B: run")


def test_gate_flip_is_a_regression() -> None:
    a = build_report(n=50, seed=7, p=0.7, threshold=0.5)
    b = a.model_copy(deep=True)
    b.suites[0].gates[0].passed = False
    result = compare.compare_runs(a, b)
    assert result.suites[0].gates_a is True and result.suites[0].gates_b is False
    assert result.regressed


# -- rendering --------------------------------------------------------------------------


@pytest.fixture
def two_runs(tmp_path: Path) -> tuple[Path, Path]:
    before = tmp_path / "before"
    after = tmp_path / "after"
    write_reports(build_report(n=60, seed=1, p=0.5, label=None), before, formats=("json",))
    write_reports(
        build_report(n=60, seed=2, p=0.95, label=None, cost=0.0002), after, formats=("json",)
    )
    return before, after


def test_markdown_comparison(two_runs: tuple[Path, Path]) -> None:
    before, after = two_runs
    result = compare.compare_paths(before, after / "report.json")
    assert (result.a.label, result.b.label) == ("before", "after")
    text = compare.render_markdown(result)
    assert text.startswith("## synatest comparison: before → after")
    assert "| before mean" in text and "95% CI of Δ" in text
    assert "better" in text
    assert "### Fixed (not passed → passed) in `qa`" in text
    assert "### LM usage and cost" in text
    assert "$0.0060 → $0.0120 (+0.0060)" in text  # qa's cost doubled


def test_json_comparison_has_computed_fields(two_runs: tuple[Path, Path]) -> None:
    result = compare.compare_paths(*two_runs)
    data = json.loads(compare.render_json(result))
    assert data["schema_version"] == 1
    suite = data["suites"][0]
    assert suite["verdict"] == "better"
    assert suite["usage"]["cost"] == pytest.approx(0.006)
    assert data["regressed"] is False
    assert {"id", "status_a", "status_b", "reward_a", "reward_b"} <= set(suite["fixed"][0])


def test_html_comparison(two_runs: tuple[Path, Path]) -> None:
    text = compare.render_html(compare.compare_paths(*two_runs))
    assert text.startswith("<!DOCTYPE html>")
    assert 'id="fixed-qa"' in text
    assert "http" not in text


# -- the command ------------------------------------------------------------------------


def test_cli_compare_markdown_to_stdout(
    two_runs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["report", "compare", str(two_runs[0]), str(two_runs[1])]) == 0
    out = capsys.readouterr().out
    assert out.startswith("## synatest comparison: before → after")


def test_cli_compare_html_to_file(
    two_runs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "cmp" / "compare.html"
    code = cli.main(
        [
            "report",
            "compare",
            *map(str, two_runs),
            "--format",
            "html",
            "-o",
            str(target),
            "--label-a",
            "gpt-4o-mini",
            "--label-b",
            "gpt-4o",
        ]
    )
    assert code == 0
    assert f"comparison written to {target}" in capsys.readouterr().err
    assert "synatest comparison: gpt-4o-mini → gpt-4o" in target.read_text()


def test_cli_compare_fail_on_regression(
    two_runs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    before, after = two_runs
    args = ["report", "compare", str(after), str(before), "-f", "json", "--fail-on-regression"]
    assert cli.main(args) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out)["regressed"] is True
    assert "synatest: regression in suite(s) qa, math: before is worse than after" in captured.err
    # Without the flag, a regression is reported but the exit code is 0.
    assert cli.main(args[:-1]) == 0


def test_cli_compare_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.json").write_text("{")
    assert cli.main(["report", "compare", str(tmp_path / "bad.json"), str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("synatest report compare: error: ")
    assert "bad.json: not valid JSON" in err
    with pytest.raises(SystemExit) as exc:
        cli.main(["report", "compare", "a", "b", "--format", "pdf"])
    assert exc.value.code == 2
    assert "invalid choice: 'pdf'" in capsys.readouterr().err


def test_cli_report_without_action_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["report"]) == 2
    assert "compare" in capsys.readouterr().out


def test_cli_render_rewrites_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = build_report(n=10)
    write_reports(report, tmp_path, formats=("json",))
    assert cli.main(["report", "render", str(tmp_path / "report.json")]) == 0
    assert {p.name for p in tmp_path.iterdir()} == {
        "report.json",
        "examples.jsonl",
        "examples.csv",
        "report.md",
        "report.html",
    }
    assert load_report(tmp_path) == report
    out_dir = tmp_path / "md-only"
    assert cli.main(["report", "render", str(tmp_path), "-d", str(out_dir), "--formats", "md"]) == 0
    assert [p.name for p in out_dir.iterdir()] == ["report.md"]
    capsys.readouterr()
    assert cli.main(["report", "render", str(tmp_path), "--formats", "pdf"]) == 2
    assert "unknown report format(s) pdf" in capsys.readouterr().err


def test_console_script_runs(two_runs: tuple[Path, Path]) -> None:
    # The installed `synatest` entry point, in a fresh process.
    exe = Path(sys.executable).with_name("synatest")
    proc = subprocess.run(
        [str(exe), "report", "compare", *map(str, two_runs), "-f", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["b"]["label"] == "after"
