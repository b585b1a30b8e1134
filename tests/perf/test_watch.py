"""``synatest watch``: a real watcher process, real file changes, real signals."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from synatest import cli
from synatest.cli import watch

INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\nfilterwarnings = error\n"


class Watching:
    """A ``synatest watch`` process and its output, line by line."""

    def __init__(self, cwd: Path, *args: str) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "synatest.cli", "watch", "--interval", "0.05", *args],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            # Its own process group: stop() can end the watcher and any child it forked.
            start_new_session=True,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float = 60) -> list[str]:
        """Lines up to the first matching ``pattern``; the lines of that run."""
        deadline = time.monotonic() + timeout
        run: list[str] = []
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (self.proc.poll() is not None and self.lines.empty()):
                raise AssertionError(
                    f"no line matching {pattern!r}; output so far:\n" + "\n".join(self.seen)
                )
            try:
                line = self.lines.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                continue
            self.seen.append(line)
            run.append(line)
            if re.search(pattern, line):
                return run

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # the group this test started
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.reader.join(timeout=10)
        assert self.proc.stdout is not None
        self.proc.stdout.close()


def _write(path: Path, text: str) -> None:
    # A distinct mtime even on coarse-grained file systems: the size changes too.
    path.write_text(text)


def test_watch_reruns_on_changes_survives_crashes_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text(INI)
    (tmp_path / "settings.py").write_text("VALUE = 1\n")
    (tmp_path / "test_a.py").write_text(
        "import settings\n\ndef test_value():\n    assert settings.VALUE == 1\n"
    )
    (tmp_path / "test_b.py").write_text("def test_b():\n    pass\n")
    w = Watching(tmp_path, "--", "-v", "-p", "no:cacheprovider", "-p", "no:randomly")
    try:
        # The first run, at start, with the heavy dependencies imported by the parent.
        w.wait_for(r"dependencies imported in", timeout=300)
        run = w.wait_for(r"synatest watch: run 1 ")
        assert run[-1].startswith("synatest watch: run 1 PASSED (exit 0) in ")
        assert any("test_a.py::test_value PASSED" in line for line in run)

        # A changed module (not a test file): the next run imports its new content.
        w.wait_for(r"watching \d+ files")
        _write(tmp_path / "settings.py", "VALUE = 22\n")
        run = w.wait_for(r"synatest watch: run 2 ")
        assert re.match(
            r"synatest watch: run 2 FAILED \(exit 1\) in .*changed: settings.py$", run[-1]
        )
        assert any("assert 22 == 1" in line for line in run), run

        # A changed test file runs first, before the tests of unchanged files.
        w.wait_for(r"watching \d+ files")
        _write(tmp_path / "test_b.py", "def test_b():\n    pass\n\ndef test_b2():\n    pass\n")
        run = w.wait_for(r"synatest watch: run 3 ")
        order = [line.split(" ")[0] for line in run if re.match(r"test_\w\.py::", line)]
        assert order == ["test_b.py::test_b", "test_b.py::test_b2", "test_a.py::test_value"]

        # A child that dies does not take the watcher with it.
        w.wait_for(r"watching \d+ files")
        _write(
            tmp_path / "test_crash.py",
            "import os, signal\n\ndef test_crash():\n    os.kill(os.getpid(), signal.SIGKILL)\n",
        )
        run = w.wait_for(r"synatest watch: run 4 ")
        assert run[-1].startswith("synatest watch: run 4 CRASHED (signal SIGKILL) in ")
        w.wait_for(r"watching \d+ files")
        (tmp_path / "test_crash.py").unlink()
        _write(tmp_path / "settings.py", "VALUE = 1\n")
        run = w.wait_for(r"synatest watch: run 5 ")
        assert run[-1].startswith("synatest watch: run 5 PASSED (exit 0)")

        # Ctrl-C while a run is going: the run is interrupted, the watcher exits 130.
        w.wait_for(r"watching \d+ files")
        marker = tmp_path / "started"
        _write(
            tmp_path / "test_slow.py",
            "import os, time\n\ndef test_slow():\n"
            f"    open({str(marker)!r}, 'w').write(str(os.getpid()))\n"
            "    time.sleep(120)\n",
        )
        deadline = time.monotonic() + 60
        while not marker.exists() or not marker.read_text():
            assert time.monotonic() < deadline, "the slow test never started"
            time.sleep(0.05)
        child = int(marker.read_text())
        w.proc.send_signal(signal.SIGINT)
        assert w.proc.wait(timeout=30) == 130
        w.wait_for(r"^synatest watch: stopped$", timeout=5)
        with pytest.raises(ProcessLookupError):
            os.kill(child, 0)
    finally:
        w.stop()


@pytest.mark.parametrize(
    ("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["ctrl-c", "sigterm"]
)
def test_a_stop_signal_while_idle_exits_cleanly(tmp_path: Path, sig: int, code: int) -> None:
    (tmp_path / "pytest.ini").write_text(INI)
    (tmp_path / "test_ok.py").write_text("def test_ok():\n    pass\n")
    w = Watching(tmp_path, "-q", "-p", "no:cacheprovider")
    try:
        w.wait_for(r"synatest watch: run 1 PASSED", timeout=300)
        w.wait_for(r"watching \d+ files")
        w.proc.send_signal(sig)
        assert w.proc.wait(timeout=30) == code
        w.wait_for(r"^synatest watch: stopped$", timeout=5)
        assert not any("Traceback" in line for line in w.seen), w.seen
    finally:
        w.stop()


# --- in-process: errors, and the parts of the loop --------------------------------


def test_watch_without_fork_says_it_needs_posix(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delattr(os, "fork")
    assert cli.main(["watch"]) == 2
    err = capsys.readouterr().err
    assert f"synatest watch: error: needs os.fork(), which {sys.platform} does not have" in err
    assert "run pytest directly, or use WSL on Windows" in err


def test_watch_rejects_a_missing_path_and_a_bad_interval(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope"
    assert cli.main(["watch", "--watch", str(missing)]) == 2
    assert f"synatest watch: error: no such file or directory: {missing}" in capsys.readouterr().err
    assert cli.main(["watch", "--interval", "0"]) == 2
    assert "synatest watch: error: --interval must be positive" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["watch", "--max-runs", "0"])
    assert "must be at least 1, not 0" in capsys.readouterr().err


def test_snapshot_sees_watched_files_and_skips_caches_and_reports(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    for name in ("a.py", "pkg/b.py", "data.jsonl", "notes.bin"):
        (tmp_path / name).write_text("x")
    for ignored in ("__pycache__", "reports", ".venv", "x.egg-info"):
        (tmp_path / ignored).mkdir()
        (tmp_path / ignored / "c.py").write_text("x")
    seen = {Path(p).relative_to(tmp_path).as_posix() for p in watch.snapshot([tmp_path])}
    assert seen == {"a.py", "pkg/b.py", "data.jsonl"}


def test_changed_files_lists_added_modified_and_removed() -> None:
    before = {"a": (1, 1), "b": (1, 1), "c": (1, 1)}
    after = {"a": (1, 1), "b": (2, 1), "d": (1, 1)}
    assert watch.changed_files(before, after) == ["b", "c", "d"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [("test_x.py", True), ("x_test.py", True), ("conftest.py", False), ("test_x.txt", False)],
)
def test_is_test_file(name: str, expected: bool) -> None:
    assert watch.is_test_file(f"/some/dir/{name}") is expected


def test_quiet_rewrite_warnings_covers_synatest_itself() -> None:
    args = watch.quiet_rewrite_warnings()
    assert args[::2] == ["-W"] * (len(args) // 2)
    assert (
        "ignore:Module already imported so cannot be rewritten; synatest"
        ":pytest.PytestAssertRewriteWarning"
    ) in args


def test_only_watch_forwards_unknown_options(capsys: pytest.CaptureFixture[str]) -> None:
    parser = cli.build_parser()
    args, unknown = parser.parse_known_args(["watch", "-q", "tests", "-x"])
    assert unknown == ["-q"] and args.pytest_args == ["tests", "-x"]
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["report", "render", "report.json", "--bogus"])
    assert exit_info.value.code == 2
    assert "synatest: error: unrecognized arguments: --bogus" in capsys.readouterr().err
