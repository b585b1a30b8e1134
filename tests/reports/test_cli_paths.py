"""`synatest report`: a path the user gave that cannot be used is one line, exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from synatest import cli
from synatest.eval.results import RunReport


@pytest.fixture
def report_json(tmp_path: Path) -> Path:
    path = tmp_path / "report.json"
    path.write_text(RunReport().model_dump_json(), encoding="utf-8")
    return path


def test_render_into_a_forbidden_directory(
    report_json: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["report", "render", str(report_json), "-d", "/proc/forbidden"]) == 2
    captured = capsys.readouterr()
    assert captured.err == (
        "synatest report render: error: /proc/forbidden: No such file or directory\n"
    )
    assert "Traceback" not in captured.out + captured.err


def test_render_into_a_file_used_as_a_directory(
    report_json: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file")
    assert cli.main(["report", "render", str(report_json), "-d", str(blocker / "out")]) == 2
    assert capsys.readouterr().err == (
        f"synatest report render: error: {blocker / 'out'}: Not a directory\n"
    )


def test_compare_output_to_a_forbidden_path(
    report_json: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(
        ["report", "compare", str(report_json), str(report_json), "-o", "/proc/forbidden/c.md"]
    )
    assert code == 2
    assert capsys.readouterr().err == (
        "synatest report compare: error: /proc/forbidden: No such file or directory\n"
    )
