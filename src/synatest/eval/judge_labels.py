"""Human labels in a dataset: read, checked, and put on the reward's 0..1 scale.

A labelled example carries a person's verdict or score of the output the judge scores,
in a field of its row (``human`` unless the suite says otherwise):

- a verdict: ``true``/``false``, ``pass``/``fail``, ``yes``/``no``, ``good``/``bad``,
  ``correct``/``incorrect`` (any case), or 1/0;
- a score on the reward's scale, 0.0 to 1.0;
- a grade on a scale of the suite's ``human_scale=(low, high)`` (``(1, 5)`` for a 1-5
  Likert grade), mapped to 0..1 as Synalinks maps a ``Rating`` judge's reward.

The kind of the labels decides the statistics: *binary* (every label 0 or 1),
*ordinal* (a ``human_scale``, or every label on the 0.05 grid of Synalinks' score
types) or *continuous* (anything else). Plain Python; no pytest, no pydantic.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_FIELD = "human"
KINDS = ("binary", "ordinal", "continuous")
PASS_WORDS = frozenset({"true", "pass", "passed", "yes", "good", "correct", "right"})
FAIL_WORDS = frozenset({"false", "fail", "failed", "no", "bad", "incorrect", "wrong"})
# Synalinks' score types all lie on this grid (FineScore steps by 0.05).
GRID = 0.05
_TOLERANCE = 1e-6


class LabelError(ValueError):
    """A label that is neither a verdict nor a score on the suite's scale."""


@dataclass(frozen=True)
class Scale:
    """A suite's human scale: ``(low, high)`` grades mapped onto 0..1 (None: 0..1)."""

    low: float = 0.0
    high: float = 1.0

    @classmethod
    def parse(cls, value: Any, where: str) -> Scale | None:
        if value is None:
            return None
        if (
            isinstance(value, (list, tuple))
            and len(value) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
            and value[0] < value[1]
        ):
            return cls(float(value[0]), float(value[1]))
        raise LabelError(
            f"{where}: human_scale= must be (low, high) with low < high, e.g. (1, 5); got {value!r}"
        )

    def levels(self) -> list[float] | None:
        """The 0..1 levels of a whole-number scale (1..5 -> 0, .25, .5, .75, 1)."""
        if not (self.low.is_integer() and self.high.is_integer()):
            return None
        steps = int(self.high - self.low)
        return [i / steps for i in range(steps + 1)] if steps <= 100 else None


def parse_label(value: Any, scale: Scale | None = None) -> float | None:
    """A label as a 0..1 score; None when the example has no label (missing, null, "").

    Raises:
        LabelError: a value that is neither a verdict word, a boolean nor a number on
            the scale (the message says what is accepted).
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    number: float | None = None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        word = value.strip().lower()
        if word in PASS_WORDS:
            return 1.0
        if word in FAIL_WORDS:
            return 0.0
        try:
            number = float(word)
        except ValueError:
            number = None
    if number is None or math.isnan(number) or math.isinf(number):
        raise LabelError(f"{value!r} is not a verdict or a score: {_accepted(scale)}")
    low, high = (scale.low, scale.high) if scale else (0.0, 1.0)
    if not low - _TOLERANCE <= number <= high + _TOLERANCE:
        raise LabelError(f"{value!r} is outside the scale {low:g} to {high:g}: {_accepted(scale)}")
    return min(1.0, max(0.0, (number - low) / (high - low)))


def _accepted(scale: Scale | None) -> str:
    scores = (
        f"a grade from {scale.low:g} to {scale.high:g} (the suite's human_scale)"
        if scale
        else "a score from 0 to 1 (or set human_scale=(low, high) on the synalinks_eval "
        "marker for grades such as 1-5)"
    )
    return f"use true/false, pass/fail, yes/no, or {scores}"


def read_labels(
    rows: Iterable[tuple[str, Mapping[str, Any]]], field: str, scale: Scale | None = None
) -> dict[str, float]:
    """Each labelled row's 0..1 label by its key (unlabelled rows left out).

    Args:
        rows: ``(where, row)`` pairs; ``where`` names the row in messages
            (``"qa.jsonl, line 3"``) and keys the result.
        field: the row field holding the labels.
        scale: the suite's human scale, if any.

    Raises:
        LabelError: naming the row and the field of the first bad label.
    """
    labels: dict[str, float] = {}
    for where, row in rows:
        try:
            label = parse_label(row.get(field), scale)
        except LabelError as error:
            raise LabelError(f"{where}: human label in field {field!r}: {error}") from None
        if label is not None:
            labels[where] = label
    return labels


def _on_grid(value: float) -> bool:
    return abs(value / GRID - round(value / GRID)) < _TOLERANCE


def detect_kind(labels: Iterable[float], scale: Scale | None = None) -> tuple[str, list[float]]:
    """The kind of a suite's labels and, for ordinal ones, the levels of their scale."""
    values = sorted(set(round(v, 6) for v in labels))
    if values and all(v in (0.0, 1.0) for v in values) and scale is None:
        return "binary", []
    levels = scale.levels() if scale else None
    if levels is not None:
        return "ordinal", levels
    if scale is None and values and all(_on_grid(v) for v in values) and len(values) <= 21:
        return "ordinal", values
    return "continuous", []


def snap(value: float, levels: list[float]) -> float:
    """The level closest to ``value`` (a judge's reward onto the human scale)."""
    return min(levels, key=lambda level: (abs(level - value), level))
