"""Benchmark: concurrent eval examples vs Synalinks' ``program.evaluate(batch_size=32)``.

200 examples of a real Synalinks program (one Generator) against an LM double with
0.5 s latency (constant, then heavy-tailed: lognormal, same 0.5 s mean, the same
latency per example in both runners), at concurrency 32. Ideal wall time =
N x mean latency / concurrency + the CPU time the run used. Each runner is timed
inside its own pytest process, from its first example to its last (imports and
collection excluded from both). Run with::

    uv run python benchmarks/bench_concurrency.py [N] [CONCURRENCY]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LATENCY = 0.5

CONFTEST = r"""
import asyncio
import json
import math
import os
import random
import re
import time

import pytest
import synalinks

from synatest.doubles.replies import to_response

LATENCY = float(os.environ["BENCH_LATENCY"])
HEAVY = os.environ["BENCH_MODE"] == "heavy"
SIGMA = 1.0
MU = math.log(LATENCY) - SIGMA**2 / 2  # lognormal with mean LATENCY
CLOCK = {}


class Question(synalinks.DataModel):
    question: str = synalinks.Field(description="an addition")


class Answer(synalinks.DataModel):
    answer: str = synalinks.Field(description="the sum")


def latency_of(a, b):
    if not HEAVY:
        return LATENCY
    return random.Random(a * 100_003 + b).lognormvariate(MU, SIGMA)


async def slow_adder(request, call_next):
    a, b = map(int, re.search(r"(\d+) \+ (\d+)", request.last_user_message).groups())
    CLOCK["latency"] = CLOCK.get("latency", 0.0) + latency_of(a, b)
    await asyncio.sleep(latency_of(a, b))
    return to_response({"answer": str(a + b)}, request)


async def build(router):
    router.use(slow_adder, name="slow-adder")
    lm = synalinks.LanguageModel(model="openai/gpt-4o-mini")
    inputs = synalinks.Input(data_model=Question)
    outputs = await synalinks.Generator(data_model=Answer, language_model=lm)(inputs)
    return synalinks.Program(inputs=inputs, outputs=outputs, name="adder")


@pytest.fixture
async def program(synalinks_router):
    return await build(synalinks_router)


def pytest_runtest_setup(item):
    CLOCK.setdefault("wall0", time.perf_counter())
    CLOCK.setdefault("cpu0", time.process_time())


def pytest_sessionfinish(session):
    if "wall0" in CLOCK:
        CLOCK["wall"] = time.perf_counter() - CLOCK["wall0"]
        CLOCK["cpu"] = time.process_time() - CLOCK["cpu0"]
        print("\nBENCH " + json.dumps(CLOCK))
"""

TESTS = r"""
import json
import time

import numpy as np
import pytest
import synalinks
import synatest
from conftest import CLOCK, Answer, Question, build


@synatest.parametrize_dataset("sums.jsonl", x=Question, y=Answer)
@pytest.mark.synalinks_eval(suite="sums", threshold=0.9)
async def test_sums(program, x, y):
    return await program(x)


async def test_evaluate(synalinks_router):
    rows = [json.loads(line) for line in open("sums.jsonl")]
    x = np.array([Question(question=r["question"]) for r in rows], dtype="object")
    y = np.array([Answer(answer=r["answer"]) for r in rows], dtype="object")
    program = await build(synalinks_router)
    program.compile(reward=synalinks.rewards.ExactMatch())
    CLOCK["wall0"], CLOCK["cpu0"] = time.perf_counter(), time.process_time()
    metrics = await program.evaluate(x=x, y=y, batch_size=32, verbose=0)
    CLOCK["reward"] = metrics["reward"]
"""


def run(project: Path, mode: str, *args: str) -> dict[str, float]:
    env = {**os.environ, "BENCH_MODE": mode, "BENCH_LATENCY": str(LATENCY)}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("BENCH ")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"benchmark run failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1][len("BENCH ") :])  # type: ignore[no-any-return]


def load_factor() -> float:
    """Wall time / CPU time of a CPU-bound loop now: 1.0 on an idle machine.

    The machine is shared; under load a process gets less than one core, so its
    CPU time takes longer than itself in wall time. Printed next to the strict ratio.
    """
    wall0, cpu0 = time.perf_counter(), time.process_time()
    total = 0
    while time.process_time() - cpu0 < 1.0:
        total += sum(range(10_000))
    return (time.perf_counter() - wall0) / (time.process_time() - cpu0)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    window = int(sys.argv[2]) if len(sys.argv) > 2 else 32
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        (project / "conftest.py").write_text(CONFTEST)
        (project / "test_bench.py").write_text(TESTS)
        (project / "pytest.ini").write_text(
            "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
        )
        (project / "sums.jsonl").write_text(
            "".join(
                json.dumps(
                    {"id": f"e{i:03d}", "question": f"{i} + {i % 7}", "answer": str(i + i % 7)}
                )
                + "\n"
                for i in range(n)
            )
        )
        print(f"{n} examples, LM double latency mean {LATENCY} s, concurrency {window}")
        print(f"{'latency':<9} {'runner':<34} {'wall':>7} {'cpu':>6} {'ideal':>7} {'ratio':>6}")
        for mode in ("constant", "heavy"):
            ours = run(
                project,
                mode,
                "--synalinks-eval",
                f"--synalinks-concurrency={window}",
                "-k",
                "test_sums",
            )
            theirs = run(project, mode, "-k", "test_evaluate")
            load = load_factor()
            for name, r in (
                (f"synatest --synalinks-concurrency {window}", ours),
                ("program.evaluate(batch_size=32)", theirs),
            ):
                ideal = r["latency"] / window + r["cpu"]
                loaded = r["latency"] / window + r["cpu"] * load
                print(
                    f"{mode:<9} {name:<34} {r['wall']:6.2f}s {r['cpu']:5.2f}s "
                    f"{ideal:6.2f}s {r['wall'] / ideal:5.2f}x  (load-adjusted "
                    f"{r['wall'] / loaded:4.2f}x, load factor {load:.2f})"
                )
    print("target: synatest ratio <= 1.3x (ideal = N x mean latency / concurrency + CPU time)")


if __name__ == "__main__":
    main()
