"""--synalinks-resume end to end: a live eval killed with SIGKILL mid-run, then resumed.

Real pytest processes (``python -m pytest``: the reference run, the killed one, and the
resumed one under ``-n 2``) run a Synalinks program against the loopback server, whose
``requests`` show which examples each run paid for. The server answers slowly, so the
kill lands while examples are in flight. (Per-worker journal files: tests/eval/test_journal.py.)
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from synatest.testing import DUMMY_API_KEY, Fault, LoopbackLM

EXAMPLES = 20
TIMINGS = {"duration_s", "created_at", "latency_s", "latency_p50_s", "latency_p95_s"}
INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"

# A Synalinks program asking the loopback server (as in test_retries_e2e.py).
EVAL = """
import os
import pytest
import synalinks
import synatest


class Question(synalinks.DataModel):
    question: str


class Answer(synalinks.DataModel):
    answer: str


@pytest.fixture
async def program():
    lm = synalinks.LanguageModel(model="openai/gpt-4o-mini", api_base=os.environ["LOOPBACK_URL"])
    x0 = synalinks.Input(data_model=Question)
    x1 = await synalinks.Generator(data_model=Answer, language_model=lm)(x0)
    return synalinks.Program(inputs=x0, outputs=x1)


@synatest.parametrize_dataset("qa.jsonl", x=Question, y=Answer)
@pytest.mark.synalinks_eval(suite="qa", threshold=0.0)
async def test_qa(program, x, y):
    return await program(x)
"""


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Any:
    with LoopbackLM(idle_timeout=300) as server:
        monkeypatch.setenv("OPENAI_API_KEY", DUMMY_API_KEY)
        monkeypatch.setenv("LOOPBACK_URL", server.base_url)
        yield server


def command(*args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        "--synalinks-live",
        "--synalinks-eval",
        "--synalinks-concurrency=2",
        *args,
    ]


def run(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(*args), cwd=folder, capture_output=True, text=True, timeout=300, check=False
    )


def asked(requests: list[dict[str, Any]]) -> set[int]:
    """The examples (question numbers) these requests were for."""
    found = set()
    for body in requests:
        match = re.search(r"question (\d+)\?", json.dumps(body.get("messages")))
        assert match is not None, body
        found.add(int(match.group(1)))
    return found


def journalled(folder: Path) -> set[int]:
    """The examples the journal holds (a torn last line left out, as a reader does)."""
    done = set()
    for path in (folder / "reports" / ".journal" / "run").glob("*.jsonl"):
        for line in path.read_text().split("\n")[:-1]:
            done.add(int(json.loads(line)["result"]["id"].removeprefix("q")))
    return done


def kill_when_journalled(folder: Path, at_least: int, *args: str) -> set[int]:
    """Start a run and SIGKILL it once the journal holds
    ``at_least`` examples; returns the examples it holds then."""
    process = subprocess.Popen(
        command(*args),
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 240
        while len(journalled(folder)) < at_least:
            assert process.poll() is None, "the run ended before it was killed"
            assert time.monotonic() < deadline, "the journal never filled"
            time.sleep(0.02)
        os.killpg(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=60)
    time.sleep(0.5)  # requests the run had in flight reach the server
    return journalled(folder)


def without_timings(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if k not in TIMINGS}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def report(folder: Path) -> Any:
    return without_timings(json.loads((folder / "reports" / "report.json").read_text()))


def test_a_killed_live_eval_resumed_pays_only_for_unfinished_examples(
    pytester: pytest.Pytester, server: LoopbackLM
) -> None:
    folder = pytester.path
    pytester.makeini(INI)
    rows = [{"id": f"q{i}", "question": f"question {i}?", "answer": "a"} for i in range(EXAMPLES)]
    (folder / "qa.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    pytester.makepyfile(test_suite=EVAL)
    server.inject(Fault.slow(0.3))

    # 1. The reference: a run nobody interrupts.
    whole = run(folder)
    assert whole.returncode == 0, whole.stdout + whole.stderr
    uninterrupted = report(folder)
    assert asked(server.requests) == set(range(EXAMPLES))
    assert not (folder / "reports" / ".journal").exists()

    # 2. Killed mid-run, then resumed under -n 2 (each worker reads the whole journal:
    # xdist deals the examples out anew): no request again for a journalled example.
    before = len(server.requests)
    done = kill_when_journalled(folder, 5)
    assert 5 <= len(done) < EXAMPLES
    sent = len(server.requests)
    assert asked(server.requests[before:sent]) >= done
    resumed = run(folder, "--synalinks-resume", "-n", "2")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    again = asked(server.requests[sent:])
    assert not again & done
    assert again | done == set(range(EXAMPLES))
    assert (
        f"synatest resume: {len(done)} of {EXAMPLES} examples from the journal "
        f"(reports/.journal/run), {EXAMPLES - len(done)} run" in resumed.stdout
    )
    # 3. The report is the uninterrupted run's, timings aside; the journal is gone.
    assert report(folder) == uninterrupted
    assert not (folder / "reports" / ".journal").exists()
