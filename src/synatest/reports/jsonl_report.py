"""``examples.jsonl``: one JSON object per example, streamed to disk."""

from __future__ import annotations

import os
from pathlib import Path

import jsonlines

from synatest._atomic import atomic_open
from synatest.eval.results import RunReport
from synatest.reports._rows import iter_rows

FILENAME = "examples.jsonl"


def write_jsonl(report: RunReport, path: str | os.PathLike[str]) -> Path:
    """Write one line per example: suite, id, status, reward, inputs, expected, ..."""
    with atomic_open(path) as handle, jsonlines.Writer(handle, compact=True) as writer:
        writer.write_all(iter_rows(report))
    return Path(path)
