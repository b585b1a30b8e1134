"""``synatest.testing.record_from_loopback``: record a suite from a simulated model, then
replay it offline (one real subprocess records; the replay runs in-process)."""

from __future__ import annotations

from typing import Any

import pytest

from synatest.testing import record_from_loopback

SUITE = """
import os
import synalinks


class Question(synalinks.DataModel):
    question: str


class Answer(synalinks.DataModel):
    answer: str


async def test_addition():
    lm = synalinks.LanguageModel(
        model="openai/gpt-4o-mini", api_base=os.environ.get("SYNATEST_EXAMPLE_API_BASE")
    )
    inputs = synalinks.Input(data_model=Question)
    outputs = await synalinks.Generator(data_model=Answer, language_model=lm)(inputs)
    program = synalinks.Program(inputs=inputs, outputs=outputs)
    result = await program(Question(question="What is 2 + 3?"))
    assert result.get_json() == {"answer": "5"}
"""


def test_records_a_suite_from_the_responder_and_it_replays_offline(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_sum=SUITE)
    bodies: list[dict[str, Any]] = []

    def responder(body: dict[str, Any]) -> dict[str, str]:
        bodies.append(body)
        return {"answer": "5"}

    assert record_from_loopback(responder, ["test_sum.py"], cwd=pytester.path) == 0
    assert len(bodies) == 1  # the model was the responder, over real HTTP
    (cassette,) = (pytester.path / "cassettes").rglob("*.yaml")
    assert "sk-loopback" not in cassette.read_text(encoding="utf-8")

    # Offline now: no server, no api_base; the recording answers.
    result = pytester.runpytest_inprocess("test_sum.py", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
