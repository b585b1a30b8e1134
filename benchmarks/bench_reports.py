"""Benchmark: render every report of a 20,000-example suite.

Target (issue 6): < 10 s and < 500 MB peak RSS for the whole render (report.json,
examples.jsonl, examples.csv, report.md, report.html) plus ``synatest report
compare`` of two such runs. Issue 13: the same with every example holding RUNS runs
(default 1), each with the transcript of its 2 LM calls (``--synalinks-transcripts=all``).
Run with::

    uv run python benchmarks/bench_reports.py [N] [RUNS]

Each measurement runs in a fresh process so its peak RSS is its own.
"""

from __future__ import annotations

import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, random, resource, sys, time
from pathlib import Path
from synatest.eval.results import (
    ExampleResult, RunReport, RunResult, SuiteResult, TranscriptCall, Usage)

n, seed, out, what = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
repeat = int(sys.argv[5])

def transcript(i, run):
    # Two calls, as a ChainOfThought-like program makes: system + user in, JSON out.
    return [TranscriptCall(
        kind="completion", model="openai/gpt-4o-mini", source="cassette",
        messages=[{"role": "system", "content": "You answer history questions. " * 12},
                  {"role": "user", "content": f"In which year did event number {i} happen? " * 3}],
        schema_title="Answer", content='{"answer": "%d", "reasoning": "%s"}' % (
            1900 + (i + run + step) % 100, "thinking step " * 10),
        usage=Usage(calls=1, prompt_tokens=175, completion_tokens=30, cost=0.00006),
        latency_s=0.4) for step in range(2)]

def runs_of(rnd, i, reward):
    return [RunResult(index=r, reward=reward if r else float(rnd.random() < 0.8),
                      passed=bool(reward), prediction={"answer": str(1900 + i % 100)},
                      usage=Usage(calls=2, prompt_tokens=350, completion_tokens=60),
                      duration_s=0.8, transcript=transcript(i, r)) for r in range(repeat)]

def build(n, seed):
    rnd = random.Random(seed)
    examples = []
    for i in range(n):
        error = rnd.random() < 0.02
        reward = None if error else float(rnd.random() < 0.8)
        examples.append(ExampleResult(
            id=f"ex-{i:05d}", suite="qa", nodeid=f"tests/test_qa.py::test_qa[ex-{i:05d}]",
            inputs={"question": f"In which year did event number {i} happen? " * 2,
                    "context": ["a passage of text " * 8]},
            expected={"answer": str(1900 + i % 100), "reasoning": "because " * 5},
            prediction=None if error else {"answer": str(1900 + (i if reward else i + 1) % 100),
                                           "reasoning": "thinking step " * 10},
            reward=reward, passed=None if error else reward == 1.0,
            error="LMCallFailed: RateLimitError: slow down" if error else None,
            duration_s=rnd.random(), usage=Usage(calls=2, prompt_tokens=350, completion_tokens=60,
                                                 cost=0.00012),
            runs=runs_of(rnd, i, reward) if repeat and not error else []))
    scored = [e.reward for e in examples if e.reward is not None]
    suite = SuiteResult(name="qa", reward="exact_match", threshold=0.75, n=n,
                        mean=sum(scored) / len(scored),
                        passes=sum(bool(e.passed) for e in examples),
                        errors=sum(e.error is not None for e in examples), examples=examples)
    return RunReport(suites=[suite], label=f"run{seed}")

if what == "render":
    report = build(n, seed)
    from synatest.reports import write_reports
    t0 = time.perf_counter()
    written = write_reports(report, out)
    elapsed = time.perf_counter() - t0
    sizes = {k: p.stat().st_size for k, p in written.items()}
else:
    from synatest.reports import compare
    t0 = time.perf_counter()
    c = compare.compare_paths(out / "a", out / "b")
    for fmt in ("md", "html", "json"):
        compare.write(c, out / f"compare.{fmt}", fmt)
    elapsed = time.perf_counter() - t0
    sizes = {}
def peak_rss_mb():
    # VmHWM: this process image's peak (ru_maxrss would include the pre-exec parent).
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
rss = peak_rss_mb()
print(json.dumps({"seconds": elapsed, "peak_rss_mb": rss, "sizes": sizes}))
"""


def child(*args: str) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, *args], capture_output=True, text=True, check=True
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def measure(n: int, repeat: int) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        a = child(str(n), "1", str(root / "a"), "render", str(repeat))
        child(str(n), "2", str(root / "b"), "render", str(repeat))
        c = child(str(n), "0", str(root), "compare", str(repeat))
    what = f"{repeat} runs each with transcripts" if repeat else "no runs"
    print(f"{n} examples, {what}")
    print(
        f"  render all 5 reports: {a['seconds']:.2f} s, peak RSS {a['peak_rss_mb']:.0f} MB "
        f"(process total, incl. building the RunReport)  [target < 10 s, < 500 MB]"
    )
    sizes = a["sizes"]
    assert isinstance(sizes, dict)
    print("  sizes: " + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in sizes.items()))
    print(
        f"  compare two runs (load both, md+html+json): {c['seconds']:.2f} s, "
        f"peak RSS {c['peak_rss_mb']:.0f} MB"
    )
    ok = a["seconds"] < 10 and a["peak_rss_mb"] < 500  # type: ignore[operator]
    print("  PASS" if ok else "  FAIL")
    return ok


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    measure(n, 0)
    measure(n, repeat)


if __name__ == "__main__":
    random.seed(0)
    t = time.perf_counter()
    main()
    print(
        f"(benchmark wall time {time.perf_counter() - t:.1f} s; "
        f"parent RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)"
    )
