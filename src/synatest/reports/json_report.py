"""``report.json``: the whole :class:`RunReport`, and reading it back."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from synatest._atomic import atomic_write_text
from synatest.errors import ReportError, decode_error_message
from synatest.eval.results import SCHEMA_VERSION, RunReport
from synatest.reports._rows import to_json

FILENAME = "report.json"


def render_json(report: RunReport, *, indent: int | None = 2) -> str:
    """The report as JSON text (the schema of :class:`RunReport`)."""
    return report.model_dump_json(indent=indent, fallback=to_json)


def write_json(report: RunReport, path: str | os.PathLike[str]) -> Path:
    return atomic_write_text(path, render_json(report) + "\n")


def resolve_report_path(path: str | os.PathLike[str]) -> Path:
    """``path`` itself, or ``path/report.json`` when ``path`` is a report directory."""
    target = Path(path)
    if target.is_dir():
        target = target / FILENAME
    if not target.is_file():
        raise ReportError(
            f"no report at {os.fspath(path)!r}: give a report.json file or the directory "
            "holding one (written by `pytest --synalinks-eval --synalinks-report-dir DIR`)"
        )
    return target


def load_report(path: str | os.PathLike[str]) -> RunReport:
    """Read a ``report.json`` (or the one in a report directory) back into a RunReport.

    Raises:
        ReportError: the file is missing, is not JSON, was written by a newer
            synatest, or does not match the report schema. The message names the file.
    """
    target = resolve_report_path(path)
    try:
        raw = target.read_bytes()
    except OSError as error:
        raise ReportError(f"cannot read report {target}: {error.strerror or error}") from None
    try:
        data: Any = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise ReportError(
            decode_error_message(target, raw, error) + " (is it a report.json?)"
        ) from None
    except json.JSONDecodeError as error:
        raise ReportError(
            f"{target}: not valid JSON (line {error.lineno}, column {error.colno}: "
            f"{error.msg}); was the file cut short? Re-run the evaluation to rewrite it."
        ) from None
    if not isinstance(data, dict) or "suites" not in data:
        raise ReportError(
            f"{target}: not a synatest report (no 'suites' key); expected the report.json "
            "written by `pytest --synalinks-eval`"
        )
    version = data.get("schema_version", SCHEMA_VERSION)
    if isinstance(version, int) and version > SCHEMA_VERSION:
        raise ReportError(
            f"{target}: written with report schema version {version}, newer than this "
            f"synatest reads ({SCHEMA_VERSION}); upgrade synatest to read it"
        )
    try:
        return RunReport.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ReportError(
            f"{target}: does not match the report schema at {where}: {first['msg']} "
            f"({error.error_count()} problem(s) in all)"
        ) from None


def timeless(data: dict[str, Any]) -> dict[str, Any]:
    """A report.json's data with what differs from run to run blanked: when it was made,
    every duration and latency, and a shard's ``shard`` field. Two runs of the same
    suites (serial and ``-n 2``, sharded and merged) are then equal."""
    data = dict(data, created_at=None, duration_s=None, shard=None)
    for row in (data.get("matrix") or {}).get("rows", ()):
        for cell in row["cells"].values():
            cell["latency_p50_s"] = cell["latency_p95_s"] = None
    for suite in data["suites"]:
        suite["latency_p50_s"] = suite["latency_p95_s"] = None
        for example in suite["examples"]:
            example["duration_s"] = example["latency_s"] = None
            for run in example.get("runs", ()):
                run["duration_s"] = run["latency_s"] = None
                for call in run.get("transcript") or ():
                    call["latency_s"] = None
    return data
