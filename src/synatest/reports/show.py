"""``synatest report show``: one example's runs and LM transcripts as plain text.

Readable in a terminal and in a CI log alike (no colours, no box drawing): the
example's summary, then each run with its prediction, what differs from the expected
output, its error and every LM call in order, the messages sent and the reply.
"""

from __future__ import annotations

import difflib
import json
import textwrap
from typing import Any

from synatest.errors import ReportError
from synatest.eval.results import ExampleResult, RunReport, RunResult, SuiteResult, TranscriptCall
from synatest.jsondiff import field_differences
from synatest.reports import _rows

# Each message or reply is cut to this many characters (report.json keeps it whole).
TEXT_LIMIT = 4000


def find_example(report: RunReport, example_id: str) -> tuple[SuiteResult, ExampleResult]:
    """The example named ``example_id`` (or ``SUITE/ID`` when two suites share an id).

    Raises:
        ReportError: no such example (the message lists the closest ids), or the id is
            in several suites (the message lists the ``SUITE/ID`` forms to use).
    """
    suite_name, _, bare = example_id.rpartition("/")
    found = [
        (suite, example)
        for suite in report.suites
        if not suite_name or suite.name == suite_name
        for example in suite.examples
        if example.id == (bare if suite_name else example_id)
    ]
    if len(found) == 1:
        return found[0]
    if found:
        forms = ", ".join(f"{suite.name}/{example.id}" for suite, example in found)
        raise ReportError(f"example {example_id!r} is in several suites; name one of: {forms}")
    ids = [e.id for s in report.suites for e in s.examples]
    close = difflib.get_close_matches(example_id, ids, n=5, cutoff=0.5)
    hint = f"; closest: {', '.join(close)}" if close else ""
    raise ReportError(f"no example {example_id!r} in this report ({len(ids)} examples){hint}")


def _text(value: Any, limit: int = TEXT_LIMIT) -> str:
    if isinstance(value, str):
        try:  # structured replies arrive as JSON text: show them pretty-printed
            value = json.loads(value)
        except ValueError:
            text = value
        else:
            text = json.dumps(value, indent=2, ensure_ascii=False)
    else:
        text = json.dumps(_rows.to_json(value), indent=2, ensure_ascii=False)
    text = str(text)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text) - limit} more)"


def _indent(text: str, prefix: str) -> str:
    return textwrap.indent(text, prefix, lambda line: True)


def _call_lines(number: int, call: TranscriptCall) -> list[str]:
    tokens = call.usage.prompt_tokens + call.usage.completion_tokens
    kind = f"judge {call.kind}" if call.judge else call.kind
    bits = [f"{kind} {call.model or '?'}", f"from {call.source or 'unknown'}"]
    bits.append(f"{call.latency_s * 1000:.1f} ms")
    bits.append(f"{tokens} tokens")
    if call.usage.cost:
        bits.append(_rows.fmt_cost(call.usage.cost))
    if call.schema_title:
        bits.append(f"schema {call.schema_title}")
    if call.tools:
        bits.append(f"tools {', '.join(call.tools)}")
    if call.recorded_repeat is not None:
        bits.append(f"recording of run {call.recorded_repeat + 1}")
    lines = [f"    [{number}] " + ", ".join(bits)]
    if call.inputs is not None:
        lines.append(f"        embedding of {call.inputs} text(s) (vectors are not kept)")
    for message in call.messages:
        role = str(message.get("role", "?"))
        content = message.get("content")
        lines.append(f"        {role}:")
        lines.append(_indent(_text(content if content is not None else ""), "          "))
        for tool_call in message.get("tool_calls") or ():
            lines.append(_indent(f"tool call: {_text(tool_call)}", "          "))
    if call.error is not None:
        lines.append(f"        error: {call.error}")
    else:
        lines.append("        reply:")
        if call.content is not None:
            lines.append(_indent(_text(call.content), "          "))
        for tool_call in call.tool_calls:
            arguments = _text(tool_call.get("arguments"))
            lines.append(f"          tool call {tool_call.get('name')}({arguments})")
    return lines


def _run_lines(run: RunResult, total: int, example: ExampleResult) -> list[str]:
    status = "error" if run.error else ("passed" if run.passed else "failed")
    reward = "–" if run.reward is None else f"{run.reward:.3f}"
    lines = [
        "",
        f"run {run.index + 1} of {total}: {status}, reward {reward}, {run.duration_s:.2f} s, "
        f"{run.usage.calls} LM call(s), {run.usage.prompt_tokens + run.usage.completion_tokens} "
        f"tokens, {_rows.fmt_cost(run.usage.cost)}",
    ]
    if run.error:
        lines.append("  error:")
        lines.append(_indent(run.error, "    "))
    lines.append("  prediction:")
    lines.append(_indent(_text(run.prediction), "    "))
    if example.expected is not None and run.prediction is not None:
        differences = field_differences(example.expected, run.prediction)
        if differences:
            lines.append("  differs from expected:")
            lines.extend(f"    {line}" for line in differences)
    if run.shared_recording:
        lines.append("  (replayed a recording of another run: recorded without repeats)")
    if run.transcript is None:
        lines.append(
            "  transcript: not kept (pytest --synalinks-transcripts=all keeps every example's)"
        )
    elif not run.transcript:
        lines.append("  transcript: no LM call")
    else:
        lines.append("  transcript:")
        for number, call in enumerate(run.transcript, 1):
            lines.extend(_call_lines(number, call))
    return lines


def render_example(suite: SuiteResult, example: ExampleResult, run: int | None = None) -> str:
    """The text ``synatest report show`` prints; ``run`` (1-based) shows one run only.

    Raises:
        ReportError: ``run`` is not a run of this example.
    """
    runs = example.runs
    if run is not None and not 1 <= run <= len(runs):
        raise ReportError(
            f"example {example.id!r} has {len(runs)} run(s): --run takes 1 to {len(runs)}"
        )
    reward = "–" if example.reward is None else f"{example.reward:.3f}"
    tally = ""
    if runs:
        tally = (
            f" ({example.runs_passed}/{len(runs)} runs passed{', flaky' if example.flaky else ''})"
        )
    lines = [
        f"example {example.id} of suite {suite.name!r}: {_rows.status(example)}, reward "
        f"{reward}{tally}"
    ]
    if example.nodeid:
        lines.append(f"  test: {example.nodeid}")
    if example.error:
        lines.append("  error:")
        lines.append(_indent(example.error, "    "))
    lines.append("  inputs:")
    lines.append(_indent(_text(example.inputs), "    "))
    lines.append("  expected:")
    lines.append(_indent(_text(example.expected), "    "))
    if not runs:
        lines.append("  prediction:")
        lines.append(_indent(_text(example.prediction), "    "))
        lines.append("  (no runs or transcripts: this report was written without them)")
    chosen = runs if run is None else [runs[run - 1]]
    for item in chosen:
        lines.extend(_run_lines(item, len(runs), example))
    return "\n".join(lines) + "\n"
