"""The example's production program: support tickets triaged by a Synalinks Generator.

In production its LanguageModel talks to a real model; here, to the loopback simulator
whose address ``record_production.py`` puts in ``$SYNATEST_EXAMPLE_API_BASE``. The
regression test in ``regression/`` builds it with no ``api_base``: the imported
cassette answers every call.
"""

import os
from typing import Literal

import synalinks

INSTRUCTIONS = "Triage the support ticket: pick its category and say how urgent it is."


class Ticket(synalinks.DataModel):
    text: str = synalinks.Field(description="the customer's message")


class Triage(synalinks.DataModel):
    category: Literal["billing", "bug", "account", "other"] = synalinks.Field(
        description="what the ticket is about"
    )
    urgent: bool = synalinks.Field(description="whether a human must answer today")


async def build_program() -> synalinks.Program:
    lm = synalinks.LanguageModel(
        model="openai/gpt-4o-mini", api_base=os.environ.get("SYNATEST_EXAMPLE_API_BASE")
    )
    inputs = synalinks.Input(data_model=Ticket)
    outputs = await synalinks.Generator(
        data_model=Triage, language_model=lm, instructions=INSTRUCTIONS
    )(inputs)
    return synalinks.Program(inputs=inputs, outputs=outputs, name="ticket_triage")
