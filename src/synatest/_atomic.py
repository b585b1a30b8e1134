"""Atomic file writes: a reader (or a crash, or Ctrl-C) never sees half a file.

Every file synatest writes (cassettes, reports, baselines, checkpoints, trained
programs) goes through here.

Every file is written to a temporary file in the destination's own directory (so the
final :func:`os.replace` is a rename on one filesystem, atomic on POSIX and Windows),
flushed and fsynced, then moved into place. On any error the temporary file is
removed and the previous version of the destination, if any, is left untouched.

The file gets the permissions a plain ``open(path, "w")`` would give it: those of the
file it replaces, or ``0o666`` less the process umask for a new file. (The temporary
file is created ``0o600``; without this every cassette and report would end up
unreadable to the rest of a team or a CI job's other users.)
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process umask (read without changing it where the OS allows)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    with _UMASK_LOCK:  # elsewhere: set and restore at once
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def target_mode(target: Path) -> int:
    """The permission bits ``target`` should get: its current ones, or the default."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        return 0o666 & ~current_umask()


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], *, newline: str | None = None) -> Iterator[IO[str]]:
    """Open ``path`` for writing text (UTF-8); it appears only when the block succeeds."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, target_mode(target))
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` atomically and return the path."""
    with atomic_open(path) as handle:
        handle.write(text)
    return Path(path)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], suffix: str = "") -> Iterator[Path]:
    """A temp path beside ``path``, moved onto ``path`` when the block succeeds.

    For writers that want a file name rather than a handle (``program.save``,
    ``figure.savefig``); ``suffix`` keeps the extension some of them insist on. On
    error the temp file is removed and ``path`` is left untouched.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=suffix or ".tmp"
    )
    os.close(fd)
    tmp_path = Path(tmp)
    mode = target_mode(target)
    try:
        yield tmp_path
        if tmp_path.is_file():  # writers may replace it with a directory of their own
            os.chmod(tmp_path, mode)
        os.replace(tmp_path, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
