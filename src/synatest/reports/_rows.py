"""Per-example rows shared by the JSONL, CSV, Markdown and HTML renderers."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from synatest.eval.results import ExampleResult, MatrixCell, RunReport, SuiteResult


def status(example: ExampleResult) -> str:
    """``"error"``, ``"passed"``, ``"failed"``, or ``"scored"`` (a reward, no pass mark).
    An example stopped by a per-example limit failed."""
    if example.errored or example.reward is None:
        return "error"
    if example.passed is None:
        return "scored"
    return "passed" if example.passed else "failed"


def to_json(value: Any) -> Any:
    """A JSON-ready value: pydantic models and Synalinks DataModels are dumped."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    get_json = getattr(value, "get_json", None)
    if callable(get_json):
        return to_json(get_json())
    model_dump = getattr(value, "model_dump", None)
    if callable(model_dump):
        return model_dump(mode="json")
    return str(value)


# One encoder for every call: json.dumps with options builds a new one each time, which
# cost more than the encoding itself on a 20,000-example report.
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": "))


def compact(value: Any) -> str:
    """One-line JSON text of a value (strings are kept as they are)."""
    if isinstance(value, str):
        return value
    return _COMPACT.encode(to_json(value))


def example_row(suite: SuiteResult, example: ExampleResult) -> dict[str, Any]:
    """One example as a flat JSON object (the ``examples.jsonl`` line)."""
    return {
        "suite": suite.name,
        "id": example.id,
        "nodeid": example.nodeid,
        "status": status(example),
        "reward": example.reward,
        "passed": example.passed,
        "error": example.error,
        "inputs": to_json(example.inputs),
        "expected": to_json(example.expected),
        "prediction": to_json(example.prediction),
        "runs": len(example.runs) or 1,
        "runs_passed": example.tally[1],
        "flaky": example.flaky,
        "duration_s": example.duration_s,
        "calls": example.usage.calls,
        "prompt_tokens": example.usage.prompt_tokens,
        "completion_tokens": example.usage.completion_tokens,
        "cost": example.usage.cost,
    }


def iter_rows(report: RunReport) -> Iterator[dict[str, Any]]:
    for suite in report.suites:
        for example in suite.examples:
            yield example_row(suite, example)


def fmt_float(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def fmt_ci(low: float | None, high: float | None, digits: int = 3) -> str:
    if low is None or high is None:
        return "–"
    return f"[{low:.{digits}f}, {high:.{digits}f}]"


def fmt_cost(cost: float) -> str:
    return f"${cost:.4f}"


def repeated(report: RunReport) -> bool:
    """Whether any suite ran its examples more than once (views then show pass@k)."""
    return any(suite.repeat > 1 for suite in report.suites)


def fmt_pass_at_k(suite: SuiteResult) -> str:
    """``pass@1 0.556, pass@3 0.667``: pass@1 and pass@K of a repeated suite."""
    ks = sorted({1, suite.repeat})
    return ", ".join(f"pass@{k} {fmt_float(suite.pass_at_k.get(str(k)))}" for k in ks)


def suite_status(suite: SuiteResult) -> str:
    if not suite.gates:
        return "no gate"
    return "PASS" if suite.passed else "FAIL"


# --- untrusted text inside Markdown: shown as typed -------------------------------

# What would not show as typed in GitHub Markdown: emphasis, code, links and images
# (`![](https://tracker)`), tables, strikethrough and math (`$`) are backslash-escaped;
# `<` that would open raw HTML (`<img>`, `<details>`, `<https://...>`) and `&` that
# would spell an entity become entities. "a < b" and "R&D" stay as they are.
# `$` only where it could open math (`$x$`), not in amounts such as `$0.0060`.
_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]|~!]|\$(?![\d\s]))")
_HTML_START = re.compile(r"<(?=[A-Za-z/!?])")
_ENTITY_START = re.compile(r"&(?=#?\w+;)")


# C0 controls but tab/newline/CR, and DEL: NUL or ESC (terminal escapes) show as
# their Unicode control pictures (␀, ␛), never as raw bytes.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _picture(match: re.Match[str]) -> str:
    code = ord(match[0])
    return "\u2421" if code == 0x7F else chr(0x2400 + code)


def escape(text: str) -> str:
    """``text`` shown literally in Markdown (inline): specials escaped, HTML as entities,
    control characters as their pictures."""
    text = _CONTROL.sub(_picture, text)
    text = _INLINE_SPECIAL.sub(lambda m: "\\" + m[0], text)
    text = _ENTITY_START.sub("&amp;", text)  # before `<` becomes the entity `&lt;`
    return _HTML_START.sub("&lt;", text)


def _longest_run(text: str, char: str) -> int:
    runs = re.findall(f"{re.escape(char)}+", text)
    return max((len(run) for run in runs), default=0)


def code(text: str) -> str:
    """An inline code span holding ``text`` exactly (backticks inside cannot close it)."""
    text = _CONTROL.sub(_picture, " ".join(text.split()))
    ticks = "`" * (_longest_run(text, "`") + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def fence(lines: list[str], info: str = "") -> list[str]:
    """A fenced code block around ``lines`` that no line inside can close."""
    ticks = "`" * max(3, _longest_run("\n".join(lines), "`") + 1)
    return [f"{ticks}{info}", *lines, ticks]


# --- the model matrix (report.md/html, report compare of several runs) -------------

BEST_MARK = "★"


def fmt_seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f} s"


def matrix_cell_lines(cell: MatrixCell) -> list[str]:
    """A matrix cell as short lines of plain text: mean (★ when best) and CI, pass rate,
    tokens and cost, p50/p95 latency, and the delta against the first column if any."""
    mean = fmt_float(cell.mean) + (f" {BEST_MARK}" if cell.best else "")
    lines = [
        mean,
        fmt_ci(cell.ci_low, cell.ci_high),
        f"pass {fmt_pct(cell.pass_rate)}"
        + (f", {cell.errors} error{'s' * (cell.errors != 1)}" if cell.errors else ""),
        f"{cell.tokens:,} tok, {fmt_cost(cell.cost)}",
        f"p50 {fmt_seconds(cell.latency_p50_s)}, p95 {fmt_seconds(cell.latency_p95_s)}",
    ]
    if cell.verdict is not None:
        delta = "–" if cell.delta is None else f"{cell.delta:+.3f}"
        lines.append(f"Δ {delta} {fmt_ci(cell.delta_ci_low, cell.delta_ci_high)} {cell.verdict}")
    return lines


def fmt_pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"
