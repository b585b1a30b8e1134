"""``pytest --synalinks-eval -n 2`` against a serial run of the same CPU-bound suite.

The suite: N examples replayed through a real Synalinks program (a Generator, built once
per module by a fixture, as a replay suite usually does) whose LM call is answered by
``synatest.FunctionLM``: per-example cost is Synalinks' and pytest's own CPU work
(prompt rendering, parsing, validation, reward, reports), as in a suite replayed from
cassettes. Serial and ``-n 2`` runs are fresh pytest processes, interleaved, at each size;
their reports are compared (modulo timings) to show the merge gives the same result.

Two times per run: the whole command, and its examples phase (the controller's first
example start to its last example end, recorded by a conftest). Every pytest process --
and every xdist worker -- first pays Synalinks' import (~8 s here with a bytecode cache,
~17-20 s without), which no number of workers shortens; the examples phase shows what
distributing the examples itself gains, and the whole-command ratio grows toward it with
the suite's size.

    uv run python benchmarks/bench_eval_xdist.py [--examples 1500 6000] [--repeats 1]
        [--per-example-program] [--no-bytecode-cache]

``--per-example-program`` builds the program inside each test instead (much more pydantic
work per example; two such processes side by side slow each other down on this machine).
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

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

HEADER = """
import pytest
import synalinks
import synatest


class Question(synalinks.DataModel):
    question: str


class Answer(synalinks.DataModel):
    answer: str


def reply(request):
    number = request.last_user_message.split("question ")[1].split("'")[0]
    return {"answer": "wrong" if int(number) % 10 == 0 else f"a{number}"}


async def build():
    lm = synalinks.LanguageModel(model="openai/gpt-4o-mini")
    inputs = synalinks.Input(data_model=Question)
    outputs = await synalinks.Generator(data_model=Answer, language_model=lm)(inputs)
    return synalinks.Program(inputs=inputs, outputs=outputs)
"""

SHARED_PROGRAM = (
    HEADER
    + """

@pytest.fixture(scope="module")
async def program():
    return await build()


@synatest.parametrize_dataset("qa.jsonl", x=Question, y=Answer)
@pytest.mark.synalinks_eval(suite="qa", threshold=0.8)
async def test_qa(x, y, program, synalinks_router):
    synalinks_router.use(synatest.FunctionLM(reply))
    return await program(x)
"""
)

PER_EXAMPLE_PROGRAM = (
    HEADER
    + """

@synatest.parametrize_dataset("qa.jsonl", x=Question, y=Answer)
@pytest.mark.synalinks_eval(suite="qa", threshold=0.8)
async def test_qa(x, y, synalinks_router):
    synalinks_router.use(synatest.FunctionLM(reply))
    return await (await build())(x)
"""
)

# Records, on the controller (or the serial process), when the examples phase starts and ends.
CONFTEST = """
import json, os, time

_SPAN = {}


def pytest_runtest_logstart(nodeid, location):
    _SPAN.setdefault("first", time.perf_counter())


def pytest_runtest_logfinish(nodeid, location):
    _SPAN["last"] = time.perf_counter()


def pytest_unconfigure(config):
    if not hasattr(config, "workerinput") and "first" in _SPAN:
        with open(os.environ["BENCH_SPAN_FILE"], "w") as f:
            json.dump(_SPAN["last"] - _SPAN["first"], f)
"""


def run(root: Path, env: dict[str, str], *args: str) -> tuple[float, float, str]:
    """(whole command s, examples phase s, pytest's last line)."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--synalinks-eval"]
    span_file = root / "span.json"
    start = time.perf_counter()
    out = subprocess.run(
        [*command, *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        env={**env, "BENCH_SPAN_FILE": str(span_file)},
    )
    wall = time.perf_counter() - start
    last = out.stdout.strip().splitlines()[-1]
    if out.returncode != 0:
        raise SystemExit(f"pytest {' '.join(args)} failed ({out.returncode}): {last}")
    return wall, float(json.loads(span_file.read_text())), last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, nargs="+", default=[1500, 6000])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--per-example-program", action="store_true")
    parser.add_argument("--no-bytecode-cache", action="store_true")
    args = parser.parse_args()
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        if args.no_bytecode_cache:  # every process compiles every module afresh
            env.update(PYTHONDONTWRITEBYTECODE="1", PYTHONPYCACHEPREFIX=f"{tmp}/no-pyc")
        else:  # the usual case; the first run writes the caches
            env["PYTHONDONTWRITEBYTECODE"] = ""
        root = Path(tmp)
        suite = PER_EXAMPLE_PROGRAM if args.per_example_program else SHARED_PROGRAM
        (root / "test_suite.py").write_text(suite)
        (root / "conftest.py").write_text(CONFTEST)
        (root / "pytest.ini").write_text(
            "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
        )
        rows = []
        for n in args.examples:
            examples = [
                {"id": f"q{i}", "question": f"question {i}", "answer": f"a{i}"} for i in range(n)
            ]
            (root / "qa.jsonl").write_text("".join(json.dumps(e) + "\n" for e in examples))
            serial: list[tuple[float, float]] = []
            parallel: list[tuple[float, float]] = []
            if not args.no_bytecode_cache:  # writes the bytecode caches
                subprocess.run(
                    [sys.executable, "-m", "pytest", "-q", "--collect-only", "-n", "2"],
                    cwd=root,
                    env=env,
                    capture_output=True,
                    check=True,
                )
            for _ in range(args.repeats):
                wall, span, serial_line = run(root, env, "--synalinks-report-dir=serial")
                serial.append((wall, span))
                wall, span, parallel_line = run(
                    root, env, "--synalinks-report-dir=parallel", "-n", "2"
                )
                parallel.append((wall, span))
            one, two = (
                timeless(json.loads((root / name / "report.json").read_text()))
                for name in ("serial", "parallel")
            )
            same = one == two
            s_wall, s_span = (statistics.median(t[i] for t in serial) for i in (0, 1))
            p_wall, p_span = (statistics.median(t[i] for t in parallel) for i in (0, 1))
            rows.append(
                [
                    n,
                    f"{s_wall:.1f} s",
                    f"{p_wall:.1f} s",
                    f"{s_wall / p_wall:.2f}x",
                    f"{s_span:.1f} s",
                    f"{p_span:.1f} s",
                    f"{s_span / p_span:.2f}x",
                    same,
                ]
            )
            print(f"{n} examples: serial: {serial_line}; -n 2: {parallel_line}", flush=True)
    cache = "no bytecode cache" if args.no_bytecode_cache else "bytecode cache on"
    program = "program built per example" if args.per_example_program else "program per module"
    print(
        f"\ncores visible: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}; {cache}; "
        f"{program}; medians of {args.repeats}"
    )
    print(
        tabulate(
            rows,
            headers=[
                "examples",
                "serial",
                "-n 2",
                "speed-up",
                "serial examples phase",
                "-n 2 examples phase",
                "speed-up",
                "same report.json",
            ],
        )
    )


if __name__ == "__main__":
    main()
