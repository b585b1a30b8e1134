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
from synatest.eval.results import ExampleResult, RunReport, TranscriptCall
from synatest.jsondiff import field_differences
from synatest.reports import _rows, _templates, svg

FILENAME = "report.html"
# The page cuts each message, reply and prediction to this many characters;
# report.json and `synatest report show` keep them whole.
TEXT_LIMIT = 2000


def json_island(value: Any) -> Markup:
    """JSON safe inside ``<script type="application/json">`` (no ``</script>`` breakout)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _example_cells(report: RunReport) -> list[list[Any]]:
    # Compact positional rows: [suite, id, status, reward, inputs, expected, prediction,
    # error, calls, tokens, cost, duration, runs passed]; the page's script knows the order.
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
                    "{}/{}".format(*reversed(e.tally)),
                ]
            )
    return rows


def _cut(value: Any) -> Any:
    if isinstance(value, str) and len(value) > TEXT_LIMIT:
        return value[:TEXT_LIMIT] + f"… ({len(value) - TEXT_LIMIT} more characters)"
    return value


def _call_view(call: TranscriptCall) -> dict[str, Any]:
    return {
        "kind": call.kind,
        "model": call.model,
        "source": call.source,
        "schema": call.schema_title,
        "tools": call.tools,
        "inputs": call.inputs,
        "messages": [
            {"role": str(m.get("role", "?")), "content": _cut(_rows.compact(m.get("content", "")))}
            for m in call.messages
        ],
        "reply": _cut(
            call.content if isinstance(call.content, str) else _rows.compact(call.content)
        ),
        "tool_calls": [_cut(_rows.compact(tc)) for tc in call.tool_calls],
        "error": call.error,
        "tokens": call.usage.prompt_tokens + call.usage.completion_tokens,
        "cost": call.usage.cost,
        "ms": round(call.latency_s * 1000, 1),
    }


def _example_details(example: ExampleResult) -> dict[str, Any]:
    """What clicking an example shows: its runs, their diffs and transcripts."""
    runs = []
    for run in example.runs:
        prediction = run.prediction
        runs.append(
            {
                "index": run.index + 1,
                "reward": run.reward,
                "passed": run.passed,
                "error": _cut(run.error),
                "prediction": _cut(_rows.compact(prediction)) if prediction is not None else "",
                "diff": field_differences(example.expected, prediction)
                if example.expected is not None and prediction is not None
                else [],
                "seconds": round(run.duration_s, 3),
                "shared": run.shared_recording,
                "transcript": None
                if run.transcript is None
                else [_call_view(call) for call in run.transcript],
            }
        )
    return {"expected": _cut(_rows.compact(example.expected)), "runs": runs}


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
        details=json_island([_example_details(e) for s in report.suites for e in s.examples]),
        repeated=_rows.repeated(report),
        total=sum(len(s.examples) for s in report.suites),
    )


def write_html(report: RunReport, path: str | os.PathLike[str]) -> Path:
    return atomic_write_text(path, render_html(report))
