"""Example 6: a program with a ``DecisionModel`` (typed yes/no, choice and score
questions, answered through ``litellm.asystemone``), tested offline.

The doubles answer a decision call with one plain value per question, keyed by the
field name of the output DataModel: ``True``/``False``, an option, a level of the
scale. A DataModel instance works as well, and so does a ``FunctionLM`` reading the
ticket. A reply that is not one of the options fails the test (``SchemaMismatch``)
instead of reaching the program.
"""

from __future__ import annotations

from typing import Literal

import pytest
import synalinks

import synatest


class Ticket(synalinks.DataModel):
    text: str = synalinks.Field(description="The support ticket")


class Triage(synalinks.DataModel):
    is_refund: bool = synalinks.Field(description="Does `text` ask for a refund?")
    team: Literal["billing", "technical", "sales"] = synalinks.Field(
        description="Which team should handle `text`?"
    )
    urgency: synalinks.Rating = synalinks.Field(description="How urgent is `text`?")


@synatest.program
async def triage():
    decision_model = synalinks.DecisionModel(model="ollama/laya")
    inputs = synalinks.Input(data_model=Ticket)
    outputs = await synalinks.Generator(data_model=Triage, decision_model=decision_model)(inputs)
    return synalinks.Program(inputs=inputs, outputs=outputs, name="triage")


async def test_scripted_answers_by_rule(triage, scripted_lm):
    scripted_lm.on(contains="charged twice").reply(
        Triage(is_refund=True, team="billing", urgency=5)
    )
    scripted_lm.on(contains="crash").reply({"is_refund": False, "team": "technical", "urgency": 3})
    refund = await triage(Ticket(text="I was charged twice, please refund me"))
    crash = await triage(Ticket(text="The app crashes when I log in"))
    assert refund.get_json() == {"is_refund": True, "team": "billing", "urgency": 5}
    assert crash.get("team") == "technical"
    first, _ = scripted_lm.calls
    assert first.request.kind == "decision"
    assert set(first.request.schema["properties"]) == {"is_refund", "team", "urgency"}


def route(request: synatest.LMRequest) -> dict:
    """A decision double computed from the ticket: keywords decide."""
    text = request.last_user_message.lower()  # the ticket (the system prompt has the questions)
    team = "billing" if "refund" in text or "invoice" in text else "sales"
    return {"is_refund": "refund" in text, "team": team, "urgency": 4 if "asap" in text else 2}


@pytest.mark.parametrize(
    ("ticket", "team", "urgency"),
    [("Refund my invoice ASAP", "billing", 4), ("Do you offer team plans?", "sales", 2)],
)
async def test_function_double_reads_the_ticket(triage, synalinks_router, ticket, team, urgency):
    synatest.FunctionLM(route).install(synalinks_router)
    result = await triage(Ticket(text=ticket))
    assert (result.get("team"), result.get("urgency")) == (team, urgency)


@pytest.mark.synalinks_lm(synatest.SchemaLM(seed=7))
async def test_wiring_with_no_script(triage):
    # SchemaLM answers every question with a valid value: checks the program runs.
    result = (await triage(Ticket(text="hello"))).get_json()
    assert result["team"] in ("billing", "technical", "sales")
    assert result["urgency"] in (1, 2, 3, 4, 5)
