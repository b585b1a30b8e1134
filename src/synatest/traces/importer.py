"""Trace items to files: a cassette and a dataset per program, merged into what is there.

``import_traces`` reads a source (a Recorder folder or file, or an MLflow store),
filters (program, module, time range), drops failed calls unless kept, de-duplicates
by ``inputs_hash``, samples, and writes under ``out``::

    out/cassettes/<program>.yaml    # the LM calls, replayed by the regression test
    out/datasets/<program>.jsonl    # {"id", "inputs", "expected", "metadata"} per line
    out/test_<program>_regression.py   # with emit_test

Every text is built and secret-scanned before the first file is written, and each
file is written atomically: an error leaves the folder as it was. Importing again
into the same folder adds only what is new (by example id and ``inputs_hash``).
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synatest._atomic import atomic_write_text
from synatest.cassettes import secrets
from synatest.cassettes.paths import _safe
from synatest.cassettes.store import Cassette, Interaction
from synatest.errors import CassetteError, TracesError
from synatest.traces.records import TraceItem, completion_response

# What a trace records of a request: imported cassettes are matched on these only.
MATCH_ON = ("messages", "model")


@dataclass
class ImportOptions:
    """What to keep. Every field's default keeps everything (failed calls excepted)."""

    programs: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()
    since: float | None = None  # seconds since the epoch, inclusive
    until: float | None = None
    sample: int | None = None
    seed: int = 0
    dedupe: bool = True
    keep_failed: bool = False
    redact: bool = False  # replace secrets by <redacted> instead of refusing
    emit_test: str | None = None  # "module:builder" or "path/to/file.py:builder"


@dataclass
class ImportSummary:
    calls: int = 0  # calls (Recorder lines) or traces (MLflow) read
    examples: int = 0
    recordings: int = 0
    files: list[Path] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)

    def line(self, source: str) -> str:
        unit = "traces" if self.skipped.get("_mlflow") is not None else "calls"
        skipped = {k: v for k, v in self.skipped.items() if not k.startswith("_") and v}
        why = ", ".join(f"{n} {reason}" for reason, n in sorted(skipped.items()))
        return (
            f"read {self.calls} {unit} from {source}; wrote {self.examples} example(s) and "
            f"{self.recordings} recording(s) ({len(self.files)} file(s)); "
            f"skipped {sum(skipped.values())}" + (f": {why}" if why else "")
        )


def _filtered(
    items: list[TraceItem], opts: ImportOptions, summary: ImportSummary
) -> list[TraceItem]:
    kept = []
    for item in items:
        example = item.example
        if opts.programs and example.program not in opts.programs:
            summary.skipped["other program"] += 1
        elif opts.modules and not (item.modules & set(opts.modules)):
            summary.skipped["other module"] += 1
        elif (opts.since is not None and example.timestamp < opts.since) or (
            opts.until is not None and example.timestamp > opts.until
        ):
            summary.skipped["outside the time range"] += 1
        elif example.exception and not opts.keep_failed:
            summary.skipped["failed (--keep-failed keeps them)"] += 1
        else:
            kept.append(item)
    return kept


def _existing_rows(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise TracesError(f"{path}:{number}: not a JSON line ({error.msg})") from None
        if not isinstance(row, dict) or "id" not in row:
            raise TracesError(f"{path}:{number}: not a dataset row written by synatest")
        rows.append(row)
    return rows


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return secrets.redact(value)
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return value


def _interactions(item: TraceItem) -> list[Interaction]:
    out = []
    for number, recording in enumerate(item.recordings):
        request = {"model": recording.model, "messages": recording.messages}
        call_id = f"{item.example.id}-{number}" if len(item.recordings) > 1 else item.example.id
        if recording.completion is None:
            error = {
                "type": "APIError",
                "module": "litellm.exceptions",
                "message": recording.exception or "the call failed in production",
            }
            out.append(Interaction(kind="completion", request=request, error=error))
            continue
        out.append(
            Interaction(
                kind="completion",
                request=request,
                response_type="ModelResponse",
                response=completion_response(recording, call_id),
                cost=recording.cost,
            )
        )
    return out


def import_items(
    items: list[TraceItem],
    out: Path,
    opts: ImportOptions,
    *,
    source: str,
    summary: ImportSummary | None = None,
) -> ImportSummary:
    """Filter, de-duplicate, sample and write ``items`` under ``out`` (see the module doc)."""
    summary = summary or ImportSummary()
    summary.calls += len(items)
    items = _filtered(items, opts, summary)
    if opts.redact:
        for item in items:
            item.example.inputs = _redacted(item.example.inputs)
            item.example.expected = _redacted(item.example.expected)
            for recording in item.recordings:
                recording.messages = _redacted(recording.messages)
                recording.completion = _redacted(recording.completion)
    by_program: dict[str, list[TraceItem]] = {}
    for item in items:
        by_program.setdefault(item.example.program, []).append(item)
    texts: dict[Path, str] = {}
    for program, group in by_program.items():
        name = _safe(program or "program")
        dataset_path = out / "datasets" / f"{name}.jsonl"
        cassette_path = out / "cassettes" / f"{name}.yaml"
        rows = _existing_rows(dataset_path)
        seen_ids = {str(row["id"]) for row in rows}
        seen_hashes = {
            str((row.get("metadata") or {}).get("inputs_hash")) for row in rows if opts.dedupe
        }
        fresh = []
        for item in group:
            if item.example.id in seen_ids:
                summary.skipped["already imported"] += 1
            elif opts.dedupe and item.example.inputs_hash in seen_hashes:
                summary.skipped["duplicate inputs_hash"] += 1
            else:
                fresh.append(item)
                seen_ids.add(item.example.id)
                seen_hashes.add(item.example.inputs_hash)
        if opts.sample is not None and len(fresh) > opts.sample:
            chosen = set(random.Random(opts.seed).sample(range(len(fresh)), opts.sample))
            summary.skipped["not sampled (--sample)"] += len(fresh) - opts.sample
            fresh = [item for n, item in enumerate(fresh) if n in chosen]
        if not fresh and dataset_path.exists():
            continue
        try:
            cassette = Cassette.load(cassette_path)
        except CassetteError as error:
            raise TracesError(f"{cassette_path}: cannot add to this cassette: {error}") from None
        if cassette.match_on is None:
            if len(cassette):
                raise TracesError(
                    f"{cassette_path}: a cassette not written by `synatest traces import` "
                    "is in the way; import into another folder"
                )
            cassette.match_on = MATCH_ON
        cassette.header["imported_from"] = source
        for item in fresh:
            for interaction in _interactions(item):
                cassette.record(interaction)
                summary.recordings += 1
            rows.append(item.example.row())
        summary.examples += len(fresh)
        texts[cassette_path] = cassette.to_text()
        texts[dataset_path] = "".join(
            json.dumps(row, ensure_ascii=False, sort_keys=True, default=str) + "\n" for row in rows
        )
        if opts.emit_test:
            from synatest.traces.emit import emitted_test

            texts[out / f"test_{name}_regression.py"] = emitted_test(
                program, opts.emit_test, out, dataset_path, cassette_path, source=source
            )
    # Every text is checked before anything is written: all or nothing.
    for path, text in texts.items():
        secrets.refuse(
            text,
            f"write {path}",
            "A secret reached a prompt or a reply in production: import with --redact to "
            "replace it by <redacted>, or filter that call out",
        )
    for path, text in texts.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, text)
        summary.files.append(path)
    return summary


def import_traces(
    source: str | Path,
    out: str | Path,
    opts: ImportOptions | None = None,
    *,
    experiment: str | None = None,
) -> ImportSummary:
    """Import a Recorder folder/file, or an MLflow store (with ``experiment``), into ``out``.

    Raises:
        TracesError: a bad source (naming file:line or the URI), or a secret found
            (unless ``redact``); nothing is written then.
    """
    opts = opts or ImportOptions()
    summary = ImportSummary()
    if experiment is not None:
        from synatest.traces.mlflow_traces import read_mlflow

        skipped: dict[str, int] = {}
        items = list(read_mlflow(str(source), experiment, skipped))
        summary.calls = sum(skipped.values())
        summary.skipped.update(skipped)
        summary.skipped["_mlflow"] = 0
    else:
        from synatest.traces.recorder import read_recorder

        items = list(read_recorder(source))
    try:
        return import_items(items, Path(out), opts, source=str(source), summary=summary)
    except CassetteError as error:  # the secret scan
        raise TracesError(str(error)) from None
