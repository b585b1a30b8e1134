"""Benchmark: the adaptive limiter against a rate-limited, faulty provider (issue 22).

A 200-example live eval (``pytest --synalinks-eval --synalinks-live``, window 8, one
Generator call per example, in a subprocess) against the loopback server
(``synatest.testing.LoopbackLM``) limiting requests to 60 a minute (a token bucket
holding one request: ``limit_rate(60)``, its 429s carrying the exact ``Retry-After``)
and injecting 20% transient faults (10% 429 with ``Retry-After: 0``, 5% 500, 5% dropped
connections; seeded). The limiter is told nothing of the rate: it learns it from
the 429s.

Ideal: the server admits one request a second after its first, and every example needs
one admitted request (faults take no token of the bucket), so no client can finish
N examples in less than ``(N - 1) x 60 / rate`` seconds from the first request to the
last. The wall time is measured inside the pytest process, from the first example's
setup to the session's end (imports and collection excluded), and the ratio is
wall / ideal (target <= 1.1x). It also checks that every example was scored with no
error and that no call gave up, and prints the floor: the same run against the server
with no limit and no faults (the harness's own time). Not run in CI (it takes ~4 minutes).
Run with::

    uv run python benchmarks/bench_limiter.py            # 200 examples at 60/min
    uv run python benchmarks/bench_limiter.py --quick    # 200 examples at 600/min
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from synatest.testing import DUMMY_API_KEY, Fault, LoopbackLM

CONFTEST = r"""
import json
import time

CLOCK = {}


def pytest_runtest_setup(item):
    CLOCK.setdefault("wall0", time.perf_counter())


def pytest_sessionfinish(session):
    if "wall0" in CLOCK:
        print("\nBENCH " + json.dumps({"wall": time.perf_counter() - CLOCK["wall0"]}))
"""

TESTS = r"""
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


def line(stdout: str, prefix: str) -> str:
    match = re.search(rf"^{prefix}.*$", stdout, re.MULTILINE)
    return match.group(0) if match else f"({prefix.strip()} no line)"


def run(argv: list[str], project: Path, env: dict[str, str]) -> tuple[float, Any]:
    """(wall seconds from the first example to the session's end, the process)."""
    proc = subprocess.run(argv, cwd=project, env=env, capture_output=True, text=True, check=False)
    bench = [x for x in proc.stdout.splitlines() if x.startswith("BENCH ")]
    if not bench:
        raise SystemExit(f"benchmark run failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return json.loads(bench[-1][len("BENCH ") :])["wall"], proc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--rate", type=float, default=60.0, help="requests per minute")
    parser.add_argument("--window", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="600 requests a minute")
    args = parser.parse_args()
    rate = 600.0 if args.quick else args.rate
    n = args.examples
    with tempfile.TemporaryDirectory() as tmp, LoopbackLM(idle_timeout=900) as server:
        project = Path(tmp)
        (project / "conftest.py").write_text(CONFTEST)
        (project / "test_bench.py").write_text(TESTS)
        rows = [{"id": f"q{i:03d}", "question": f"question {i}?", "answer": "a"} for i in range(n)]
        (project / "qa.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        env = {**os.environ, "OPENAI_API_KEY": DUMMY_API_KEY, "LOOPBACK_URL": server.base_url}
        argv = [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider"]
        argv += ["--synalinks-eval", "--synalinks-live", f"--synalinks-concurrency={args.window}"]
        print(
            f"{n} examples, window {args.window}, server limit {rate:g}/min, "
            "20% transient faults (10% 429, 5% 500, 5% drop)",
            flush=True,
        )
        # The floor: the same run against the server with no limit and no faults.
        floor, _ = run(argv, project, env)
        server.inject(Fault.rate_limited(retry_after=0), probability=0.10, seed=1)
        server.inject(Fault.status_code(500), probability=0.05, seed=2)
        server.inject(Fault.drop(), probability=0.05, seed=3)
        server.limit_rate(rate)
        server.log.clear()
        wall, proc = run(argv, project, env)
        report = json.loads((project / "reports" / "report.json").read_text())
        examples = report["suites"][0]["examples"]
        errors = [e["id"] for e in examples if e["error"] is not None]
        outcomes = server.outcomes
    admitted = outcomes["ok"]
    ideal = (admitted - 1) * 60.0 / rate
    retries = line(proc.stdout, "synatest retries: ")
    print(f"server: {dict(sorted(outcomes.items()))}")
    print(retries)
    print(line(proc.stdout, "synatest limiter: "))
    print(line(proc.stdout, "synatest concurrency: "))
    print(
        f"examples scored: {len(examples)}/{n}, with an error: {len(errors)}"
        + (f" ({', '.join(errors[:5])})" if errors else "")
        + f"; calls that gave up: {'none' if 'gave up' not in retries else retries}"
    )
    print(
        f"wall {wall:.1f} s, ideal {ideal:.1f} s ({admitted} admitted requests at "
        f"{rate:g}/min, the first free): ratio {wall / ideal:.3f}x (target <= 1.1x)"
    )
    print(
        f"floor: the same run with no limit and no faults took {floor:.1f} s "
        f"(the harness's own time: the session's event loop runs only inside tests)"
    )
    if proc.returncode != 0 or errors or len(examples) != n:
        raise SystemExit(f"not every example scored (pytest exit code {proc.returncode})")


if __name__ == "__main__":
    main()
