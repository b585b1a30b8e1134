"""Per-example results as JUnit XML properties (``record_property``).

pytest writes ``item.user_properties`` into ``--junitxml`` as ``<property>`` elements
of the example's ``<testcase>``, which CI systems show next to the test.
"""

from __future__ import annotations

from synatest.eval.results import ExampleResult
from synatest.reports._rows import compact, status

# Long predictions would bloat the XML; the full text is in examples.jsonl.
MAX_VALUE_CHARS = 500


def _short(text: str) -> str:
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def junit_properties(example: ExampleResult) -> list[tuple[str, object]]:
    """``(name, value)`` pairs for one example, names prefixed ``synalinks_``."""
    props: list[tuple[str, object]] = [
        ("synalinks_suite", example.suite),
        ("synalinks_example", example.id),
        ("synalinks_status", status(example)),
        ("synalinks_reward", "" if example.reward is None else f"{example.reward:.6g}"),
    ]
    if example.error:
        props.append(("synalinks_error", _short(example.error)))
    if example.prediction is not None:
        props.append(("synalinks_prediction", _short(compact(example.prediction))))
    if example.expected is not None:
        props.append(("synalinks_expected", _short(compact(example.expected))))
    if example.flaky:
        props.append(("synalinks_flaky", "true"))
    props.append(("synalinks_lm_calls", example.usage.calls))
    props.append(("synalinks_cost", f"{example.usage.cost:.6g}"))
    return props
