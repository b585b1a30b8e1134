"""The model matrix: suites as rows, models (or runs) as columns, the best of each row marked.

A ``--synalinks-models M1,M2`` run scores each suite once per model, as its own suite
``suite[model]`` (with its own gates and baseline); :func:`build_matrix` lays those
suites out as a table, which ``report.json`` keeps as ``matrix`` and ``report.md`` /
``report.html`` show. ``synatest report compare A B C`` fills the same table with one
column per run (:func:`cell_of` for each run's suite). Pure and pytest-free: built
from the suites alone, so a merged sharded run gets the same matrix as an unsharded one.

The best of a row: the highest mean; equal means (within float noise) are all marked;
a row with one column (or no mean) marks none.
"""

from __future__ import annotations

from collections.abc import Iterable

from synatest.eval.results import Matrix, MatrixCell, MatrixRow, SuiteResult, run_latencies
from synatest.eval.stats import EPSILON, percentile

__all__ = ["build_matrix", "cell_of", "mark_best", "percentile", "summary_lines"]


def cell_of(suite: SuiteResult) -> MatrixCell:
    """One suite's statistics as a matrix cell."""
    latencies = run_latencies(suite.examples)
    n = suite.n or len(suite.examples)
    return MatrixCell(
        suite=suite.name,
        n=n,
        mean=suite.mean,
        ci_low=suite.ci_low,
        ci_high=suite.ci_high,
        pass_rate=suite.passes / n if n else None,
        errors=suite.errors,
        calls=suite.usage.calls,
        tokens=suite.usage.prompt_tokens + suite.usage.completion_tokens,
        cost=suite.usage.cost,
        latency_p50_s=percentile(latencies, 50),
        latency_p95_s=percentile(latencies, 95),
        gates=suite.passed if suite.gates else None,
    )


def mark_best(row: MatrixRow) -> MatrixRow:
    """Mark the cells of ``row`` with the highest mean (every one of a tie)."""
    means = {column: cell.mean for column, cell in row.cells.items() if cell.mean is not None}
    row.best = []
    if len(row.cells) >= 2 and means:
        top = max(means.values())
        row.best = [column for column, value in means.items() if value >= top - EPSILON]
    for column, cell in row.cells.items():
        cell.best = column in row.best
    return row


def build_matrix(suites: Iterable[SuiteResult]) -> Matrix | None:
    """The matrix of a run's ``suite[model]`` suites (None when it ran no matrix).

    Rows and columns keep their order of first appearance in ``suites`` (the
    collection's order: the order the models were given in).
    """
    columns: list[str] = []
    rows: dict[str, MatrixRow] = {}
    for suite in suites:
        if suite.model is None:
            continue
        if suite.model not in columns:
            columns.append(suite.model)
        base = suite.base_name or suite.name
        row = rows.setdefault(base, MatrixRow(name=base))
        row.cells[suite.model] = cell_of(suite)
    if not rows:
        return None
    for row in rows.values():
        row.cells = {column: row.cells[column] for column in columns if column in row.cells}
        mark_best(row)
    return Matrix(columns=columns, rows=list(rows.values()))


def summary_lines(matrix: Matrix) -> list[str]:
    """The matrix in a few terminal lines: each suite's mean per model, the best marked."""
    lines = [f"model matrix ({len(matrix.columns)} models; * the best mean of each suite):"]
    for row in matrix.rows:
        means = ", ".join(
            f"{column} {'n/a' if cell.mean is None else f'{cell.mean:.3f}'}"
            + ("*" if cell.best else "")
            for column, cell in row.cells.items()
        )
        lines.append(f"  {row.name}: {means}")
    return lines
