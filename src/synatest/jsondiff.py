"""Field-by-field differences between two JSON values (an expected output and a
prediction): what ``assert_reward``, the rewards and the report views show."""

from __future__ import annotations

import json
from typing import Any


def leaves(value: Any, prefix: str = "") -> dict[str, Any]:
    """Flatten JSON into ``{"a.b.0": leaf}``."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(leaves(item, f"{prefix}{key}."))
        return out
    if isinstance(value, list):
        out = {}
        for index, item in enumerate(value):
            out.update(leaves(item, f"{prefix}{index}."))
        return out
    return {prefix[:-1]: value}


# Built once: json.dumps with options builds an encoder per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)


def short(value: Any, limit: int = 120) -> str:
    """One-line JSON of a value, cut to ``limit`` characters."""
    text = _ENCODER.encode(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def field_differences(expected: Any, predicted: Any) -> list[str]:
    """One line per field that differs: ``answer: expected 'Paris', got 'Lyon'``."""
    want = leaves(expected) if expected is not None else {}
    got = leaves(predicted) if predicted is not None else {}
    lines = []
    for key in list(want) + [k for k in got if k not in want]:
        label = key or "(value)"
        if key not in got:
            lines.append(f"{label}: expected {short(want[key])}, missing from the prediction")
        elif key not in want:
            lines.append(f"{label}: not expected, predicted {short(got[key])}")
        elif want[key] != got[key]:
            lines.append(f"{label}: expected {short(want[key])}, got {short(got[key])}")
    return lines
