"""Several runs side by side: ``synatest report compare A B C ...``.

The model matrix of one ``--synalinks-models`` run, across runs: suites as rows, runs
as columns, each cell the suite's mean with its CI, pass rate, tokens, cost and p50/p95
latency, the best of each row marked (:mod:`synatest.eval.matrix`), and each run's
difference with the first run (the reference) with a 95% paired bootstrap CI on the
examples both scored (:func:`synatest.reports.compare.compare_suites`). Two runs keep
the fuller side-by-side view of :mod:`synatest.reports.compare`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, computed_field

from synatest._atomic import atomic_write_text
from synatest.errors import ReportError
from synatest.eval.matrix import cell_of, mark_best
from synatest.eval.results import Matrix, MatrixRow, RunReport
from synatest.reports import _rows, _templates
from synatest.reports.compare import (
    BOOTSTRAP_RESAMPLES,
    COMPARISON_SCHEMA_VERSION,
    RunInfo,
    compare_suites,
    run_info,
    run_label,
)

__all__ = ["MatrixComparison", "compare_many", "compare_many_paths", "render"]


class MatrixComparison(BaseModel):
    """Runs as columns (the first is the reference), suites as rows."""

    schema_version: int = COMPARISON_SCHEMA_VERSION
    runs: list[RunInfo]
    matrix: Matrix
    confidence: float = 0.95
    resamples: int = BOOTSTRAP_RESAMPLES

    @computed_field  # type: ignore[prop-decorator]
    @property
    def regressed(self) -> list[str]:
        """``suite: run`` for each suite of a run significantly worse than the first
        run's, or whose gates passed in the first run and fail in it."""
        reference = self.runs[0].label
        found = []
        for row in self.matrix.rows:
            first = row.cells.get(reference)
            for label, cell in row.cells.items():
                if label == reference:
                    continue
                gate_flip = first is not None and first.gates is True and cell.gates is False
                if cell.verdict == "worse" or gate_flip:
                    found.append(f"{row.name}: {label}")
        return found


def compare_many(
    reports: Sequence[RunReport],
    *,
    labels: Sequence[str | None] = (),
    sources: Sequence[str | None] = (),
) -> MatrixComparison:
    """Compare ``reports`` (at least two), each with the first."""
    if len(reports) < 2:
        raise ReportError(f"compare needs at least two runs, got {len(reports)}")
    infos = [
        run_info(
            report,
            labels[i] if i < len(labels) else None,
            sources[i] if i < len(sources) else None,
        )
        for i, report in enumerate(reports)
    ]
    names = [info.label for info in infos]
    if len(set(names)) < len(names):  # tell same-named runs apart by position
        for i, info in enumerate(infos):
            info.label = f"{i + 1}: {info.label}"
    columns = [info.label for info in infos]
    suites = [{suite.name: suite for suite in report.suites} for report in reports]
    order = list(dict.fromkeys(name for by_name in suites for name in by_name))
    rows = []
    for name in order:
        row = MatrixRow(name=name)
        reference = suites[0].get(name)
        for i, (column, by_name) in enumerate(zip(columns, suites, strict=True)):
            suite = by_name.get(name)
            if suite is None:
                continue
            cell = row.cells[column] = cell_of(suite)
            if i and reference is not None:
                against = compare_suites(reference, suite)
                cell.delta, cell.n_paired = against.delta, against.n_paired
                cell.delta_ci_low, cell.delta_ci_high = against.ci_low, against.ci_high
                cell.verdict = against.verdict
        rows.append(mark_best(row))
    return MatrixComparison(runs=infos, matrix=Matrix(columns=columns, rows=rows))


def compare_many_paths(
    paths: Sequence[str | os.PathLike[str]], *, labels: Sequence[str | None] = ()
) -> MatrixComparison:
    """Load each ``report.json`` (or report directory) and compare them with the first.

    Raises:
        ReportError: fewer than two paths, or a report that cannot be read (the message
            names the file).
    """
    from synatest.reports.json_report import load_report

    if len(paths) < 2:
        given = ", ".join(str(os.fspath(path)) for path in paths) or "none"
        raise ReportError(
            f"compare needs at least two runs (A B [C ...]), got {len(paths)} ({given}); "
            "give each run's report.json or report directory"
        )
    reports = [load_report(path) for path in paths]
    return compare_many(
        reports,
        labels=[
            (labels[i] if i < len(labels) else None) or report.label or run_label(path)
            for i, (report, path) in enumerate(zip(reports, paths, strict=True))
        ],
        sources=[os.fspath(path) for path in paths],
    )


def render_markdown(comparison: MatrixComparison) -> str:
    from synatest.reports.markdown import matrix_table

    return _templates.render(
        "compare_many.md.j2",
        c=comparison,
        matrix_table=matrix_table(comparison.matrix),
    )


def render_html(comparison: MatrixComparison) -> str:
    return _templates.render("compare_many.html.j2", c=comparison, matrix=comparison.matrix)


def render_json(comparison: MatrixComparison) -> str:
    return comparison.model_dump_json(indent=2, fallback=_rows.to_json) + "\n"


RENDERERS = {"md": render_markdown, "html": render_html, "json": render_json}


def render(comparison: MatrixComparison, fmt: str) -> str:
    return _templates.render_as(RENDERERS, comparison, fmt)


def write(comparison: MatrixComparison, path: str | os.PathLike[str], fmt: str) -> Path:
    return atomic_write_text(path, render(comparison, fmt))
