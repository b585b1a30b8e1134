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
from synatest.eval.judge_agreement import figures, stability_text
from synatest.eval.position_bias import position_bias_text
from synatest.eval.results import ExampleResult, RunReport, TranscriptCall
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


class _Strings:
    """One table of the texts of every transcript: a prompt repeated by 20,000 examples
    (the system message, the instructions) is stored once; rows hold its index."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self._index: dict[str, int] = {}

    def __call__(self, value: Any) -> int | None:
        if value is None:
            return None
        text = _cut(value if isinstance(value, str) else _rows.compact(value))
        found = self._index.get(text)
        if found is None:
            found = self._index[text] = len(self.texts)
            self.texts.append(text)
        return found


def _call_view(call: TranscriptCall, strings: _Strings) -> list[Any]:
    # Positional, as the page's script reads it: [kind, model, source, schema, tools,
    # embedded texts, messages [[role, text]], reply, tool calls, error, tokens, ms].
    return [
        f"judge {call.kind}" if call.judge else call.kind,
        call.model,
        call.source,
        call.schema_title,
        call.tools,
        call.inputs,
        [[str(m.get("role", "?")), strings(m.get("content", ""))] for m in call.messages],
        strings(call.content),
        [strings(tool_call) for tool_call in call.tool_calls],
        call.error,
        call.usage.prompt_tokens + call.usage.completion_tokens,
        round(call.latency_s * 1000, 1),
    ]


def _example_details(example: ExampleResult, strings: _Strings) -> list[Any]:
    """What clicking an example shows: [expected, runs]; each run positional too:
    [number, reward, passed, error, prediction, seconds, shared recording, transcript].
    The page diffs each prediction with the expected output itself."""
    runs = [
        [
            run.index + 1,
            run.reward,
            run.passed,
            _cut(run.error),
            strings(run.prediction),
            round(run.duration_s, 3),
            run.shared_recording,
            None
            if run.transcript is None
            else [_call_view(call, strings) for call in run.transcript],
        ]
        for run in example.runs
    ]
    return [strings(example.expected), runs]


def _details(report: RunReport) -> dict[str, Any]:
    strings = _Strings()
    examples = [_example_details(e, strings) for s in report.suites for e in s.examples]
    return {"strings": strings.texts, "examples": examples}


def render_html(report: RunReport) -> str:
    charts = []
    for suite in report.suites:
        rewards = [e.reward for e in suite.examples if e.reward is not None and not e.errored]
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
        details=json_island(_details(report)),
        repeated=_rows.repeated(report),
        judged=[s for s in report.suites if s.judge is not None],
        judge_figures=figures,
        stability_text=stability_text,
        position_bias_text=position_bias_text,
        total=sum(len(s.examples) for s in report.suites),
    )


def write_html(report: RunReport, path: str | os.PathLike[str]) -> Path:
    return atomic_write_text(path, render_html(report))
