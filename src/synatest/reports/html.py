"""``report.html``: one self-contained page (no network) for a reviewer.

Suites, gates, an inline-SVG histogram of each suite's rewards, and a per-example
table filtered in the browser by text, suite and status. The examples travel as one
JSON island the page's script renders (so a 20,000-example report stays small and
fast); the filter lives in the URL fragment (``#suite=qa&status=failed&q=paris``), so
a filtered view can be linked to.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from markupsafe import Markup

from synatest._atomic import atomic_write_text
from synatest.eval.results import RunReport
from synatest.reports import _rows, _templates, svg

FILENAME = "report.html"


def json_island(value: Any) -> Markup:
    """JSON safe inside ``<script type="application/json">`` (no ``</script>`` breakout)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _example_cells(report: RunReport) -> list[list[Any]]:
    # Compact positional rows: [suite, id, status, reward, inputs, expected, prediction,
    # error, calls, tokens, cost, duration]; the page's script knows the order.
    rows = []
    for suite in report.suites:
        for e in suite.examples:
            rows.append(
                [
                    suite.name,
                    e.id,
                    _rows.status(e),
                    e.reward,
                    _rows.compact(e.inputs) if e.inputs is not None else "",
                    _rows.compact(e.expected) if e.expected is not None else "",
                    _rows.compact(e.prediction) if e.prediction is not None else "",
                    e.error or "",
                    e.usage.calls,
                    e.usage.prompt_tokens + e.usage.completion_tokens,
                    e.usage.cost,
                    round(e.duration_s, 4),
                ]
            )
    return rows


def render_html(report: RunReport) -> str:
    charts = []
    for suite in report.suites:
        rewards = [e.reward for e in suite.examples if e.reward is not None and e.error is None]
        errors = sum(1 for e in suite.examples if _rows.status(e) == "error")
        charts.append(
            Markup(
                svg.reward_histogram(
                    rewards, errors, title=f"Reward distribution of suite {suite.name}"
                )
            )
        )
    return _templates.render(
        "report.html.j2",
        report=report,
        charts=charts,
        data=json_island(_example_cells(report)),
        total=sum(len(s.examples) for s in report.suites),
    )


def write_html(report: RunReport, path: str | os.PathLike[str]) -> Path:
    return atomic_write_text(path, render_html(report))
