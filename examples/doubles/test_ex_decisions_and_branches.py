"""Example 2: Decision, Branch (one label and MultiDecision), merging with ``|``.

Decisions are Generators whose schema has an enum ``choice`` (``choices`` for
MultiDecision): script them by schema title, and let ``synalinks_trace`` show which
branch ran.
"""

from __future__ import annotations

import pytest
import synalinks

import synatest


class Query(synalinks.DataModel):
    query: str = synalinks.Field(description="The user query")


class Answer(synalinks.DataModel):
    answer: str = synalinks.Field(description="The answer")


class DetailedAnswer(synalinks.DataModel):
    critique: str = synalinks.Field(description="A critique of the first idea")
    answer: str = synalinks.Field(description="The improved answer")


@synatest.program
async def triage(language_model):
    inputs = synalinks.Input(data_model=Query)
    outputs = await synalinks.Decision(
        question="How urgent is this request?",
        labels=["urgent", "routine"],
        language_model=language_model,
    )(inputs)
    return synalinks.Program(inputs=inputs, outputs=outputs, name="triage")


def branches(language_model):
    return [
        synalinks.Generator(data_model=Answer, language_model=language_model, name="quick"),
        synalinks.Generator(
            data_model=DetailedAnswer, language_model=language_model, name="careful"
        ),
    ]


@synatest.program
async def adaptive(language_model):
    inputs = synalinks.Input(data_model=Query)
    quick, careful = await synalinks.Branch(
        question="How hard is the query?",
        labels=["easy", "hard"],
        branches=branches(language_model),
        language_model=language_model,
    )(inputs)
    return synalinks.Program(inputs=inputs, outputs=quick | careful, name="adaptive")


@synatest.program
async def multi_adaptive(language_model):
    inputs = synalinks.Input(data_model=Query)
    quick, careful = await synalinks.Branch(
        question="Which answer styles fit?",
        labels=["easy", "hard"],
        branches=branches(language_model),
        decision_type=synalinks.MultiDecision,
        language_model=language_model,
    )(inputs)
    return synalinks.Program(inputs=inputs, outputs=quick | careful, name="multi_adaptive")


@pytest.mark.parametrize("choice", ["urgent", "routine"])
async def test_decision_returns_the_scripted_label(triage, scripted_lm, choice):
    scripted_lm.on(schema="DecisionAnswer").reply({"thinking": "...", "choice": choice})
    result = await triage(Query(query="The server is down"))
    assert result.get("choice") == choice


async def test_decision_label_outside_the_enum_is_a_schema_mismatch(triage, scripted_lm):
    scripted_lm.add({"thinking": "...", "choice": "whenever"})
    with pytest.raises(synatest.SchemaMismatch, match=r"\$.choice: 'whenever' is not one of"):
        await triage(Query(query="The server is down"))


async def test_branch_runs_only_the_chosen_label(adaptive, scripted_lm, synalinks_trace):
    scripted_lm.on(schema="DecisionAnswer").reply({"thinking": "simple", "choice": "easy"})
    scripted_lm.on(schema=Answer).reply({"answer": "Paris"})
    result = await adaptive(Query(query="Capital of France?"))
    assert result.get("answer") == "Paris"
    assert result.get("choice") == "easy"
    assert synalinks_trace.called("quick")
    assert not synalinks_trace.called("careful")
    assert [c.schema_title for c in scripted_lm.calls] == ["DecisionAnswer", "Answer"]


async def test_hard_queries_take_the_careful_branch(adaptive, scripted_lm, synalinks_trace):
    scripted_lm.on(schema="DecisionAnswer").reply({"thinking": "tricky", "choice": "hard"})
    scripted_lm.on(schema=DetailedAnswer).reply({"critique": "too vague", "answer": "42"})
    result = await adaptive(Query(query="Meaning of life?"))
    assert result.get("critique") == "too vague"
    assert synalinks_trace.called("careful") and not synalinks_trace.called("quick")


async def test_multi_decision_runs_every_chosen_branch(
    multi_adaptive, scripted_lm, synalinks_trace
):
    scripted_lm.on(schema="MultiDecisionAnswer").reply(
        {"thinking": "both", "choices": ["easy", "hard"]}
    )
    scripted_lm.on(schema=DetailedAnswer).reply({"critique": "c", "answer": "careful"})
    scripted_lm.on(schema=Answer).reply({"answer": "quick"})
    result = await multi_adaptive(Query(query="Explain gravity"))
    # `|` keeps the first branch that produced an output.
    assert result.get("answer") == "quick"
    assert synalinks_trace.called("quick") and synalinks_trace.called("careful")
