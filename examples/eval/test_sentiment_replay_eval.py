"""An evaluation suite replayed from committed cassettes: review sentiment.

Each example of ``datasets/reviews.jsonl`` is one test; its LM call replays from
``cassettes/examples/eval/test_sentiment_replay_eval/``, so the suite runs offline with
no key. The cassettes were recorded from synatest's loopback OpenAI-compatible
*simulator* (a keyword classifier that misreads sarcasm and "not bad"), not from a real
model: see ``record_sentiment.py`` next to this file. Each example runs 3 times
(``repeat=3``) and each run was recorded apart: the simulator reads the sarcastic and
the "not bad" review right on their second run only, so those two examples are flaky,
offline too. The suite scores 32/36 = 0.889, above the 0.75 threshold.

Re-record against a real provider with
``OPENAI_API_KEY=... pytest --synalinks-eval examples/eval/test_sentiment_replay_eval.py
--synalinks-record-mode=rewrite``.
"""

from __future__ import annotations

import os

import pytest
import synalinks

import synatest


class Review(synalinks.DataModel):
    review: str = synalinks.Field(description="A customer review")


class Sentiment(synalinks.DataModel):
    label: str = synalinks.Field(description="'positive' or 'negative'")


async def build_program() -> synalinks.Program:
    # Set only while recording from the loopback simulator; ignored by matching.
    api_base = os.environ.get("SYNATEST_EXAMPLE_API_BASE")
    language_model = synalinks.LanguageModel(model="openai/gpt-4o-mini", api_base=api_base)
    inputs = synalinks.Input(data_model=Review)
    outputs = await synalinks.Generator(
        data_model=Sentiment,
        language_model=language_model,
        instructions="Classify the sentiment of the review as 'positive' or 'negative'.",
    )(inputs)
    return synalinks.Program(inputs=inputs, outputs=outputs, name="sentiment")


@synatest.parametrize_dataset(
    "datasets/reviews.jsonl", x=Review, y=Sentiment, fields={"label": "label"}
)
@pytest.mark.synalinks_eval(suite="sentiment", reward="ExactMatch", threshold=0.75, repeat=3)
async def test_sentiment(x: Review, y: Sentiment) -> object:
    program = await build_program()
    return await program(x)
