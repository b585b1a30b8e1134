"""A process killed (SIGKILL) while saving a cassette leaves the previous file intact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from synatest.cassettes.store import Cassette, Interaction

CHILD = """
import sys
from synatest.cassettes.store import Cassette, Interaction

path = sys.argv[1]
cassette = Cassette.load(path)
for n in range(6000):
    cassette.record(Interaction(
        kind="completion",
        request={"model": "m", "messages": [{"role": "user", "content": f"question {n} " * 20}]},
        response_type="ModelResponse",
        response={"choices": [{"index": 0, "message": {"content": "x" * 300}}]},
    ))
while True:
    print("saving", flush=True)
    cassette.save(environ={})
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_during_save_leaves_the_previous_cassette_intact(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    old = Cassette(path)
    old.record(
        Interaction(
            kind="completion",
            request={"model": "m", "messages": [{"role": "user", "content": "old"}]},
            response_type="ModelResponse",
            response={"choices": [{"index": 0, "message": {"content": "old answer"}}]},
        )
    )
    old.save(environ={})
    before = path.read_text()

    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "saving"
        # Wait until the temp file is being written, then kill mid-write.
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob(".big.yaml.*.tmp")):
            assert time.monotonic() < deadline, "the child never started writing"
            time.sleep(0.005)
        time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=30)
        if child.stdout is not None:
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    after = path.read_text()
    # Either the old file, or a complete new one: never a torn write.
    if after == before:
        assert len(Cassette.load(path)) == 1
    else:  # pragma: no cover - the kill landed between two saves
        assert len(Cassette.load(path)) == 6001
