"""A stochastic program evaluated honestly: every example runs 3 times.

``datasets/reviews.jsonl`` classified by a simulated *moody* model
(``synatest.FunctionLM``): it reads sarcasm right on most runs but not all, answering by
``request.repeat``, the index of the run it serves. With ``repeat=3`` on the marker,
each example runs three times; the report holds every run, pass@1..3, pass^3 and the
flaky examples, and keeps the transcripts of the examples that did not pass::

    uv run pytest --synalinks-eval examples/eval/test_flaky_eval.py -v
    uv run synatest report show reports moody_sentiment/r09

One run per example would have called this program either perfect or broken,
depending on the run.
"""

from __future__ import annotations

import pytest
import synalinks

import synatest

NEGATIVE = ("terrible", "awful", "broke", "crashing", "poor", "bad", "worst", "waste", "stopped")
# Reviews whose words mislead a keyword reader: the moody model gets them right on
# runs 1 and 3 (index 0 and 2) and wrong on run 2.
TRICKY = ("Oh great,", "Not bad at all")


class Review(synalinks.DataModel):
    review: str = synalinks.Field(description="A customer review")


class Sentiment(synalinks.DataModel):
    label: str = synalinks.Field(description="'positive' or 'negative'")


def moody_model(request: synatest.LMRequest) -> dict[str, str]:
    text = request.last_user_message
    keyword = "negative" if any(word in text.lower() for word in NEGATIVE) else "positive"
    if any(phrase in text for phrase in TRICKY) and request.repeat != 1:
        keyword = "positive" if keyword == "negative" else "negative"  # read it right
    return {"label": keyword}


@pytest.fixture
def moody_lm(synalinks_router: synatest.Router) -> synatest.FunctionLM:
    return synatest.use_lm(synatest.FunctionLM(moody_model), router=synalinks_router)


async def build_program() -> synalinks.Program:
    language_model = synalinks.LanguageModel(model="openai/gpt-4o-mini")
    inputs = synalinks.Input(data_model=Review)
    outputs = await synalinks.Generator(data_model=Sentiment, language_model=language_model)(inputs)
    return synalinks.Program(inputs=inputs, outputs=outputs, name="moody_sentiment")


@synatest.parametrize_dataset(
    "datasets/reviews.jsonl", x=Review, y=Sentiment, fields={"label": "label"}
)
@pytest.mark.synalinks_eval(suite="moody_sentiment", threshold=0.8, repeat=3)
async def test_moody_sentiment(x: Review, y: Sentiment, moody_lm: synatest.FunctionLM) -> object:
    program = await build_program()
    return await program(x)
