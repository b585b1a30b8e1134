"""Per-example rows shared by the JSONL, CSV, Markdown and HTML renderers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from synatest.eval.results import ExampleResult, RunReport, SuiteResult


def status(example: ExampleResult) -> str:
    """``"error"``, ``"passed"``, ``"failed"``, or ``"scored"`` (a reward, no pass mark)."""
    if example.error is not None or example.reward is None:
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


def compact(value: Any) -> str:
    """One-line JSON text of a value (strings are kept as they are)."""
    if isinstance(value, str):
        return value
    return json.dumps(to_json(value), ensure_ascii=False, separators=(", ", ": "))


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
