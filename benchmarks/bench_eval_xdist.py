"""``pytest --synalinks-eval -n 2`` against a serial run of the same CPU-bound suite.

The suite: N examples, each running a real Synalinks program (a Generator) whose LM
call is answered by ``synatest.FunctionLM``: per-example cost is Synalinks' own CPU work
(schema generation, prompt rendering, parsing), as in a suite replayed from cassettes.
Both runs are fresh pytest processes, side by side; the reports are compared (modulo
timings) to show the merge gives the same result.

    uv run python benchmarks/bench_eval_xdist.py [--examples 1500]

Each process pays Synalinks' import (~6-17 s of CPU) once; a worker pays it too, so the
speed-up grows with the suite's size. On a machine whose cores are busy with other work
the parallel run cannot go faster than the free cores allow.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

SUITE = """
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


@synatest.parametrize_dataset("qa.jsonl", x=Question, y=Answer)
@pytest.mark.synalinks_eval(suite="qa", threshold=0.8)
async def test_qa(x, y, synalinks_router):
    synalinks_router.use(synatest.FunctionLM(reply))
    lm = synalinks.LanguageModel(model="openai/gpt-4o-mini")
    inputs = synalinks.Input(data_model=Question)
    outputs = await synalinks.Generator(data_model=Answer, language_model=lm)(inputs)
    program = synalinks.Program(inputs=inputs, outputs=outputs)
    return await program(x)
"""


def normalized(path: Path) -> Any:
    report = json.loads(path.read_text())
    report.update(created_at=None, duration_s=None)
    for suite in report["suites"]:
        for example in suite["examples"]:
            example["duration_s"] = None
    return report


def run(root: Path, *args: str) -> tuple[float, str]:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--synalinks-eval"]
    start = time.perf_counter()
    out = subprocess.run([*command, *args], cwd=root, capture_output=True, text=True, check=False)
    return time.perf_counter() - start, out.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=1500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        rows = [
            {"id": f"q{i}", "question": f"question {i}", "answer": f"a{i}"}
            for i in range(args.examples)
        ]
        (root / "qa.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        (root / "test_suite.py").write_text(SUITE)
        (root / "pytest.ini").write_text(
            "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
        )
        serial, serial_line = run(root, "--synalinks-report-dir=serial")
        parallel, parallel_line = run(root, "--synalinks-report-dir=parallel", "-n", "2")
        same = normalized(root / "serial" / "report.json") == normalized(
            root / "parallel" / "report.json"
        )
    print(f"cores visible: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}")
    print(f"serial: {serial:6.1f} s  ({serial_line})")
    print(f"-n 2:   {parallel:6.1f} s  ({parallel_line})")
    print(f"speed-up: {serial / parallel:.2f}x; same report.json (modulo timings): {same}")


if __name__ == "__main__":
    main()
