"""An example suite replayed from committed cassettes.

The cassettes under ``cassettes/examples/cassettes/`` were recorded from synatest's
loopback OpenAI-compatible *simulator* (``synatest.testing.LoopbackLM``), not from a
real model: see ``record_from_loopback.py`` next to this file. The suite runs
offline with no key: every LM call replays from the cassette, with its usage and
cost.

Re-record against a real provider with
``OPENAI_API_KEY=... pytest examples/cassettes --synalinks-record-mode=rewrite``.
"""

from __future__ import annotations

import os

import pytest


def language_model():  # type: ignore[no-untyped-def]
    import synalinks

    # Set only while recording from the loopback simulator; ignored by matching.
    api_base = os.environ.get("SYNATEST_EXAMPLE_API_BASE")
    return synalinks.LanguageModel(model="openai/gpt-4o-mini", api_base=api_base)


async def arithmetic_program(model=None):  # type: ignore[no-untyped-def]
    import synalinks

    class Question(synalinks.DataModel):
        question: str = synalinks.Field(description="an arithmetic question")

    class Answer(synalinks.DataModel):
        answer: str = synalinks.Field(description="the number that answers it")

    inputs = synalinks.Input(data_model=Question)
    outputs = await synalinks.Generator(
        data_model=Answer, language_model=model or language_model()
    )(inputs)
    program = synalinks.Program(inputs=inputs, outputs=outputs, name="arithmetic")
    return program, Question


@pytest.mark.parametrize(("a", "b"), [(2, 3), (10, 32), (7, 8)])
async def test_addition(a: int, b: int) -> None:
    program, Question = await arithmetic_program()
    result = await program(Question(question=f"What is {a} + {b}?"))
    assert result.get_json() == {"answer": str(a + b)}


async def test_batch_of_questions_runs_concurrently(lm_cassette) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    program, Question = await arithmetic_program()
    questions = [f"What is {n} + {n}?" for n in range(8)]
    results = await asyncio.gather(*(program(Question(question=q)) for q in questions))
    assert [r.get_json()["answer"] for r in results] == [str(2 * n) for n in range(8)]
    assert len(lm_cassette.replayed) + len(lm_cassette.recorded) == 8


async def test_usage_and_cost_are_replayed() -> None:
    model = language_model()
    program, Question = await arithmetic_program(model)
    await program(Question(question="What is 1 + 1?"))
    assert model.cumulated_calls == 1
    assert model.cumulated_prompt_tokens > 0
    assert model.cumulated_cost > 0  # litellm priced the recorded usage of gpt-4o-mini
