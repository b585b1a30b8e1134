"""``synatest watch``: from saving a file to the first test result, vs. a cold ``pytest``.

Target: <= 10% of a cold run. The suite is one offline test (``test_qa.py``: a
Synalinks Generator program answered by ``ScriptedLM``), the inner loop of someone
editing a prompt. Side by side, interleaved, ``--repeats`` rounds:

- cold: ``pytest -q -p no:cacheprovider test_qa.py`` in a fresh process, from start to
  the test's result line (``[100%]``), with Python's bytecode cache (warmed first) and,
  unless ``--skip-no-cache``, with none (``PYTHONPYCACHEPREFIX`` pointing at an empty
  directory, ``PYTHONDONTWRITEBYTECODE=1``: every module compiled afresh, as on this
  project's machines);
- watch: one ``synatest watch --interval 0.1 -- -q -p no:cacheprovider test_qa.py`` kept
  running; each round rewrites the test file (a new prompt text) and times from the
  write to the new run's result line, and to its status line.

    uv run python benchmarks/bench_watch.py [--repeats 5] [--skip-no-cache]
"""

from __future__ import annotations

import argparse
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

TEST = """
import synalinks
import synatest


class Question(synalinks.DataModel):
    question: str = synalinks.Field(description="The question")


class Answer(synalinks.DataModel):
    answer: str = synalinks.Field(description="The answer")


async def test_qa(scripted_lm):
    scripted_lm.on(schema=Answer).reply({{"answer": "Paris"}})
    lm = synalinks.LanguageModel(model="openai/gpt-4o-mini")
    inputs = synalinks.Input(data_model=Question)
    outputs = await synalinks.Generator(
        data_model=Answer, language_model=lm, instructions="{prompt}"
    )(inputs)
    program = synalinks.Program(inputs=inputs, outputs=outputs)
    result = await program(Question(question="Capital of France?"))
    assert result.get("answer") == "Paris"
"""
PYTEST_ARGS = ["-q", "-p", "no:cacheprovider", "test_qa.py"]
RESULT = "[100%]"


def write_test(root: Path, round_: int) -> None:
    (root / "test_qa.py").write_text(TEST.format(prompt=f"Answer briefly (edit {round_})."))


def lines_of(proc: subprocess.Popen[str]) -> queue.Queue[tuple[float, str]]:
    """Each output line of ``proc`` with the time it arrived."""
    lines: queue.Queue[tuple[float, str]] = queue.Queue()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put((time.perf_counter(), line.rstrip("\n")))

    threading.Thread(target=read, daemon=True).start()
    return lines


def wait_for(lines: queue.Queue[tuple[float, str]], text: str, timeout: float = 600) -> float:
    deadline = time.perf_counter() + timeout
    while True:
        try:
            when, line = lines.get(timeout=max(0.0, deadline - time.perf_counter()))
        except queue.Empty:
            raise SystemExit(f"timed out waiting for {text!r}") from None
        if text in line:
            return when


def cold(root: Path, env: dict[str, str]) -> float:
    """Seconds from starting ``pytest`` to its test result line."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", *PYTEST_ARGS],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = lines_of(proc)
    seen = wait_for(lines, RESULT)
    if proc.wait() != 0:
        raise SystemExit("the cold pytest run failed")
    return seen - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-no-cache", action="store_true")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="bench-watch-"))
    (root / "pytest.ini").write_text("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    write_test(root, 0)
    cached = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cached["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    modes = {"cold pytest, bytecode cache": cached}
    if not args.skip_no_cache:
        empty = tempfile.mkdtemp(prefix="bench-watch-nocache-")
        modes["cold pytest, no bytecode cache"] = {
            **cached,
            "PYTHONPYCACHEPREFIX": empty,
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    cold(root, cached)  # warm the bytecode cache and the disk

    watcher = subprocess.Popen(
        [sys.executable, "-m", "synatest.cli", "watch", "--interval", "0.1", "--", *PYTEST_ARGS],
        cwd=root,
        env=cached,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = lines_of(watcher)
    wait_for(lines, "synatest watch: run 1 PASSED")
    wait_for(lines, "synatest watch: watching")

    times: dict[str, list[float]] = {name: [] for name in modes}
    times["watch: save -> test result"] = []
    times["watch: save -> status line"] = []
    try:
        for round_ in range(1, args.repeats + 1):
            for name, env in modes.items():
                times[name].append(cold(root, env))
            time.sleep(0.3)  # a distinct mtime; the watcher is idle
            write_test(root, round_)
            saved = time.perf_counter()
            result = wait_for(lines, RESULT)
            status = wait_for(lines, f"synatest watch: run {round_ + 1} PASSED")
            wait_for(lines, "synatest watch: watching")
            times["watch: save -> test result"].append(result - saved)
            times["watch: save -> status line"].append(status - saved)
    finally:
        # SIGTERM: a process started in the background by a non-interactive shell
        # ignores SIGINT.
        watcher.terminate()
        watcher.wait(timeout=60)

    print(f"one-test offline suite, {args.repeats} interleaved rounds (median seconds)")
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, value in medians.items():
        print(f"  {name:<34} {value:7.2f} s")
    watch = medians["watch: save -> test result"]
    for name in modes:
        print(f"  watch / {name:<26} {watch / medians[name]:7.1%}  (target <= 10%)")


if __name__ == "__main__":
    main()
