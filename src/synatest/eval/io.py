"""Atomic file writes and baseline files (a baseline is a saved :class:`RunReport`)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import ValidationError

from synatest._atomic import atomic_write_text
from synatest.eval.results import SCHEMA_VERSION, RunReport


def save_report(report: RunReport, path: str | os.PathLike[str]) -> Path:
    return atomic_write_text(path, report.model_dump_json(indent=2) + "\n")


class BaselineError(ValueError):
    """A baseline file that cannot be used (missing, not JSON, wrong schema)."""


def load_report(path: str | os.PathLike[str], *, what: str = "baseline") -> RunReport:
    """Read a saved run (``report.json`` or a saved baseline)."""
    source = Path(path)
    if not source.is_file():
        raise BaselineError(
            f"{what} {source}: no such file. Create it with "
            f"`pytest --synalinks-eval --synalinks-save-baseline={source}` on the reference "
            "version of your program"
        )
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BaselineError(f"{what} {source}: not a readable JSON file ({error})") from None
    version = data.get("schema_version") if isinstance(data, dict) else None
    if not isinstance(version, int) or not 1 <= version <= SCHEMA_VERSION:
        raise BaselineError(
            f"{what} {source}: schema_version {version!r}, this synatest reads 1 to "
            f"{SCHEMA_VERSION}; save a new baseline with --synalinks-save-baseline"
        )
    try:
        return RunReport.model_validate(data)
    except ValidationError as error:
        raise BaselineError(
            f"{what} {source}: not a synatest run report ({error.error_count()} "
            f"problem(s), first: {error.errors()[0]['msg']} at "
            f"{'.'.join(str(p) for p in error.errors()[0]['loc'])})"
        ) from None
