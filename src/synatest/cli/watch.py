"""``synatest watch [OPTIONS] [-- PYTEST ARGS]``: re-run pytest whenever a file changes.

A fresh ``pytest`` process pays for importing Synalinks (and litellm, MLflow, DuckDB,
numpy, pydantic) before its first test: ~8 s with a bytecode cache, about a minute on
a cold machine. ``synatest watch`` pays it once. The long-lived parent sets up the
hermetic environment, imports the heavy dependencies and pytest's plugins, and never
runs a test itself; for every run (at start, then whenever a watched file changes) it
forks a child that calls ``pytest.main(PYTEST ARGS)`` and exits. Each run starts with
Synalinks already imported, and nothing a run does (modules it imports, global state,
patches) reaches the next one: the child's memory is thrown away.

Changes are found by polling the modification times and sizes of the watched files
(``--interval``, default 0.25 s): no extra dependency, the same behaviour on every
POSIX system and file system (network mounts and containers included), and cheap for a
project of a few thousand files. Test files that changed run first (their tests are
moved to the front of the run), then the rest.

One status line per run: ``synatest watch: run 3 PASSED in 0.41 s (exit 0); changed:
test_qa.py``. A child that crashes (a segfault, ``os._exit``) is reported as CRASHED and
the watcher goes on. Ctrl-C stops the watcher (exit code 130); a run in progress gets
the interrupt too, as a pytest run does; SIGTERM stops it the same way (exit code 143).
``--max-runs N`` stops after N runs with the
last run's exit code (scripts, benchmarks). POSIX only: forking is what makes a re-run
cheap, and there is no equivalent on Windows.
"""

from __future__ import annotations

import argparse
import gc
import os
import signal
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_INTERVAL = 0.25
WATCHED_SUFFIXES = frozenset(
    {".py", ".pyi", ".toml", ".ini", ".cfg", ".json", ".jsonl", ".yaml", ".yml", ".csv",
     ".txt", ".j2", ".jinja", ".parquet"}
)  # fmt: skip
# Never watched: tools' caches, environments, and what runs write (reports).
IGNORED_DIRS = frozenset(
    {".git", ".hg", ".svn", ".venv", "venv", "env", "__pycache__", "node_modules",
     ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis", ".tox", ".nox",
     "reports", "site", "build", "dist", ".eggs"}
)  # fmt: skip
# Modules every run needs; imported once by the parent.
PRELOAD = (
    "synalinks",
    "litellm",
    "numpy",
    "pydantic",
    "jinja2",
    "hypothesis",
    "yaml",
    "vcr",
    "tabulate",
    "jsonschema",
)
# pytest's exit codes, by name, for the status line.
OUTCOMES = {0: "PASSED", 1: "FAILED", 2: "INTERRUPTED", 3: "INTERNAL ERROR", 4: "USAGE ERROR",
            5: "NO TESTS"}  # fmt: skip
CRASH_EXIT = 70  # a child whose pytest.main raised (EX_SOFTWARE)


Snapshot = dict[str, tuple[int, int]]


def snapshot(roots: Iterable[Path]) -> Snapshot:
    """Modification time (ns) and size of every watched file under ``roots``."""
    seen: Snapshot = {}
    for root in roots:
        if root.is_file():
            _stat_into(seen, str(root))
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [
                d for d in dirnames if d not in IGNORED_DIRS and not d.endswith(".egg-info")
            ]
            for name in filenames:
                if os.path.splitext(name)[1] in WATCHED_SUFFIXES:
                    _stat_into(seen, os.path.join(dirpath, name))
    return seen


def _stat_into(seen: Snapshot, path: str) -> None:
    try:
        stat = os.stat(path)
    except OSError:  # removed between listing and stat
        return
    seen[path] = (stat.st_mtime_ns, stat.st_size)


def changed_files(before: Snapshot, after: Snapshot) -> list[str]:
    """Files added, modified or removed between two snapshots, sorted."""
    return sorted(
        {path for path, stamp in after.items() if before.get(path) != stamp}
        | (before.keys() - after.keys())
    )


def is_test_file(path: str) -> bool:
    name = os.path.basename(path)
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))


class ChangedFirst:
    """A pytest plugin (in the child): the tests of the changed test files run first."""

    def __init__(self, paths: Sequence[str]) -> None:
        self.paths = {os.path.realpath(p) for p in paths}

    def pytest_collection_modifyitems(self, items: list[Any]) -> None:
        first = [i for i in items if os.path.realpath(str(i.path)) in self.paths]
        if first:
            rest = [i for i in items if os.path.realpath(str(i.path)) not in self.paths]
            items[:] = first + rest


@dataclass
class Watcher:
    """The parent: watches files, forks one child per run, reports each run."""

    pytest_args: list[str]
    roots: list[Path]
    # Arguments put before the user's (see quiet_rewrite_warnings).
    extra_args: list[str] = field(default_factory=list)
    interval: float = DEFAULT_INTERVAL
    max_runs: int | None = None
    runs: int = 0
    last_code: int = 0
    child: int | None = field(default=None, repr=False)

    def status(self, message: str) -> None:
        print(f"synatest watch: {message}", flush=True)

    def run(self, changed: Sequence[str]) -> int:
        """Fork a child running pytest; wait for it; return its exit code (or -signal)."""
        self.runs += 1
        tests_first = [p for p in changed if is_test_file(p) and os.path.exists(p)]
        sys.stdout.flush()
        sys.stderr.flush()
        # The child's collections (pytest runs gc.collect() five times at exit) then skip
        # the parent's millions of objects: 1.6 s less a run, and their memory pages stay
        # shared instead of being copied when the collector touches them.
        gc.freeze()
        start = time.perf_counter()
        pid = os.fork()
        if pid == 0:  # the child: run pytest, never return into the watcher's loop
            os._exit(_child([*self.extra_args, *self.pytest_args], tests_first))
        self.child = pid  # until it is reaped: Ctrl-C while waiting must reach it
        _, status = os.waitpid(pid, 0)
        self.child = None
        seconds = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        self.last_code = code
        if code < 0 or code == CRASH_EXIT:
            print(flush=True)  # the child may have died half way through a line
        if code < 0:
            outcome = f"CRASHED (signal {signal.Signals(-code).name})"
        elif code == CRASH_EXIT:
            outcome = "CRASHED (pytest raised; see the traceback above)"
        else:
            outcome = f"{OUTCOMES.get(code, 'EXIT')} (exit {code})"
        what = f"; changed: {', '.join(_short(p) for p in changed)}" if changed else ""
        self.status(f"run {self.runs} {outcome} in {seconds:.2f} s{what}")
        return code

    def loop(self) -> int:
        before = snapshot(self.roots)
        self.run([])
        while self.max_runs is None or self.runs < self.max_runs:
            self.status(
                f"watching {len(before)} files under {', '.join(map(str, self.roots))} "
                "(Ctrl-C to stop)"
            )
            while True:
                time.sleep(self.interval)
                after = snapshot(self.roots)
                changed = changed_files(before, after)
                if changed:
                    break
            # Wait for the editor to finish writing (several files, or write + rename).
            time.sleep(min(self.interval, 0.05))
            after = snapshot(self.roots)
            changed = changed_files(before, after)
            # The next comparison starts from before this run: a file saved while the
            # run is going triggers the following run.
            before = after
            self.run(changed)
        return self.last_code

    def interrupt_child(self) -> None:
        """After Ctrl-C: the child got it from the terminal too; make sure it stops."""
        pid = self.child
        if pid is None:
            return
        for sig, grace in ((None, 1.0), (signal.SIGINT, 5.0), (signal.SIGKILL, 5.0)):
            if sig is not None:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    return
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline:
                try:
                    done, _ = os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    return
                if done:
                    return
                time.sleep(0.02)


def _child(pytest_args: list[str], tests_first: list[str]) -> int:
    """In the forked child: run pytest once; the exit code of the process."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        import pytest

        plugins = [ChangedFirst(tests_first)] if tests_first else []
        code = int(pytest.main(list(pytest_args), plugins=plugins))
    except BaseException:
        import traceback

        traceback.print_exc()
        code = CRASH_EXIT
    sys.stdout.flush()
    sys.stderr.flush()
    return code


def quiet_rewrite_warnings() -> list[str]:
    """``-W`` filters for pytest's "already imported, cannot rewrite" warning, for the
    modules of pytest plugins the parent imported (synatest itself, the command being
    run; hypothesis, ...). pytest marks plugin modules for assert rewriting as it loads
    them; a module imported before cannot be rewritten, so it warns, and under
    ``filterwarnings = error`` the run fails. Those asserts are the plugins' own, not the
    user's: the user's tests and conftests are imported by the child, and rewritten.
    """
    from importlib.metadata import distributions

    names = set()
    for dist in distributions():
        if not any(ep.group == "pytest11" for ep in dist.entry_points):
            continue
        for file in dist.files or ():
            parts = file.parts
            if len(parts) == 1 and parts[0].endswith(".py"):
                names.add(parts[0][:-3])
            elif len(parts) > 1 and parts[-1] == "__init__.py" and len(parts) == 2:
                names.add(parts[0])
    # Editable installs (synatest in development) list no package files.
    names.add("synatest")
    message = (
        "ignore:Module already imported so cannot be rewritten; {}"
        ":pytest.PytestAssertRewriteWarning"
    )
    args = []
    for name in sorted(n for n in names if n in sys.modules):
        args += ["-W", message.format(name)]
    return args


def _short(path: str) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return path


def preload() -> list[str]:
    """Import what every run needs, once; the names that failed to import."""
    import importlib
    from importlib.metadata import entry_points

    failed = []
    # pytest's installed plugins too: each run would import them again otherwise.
    plugins = [ep.module for ep in entry_points(group="pytest11")]
    for name in [*PRELOAD, "pytest", "_pytest.python", "_pytest.terminal", *plugins]:
        try:
            importlib.import_module(name)
        except Exception:  # a run will report it properly; the watcher goes on
            failed.append(name)
    return failed


def run_watch(args: argparse.Namespace) -> int:
    if not hasattr(os, "fork"):
        print(
            f"synatest watch: error: needs os.fork(), which {sys.platform} does not have "
            "(watch is for Linux and macOS); run pytest directly, or use WSL on Windows",
            file=sys.stderr,
        )
        return 2
    pytest_args = list(args.pytest_args)
    if pytest_args[:1] == ["--"]:
        pytest_args = pytest_args[1:]
    roots = [Path(p) for p in (args.watch or ["."])]
    missing = [str(p) for p in roots if not p.exists()]
    if missing:
        print(f"synatest watch: error: no such file or directory: {', '.join(missing)}",
              file=sys.stderr)  # fmt: skip
        return 2
    if args.interval <= 0:
        print("synatest watch: error: --interval must be positive", file=sys.stderr)
        return 2

    from synatest import _env

    env = _env.enter()  # before Synalinks is imported: children inherit it
    try:
        start = time.perf_counter()
        failed = preload()
        note = f" ({', '.join(failed)} failed to import)" if failed else ""
        print(
            f"synatest watch: dependencies imported in {time.perf_counter() - start:.1f} s"
            f"{note}; pytest {' '.join(pytest_args)}".rstrip(),
            flush=True,
        )
        stopped_by = [signal.SIGINT]

        def terminate(signum: int, frame: Any) -> None:
            stopped_by[0] = signal.Signals(signum)
            raise KeyboardInterrupt

        # SIGTERM (a process manager, a script) stops the watcher as Ctrl-C does. SIGINT
        # gets the handler too: a process started in the background by a shell, or by
        # some process pools, inherits SIGINT ignored, and Ctrl-C must still stop it.
        signal.signal(signal.SIGTERM, terminate)
        signal.signal(signal.SIGINT, terminate)
        watcher = Watcher(
            pytest_args,
            roots,
            extra_args=quiet_rewrite_warnings(),
            interval=args.interval,
            max_runs=args.max_runs,
        )
        try:
            return watcher.loop()
        except KeyboardInterrupt:
            # A second Ctrl-C must not break the clean-up half way.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            watcher.interrupt_child()
            print("\nsynatest watch: stopped", flush=True)
            return 128 + stopped_by[0]
    finally:
        env.restore()


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {raw}")
    return value


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "watch",
        help="re-run pytest in a fresh forked process whenever a file changes",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        epilog=(
            "Every other argument is passed to pytest (put watch's own options first, or "
            "pytest's after --): synatest watch --interval 0.5 -- -x -q tests/"
        ),
    )
    parser.add_argument(
        "--watch",
        action="append",
        metavar="PATH",
        help="a directory or file to watch (repeatable; default: the current directory)",
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=DEFAULT_INTERVAL,
        metavar="SECONDS",
        help=f"how often to look for changes (default: {DEFAULT_INTERVAL})",
    )
    parser.add_argument(
        "--max-runs",
        type=_positive_int,
        default=None,
        metavar="N",
        help="stop after N runs, with the last run's exit code (default: run until Ctrl-C)",
    )
    parser.add_argument("pytest_args", nargs=argparse.REMAINDER, help="arguments for pytest")
    parser.set_defaults(handler=run_watch, forward_unknown_to="pytest_args")
