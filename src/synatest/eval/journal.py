"""The eval journal: each example's result, kept as it finishes, for ``--synalinks-resume``.

Every ``--synalinks-eval`` run appends one JSON line per finished example to its own
file under ``REPORT_DIR/.journal/SCOPE/`` (``SCOPE`` is ``run``, or ``shard-I-of-N``
under ``--synalinks-shard``): the example's node id, its collection order, a
:func:`fingerprint` of what was run, and its whole ``ExampleResult`` with every run's
transcript (so a resumed report can keep them whatever ``--synalinks-transcripts`` says
then). Each line is written with one ``write`` as the example finishes, so a killed
process (Ctrl-C, SIGKILL, a CI timeout) loses at most the line being written: a torn last
line is ignored on read. A background thread fsyncs the file after each write, so a
machine crash loses at most the last moments too, and no example waits for the disk
(an fsync costs milliseconds, more than a replayed example; ``benchmarks/bench_eval.py``).

Each process writes a file of its own, named after it (``main``, or the xdist worker id
``gw0``, ...) and a fresh token, created exclusively: xdist workers, shards and a resumed
run never write to the same file, or append to a file an earlier run left torn, so no
lock is needed. A resumed run reads every file of its scope (xdist may deal the examples
to other workers the second time).

A finished run removes its scope's journal (:meth:`Journal.remove`: one rename, then
the deletion), and a run without ``--synalinks-resume`` replaces it, so a journal only
ever holds what an interrupted run finished.

Plain Python; the pydantic result models are imported when entries are read.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from synatest.eval.results import ExampleResult

JOURNAL_DIR = ".journal"
JOURNAL_VERSION = 1
SUFFIX = ".jsonl"
# A journalled result an item resumes from (set at collection by the eval session, read
# by the concurrency window so that a resumed example is never prefetched).
RESUMED_KEY = pytest.StashKey["ExampleResult"]()


class JournalError(ValueError):
    """A journal line that cannot be read (other than a torn last line)."""


def fingerprint(
    *,
    suite: str,
    settings: Mapping[str, Any],
    nodeid: str,
    params: Mapping[str, Any],
    model: str | None,
    human: float | None = None,
) -> str:
    """A digest of what an example's result depends on.

    ``settings`` is the suite's ``SuiteSpec.as_payload()`` (reward, threshold, pass mark,
    repeat, gate, k, model, judge), ``params`` the test's parameters made JSON (``x``,
    ``y``, ...), ``model`` the session's ``--synalinks-model``, ``human`` the example's
    label. A journalled result whose fingerprint differs is stale: its example is run
    again.
    """
    payload = {
        "suite": suite,
        "settings": dict(settings),
        "nodeid": nodeid,
        "params": dict(params),
        "model": model,
        "human": human,
    }
    text = json.dumps(payload, sort_keys=True, default=repr, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class Entry:
    """One journalled example: where it came from and what it scored."""

    nodeid: str
    order: int
    fingerprint: str
    result: dict[str, Any]  # ExampleResult fields, transcripts kept
    source: Path
    line: int

    def example(self) -> ExampleResult:
        from synatest.eval.results import ExampleResult

        return ExampleResult.model_validate(self.result)


@dataclass
class Contents:
    """What the journal of a scope holds: the entries of each node id."""

    entries: dict[str, list[Entry]] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    torn: int = 0  # torn last lines ignored

    def __len__(self) -> int:
        return len(self.entries)

    def match(self, nodeid: str, digest: str) -> tuple[Entry | None, bool]:
        """``(the entry of nodeid with this fingerprint, whether only stale ones exist)``.

        A node id has several entries when an earlier resume ran its stale result again.
        """
        entries = self.entries.get(nodeid, [])
        entry = next((e for e in reversed(entries) if e.fingerprint == digest), None)
        return entry, entry is None and bool(entries)


def _parse(path: Path, number: int, raw: bytes) -> Entry:
    where = f"journal {path}, line {number}"
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise JournalError(f"{where}: not JSON ({error})") from None
    if not isinstance(data, dict):
        raise JournalError(f"{where}: expected a JSON object, got {type(data).__name__}")
    version = data.get("v")
    if version != JOURNAL_VERSION:
        raise JournalError(
            f"{where}: journal format {version!r}, this synatest reads {JOURNAL_VERSION}"
        )
    nodeid, order, digest, result = (data.get(k) for k in ("nodeid", "order", "fp", "result"))
    if not (
        isinstance(nodeid, str)
        and isinstance(order, int)
        and isinstance(digest, str)
        and isinstance(result, dict)
    ):
        raise JournalError(f"{where}: missing or bad nodeid, order, fp or result")
    return Entry(nodeid, order, digest, result, path, number)


def read_file(path: Path) -> tuple[list[Entry], bool]:
    """The entries of one journal file, and whether its last line was torn (and ignored)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise JournalError(f"journal {path}: cannot be read ({error})") from None
    lines = data.split(b"\n")
    # A complete file ends with a newline: its last piece is empty. Anything else after
    # the last newline is a line a crash cut short.
    tail = lines.pop()
    entries = [_parse(path, number, raw) for number, raw in enumerate(lines, 1) if raw.strip()]
    return entries, bool(tail.strip())


class Journal:
    """The journal of one scope (a whole run, or one shard) under a report directory."""

    def __init__(self, report_dir: Path, scope: str, process: str) -> None:
        self.root = report_dir / JOURNAL_DIR
        self.dir = self.root / scope
        self.process = process
        self.path: Path | None = None  # this process's file, made on the first append
        self._fd: int | None = None
        self._syncer: threading.Thread | None = None
        self._written = threading.Event()  # set by append, cleared by the fsync thread
        self._closing = False
        self._sync_error: OSError | None = None

    @staticmethod
    def scope_of(shard: Any) -> str:
        """``run``, or ``shard-I-of-N`` for ``--synalinks-shard I/N``."""
        return "run" if shard is None else f"shard-{shard.index}-of-{shard.count}"

    def files(self) -> list[Path]:
        if not self.dir.is_dir():
            return []
        return sorted(p for p in self.dir.iterdir() if p.suffix == SUFFIX and p.is_file())

    def exists(self) -> bool:
        return bool(self.files())

    def read(self) -> Contents:
        """Every entry of the scope (all processes' files)."""
        contents = Contents()
        for path in self.files():
            entries, torn = read_file(path)
            contents.files.append(path)
            contents.torn += torn
            for entry in entries:
                contents.entries.setdefault(entry.nodeid, []).append(entry)
        return contents

    def append(self, nodeid: str, order: int, digest: str, result: Mapping[str, Any]) -> None:
        """Add a finished example: one line, written at once and fsynced."""
        line = json.dumps(
            {
                "v": JOURNAL_VERSION,
                "nodeid": nodeid,
                "order": order,
                "fp": digest,
                "result": result,
            },
            separators=(",", ":"),
            default=str,
        )
        data = (line + "\n").encode("utf-8")
        if self._sync_error is not None:
            raise self._sync_error
        if self._fd is None:
            self.dir.mkdir(parents=True, exist_ok=True)
            self.path = self.dir / f"{self.process}-{uuid.uuid4().hex[:12]}{SUFFIX}"
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o666)
            self._closing = False
            self._syncer = threading.Thread(
                target=self._sync_loop, args=(self._fd,), name="synatest-journal", daemon=True
            )
            self._syncer.start()
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        self._written.set()

    def _sync_loop(self, fd: int) -> None:
        """fsync after writes (several writes since the last fsync share the next one)."""
        while True:
            self._written.wait()
            self._written.clear()
            if self._closing:
                return
            try:
                os.fsync(fd)
            except OSError as error:
                self._sync_error = error
                return

    def close(self) -> None:
        """Stop the fsync thread and fsync what is left; the file stays."""
        if self._fd is None:
            return
        self._closing = True
        self._written.set()
        if self._syncer is not None:
            self._syncer.join()
            self._syncer = None
        with contextlib.suppress(OSError):
            os.fsync(self._fd)
        with contextlib.suppress(OSError):
            os.close(self._fd)
        self._fd = None

    def remove(self) -> None:
        """Delete the scope's journal: renamed away first, so no reader sees part of it."""
        self.close()
        if not self.dir.exists():
            return
        trash = self.root / f".removing-{uuid.uuid4().hex[:12]}"
        try:
            os.replace(self.dir, trash)
        except FileNotFoundError:  # another process removed it first
            return
        shutil.rmtree(trash, ignore_errors=True)
        with contextlib.suppress(OSError):
            self.root.rmdir()  # only when no other scope is left
