"""``report.md``: the run as Markdown tables, also appended to ``$GITHUB_STEP_SUMMARY``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from synatest._atomic import atomic_write_text
from synatest.eval import judge_agreement
from synatest.eval.position_bias import position_bias_text
from synatest.eval.results import ExampleResult, Matrix, RunReport, SuiteResult
from synatest.reports import _rows, _templates
from synatest.reports._rows import code, escape, fence

FILENAME = "report.md"
__all__ = ["cell", "code", "escape", "fence", "render_markdown", "table", "write_markdown"]

STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"
# GitHub caps a step summary at 1 MiB: list at most this many examples per suite.
MAX_EXAMPLES_PER_SUITE = 20


def cell(value: Any, limit: int = 120) -> str:
    """Text safe inside a Markdown table cell: one line, shortened, shown as typed."""
    text = _rows.compact(value) if value is not None else ""
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return escape(text)


def table(headers: list[str], rows: list[list[Any]]) -> str:
    from tabulate import tabulate

    return str(
        tabulate(
            [[cell(v) for v in row] for row in rows],
            headers=headers,
            tablefmt="github",
            disable_numparse=True,
        )
    )


def matrix_table(matrix: Matrix, *, first: str = "Suite") -> str:
    """The matrix as a Markdown table: a row per suite, a column per model (or run),
    each cell's lines joined by ``<br>`` (GitHub renders them as line breaks)."""
    header = [first, *(escape(column) for column in matrix.columns)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in matrix.rows:
        cells = [escape(row.name)]
        for column in matrix.columns:
            cell = row.cells.get(column)
            if cell is None:
                cells.append("–")
                continue
            parts = _rows.matrix_cell_lines(cell)
            parts[0] = f"**{parts[0]}**" if cell.best else parts[0]
            cells.append("<br>".join(escape(part) if i else part for i, part in enumerate(parts)))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _not_passed(examples: list[ExampleResult]) -> list[ExampleResult]:
    bad = [e for e in examples if _rows.status(e) in ("error", "failed")]
    # Errors first, then the lowest rewards: what a reviewer should read first.
    bad.sort(key=lambda e: (e.reward is not None, e.reward or 0.0, e.id))
    return bad


def judge_block(suite: SuiteResult) -> dict[str, Any]:
    """A judge suite's agreement block as Markdown pieces (report.md's template)."""
    block = suite.judge
    assert block is not None
    headers, rows = judge_agreement.confusion_rows(block)
    lines = ["| Example | Human | Judge | Gap | Transcript |", "|---|---|---|---|---|"]
    for d in block.disagreements:
        show = code(f"synatest report show REPORT {suite.name}/{d.id}")
        lines.append(f"| {cell(d.id)} | {d.human:g} | {d.judge:g} | {d.gap:.3f} | {show} |")
    return {
        "suite": suite.name,
        "headline": judge_agreement.headline(suite.name, block),
        "figures": judge_agreement.figures(block) if block.n else "",
        "confusion": table(headers, rows) if block.n else "",
        "disagreements": "\n".join(lines) if block.disagreements else "",
        "stability": judge_agreement.stability_text(block),
        "position_bias": position_bias_text(block.position_bias),
    }


def render_markdown(report: RunReport, *, max_examples: int = MAX_EXAMPLES_PER_SUITE) -> str:
    suites_table = table(
        [
            "Suite",
            "Reward",
            "N",
            "Mean",
            "95% CI",
            "Threshold",
            "Passed",
            "Errors",
            "Gates",
            "Cost",
        ],
        [
            [
                s.name,
                s.reward or "–",
                s.n,
                _rows.fmt_float(s.mean),
                _rows.fmt_ci(s.ci_low, s.ci_high),
                _rows.fmt_float(s.threshold),
                f"{s.passes}/{s.n}",
                s.errors,
                _rows.suite_status(s),
                _rows.fmt_cost(s.usage.cost),
            ]
            for s in report.suites
        ],
    )
    repeat_table = ""
    if _rows.repeated(report):
        repeat_table = table(
            ["Suite", "Runs", "pass@k", "pass^k", "Flaky examples"],
            [
                [
                    s.name,
                    s.repeat,
                    _rows.fmt_pass_at_k(s),
                    _rows.fmt_float(s.pass_hat_k),
                    f"{len(s.flaky)}: {', '.join(s.flaky[:max_examples])}"
                    + (" …" if len(s.flaky) > max_examples else "")
                    if s.flaky
                    else "0",
                ]
                for s in report.suites
            ],
        )
    notes = [
        f"{_rows.code(s.name)}: {_rows.escape(note)}" for s in report.suites for note in s.notes
    ]
    gate_rows = [
        [s.name, g.name, "PASS" if g.passed else "FAIL", g.message or ""]
        for s in report.suites
        for g in s.gates
    ]
    gates_table = table(["Suite", "Gate", "Result", "Why"], gate_rows) if gate_rows else ""
    failing = []
    for s in report.suites:
        bad = _not_passed(s.examples)
        if not bad:
            continue
        rows = [
            [e.id, _rows.status(e), _rows.fmt_float(e.reward), e.error or e.prediction, e.expected]
            for e in bad[:max_examples]
        ]
        failing.append(
            {
                "suite": s.name,
                "count": len(bad),
                "shown": len(rows),
                "table": table(
                    ["Example", "Status", "Reward", "Error / prediction", "Expected"], rows
                ),
            }
        )
    usage_table = table(
        ["LM calls", "Prompt tokens", "Completion tokens", "Cost", "Duration"],
        [
            [
                report.usage.calls,
                report.usage.prompt_tokens,
                report.usage.completion_tokens,
                _rows.fmt_cost(report.usage.cost),
                f"{report.duration_s:.1f} s",
            ]
        ],
    )
    return _templates.render(
        "report.md.j2",
        report=report,
        matrix_table=matrix_table(report.matrix) if report.matrix else "",
        suites_table=suites_table,
        repeat_table=repeat_table,
        notes=notes,
        gates_table=gates_table,
        failing=failing,
        usage_table=usage_table,
        judges=[judge_block(s) for s in report.suites if s.judge is not None],
    )


def write_markdown(
    report: RunReport, path: str | os.PathLike[str], *, step_summary: bool = True
) -> Path:
    """Write ``report.md``; when ``$GITHUB_STEP_SUMMARY`` is set, append it there too."""
    text = render_markdown(report)
    atomic_write_text(path, text)
    summary = os.environ.get(STEP_SUMMARY_ENV)
    if step_summary and summary:
        # GitHub owns that file and reads it after the step: append, in one write.
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(text + "\n")
    return Path(path)
