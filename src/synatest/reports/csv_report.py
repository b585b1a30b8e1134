"""``examples.csv``: one flat row per example, ready for ``pandas.read_csv``.

Fields of ``inputs``, ``expected`` and ``prediction`` that are JSON objects become
their own columns (``inputs.question``, ``expected.answer``, ...; nested values are
JSON text), so ``df["prediction.answer"] == df["expected.answer"]`` just works.
Suites with different fields share one file: a column a suite lacks is empty.

Text that a spreadsheet would run as a formula (it starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return, as a prediction such as
``=HYPERLINK("https://...")`` may) is written with a leading ``'``, the usual
defence against CSV injection; plain numbers (``-3``, ``+1.5e3``) are kept as they are.
Control characters other than tab, newline and carriage return (NUL, ESC, ...) are
removed. ``report.json`` and ``examples.jsonl`` keep every value exactly as produced.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path
from typing import Any

from synatest._atomic import atomic_open
from synatest.eval.results import RunReport
from synatest.reports._rows import compact, iter_rows

FILENAME = "examples.csv"

BASE_COLUMNS = [
    "suite",
    "id",
    "nodeid",
    "status",
    "reward",
    "passed",
    "error",
    "runs",
    "runs_passed",
    "flaky",
    "duration_s",
    "calls",
    "prompt_tokens",
    "completion_tokens",
    "cost",
]
SPREAD = ("inputs", "expected", "prediction")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def spreadsheet_safe(value: Any) -> Any:
    """``value`` without control characters, and with a leading ``'`` when it is text a
    spreadsheet would run as a formula."""
    if not isinstance(value, str):
        return value
    value = _CONTROL.sub("", value)
    if value.startswith(FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def _flatten(row: dict[str, Any]) -> dict[str, Any]:
    flat = {key: row[key] for key in BASE_COLUMNS}
    for part in SPREAD:
        value = row[part]
        if isinstance(value, dict):
            for key, item in value.items():
                flat[f"{part}.{key}"] = None if item is None else compact(item)
        elif value is not None:
            flat[part] = compact(value)
    return {key: spreadsheet_safe(value) for key, value in flat.items()}


def write_csv(report: RunReport, path: str | os.PathLike[str]) -> Path:
    rows = [_flatten(row) for row in iter_rows(report)]
    # Columns grouped by part (inputs, expected, prediction), first-seen order in each.
    seen: dict[str, dict[str, None]] = {part: {} for part in SPREAD}
    base = set(BASE_COLUMNS)
    for row in rows:
        for key in row:
            if key not in base:
                seen[key.split(".", 1)[0]].setdefault(key, None)
    columns = BASE_COLUMNS + [key for part in SPREAD for key in seen[part]]
    with atomic_open(path, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(rows)
    return Path(path)
