"""Run the program of ``program.py`` "in production": real HTTP to a loopback model,
with ``synalinks.record_traces()`` and ``synalinks.enable_observability()`` on.

    python production.py OUT_DIR [QUESTION ...]

writes ``OUT_DIR/recorder/`` (Recorder JSONL) and ``OUT_DIR/mlflow.db`` (MLflow traces,
experiment ``production``). Run it with the working directory in a temp dir: MLflow
puts its artifact folder (``mlruns/``) there.
"""

import asyncio
import importlib.util
import json
import os
import re
import sys
from pathlib import Path

OUT = Path(sys.argv[1]).resolve()
QUESTIONS = sys.argv[2:] or ["What is 2 + 3?", "What is 7 + 5?", "What is 2 + 3?", "What is 9 + 1?"]
os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{OUT / 'mlflow.db'}"

import mlflow.tracing.provider  # noqa: E402
import synalinks  # noqa: E402

from synatest.testing import DUMMY_API_KEY, LoopbackLM  # noqa: E402

# MLflow 3.17 fails to start a child span when an experiment id is passed with it
# (`'_Span' object has no attribute '_span'`), and Synalinks' Monitor passes one for
# every span: without this, a program's module spans are lost. The id only matters
# for root spans, so it is dropped for the others (what MLflow meant to do).
_start = mlflow.tracing.provider.start_detached_span


def _start_detached_span(name, parent=None, experiment_id=None, start_time_ns=None):
    return _start(
        name,
        parent=parent,
        experiment_id=None if parent is not None else experiment_id,
        start_time_ns=start_time_ns,
    )


mlflow.tracing.provider.start_detached_span = _start_detached_span

spec = importlib.util.spec_from_file_location("program", Path(__file__).with_name("program.py"))
program_module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(program_module)


def answer(body):
    numbers = [int(n) for n in re.findall(r"\d+", json.dumps(body["messages"][-1]))]
    return {"answer": str(sum(numbers))}


async def main():
    synalinks.record_traces(str(OUT / "recorder"))
    synalinks.enable_observability(experiment_name="production")
    with LoopbackLM(answer) as server:
        os.environ["TRACES_API_BASE"] = server.base_url
        os.environ["OPENAI_API_KEY"] = DUMMY_API_KEY
        program = await program_module.build_program()
        for question in QUESTIONS:
            result = await program(program_module.Question(question=question))
            print(json.dumps(result.get_json()))


asyncio.run(main())
