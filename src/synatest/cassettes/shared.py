"""Merge-safe saving: several processes recording into one cassette keep every recording.

xdist workers, or parallel shards on one machine, may record into the same file (tests
sharing a cassette by ``name=``). Each test loads the file when it starts and saves it
when it passes; a plain save would write the file as that test saw it plus its own
recordings, dropping what another process saved in between (last writer wins).

So a save takes an inter-process lock on the file (:mod:`filelock`; the lock files live
in the system temp directory, one per cassette path, so none litters the repository),
re-reads the file as it is now, and writes *that* plus this
test's new recordings, atomically. The lock only covers the read-merge-write (a few
milliseconds), never a live call.

``rewrite`` starts a cassette afresh: a file last written before this run started is
replaced, but one written since (by another test, worker or shard of this run) is
merged into, so the tests of one run that share a cassette rewrite it together.

:func:`merge_files` combines cassettes recorded apart (shards on different machines,
each in its own checkout): ``synatest cassettes merge A B -o OUT``. The
run's start is when the pytest session started (xdist workers get their controller's),
or ``$SYNATEST_RUN_STARTED`` (seconds since the epoch) when set: shards started side by
side on one machine that share a cassette share it that way.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from filelock import FileLock

from synatest.cassettes.store import Cassette, Interaction
from synatest.errors import CassetteError

__all__ = ["RUN_STARTED_ENV", "lock_path", "merge_files", "run_started", "save_merged", "union"]

RUN_STARTED_ENV = "SYNATEST_RUN_STARTED"
# Seconds to wait for another process's save before giving up with an error.
LOCK_TIMEOUT = 120.0
_PROCESS_STARTED = time.time()


def lock_path(path: Path) -> Path:
    """The lock file of a cassette: in the temp directory, named by its resolved path."""
    digest = hashlib.sha256(os.fsencode(path.resolve())).hexdigest()[:32]
    return Path(tempfile.gettempdir()) / "synatest-cassette-locks" / f"{digest}.lock"


def run_started(
    session_started: float | None = None, environ: dict[str, str] | None = None
) -> float:
    """When this run started: ``$SYNATEST_RUN_STARTED``, else the session's start.

    Raises:
        CassetteError: ``$SYNATEST_RUN_STARTED`` is not a number.
    """
    raw = (os.environ if environ is None else environ).get(RUN_STARTED_ENV, "").strip()
    if raw:
        try:
            return float(raw)
        except ValueError:
            raise CassetteError(
                f"${RUN_STARTED_ENV}={raw!r} is not a number: set it to the run's start in "
                "seconds since the epoch (e.g. `export SYNATEST_RUN_STARTED=$(date +%s)`)"
            ) from None
    return _PROCESS_STARTED if session_started is None else session_started


def _written_since(path: Path, started: float) -> bool:
    try:
        return path.stat().st_mtime >= started
    except OSError:
        return False


def save_merged(
    cassette: Cassette,
    recorded: Sequence[Interaction],
    *,
    rewrite: bool = False,
    session_started: float | None = None,
    timeout: float = LOCK_TIMEOUT,
) -> Path:
    """Save ``recorded`` into ``cassette``'s file, keeping what other processes saved.

    Args:
        cassette: the test's cassette (its path, scrubbers and matching options).
        recorded: the recordings this test made (in the order it made them).
        rewrite: the test runs in ``rewrite`` mode: the file is replaced unless it was
            written during this run.
        session_started: when this run's pytest session started (default: this
            process); ``$SYNATEST_RUN_STARTED`` overrides it.
        timeout: seconds to wait for the lock (default 120).

    Raises:
        CassetteError: the file on disk is not a valid cassette, or a secret was found.
        filelock.Timeout: another process held the lock for ``timeout`` seconds.
    """
    path = cassette.path
    started = run_started(session_started) if rewrite else 0.0
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(lock_path(path), timeout=timeout):
        if path.exists() and (not rewrite or _written_since(path, started)):
            current = Cassette.load(
                path,
                scrubbers=cassette.scrubbers,
                match_api_base=cassette.match_api_base,
            )
            return cassette.save([*current.own, *recorded])
        if rewrite:
            return cassette.save(recorded)
        return cassette.save()


def union(cassettes: Sequence[Cassette]) -> list[Interaction]:
    """Every recording of ``cassettes``, none lost and none doubled.

    Recordings are compared whole (kind, request, reply, cost; not latency): one that is in several
    cassettes is kept once, in the first one's place. Identical recordings repeated
    within a cassette (self-consistency sampling: the same request answered N times) are
    kept as many times as the cassette that has the most of them.
    """
    kept: list[Interaction] = []
    counts: Counter[str] = Counter()
    for cassette in cassettes:
        here: Counter[str] = Counter()
        for interaction in cassette.own:
            # Its latency left out: the same call recorded twice takes different times.
            data = {k: v for k, v in interaction.to_data().items() if k != "latency_s"}
            identity = json.dumps(data, sort_keys=True, default=str)
            here[identity] += 1
            if here[identity] > counts[identity]:
                counts[identity] += 1
                kept.append(interaction)
    return kept


def merge_files(sources: Sequence[Path], target: Path) -> tuple[int, int]:
    """Write the :func:`union` of the cassette files ``sources`` to ``target``, sealed.

    Returns ``(recordings written, duplicates dropped)``.

    Raises:
        CassetteError: naming the file, when a source is not a valid cassette or the
            result would hold a secret.
    """
    loaded = [Cassette.load(path, missing_ok=False, lazy=False) for path in sources]
    matched_on = {c.match_on for c in loaded}
    if len(matched_on) > 1:
        raise CassetteError(
            f"cannot merge {', '.join(map(str, sources))}: their requests are matched on "
            "different fields (`match_on:`): an imported cassette merges only with imported ones"
        )
    merged = union(loaded)
    with FileLock(lock_path(target), timeout=LOCK_TIMEOUT):
        Cassette(target, match_on=matched_on.pop() if matched_on else None).save(merged)
    return len(merged), sum(len(c.own) for c in loaded) - len(merged)
