"""Files of a small eval project for pytester runs: a real Synalinks program whose
LM is a double with a little latency, and a dataset of arithmetic questions."""

from __future__ import annotations

import json

import pytest

CONFTEST = '''
import asyncio
import re

import pytest
import synalinks

from synatest.doubles.replies import to_response

LATENCY = 0.05
STATE = {"in_flight": 0, "max_in_flight": 0, "calls": 0}


class Question(synalinks.DataModel):
    question: str = synalinks.Field(description="an addition, like '2 + 3'")


class Answer(synalinks.DataModel):
    answer: str = synalinks.Field(description="the sum")


async def slow_adder(request, call_next):
    """An LM double: answers the sum (wrong for '13 + ...', an error for '99 + ...')."""
    STATE["calls"] += 1
    STATE["in_flight"] += 1
    STATE["max_in_flight"] = max(STATE["max_in_flight"], STATE["in_flight"])
    try:
        await asyncio.sleep(LATENCY)
    finally:
        STATE["in_flight"] -= 1
    match = re.search(r"(\\d+) \\+ (\\d+)", request.last_user_message)
    a, b = int(match.group(1)), int(match.group(2))
    if a == 99:
        return to_response(RuntimeError("provider down"), request)
    return to_response({"answer": str(a + b + (1 if a == 13 else 0))}, request)


@pytest.fixture
async def program(synalinks_router):
    synalinks_router.use(slow_adder, name="slow-adder")
    lm = synalinks.LanguageModel(model="openai/gpt-4o-mini")
    inputs = synalinks.Input(data_model=Question)
    outputs = await synalinks.Generator(data_model=Answer, language_model=lm)(inputs)
    return synalinks.Program(inputs=inputs, outputs=outputs, name="adder")


def pytest_sessionfinish(session):
    print(f"\\nLM-STATE {STATE}")
'''

TEST = """
import pytest
import synatest
from conftest import Answer, Question


@synatest.parametrize_dataset("sums.jsonl", x=Question, y=Answer)
@pytest.mark.synalinks_eval(suite="sums", threshold=0.5)
async def test_sums(program, x, y):
    return await program(x)
"""


def rows(n: int, *, wrong: tuple[int, ...] = (), broken: tuple[int, ...] = ()) -> str:
    lines = []
    for i in range(n):
        a = 13 if i in wrong else 99 if i in broken else i
        lines.append(
            json.dumps({"id": f"s{i:02d}", "question": f"{a} + {i}", "answer": str(a + i)})
        )
    return "\n".join(lines) + "\n"


def make_project(
    pytester: pytest.Pytester, n: int = 6, ini: str = "", **kwargs: tuple[int, ...]
) -> None:
    pytester.makeini(f"[pytest]\nasyncio_default_fixture_loop_scope = function\n{ini}")
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_sums=TEST)
    (pytester.path / "sums.jsonl").write_text(rows(n, **kwargs))


def lm_state(result: pytest.RunResult) -> dict[str, int]:
    import ast

    line = next(line for line in result.outlines if line.startswith("LM-STATE "))
    return ast.literal_eval(line[len("LM-STATE ") :])  # type: ignore[no-any-return]
