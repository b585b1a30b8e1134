"""``synatest report compare A B C ...``: the matrix of several runs, each against the first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synatest import cli
from synatest.eval.io import save_report
from synatest.eval.matrix import build_matrix, mark_best, percentile
from synatest.eval.results import MatrixCell, MatrixRow
from synatest.reports import compare_many, load_report, write_reports

from .conftest import build_report


@pytest.fixture
def three_runs(tmp_path: Path) -> list[Path]:
    """Same examples, three "models": weak (p=0.3), strong (p=0.95), middle (p=0.6)."""
    paths = []
    for name, seed, p in (("weak", 1, 0.3), ("strong", 2, 0.95), ("middle", 3, 0.6)):
        write_reports(build_report(n=60, seed=seed, p=p, label=None), tmp_path / name, ("json",))
        paths.append(tmp_path / name)
    return paths


def test_matrix_of_three_runs_against_the_first(three_runs: list[Path]) -> None:
    result = compare_many.compare_many_paths(three_runs)
    assert [run.label for run in result.runs] == ["weak", "strong", "middle"]
    assert result.matrix.columns == ["weak", "strong", "middle"]
    assert [row.name for row in result.matrix.rows] == ["qa", "math"]
    for row in result.matrix.rows:
        assert row.best == ["strong"]
        weak, strong, middle = (row.cells[c] for c in ("weak", "strong", "middle"))
        assert weak.verdict is None and weak.delta is None  # the reference
        assert strong.verdict == "better" and strong.delta_ci_low > 0  # type: ignore[operator]
        assert strong.n_paired and strong.n_paired > 40  # paired on shared example ids
        assert strong.delta == pytest.approx(strong.mean - weak.mean)  # type: ignore[operator]
        assert middle.delta is not None
        assert strong.tokens == 60 * 36 and strong.latency_p50_s == 0.25
    assert result.regressed == []


def test_markdown_json_and_html_of_three_runs(three_runs: list[Path]) -> None:
    result = compare_many.compare_many_paths(three_runs)
    text = compare_many.render(result, "md")
    assert text.startswith("## synatest comparison of 3 runs: weak · strong · middle")
    assert "| weak (reference) |" in text
    assert "| Suite | weak | strong | middle |" in text
    qa = next(line for line in text.splitlines() if line.startswith("| qa |"))
    cells = qa.split(" | ")[1:]
    assert "★" not in cells[0] and cells[1].startswith("**") and "★" in cells[1]
    assert "Δ +" in cells[1] and "better" in cells[1]
    data = json.loads(compare_many.render(result, "json"))
    assert data["matrix"]["rows"][0]["best"] == ["strong"]
    html = compare_many.render(result, "html")
    assert html.startswith("<!DOCTYPE html>") and 'class="num best"' in html


def test_cli_three_runs_and_fail_on_regression(
    three_runs: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    weak, strong, middle = map(str, three_runs)
    assert cli.main(["report", "compare", weak, strong, middle]) == 0
    assert "| Suite | weak | strong | middle |" in capsys.readouterr().out
    # strong first: weak and middle are worse.
    args = ["report", "compare", strong, weak, middle, "-f", "json", "--fail-on-regression"]
    assert cli.main(args) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out)["regressed"] == [
        "qa: weak",
        "qa: middle",
        "math: weak",
        "math: middle",
    ]
    assert captured.err.startswith("synatest: regression against strong: qa: weak; qa: middle")
    assert cli.main(args[:-1]) == 0


def test_cli_fewer_than_two_runs_or_an_unreadable_one(
    three_runs: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["report", "compare", str(three_runs[0])]) == 2
    assert capsys.readouterr().err == (
        f"synatest report compare: error: compare needs at least two runs (A B [C ...]), "
        f"got 1 ({three_runs[0]}); give each run's report.json or report directory\n"
    )
    (tmp_path / "bad.json").write_text("{")
    args = ["report", "compare", *map(str, three_runs), str(tmp_path / "bad.json")]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    bad = tmp_path / "bad.json"
    assert err.startswith(f"synatest report compare: error: {bad}: not valid JSON")


def test_same_labels_are_numbered(tmp_path: Path) -> None:
    report = build_report(n=5, label="run")
    path = save_report(report, tmp_path / "r.json")
    result = compare_many.compare_many_paths([path, path, path])
    assert [run.label for run in result.runs] == ["1: run", "2: run", "3: run"]


def test_best_rule_ties_and_single_columns() -> None:
    row = MatrixRow(
        name="s",
        cells={
            "a": MatrixCell(suite="s", mean=0.5),
            "b": MatrixCell(suite="s", mean=0.5 + 1e-12),
            "c": MatrixCell(suite="s", mean=0.2),
            "d": MatrixCell(suite="s", mean=None),
        },
    )
    assert mark_best(row).best == ["a", "b"]
    assert [cell.best for cell in row.cells.values()] == [True, True, False, False]
    alone = MatrixRow(name="s", cells={"a": MatrixCell(suite="s", mean=1.0)})
    assert mark_best(alone).best == []
    assert percentile([], 50) is None
    assert percentile([3.0, 1.0, 2.0, 4.0], 50) == 2.5
    assert percentile([1.0, 2.0], 95) == pytest.approx(1.95)


def test_reports_before_the_matrix_still_load(tmp_path: Path) -> None:
    """A schema-2 report (no matrix, no suite models) loads, renders and compares."""
    data = json.loads(build_report(n=5).model_dump_json())
    data["schema_version"] = 2
    del data["matrix"]
    for suite in data["suites"]:
        del suite["model"], suite["base_name"]
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "report.json").write_text(json.dumps(data))
    old = load_report(tmp_path / "old")
    assert old.matrix is None and build_matrix(old.suites) is None
    assert "Model matrix" not in write_reports(old, tmp_path / "out")["md"].read_text()
    result = compare_many.compare_many_paths([tmp_path / "old"] * 3)
    assert result.matrix.rows[0].name == "qa"
