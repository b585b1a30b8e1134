"""Reading ``synalinks.record_traces()`` output: one JSON line per LM call.

The Recorder (``synalinks.hooks.Recorder``) writes
``<base>/<program>/<module>/<module>_<TIMESTAMP>.jsonl``. Each line becomes one
:class:`~synatest.traces.records.TraceItem`: a module-level example (the inputs the
originating module rendered into its last user message, and its structured output)
and one recording (the messages sent, the completion appended by the Recorder).

A line that is not JSON (a file cut short), a record without one of the keys below, or
a record from a Synalinks version this reader does not know is a
:class:`~synatest.errors.TracesError` naming the file and line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from synatest.errors import TracesError
from synatest.traces.records import Example, Recording, TraceItem, module_inputs

REQUIRED_KEYS = (
    "synalinks_version",
    "call_id",
    "program",
    "module",
    "timestamp",
    "messages",
    "inputs_hash",
    "outputs",
    "config",
)
# Synalinks lines whose Recorder format this reader knows (major.minor).
KNOWN_VERSIONS = ("0.10",)


def recorder_files(source: Path) -> list[Path]:
    """The ``*.jsonl`` files of a Recorder folder (or the file itself), in a stable order."""
    if not source.exists():
        raise TracesError(f"{source}: no such Recorder file or folder")
    if source.is_file():
        return [source]
    files = sorted(p for p in source.rglob("*.jsonl") if not p.name.startswith("."))
    if not files:
        raise TracesError(
            f"{source}: no Recorder files (*.jsonl) in this folder; point at the folder "
            "given to synalinks.record_traces() (default $SYNALINKS_HOME)"
        )
    return files


def _version_known(version: Any) -> bool:
    if not isinstance(version, str):
        return False
    parts = version.split(".")
    return len(parts) >= 2 and ".".join(parts[:2]) in KNOWN_VERSIONS


def parse_record(record: Any, where: str) -> TraceItem:
    """One Recorder line (already JSON-decoded) as a trace item."""
    if not isinstance(record, dict):
        raise TracesError(f"{where}: a Recorder record is a JSON object, got {record!r:.60}")
    missing = [key for key in REQUIRED_KEYS if key not in record]
    if missing:
        raise TracesError(
            f"{where}: not a Synalinks Recorder record: no `{missing[0]}` key "
            f"(a record has {', '.join(REQUIRED_KEYS)})"
        )
    if not _version_known(record["synalinks_version"]):
        raise TracesError(
            f"{where}: written by Synalinks {record['synalinks_version']!r}, whose Recorder "
            f"format this synatest does not know (it reads Synalinks "
            f"{', '.join(KNOWN_VERSIONS)}.x records); upgrade synatest"
        )
    messages = record["messages"]
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise TracesError(f"{where}: `messages` must be a list of chat messages")
    config: dict[str, Any] = record["config"] if isinstance(record["config"], dict) else {}
    inner: dict[str, Any] = config["config"] if isinstance(config.get("config"), dict) else {}
    model = str(inner.get("model") or config.get("model") or "")
    exception = record.get("exception")
    outputs = record["outputs"]
    # The Recorder appends the completion as the last message when the call returned.
    sent = messages[:-1] if outputs is not None and messages else messages
    completion = messages[-1] if outputs is not None and messages else None
    call_id = str(record["call_id"])
    usage = record.get("usage") if isinstance(record.get("usage"), dict) else {}
    cost = record.get("cost")
    duration = record.get("duration")
    timestamp = float(record["timestamp"])
    example = Example(
        id=call_id,
        program=str(record["program"]),
        module=str(record["module"]),
        inputs=module_inputs(sent),
        expected=outputs,
        inputs_hash=str(record["inputs_hash"]),
        timestamp=timestamp,
        metadata={
            "source": "synalinks-recorder",
            "file": where.rsplit(":", 1)[0],
            "call_id": call_id,
            "parent_call_id": record.get("parent_call_id"),
            "model": model,
            "usage": usage,
            "cost": cost,
            "latency_s": duration,
            "config_hash": record.get("config_hash"),
            "synalinks_version": record["synalinks_version"],
        },
        exception=str(exception) if exception else None,
    )
    recording = Recording(
        model=model,
        messages=sent,
        completion=completion,
        usage=usage or {},
        cost=float(cost) if isinstance(cost, (int, float)) else None,
        exception=str(exception) if exception else None,
        created=timestamp,
    )
    return TraceItem(example, [recording], {example.module}, where)


def read_recorder(source: str | Path) -> Iterator[TraceItem]:
    """Every record of a Recorder folder or file, in file and line order.

    Raises:
        TracesError: naming ``file:line`` for a bad line; the source for a missing or
            empty folder.
    """
    for path in recorder_files(Path(source)):
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError as error:
            raise TracesError(f"{path}: not UTF-8 text ({error.reason})") from None
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise TracesError(
                    f"{where}: not a JSON line ({error.msg}, column {error.colno}); a line "
                    "cut short means the program was still writing: import once it stopped"
                ) from None
            yield parse_record(record, where)
