"""The regression test ``synatest traces import --emit-test BUILDER`` writes.

One test per imported example: build the program with BUILDER (an async function
taking no arguments and returning the ``synalinks.Program``), run it on the example's
inputs with the imported cassette answering every LM call (offline), and assert that
its output is the one production gave. A changed prompt no longer matches a recorded
call: the test fails with synatest's cassette miss (the diff and the re-record
command).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

TEMPLATE = '''\
"""Regression test of program {program}: today's program against yesterday's traffic.

Written by `synatest traces import --emit-test`
from {source_note}.
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
DATASET = HERE / {dataset}
CASSETTE = HERE / {cassette}
BUILDER = {builder}


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
'''


def emitted_test(
    program: str, builder: str, out: Path, dataset: Path, cassette: Path, *, source: str = ""
) -> str:
    """The text of the regression test module for ``program`` (written to ``out``)."""
    where, sep, name = builder.rpartition(":")
    if not sep or not where or not name:
        from synatest.errors import TracesError

        raise TracesError(
            f"--emit-test {builder!r}: give the program builder as MODULE:FUNCTION or "
            "path/to/file.py:FUNCTION (an async function returning the synalinks.Program)"
        )
    if where.endswith(".py"):
        where = Path(os.path.relpath(Path(where).resolve(), out.resolve())).as_posix()
    # JSON strings are Python strings in the quotes `ruff format` keeps.
    return TEMPLATE.format(
        program=json.dumps(program),
        source_note=f"the Synalinks traces of {source}" if source else "Synalinks traces",
        dataset=json.dumps(dataset.relative_to(out).as_posix()),
        cassette=json.dumps(cassette.relative_to(out).as_posix()),
        builder=json.dumps(f"{where}:{name}"),
    )
