"""Quickstart: test a Synalinks program offline, with no API key and no network.

The program is an ordinary Synalinks program. The test serves its LM calls with
``synatest.FunctionLM`` (a reply computed from each request); any call nothing
serves fails the test at once instead of reaching a real model.
"""

from __future__ import annotations

import pytest
import synalinks

import synatest


class Query(synalinks.DataModel):
    query: str = synalinks.Field(description="The user query")


class Answer(synalinks.DataModel):
    answer: str = synalinks.Field(description="The answer to the query")


async def build_program() -> synalinks.Program:
    language_model = synalinks.LanguageModel(model="openai/gpt-4o-mini")
    inputs = synalinks.Input(data_model=Query)
    outputs = await synalinks.Generator(data_model=Answer, language_model=language_model)(inputs)
    return synalinks.Program(inputs=inputs, outputs=outputs, name="qa")


def capital_of(request: synatest.LMRequest) -> dict[str, str]:
    # The request carries what Synalinks sent: the schema it asked for and the messages.
    assert request.schema_title == "Answer"
    return {"answer": "Paris" if "France" in request.last_user_message else "I don't know"}


async def test_program_answers_from_the_double(synalinks_router: synatest.Router) -> None:
    synalinks_router.use(synatest.FunctionLM(capital_of))
    program = await build_program()

    result = await program(Query(query="What is the capital of France?"))

    assert result.get("answer") == "Paris"
    assert len(synalinks_router.requests) == 1


async def test_a_call_nothing_serves_fails_loudly(synalinks_router) -> None:
    # A test using synatest (here its router) has an unserved call refused at once, at
    # litellm's entry; in a test that does not, it is refused where it would connect.
    program = await build_program()
    with pytest.raises(synatest.UnservedLMCall, match="How to serve it"):
        await program(Query(query="What is the capital of France?"))
