"""Example 1: one chain-of-thought program in the four Synalinks styles.

Functional, Subclassing, mixed (``build()``) and Sequential programs, each built by a
``@synatest.program`` fixture and tested offline with the ``scripted_lm`` double.
"""

from __future__ import annotations

import pytest
import synalinks

import synatest


class Query(synalinks.DataModel):
    query: str = synalinks.Field(description="The user query")


class Answer(synalinks.DataModel):
    answer: str = synalinks.Field(description="The correct answer")


@synatest.program
async def functional_cot(language_model):
    inputs = synalinks.Input(data_model=Query)
    outputs = await synalinks.ChainOfThought(data_model=Answer, language_model=language_model)(
        inputs
    )
    return synalinks.Program(inputs=inputs, outputs=outputs, name="functional_cot")


class SubclassedCoT(synalinks.Program):
    """Answers step by step (subclassing style: __init__ + call)."""

    def __init__(self, language_model=None, name=None, description=None, trainable=True):
        super().__init__(name=name, description=description, trainable=trainable)
        self.language_model = language_model
        self.answer = synalinks.ChainOfThought(
            data_model=Answer, language_model=language_model, name="cot_" + self.name
        )

    async def call(self, inputs, training=False):
        if not inputs:
            return None
        return await self.answer(inputs, training=training)


@synatest.program
async def subclassed_cot(language_model):
    return SubclassedCoT(language_model=language_model, name="subclassed_cot")


class MixedCoT(synalinks.Program):
    """Answers step by step (mixed style: __init__ + build with the Functional API)."""

    def __init__(self, language_model=None, name=None, description=None, trainable=True):
        super().__init__(name=name, description=description, trainable=trainable)
        self.language_model = language_model

    async def build(self, inputs):
        outputs = await synalinks.ChainOfThought(
            data_model=Answer, language_model=self.language_model
        )(inputs)
        super().__init__(
            inputs=inputs,
            outputs=outputs,
            name=self.name,
            description=self.description,
            trainable=self.trainable,
        )


@synatest.program
async def mixed_cot(language_model):
    program = MixedCoT(language_model=language_model, name="mixed_cot")
    await program.build(synalinks.Input(data_model=Query))
    return program


@synatest.program
async def sequential_cot(language_model):
    return synalinks.Sequential(
        [
            synalinks.Input(data_model=Query),
            synalinks.ChainOfThought(data_model=Answer, language_model=language_model),
        ],
        name="sequential_cot",
        description="Answers step by step (Sequential style)",
    )


STYLES = ["functional_cot", "subclassed_cot", "mixed_cot", "sequential_cot"]


@pytest.fixture(params=STYLES)
def program(request):
    """Each style in turn (resolved at setup, outside the test's event loop)."""
    return request.getfixturevalue(request.param)


async def test_every_style_answers_step_by_step(program, scripted_lm):
    # ChainOfThought asks for the Answer fields plus "thinking".
    scripted_lm.on(schema=Answer, contains="France").reply(
        {"thinking": "France's capital is Paris.", "answer": "Paris"}
    )
    result = await program(Query(query="What is the capital of France?"))
    assert result.get("answer") == "Paris"
    assert result.get("thinking") == "France's capital is Paris."
    (call,) = scripted_lm.calls
    assert set(call.schema["properties"]) == {"thinking", "answer"}
    assert "What is the capital of France?" in call.last_user_message


async def test_a_batch_gets_answers_by_content(functional_cot, scripted_lm):
    """predict() runs the batch concurrently: rules match on content, not on order."""
    import numpy as np

    capitals = {"France": "Paris", "Italy": "Rome", "Spain": "Madrid", "Japan": "Tokyo"}
    for country, capital in capitals.items():
        scripted_lm.on(contains=country).reply({"thinking": "known", "answer": capital})
    x = np.array([Query(query=f"Capital of {c}?") for c in capitals], dtype="object")
    predictions = await functional_cot.predict(x, batch_size=4, verbose=0)
    assert [p.get("answer") for p in predictions] == list(capitals.values())
