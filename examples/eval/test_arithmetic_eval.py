"""An evaluation suite with a reward Synalinks lacks: ``synatest.NumericMatch``.

The program answers in prose with its reasoning ("... so the answer is 42."); the
reward reads the number out of the ``answer`` field (``in_mask``) and compares it
with the expected one from ``datasets/arithmetic.csv``. Every example must be right
(threshold 1.0). A scripted model does the arithmetic from each request's content.
"""

from __future__ import annotations

import operator
import re

import pytest
import synalinks

import synatest

OPERATORS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.floordiv}


class Question(synalinks.DataModel):
    question: str = synalinks.Field(description="An arithmetic question")


class Answer(synalinks.DataModel):
    reasoning: str = synalinks.Field(description="Step by step reasoning")
    answer: str = synalinks.Field(description="The final answer, in a sentence")


class Expected(synalinks.DataModel):
    """The dataset's expected output: only the answer (the reasoning is free)."""

    answer: str


def calculator(request: synatest.LMRequest) -> dict[str, str]:
    match = re.search(r"What is (\d+) ([-+*/]) (\d+)\?", request.last_user_message)
    if match is None:
        return {"reasoning": "I cannot read the question.", "answer": "unknown"}
    a, op, b = int(match[1]), match[2], int(match[3])
    result = OPERATORS[op](a, b)
    return {
        "reasoning": f"{a} {op} {b} = {result}",
        "answer": f"So the answer is {result:,}.",
    }


@pytest.fixture
def calculator_lm(synalinks_router: synatest.Router) -> synatest.FunctionLM:
    double = synatest.FunctionLM(calculator)
    synalinks_router.use(double)
    return double


async def build_program() -> synalinks.Program:
    language_model = synalinks.LanguageModel(model="openai/gpt-4o-mini")
    inputs = synalinks.Input(data_model=Question)
    outputs = await synalinks.Generator(data_model=Answer, language_model=language_model)(inputs)
    return synalinks.Program(inputs=inputs, outputs=outputs, name="arithmetic")


@synatest.parametrize_dataset("datasets/arithmetic.csv", x=Question, y=Expected)
@pytest.mark.synalinks_eval(
    suite="arithmetic", reward=synatest.NumericMatch(in_mask=["answer"]), threshold=1.0
)
async def test_arithmetic(x: Question, y: Expected, calculator_lm: synatest.FunctionLM) -> object:
    program = await build_program()
    return await program(x)


async def test_one_answer_with_assert_reward(calculator_lm: synatest.FunctionLM) -> None:
    """An ordinary test (not an eval example): a reward as an assertion."""
    program = await build_program()
    prediction = await program(Question(question="What is 6 * 7?"))
    expected = Expected(answer="42")
    await synatest.assert_reward(synatest.NumericMatch(in_mask=["answer"]), expected, prediction)
