"""Two shards as two processes side by side against a serial run of the same suite.

The CPU-bound replay suite of ``bench_eval_xdist.py`` (a Generator program built once per
module, its LM call answered by ``synatest.FunctionLM``): ``pytest --synalinks-eval`` once
serially, and as ``--synalinks-shard 1/2`` and ``2/2`` started together (as two CI machines
would, here sharing this machine's cores), then ``synatest report merge``. The merged
report must equal the serial one (modulo timings); the script stops if it does not.

Two times: the whole commands (the two shards' wall time, which includes each process's
Synalinks import, plus the merge) and the examples phase (first example start to last
example end; for the shards, across both processes, by wall clock).

    uv run python benchmarks/bench_shards.py [--examples 1500] [--repeats 1]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tabulate import tabulate

from synatest.reports.json_report import timeless

sys.path.insert(0, str(Path(__file__).parent))
from bench_eval_xdist import SHARED_PROGRAM

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

# Each process records the wall-clock start of its first example and end of its last.
CONFTEST = """
import json, os, time

_SPAN = {}


def pytest_runtest_logstart(nodeid, location):
    _SPAN.setdefault("first", time.time())


def pytest_runtest_logfinish(nodeid, location):
    _SPAN["last"] = time.time()


def pytest_unconfigure(config):
    if "first" in _SPAN:
        with open(os.environ["BENCH_SPAN_FILE"], "w") as f:
            json.dump([_SPAN["first"], _SPAN["last"]], f)
"""


def pytest(root: Path, env: dict[str, str], name: str, *args: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--synalinks-eval"]
    return subprocess.Popen(
        [*command, f"--synalinks-report-dir={name}", *args],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**env, "BENCH_SPAN_FILE": str(root / f"{name}.span")},
    )


def finish(process: subprocess.Popen[str]) -> None:
    out, _ = process.communicate()
    if process.returncode not in (0, 1):  # 1: the suite's gate (threshold 0.8 on 0.9) passes
        raise SystemExit(f"pytest failed ({process.returncode}): {out[-2000:]}")


def span(root: Path, *names: str) -> float:
    spans = [json.loads((root / f"{name}.span").read_text()) for name in names]
    return max(s[1] for s in spans) - min(s[0] for s in spans)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=1500)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": ""}
    env.pop("SYNATEST_SHARD", None)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "test_suite.py").write_text(SHARED_PROGRAM)
        (root / "conftest.py").write_text(CONFTEST)
        (root / "pytest.ini").write_text(
            "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
        )
        rows = [
            {"id": f"q{i}", "question": f"question {i}", "answer": f"a{i}"}
            for i in range(args.examples)
        ]
        (root / "qa.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        subprocess.run(  # writes the bytecode caches
            [sys.executable, "-m", "pytest", "-q", "--collect-only"],
            cwd=root,
            env=env,
            capture_output=True,
            check=True,
        )
        serial: list[tuple[float, float]] = []
        sharded: list[tuple[float, float]] = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            finish(pytest(root, env, "serial"))
            serial.append((time.perf_counter() - start, span(root, "serial")))
            start = time.perf_counter()
            shards = [pytest(root, env, f"s{i}", f"--synalinks-shard={i}/2") for i in (1, 2)]
            for process in shards:
                finish(process)
            merge = subprocess.run(
                [sys.executable, "-m", "synatest", "report", "merge", "s1", "s2", "-o", "merged"],
                cwd=root,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            sharded.append((time.perf_counter() - start, span(root, "s1", "s2")))
            if merge.returncode not in (0, 1):
                raise SystemExit(f"merge failed: {merge.stderr}")
        merged_report, serial_report = (
            timeless(json.loads((root / name / "report.json").read_text()))
            for name in ("merged", "serial")
        )
        same = merged_report == serial_report
        if not same:
            raise SystemExit("the merged report differs from the serial one")
        s_wall, s_span = (statistics.median(t[i] for t in serial) for i in (0, 1))
        p_wall, p_span = (statistics.median(t[i] for t in sharded) for i in (0, 1))
        print(f"{args.examples} examples, {args.repeats} round(s), medians")
        print(
            tabulate(
                [
                    ["serial", f"{s_wall:.1f} s", f"{s_span:.1f} s"],
                    ["2 shards side by side + merge", f"{p_wall:.1f} s", f"{p_span:.1f} s"],
                    ["speed-up", f"{s_wall / p_wall:.2f}x", f"{s_span / p_span:.2f}x"],
                ],
                headers=["run", "whole commands", "examples phase"],
                tablefmt="github",
            )
        )
        print(f"merged report == serial report (modulo timings): {same}")


if __name__ == "__main__":
    main()
