"""The reports plugin in pytest runs: every file after --synalinks-eval, JUnit properties."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from synatest.reports import load_report

from ._suite import make_project

pytestmark = pytest.mark.usefixtures("preimport_synalinks")

ALL = {"report.json", "examples.jsonl", "examples.csv", "report.md", "report.html"}


def test_eval_run_writes_every_report(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = pytester.path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    make_project(pytester, n=6, wrong=(2,), broken=(4,))
    result = pytester.runpytest(
        "--synalinks-eval", "--synalinks-max-error-rate", "0.2", "--junitxml=junit.xml"
    )
    # The LM error is within the allowed error rate: eval mode reports it as xfailed.
    result.assert_outcomes(passed=5, xfailed=1)
    reports = pytester.path / "reports"
    assert {p.name for p in reports.iterdir()} == ALL
    result.stdout.fnmatch_lines(
        [
            "synatest reports: report.json, examples.jsonl, examples.csv, "
            f"report.md, report.html in {reports}"
        ]
    )

    report = load_report(reports)
    (suite,) = report.suites
    assert (suite.name, suite.n, suite.errors) == ("sums", 6, 1)
    by_id = {e.id: e for e in suite.examples}
    assert by_id["s02"].reward == 0.0 and by_id["s02"].prediction == {"answer": "16"}
    assert (by_id["s04"].error or "").startswith("LMCallFailed: LanguageModel")
    assert by_id["s00"].usage.calls == 1 and by_id["s00"].usage.prompt_tokens > 0

    lines = (reports / "examples.jsonl").read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == [f"s{i:02d}" for i in range(6)]
    assert "## synatest evaluation: ✅ PASS" in (reports / "report.md").read_text()
    assert summary.read_text().startswith("## synatest evaluation: ✅ PASS")
    assert 'id="synatest-examples"' in (reports / "report.html").read_text()

    # Each example's result is attached to its JUnit test case.
    tree = ET.parse(pytester.path / "junit.xml")
    cases = {c.get("name"): c for c in tree.iter("testcase")}
    props = {p.get("name"): p.get("value") for p in cases["test_sums[s02]"].iter("property")}
    assert props["synalinks_suite"] == "sums"
    assert props["synalinks_example"] == "s02"
    assert props["synalinks_status"] == "failed"
    assert props["synalinks_reward"] == "0"
    assert props["synalinks_prediction"] == '{"answer": "16"}'
    broken = {p.get("name"): p.get("value") for p in cases["test_sums[s04]"].iter("property")}
    assert broken["synalinks_status"] == "error"
    assert str(broken["synalinks_error"]).startswith("LMCallFailed")
    assert len(list(cases["test_sums[s00]"].iter("property"))) == len(props)


def test_report_dir_and_formats(pytester: pytest.Pytester) -> None:
    make_project(pytester, n=2)
    result = pytester.runpytest(
        "--synalinks-eval",
        "--synalinks-report-dir",
        "out/eval",
        "--synalinks-report-formats",
        "md,csv",
    )
    result.assert_outcomes(passed=2)
    # report.json is always written by eval mode itself.
    assert {p.name for p in (pytester.path / "out" / "eval").iterdir()} == {
        "report.json",
        "report.md",
        "examples.csv",
    }


def test_formats_from_ini(pytester: pytest.Pytester) -> None:
    make_project(pytester, n=2, ini="synalinks_report_formats = html\n")
    pytester.runpytest("--synalinks-eval").assert_outcomes(passed=2)
    assert {p.name for p in (pytester.path / "reports").iterdir()} == {"report.json", "report.html"}


def test_bad_formats_fail_at_start(pytester: pytest.Pytester) -> None:
    make_project(pytester, n=2)
    result = pytester.runpytest("--synalinks-eval", "--synalinks-report-formats", "md,pdf")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*unknown report format(s) pdf; use 'all' or a comma-separated "
            "list of json, jsonl, csv, md, html*"
        ]
    )
    make_project(pytester, n=2, ini="synalinks_report_formats = xml\n")
    result = pytester.runpytest("--synalinks-eval")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*ini synalinks_report_formats: invalid value 'xml': unknown report format(s) xml*"]
    )


def test_no_reports_without_eval_mode(pytester: pytest.Pytester) -> None:
    make_project(pytester, n=2)
    result = pytester.runpytest()
    result.assert_outcomes(skipped=2)
    assert not (pytester.path / "reports").exists()
    assert "synatest reports:" not in result.stdout.str()


def test_render_matches_what_the_run_wrote(pytester: pytest.Pytester, tmp_path: Path) -> None:
    from synatest import cli

    make_project(pytester, n=3)
    pytester.runpytest("--synalinks-eval").assert_outcomes(passed=3)
    reports = pytester.path / "reports"
    assert cli.main(["report", "render", str(reports), "-d", str(tmp_path)]) == 0
    for name in ("examples.jsonl", "examples.csv", "report.md", "report.html"):
        assert (tmp_path / name).read_text() == (reports / name).read_text(), name
