"""The program of the traces tests: a Synalinks QA program, as it runs in production.

Its LanguageModel talks to ``$TRACES_API_BASE`` (the loopback server) when set, and
to nothing otherwise (a test replays its calls from an imported cassette).
"""

import os

import synalinks

INSTRUCTIONS = "Answer with the number only."


class Question(synalinks.DataModel):
    question: str = synalinks.Field(description="an arithmetic question")


class Answer(synalinks.DataModel):
    answer: str = synalinks.Field(description="the number that answers it")


async def build_program():
    lm = synalinks.LanguageModel(
        model="openai/gpt-4o-mini", api_base=os.environ.get("TRACES_API_BASE")
    )
    inputs = synalinks.Input(data_model=Question)
    outputs = await synalinks.Generator(
        data_model=Answer, language_model=lm, instructions=INSTRUCTIONS
    )(inputs)
    return synalinks.Program(inputs=inputs, outputs=outputs, name="arithmetic")
