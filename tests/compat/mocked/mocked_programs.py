"""The programs of the mocked suite: what a project with its own mocked tests has.

Nothing here (nor in the ``test_mock_*`` modules beside it) uses synatest: these
tests mock litellm the ways Synalinks users do (``unittest.mock``, respx, vcrpy), and
must give the same outcome with the plugin installed as without it
(``tests/compat/run_compat.py`` runs them both ways and compares).
"""

from __future__ import annotations

from typing import Literal

import synalinks

# The providers need some key to build their clients; these open nothing.
DUMMY_KEYS = {"OPENAI_API_KEY": "sk-compat-dummy", "TYPESAFE_API_KEY": "compat-dummy"}
# Where the vcrpy cassettes were recorded (record_vcr.py runs the loopback server here);
# replayed, nothing listens there.
RECORDED_API_BASE = "http://127.0.0.1:18765/v1"
CHAT_MODEL = "openai/gpt-4o-mini"
EMBEDDING_MODEL = "openai/text-embedding-3-small"
DECISION_MODEL = "typesafe/jev-latest"


class Query(synalinks.DataModel):
    query: str = synalinks.Field(description="The user's question")


class Answer(synalinks.DataModel):
    answer: str = synalinks.Field(description="The answer")


class Ticket(synalinks.DataModel):
    text: str = synalinks.Field(description="The support ticket")


class Triage(synalinks.DataModel):
    is_refund: bool = synalinks.Field(description="Does `text` ask for a refund?")
    team: Literal["billing", "technical"] = synalinks.Field(
        description="Which team should handle `text`?"
    )


# What a decision provider answers for a Triage (the wire format of the answers).
TRIAGE_ANSWERS = {
    "is_refund": {"type": "noul", "noul": 0.95},
    "team": {
        "type": "choice",
        "choice": "billing",
        "probabilities": {"billing": 0.9, "technical": 0.1},
        "confidence": 0.8,
    },
}


async def qa_program(api_base: str | None = None, **lm_kwargs: object) -> synalinks.Program:
    lm = synalinks.LanguageModel(model=CHAT_MODEL, api_base=api_base, **lm_kwargs)
    inputs = synalinks.Input(data_model=Query)
    outputs = await synalinks.Generator(data_model=Answer, language_model=lm)(inputs)
    return synalinks.Program(inputs=inputs, outputs=outputs, name="qa")


def embedding_model(api_base: str | None = None) -> synalinks.EmbeddingModel:
    return synalinks.EmbeddingModel(model=EMBEDDING_MODEL, api_base=api_base)


async def triage_program(
    decision_model: synalinks.DecisionModel | None = None,
) -> synalinks.Program:
    decision_model = decision_model or synalinks.DecisionModel(model=DECISION_MODEL)
    inputs = synalinks.Input(data_model=Ticket)
    outputs = await synalinks.Generator(data_model=Triage, decision_model=decision_model)(inputs)
    return synalinks.Program(inputs=inputs, outputs=outputs, name="triage")
