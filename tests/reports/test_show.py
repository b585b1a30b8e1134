"""``synatest report show REPORT_OR_DIR EXAMPLE_ID [--run N]``."""

from __future__ import annotations

from pathlib import Path

import pytest

from synatest import cli
from synatest.reports import write_reports

from .conftest import build_repeated_report, build_report


@pytest.fixture
def report_dir(tmp_path: Path) -> Path:
    write_reports(build_repeated_report(), tmp_path, formats=("json",))
    return tmp_path


def test_show_prints_every_run_with_its_diff_and_transcript(
    report_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["report", "show", str(report_dir), "france"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "example france of suite 'capitals': failed, reward 0.667 (2/3 runs passed, flaky)\n"
    )
    assert "run 1 of 3: passed, reward 1.000" in out
    assert "run 2 of 3: failed, reward 0.000" in out
    assert 'answer: expected "Paris", got "Lyon"' in out
    assert (
        "    [1] completion openai/gpt-4o-mini, from cassette, 12.0 ms, 25 tokens, schema Answer"
        in out
    )
    assert "        user:\n          What is the capital of France? <img src=x" in out
    assert '        reply:\n          {\n            "answer": "Lyon"\n          }' in out


def test_show_one_run_from_a_report_json(
    report_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        cli.main(["report", "show", str(report_dir / "report.json"), "france", "--run", "2"]) == 0
    )
    out = capsys.readouterr().out
    assert "run 2 of 3" in out
    assert "run 1 of 3" not in out and "run 3 of 3" not in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["fr4nce"],
            "synatest report show: error: no example 'fr4nce' in this report (1 examples); "
            "closest: france",
        ),
        (
            ["france", "--run", "4"],
            "synatest report show: error: example 'france' has 3 run(s): --run takes 1 to 3",
        ),
    ],
)
def test_show_errors_exit_2_with_a_message(
    report_dir: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert cli.main(["report", "show", str(report_dir), *args]) == 2
    assert capsys.readouterr().err.strip() == message


def test_an_id_in_two_suites_must_be_named_with_its_suite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = build_report(n=3, suites=("qa", "math"))
    for suite in report.suites:
        suite.examples[0].id = "shared"
    write_reports(report, tmp_path, formats=("json",))
    assert cli.main(["report", "show", str(tmp_path), "shared"]) == 2
    assert capsys.readouterr().err.strip() == (
        "synatest report show: error: example 'shared' is in several suites; name one of: "
        "qa/shared, math/shared"
    )
    assert cli.main(["report", "show", str(tmp_path), "math/shared"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("example shared of suite 'math'")
    assert "(0/0 runs passed)" not in out  # a report without runs: one summary line


def test_show_of_a_missing_report_names_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["report", "show", str(tmp_path / "nope.json"), "x"]) == 2
    assert "nope.json" in capsys.readouterr().err
