"""Eval mode's costs, measured side by side in one run.

1. Scoring: ``score_suite`` (mean, CI, gates including the paired regression test
   against a baseline) and writing ``report.json`` for a 20,000-example suite.
2. Per-example overhead of ``--synalinks-eval``: the same 200-example dataset suite run
   as plain tests (each computes its reward itself with ``assert_reward``) and as an
   eval suite (synatest records the reward, scores and gates), each in a fresh pytest
   process; the difference per example is what eval mode adds.

    uv run python benchmarks/bench_eval.py [--examples 200]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

SUITE = """
import pytest
import synalinks
import synatest


class Question(synalinks.DataModel):
    question: str


class Answer(synalinks.DataModel):
    answer: str


def predict(x):
    number = int(x.question.split()[1])
    return Answer(answer="wrong" if number % 10 == 0 else f"a{number}")


@synatest.parametrize_dataset("qa.jsonl", x=Question, y=Answer)
async def test_plain(x, y):
    await synatest.assert_reward("ExactMatch", y, predict(x), at_least=0.0)


@synatest.parametrize_dataset("qa.jsonl", x=Question, y=Answer)
@pytest.mark.synalinks_eval(suite="qa", threshold=0.8)
async def test_eval(x, y):
    return predict(x)
"""


def bench_scoring(n: int = 20_000) -> None:
    from synatest.eval.gates import GatePolicy
    from synatest.eval.io import save_report
    from synatest.eval.results import ExampleResult, RunReport
    from synatest.eval.scoring import score_suite

    rng = random.Random(0)

    def run() -> list[ExampleResult]:
        return [
            ExampleResult(id=f"e{i}", suite="big", reward=float(rng.random() < 0.8))
            for i in range(n)
        ]

    baseline = RunReport(suites=[score_suite("big", run())])
    current = run()
    start = time.perf_counter()
    suite = score_suite("big", current, policy=GatePolicy(threshold=0.7, baseline=baseline))
    scored = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        save_report(RunReport(suites=[suite]), Path(tmp) / "report.json")
        written = time.perf_counter() - start
    print(f"scoring {n:,} examples (CI + threshold + paired regression gates): {scored:.3f} s")
    print(f"writing their report.json atomically: {written:.3f} s")


def run_pytest(directory: Path, *args: str) -> tuple[float, float, str]:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
    start = time.perf_counter()
    before = os.times()
    out = subprocess.run(command, cwd=directory, capture_output=True, text=True, check=False)
    after = os.times()
    wall = time.perf_counter() - start
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    last = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else out.stderr[-300:]
    return wall, cpu, last


def bench_overhead(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        rows = [{"id": f"q{i}", "question": f"question {i}", "answer": f"a{i}"} for i in range(n)]
        (root / "qa.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        (root / "test_suite.py").write_text(SUITE)
        (root / "pytest.ini").write_text(
            "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
        )
        # Same process start-up cost in both: an empty run measures it.
        base_wall, base_cpu, _ = run_pytest(root, "-k", "nothing_matches")
        plain_wall, plain_cpu, plain = run_pytest(root, "-k", "test_plain")
        eval_wall, eval_cpu, evaluated = run_pytest(root, "-k", "test_eval", "--synalinks-eval")
    print(f"start-up only (no test):        wall {base_wall:6.2f} s  cpu {base_cpu:6.2f} s")
    print(f"{n} plain tests (assert_reward): wall {plain_wall:6.2f} s  cpu {plain_cpu:6.2f} s")
    print(f"    {plain}")
    print(f"{n} eval examples:               wall {eval_wall:6.2f} s  cpu {eval_cpu:6.2f} s")
    print(f"    {evaluated}")
    per_plain = (plain_cpu - base_cpu) / n * 1000
    per_eval = (eval_cpu - base_cpu) / n * 1000
    print(
        f"cpu per example: plain {per_plain:.2f} ms, eval {per_eval:.2f} ms "
        f"(ratio eval/plain {per_eval / per_plain:.2f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=200)
    args = parser.parse_args()
    bench_scoring()
    bench_overhead(args.examples)


if __name__ == "__main__":
    main()
