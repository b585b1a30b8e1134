"""An evaluation suite, scripted: capital cities, gated at 80% exact match.

Run it with ``pytest --synalinks-eval examples/eval``; without the flag the suite's
tests are skipped (they are evaluation examples, not unit tests).

Each example of ``datasets/capitals.jsonl`` becomes one test. The test returns the
program's prediction; synatest scores it with the suite's reward (Synalinks'
``ExactMatch``), and gates the suite as a whole: its mean reward must reach the
threshold. The program's LM is scripted with ``synatest.FunctionLM``: a small
"model" that knows most capitals and admits when it does not, so the suite scores
18/20 = 0.9.
"""

from __future__ import annotations

import pytest
import synalinks

import synatest


class Country(synalinks.DataModel):
    country: str = synalinks.Field(description="A country")


class Capital(synalinks.DataModel):
    capital: str = synalinks.Field(description="The capital city of the country")


# What the scripted model "knows": two capitals are missing on purpose.
KNOWN = {
    "France": "Paris", "Germany": "Berlin", "Italy": "Rome", "Spain": "Madrid",
    "Portugal": "Lisbon", "Japan": "Tokyo", "Canada": "Ottawa", "Australia": "Canberra",
    "Brazil": "Brasília", "Egypt": "Cairo", "Kenya": "Nairobi", "Norway": "Oslo",
    "Peru": "Lima", "Chile": "Santiago", "India": "New Delhi", "Turkey": "Ankara",
    "Vietnam": "Hanoi", "Poland": "Warsaw",
}  # fmt: skip


def scripted_model(request: synatest.LMRequest) -> dict[str, str]:
    """Answers by content (examples may run in any order, or concurrently)."""
    for country, capital in KNOWN.items():
        if country in request.last_user_message:
            return {"capital": capital}
    return {"capital": "I don't know"}


@pytest.fixture
def capitals_lm(synalinks_router: synatest.Router) -> synatest.FunctionLM:
    double = synatest.FunctionLM(scripted_model)
    synalinks_router.use(double)
    return double


async def build_program() -> synalinks.Program:
    language_model = synalinks.LanguageModel(model="openai/gpt-4o-mini")
    inputs = synalinks.Input(data_model=Country)
    outputs = await synalinks.Generator(data_model=Capital, language_model=language_model)(inputs)
    return synalinks.Program(inputs=inputs, outputs=outputs, name="capitals")


@synatest.parametrize_dataset("datasets/capitals.jsonl", x=Country, y=Capital)
@pytest.mark.synalinks_eval(suite="capitals", reward="ExactMatch", threshold=0.8)
async def test_capitals(x: Country, y: Capital, capitals_lm: synatest.FunctionLM) -> object:
    program = await build_program()
    return await program(x)
