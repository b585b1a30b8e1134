"""Repeats in every view: report.md, examples.csv/jsonl, JUnit properties, compare."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from synatest.reports import compare, write_reports
from synatest.reports.junit import junit_properties

from .conftest import build_repeated_report, build_report


def test_markdown_shows_a_repeats_table_and_the_suites_notes(tmp_path: Path) -> None:
    report = build_repeated_report()
    report.suites[0].notes.append("flakiness cannot be observed")
    write_reports(report, tmp_path, formats=("md",))
    text = (tmp_path / "report.md").read_text()
    assert "### Repeats" in text
    assert "| capitals | 3      | pass@1 0.667, pass@3 1.000 | 0.000    | 1: france" in text
    assert "> **Note** — `capitals`: flakiness cannot be observed" in text
    write_reports(build_report(n=3), tmp_path, formats=("md",))
    assert "### Repeats" not in (tmp_path / "report.md").read_text()  # nothing repeated


def test_rows_carry_runs_passed_and_flaky(tmp_path: Path) -> None:
    write_reports(build_repeated_report(), tmp_path, formats=("csv", "jsonl"))
    with (tmp_path / "examples.csv").open(newline="") as handle:
        (row,) = csv.DictReader(handle)
    assert (row["runs"], row["runs_passed"], row["flaky"]) == ("3", "2", "True")
    (line,) = (tmp_path / "examples.jsonl").read_text().splitlines()
    data = json.loads(line)
    assert (data["runs"], data["runs_passed"], data["flaky"]) == (3, 2, True)


def test_junit_marks_flaky_examples() -> None:
    (example,) = build_repeated_report().suites[0].examples
    assert ("synalinks_flaky", "true") in junit_properties(example)
    steady = build_report(n=1).suites[0].examples[0]
    assert all(name != "synalinks_flaky" for name, _ in junit_properties(steady))


def test_compare_shows_repeats_side_by_side() -> None:
    before = build_repeated_report()
    after = build_repeated_report()
    after.suites[0].flaky = []
    after.suites[0].pass_hat_k = 1.0
    text = compare.render(compare.compare_runs(before, after), "md")
    assert "### Repeats" in text
    assert (
        "| capitals | 3 → 3  | 66.7% → 66.7% | 100.0% → 100.0% | 0.0% → 100.0% | 1 → 0   |" in text
    )
    html = compare.render(compare.compare_runs(before, after), "html")
    assert '<table id="repeats">' in html
    plain = compare.render(compare.compare_runs(build_report(n=3), build_report(n=3)), "md")
    assert "### Repeats" not in plain
