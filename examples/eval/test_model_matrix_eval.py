"""A model matrix: one evaluation suite run against two (simulated) models.

``pytestmark`` below sets the matrix for this module (``--synalinks-models M1,M2`` does
it for a whole run): every test asking for the ``language_model`` fixture runs once per
model, and the suite is scored and gated once per model, as ``capitals-by-model[model]``.
``reports/report.md`` then shows the matrix: the suite as a row, the models as columns
(mean with its CI, pass rate, tokens, cost, p50/p95 latency), the best marked ★.

The two "models" are two ``synatest.FunctionLM`` doubles keyed by model name: each
answers its own model's requests and passes the other's on. The smaller one confuses
five capitals with their countries' largest cities (15/20 = 0.75); the larger one
knows all twenty. Recorded cassettes work the same way: the model is part of every
recording's key, and each ``test[example-model]`` has its own cassette.
"""

from __future__ import annotations

import pytest
import synalinks

import synatest

SMALL, LARGE = "openai/gpt-4o-mini", "openai/gpt-4o"
pytestmark = pytest.mark.synalinks_models(SMALL, LARGE)


class Country(synalinks.DataModel):
    country: str = synalinks.Field(description="A country")


class Capital(synalinks.DataModel):
    capital: str = synalinks.Field(description="The capital city of the country")


CAPITALS = {
    "France": "Paris", "Germany": "Berlin", "Italy": "Rome", "Spain": "Madrid",
    "Portugal": "Lisbon", "Japan": "Tokyo", "Canada": "Ottawa", "Australia": "Canberra",
    "Brazil": "Brasília", "Egypt": "Cairo", "Kenya": "Nairobi", "Norway": "Oslo",
    "Peru": "Lima", "Chile": "Santiago", "India": "New Delhi", "Turkey": "Ankara",
    "Vietnam": "Hanoi", "Poland": "Warsaw", "Morocco": "Rabat", "New Zealand": "Wellington",
}  # fmt: skip
# What the smaller model gets wrong: the largest city instead of the capital.
LARGEST_CITY = {
    "Australia": "Sydney", "Brazil": "Rio de Janeiro", "Turkey": "Istanbul",
    "Morocco": "Casablanca", "New Zealand": "Auckland",
}  # fmt: skip


def simulated_model(model: str, knowledge: dict[str, str]) -> synatest.FunctionLM:
    """A FunctionLM answering ``model``'s requests only (others go to the next layer)."""

    def answer(request: synatest.LMRequest) -> object:
        if request.model != model:
            return NotImplemented
        # By content: examples may run in any order, or concurrently.
        country = next(c for c in knowledge if c in request.last_user_message)
        return {"capital": knowledge[country]}

    return synatest.FunctionLM(answer)


@pytest.fixture
def simulated_models(synalinks_router: synatest.Router) -> None:
    synalinks_router.use(simulated_model(SMALL, CAPITALS | LARGEST_CITY))
    synalinks_router.use(simulated_model(LARGE, CAPITALS))


@synatest.program
async def capitals_program(language_model: synalinks.LanguageModel) -> synalinks.Program:
    # `language_model` is each model of the matrix in turn.
    inputs = synalinks.Input(data_model=Country)
    outputs = await synalinks.Generator(data_model=Capital, language_model=language_model)(inputs)
    return synalinks.Program(inputs=inputs, outputs=outputs, name="capitals")


@synatest.parametrize_dataset("datasets/capitals.jsonl", x=Country, y=Capital)
@pytest.mark.synalinks_eval(suite="capitals-by-model", reward="ExactMatch", threshold=0.7)
async def test_capitals_by_model(
    x: Country, y: Capital, simulated_models: None, capitals_program: synalinks.Program
) -> object:
    return await capitals_program(x)
