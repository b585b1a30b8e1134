"""Regression test of program "ticket_triage": today's program against yesterday's traffic.

Written by `synatest traces import --emit-test`
from the Synalinks traces of examples/traces/recorder.
Each example runs the program offline on inputs seen in production; the imported
cassette answers its LM calls, and the output must be the one production gave.
Re-import to refresh it; edit freely (it is yours now).
"""

import importlib
import importlib.util
import json
from pathlib import Path

import pytest
import synalinks

HERE = Path(__file__).parent
DATASET = HERE / "datasets/ticket_triage.jsonl"
CASSETTE = HERE / "cassettes/ticket_triage.yaml"
BUILDER = "../triage.py:build_program"


def examples():
    rows = [json.loads(line) for line in DATASET.read_text(encoding="utf-8").splitlines() if line]
    return [pytest.param(row, id=row["id"]) for row in rows if row.get("expected") is not None]


async def build_program():
    where, _, name = BUILDER.rpartition(":")
    if where.endswith(".py"):
        spec = importlib.util.spec_from_file_location("_traced_program", HERE / where)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    else:
        module = importlib.import_module(where)
    return await getattr(module, name)()


@pytest.mark.synalinks_cassette(path=str(CASSETTE))
@pytest.mark.parametrize("example", examples())
async def test_agrees_with_production(example):
    program = await build_program()
    inputs = synalinks.JsonDataModel(json=example["inputs"], schema=program.inputs[0].get_schema())
    result = await program(inputs)
    assert result is not None, "the program returned None (an LM call failed)"
    assert result.get_json() == example["expected"]
