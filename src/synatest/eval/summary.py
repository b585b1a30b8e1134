"""The ``synatest eval`` section of the terminal summary: suites, gates, the report path."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from synatest.eval.results import RunReport
    from synatest.eval.shard import Shard


def write_summary(
    terminal: Any,
    report: RunReport,
    *,
    shard: Shard | None,
    report_path: Path | None,
    save_baseline: Path | None,
) -> None:
    """Write the section with ``terminal`` (pytest's TerminalReporter)."""
    from tabulate import tabulate

    terminal.section("synatest eval")
    if not report.suites:
        terminal.write_line("no evaluation example ran (no test marked synalinks_eval was run)")
    else:
        rows = []
        for suite in report.suites:
            ci = (
                f"{suite.ci_low:.3f}-{suite.ci_high:.3f}"
                if suite.ci_low is not None and suite.ci_high is not None
                else "n/a"
            )
            rows.append(
                [
                    suite.name,
                    suite.reward,
                    suite.n,
                    "n/a" if suite.mean is None else f"{suite.mean:.3f}",
                    ci,
                    "-" if suite.threshold is None else f"{suite.threshold:g}",
                    suite.passes,
                    suite.errors,
                    "deferred" if shard else "PASS" if suite.passed else "FAIL",
                ]
            )
        headers = [
            "suite",
            "reward",
            "n",
            "mean",
            "95% CI",
            "threshold",
            "passes",
            "errors",
            "gate",
        ]
        for line in tabulate(rows, headers=headers, disable_numparse=True).splitlines():
            terminal.write_line(line)
        judged = [suite for suite in report.suites if suite.judge is not None]
        if judged:
            from synatest.eval.judge_agreement import summary_lines as judge_lines

            for suite in judged:
                assert suite.judge is not None
                for line in judge_lines(suite.name, suite.judge):
                    terminal.write_line(line)
        if report.matrix is not None:
            from synatest.eval.matrix import summary_lines

            for line in summary_lines(report.matrix):
                terminal.write_line(line)
        for suite in report.suites:
            for gate in suite.gates:
                if gate.name == "regression" and gate.passed and "paired" in gate.details:
                    d = gate.details
                    terminal.write_line(
                        f"suite {suite.name!r} vs baseline: {d['paired']} paired examples, "
                        f"drop {d['drop']:+.3f}, {len(d['worse'])} worse, "
                        f"{len(d['better'])} better (p={d['p_value']:.3f})"
                    )
        for suite in report.suites:
            for gate in suite.gates:
                if not gate.passed:
                    score = "n/a" if suite.mean is None else f"{suite.mean:.3f}"
                    threshold = "-" if suite.threshold is None else f"{suite.threshold:g}"
                    terminal.write_line(
                        f"FAILED suite {suite.name!r} (score {score}, threshold {threshold}) "
                        f"{gate.name} gate: {gate.message}",
                        red=True,
                    )
    if shard is not None:
        terminal.write_line(
            f"synatest: shard {shard}: suite gates deferred (this shard saw part of "
            "each suite); merge every shard's report with `synatest report merge DIR... "
            "-o OUT`, whose exit code is the gate verdict",
            yellow=True,
        )
    if report_path is not None:
        terminal.write_line(f"report: {report_path}")
    if save_baseline is not None:
        terminal.write_line(f"baseline saved: {save_baseline}")
    if not report.passed:
        terminal.write_line(
            "synatest: suite gates failed, so the session fails (exit code 1) even if "
            "every example test passed",
            red=True,
            bold=True,
        )
