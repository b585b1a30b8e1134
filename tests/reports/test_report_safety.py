"""What a report shows is what the program produced: Markdown and CSV escaping, file
modes, the whole error with its traceback, undecodable report files."""

from __future__ import annotations

import csv
import os
import stat
from pathlib import Path

import pytest

from synatest._atomic import atomic_path, atomic_write_text
from synatest.errors import ReportError
from synatest.eval.results import ExampleResult, RunReport, SuiteResult
from synatest.reports import csv_report, load_report, markdown, write_reports

HOSTILE = (
    "![pixel](https://tracker.example/p.png) <img src=x onerror=alert(1)> **bold** "
    "`code` $x^2$ [link](https://evil.example) ~~gone~~ &copy; a | b"
)


def report_with(prediction: object, *, suite: str = "qa", error: str | None = None) -> RunReport:
    example = ExampleResult(
        id="e1",
        suite=suite,
        prediction=prediction,
        expected="ok",
        reward=0.0,
        passed=False,
        error=error,
    )
    return RunReport(
        suites=[SuiteResult(name=suite, n=1, examples=[example])], label="run <b>1</b>"
    )


def test_markdown_shows_hostile_text_as_typed() -> None:
    assert markdown.escape(HOSTILE) == (
        "\\!\\[pixel\\](https://tracker.example/p.png) &lt;img src=x onerror=alert(1)> "
        "\\*\\*bold\\*\\* \\`code\\` \\$x^2$ \\[link\\](https://evil.example) "
        "\\~\\~gone\\~\\~ &amp;copy; a \\| b"
    )
    text = markdown.render_markdown(report_with(HOSTILE))
    row = next(line for line in text.splitlines() if line.startswith("| e1 "))
    assert row.split(" | ")[3].startswith("\\!\\[pixel\\](https://tracker.example/p.png) &lt;img")
    assert "<img" not in text and "![" not in text and "<b>" not in text
    assert "run &lt;b>1&lt;/b>" in text  # the label in the heading


def test_markdown_shows_control_characters_as_pictures() -> None:
    assert markdown.escape("a\x00b\x1b[31mc\x7f") == "a\u2400b\u241b\\[31mc\u2421"
    text = markdown.render_markdown(report_with("red \x1b[31m alert", suite="q\x00a"))
    assert "\x1b" not in text and "\x00" not in text
    assert "red \u241b\\[31m alert" in text and "`q\u2400a`" in text


def test_markdown_keeps_ordinary_text_readable() -> None:
    assert markdown.escape("a < b, R&D, 0.750, x-y.z (1)") == "a < b, R&D, 0.750, x-y.z (1)"


def test_a_suite_name_with_backticks_stays_inside_its_code_span() -> None:
    text = markdown.render_markdown(report_with("no", suite="q`a"))
    assert "### Not passed in ``q`a`` (1)" in text
    assert markdown.code("`x`") == "`` `x` ``"


def test_fenced_blocks_cannot_be_closed_by_their_content() -> None:
    assert markdown.fence(["```", "x"], "diff") == ["````diff", "```", "x", "````"]


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (
            '=HYPERLINK("https://evil.example","click")',
            '\'=HYPERLINK("https://evil.example","click")',
        ),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("＝1+1", "'＝1+1"),
        ("-3", "-3"),
        ("+1.5e3", "+1.5e3"),
        ("plain", "plain"),
        ("nul\x00 and esc\x1b[31m", "nul and esc[31m"),
        ("\x00=1+1", "'=1+1"),
        (0.5, 0.5),
    ],
)
def test_spreadsheet_formulas_are_neutralized(value: object, written: object) -> None:
    assert csv_report.spreadsheet_safe(value) == written


def test_examples_csv_never_holds_a_formula(tmp_path: Path) -> None:
    report = report_with({"answer": "=1+1", "score": -3})
    report.suites[0].examples[0].id = "@id"
    write_reports(report, tmp_path, formats=("csv",))
    with open(tmp_path / "examples.csv", newline="", encoding="utf-8") as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["prediction.answer"] == "'=1+1"
    assert row["prediction.score"] == "-3"
    assert row["id"] == "'@id"


@pytest.fixture
def umask_022() -> object:
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("umask_022")
def test_written_files_get_the_mode_open_would_give_them(tmp_path: Path) -> None:
    written = write_reports(report_with("x"), tmp_path / "out")
    assert {p.name: mode(p) for p in written.values()} == {p.name: 0o644 for p in written.values()}
    kept = tmp_path / "kept.txt"
    kept.write_text("old")
    kept.chmod(0o640)
    atomic_write_text(kept, "new")
    assert mode(kept) == 0o640 and kept.read_text() == "new"
    with atomic_path(tmp_path / "model.json", suffix=".json") as tmp:
        tmp.write_text("{}")
    assert mode(tmp_path / "model.json") == 0o644


def test_a_report_that_is_not_utf8_names_file_and_byte(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_bytes(b'{"suites": [],\n "label": "caf\xe9"}')
    with pytest.raises(ReportError) as info:
        load_report(path)
    assert str(info.value) == (
        f"{path}: not valid UTF-8 at byte 29 (line 2, column 15): b'\\xe9' "
        "(invalid continuation byte); save the file as UTF-8 (is it a report.json?)"
    )
