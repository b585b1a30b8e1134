"""Eval mode's costs, measured side by side in one run.

1. Scoring: ``score_suite`` (mean, CI, gates including the paired regression test
   against a baseline) and writing ``report.json`` for a 20,000-example suite.
2. Per-example cost of ``--synalinks-eval``: the same 200-example dataset suite as plain
   tests (each computes its reward itself with ``assert_reward``) and as an eval suite
   (synatest computes and records the reward), in one pytest process, interleaved so
   both see the same machine load; setup + call + teardown time per example, and the
   end-of-session scoring/gates/report time.
3. The journal (``--synalinks-resume``): what journalling one finished example costs
   (its result and transcript dumped, one line written and fsynced), beside the
   per-example cost measured in 2.

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


CONFTEST = """
import json, time

from synatest.eval import session as eval_session

TIMES = {"plain": [], "eval": []}


def pytest_collection_modifyitems(items):
    # Interleave plain and eval examples: both see the same machine load.
    items.sort(key=lambda item: (int(item.callspec.id[1:]), item.originalname))


def pytest_runtest_logreport(report):
    group = "eval" if "test_eval" in report.nodeid else "plain"
    TIMES[group].append(report.duration)


FINISH = {}
_finish = eval_session.EvalSession.finish


def timed_finish(self, session):
    # Eval mode's end of session: merge, scoring, gates, report.json.
    start = time.perf_counter()
    _finish(self, session)
    FINISH["s"] = time.perf_counter() - start


eval_session.EvalSession.finish = timed_finish


def pytest_unconfigure(config):
    with open("times.json", "w") as handle:
        json.dump({"times": TIMES, "finish_s": FINISH.get("s")}, handle)
"""


def bench_overhead(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        rows = [{"id": f"q{i}", "question": f"question {i}", "answer": f"a{i}"} for i in range(n)]
        (root / "qa.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        (root / "test_suite.py").write_text(SUITE)
        (root / "conftest.py").write_text(CONFTEST)
        (root / "pytest.ini").write_text(
            "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
        )
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        out = subprocess.run(
            [*command, "--synalinks-eval"], cwd=root, capture_output=True, text=True, check=False
        )
        print("   ", out.stdout.strip().splitlines()[-1])
        data = json.loads((root / "times.json").read_text())
    plain = sum(data["times"]["plain"]) / n * 1000
    evaluated = sum(data["times"]["eval"]) / n * 1000
    print(f"per example, setup+call+teardown: plain test with assert_reward {plain:.2f} ms,")
    print(f"    eval example {evaluated:.2f} ms (ratio {evaluated / plain:.2f}x)")
    print(
        f"eval mode's end of session (scoring, gates, report.json), {n} examples: "
        f"{data['finish_s']:.3f} s"
    )


def bench_journal(n: int) -> float:
    """Milliseconds per example to journal a result like the suite's (one run, one call)."""
    from synatest.eval.journal import Journal
    from synatest.eval.results import ExampleResult, RunResult, TranscriptCall, Usage

    prompt = "Your task is to answer with a JSON object. " * 20  # ~1 kB, like a Generator's
    call = TranscriptCall(
        kind="completion",
        model="openai/gpt-4o-mini",
        source="double",
        messages=[{"role": "system", "content": prompt}, {"role": "user", "content": "q?"}],
        schema_title="Answer",
        content='{"answer": "a1"}',
        usage=Usage(calls=1, prompt_tokens=300, completion_tokens=8),
    )
    with tempfile.TemporaryDirectory() as tmp:
        journal = Journal(Path(tmp), "run", "main")
        start = time.perf_counter()
        for i in range(n):
            result = ExampleResult(
                id=f"q{i}",
                suite="qa",
                reward=1.0,
                passed=True,
                runs=[RunResult(reward=1.0, passed=True)],
            )
            data = result.model_dump(mode="json")
            data["runs"][0]["transcript"] = [call.model_dump(mode="json")]
            journal.append(f"test_suite.py::test_eval[q{i}]", i, "0" * 64, data)
        elapsed = time.perf_counter() - start
        journal.close()
    per_example = elapsed / n * 1000
    print(
        "journalling a finished example (dump, write; fsynced in the background): "
        f"{per_example:.3f} ms"
    )
    return per_example


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=200)
    args = parser.parse_args()
    bench_scoring()
    bench_overhead(args.examples)
    bench_journal(args.examples)


if __name__ == "__main__":
    main()
