"""DecisionModel calls (`litellm.asystemone`) are served by the doubles like LM calls."""

from __future__ import annotations

import litellm  # noqa: F401
import pytest
import synalinks  # noqa: F401

from synatest.seam.request import questions_schema

pytest_plugins = ["pytester"]

QUESTIONS = {
    "is_refund": {"type": "noul", "instructions": "Does the ticket ask for a refund?"},
    "team": {
        "type": "choice",
        "instructions": "Which team?",
        "criteria": {"billing": None, "tech": None},
    },
    "urgency": {
        "type": "score",
        "instructions": "How urgent?",
        "criteria": ["1", "2", "3", "4", "5"],
    },
    "tone": {"type": "score", "instructions": "Tone?", "criteria": ["rude", "neutral", "kind"]},
}


def test_decision_questions_read_as_the_schema_of_a_plain_reply() -> None:
    schema = questions_schema(QUESTIONS)
    assert schema is not None
    assert schema["properties"] == {
        "is_refund": {"type": "boolean", "description": "Does the ticket ask for a refund?"},
        "team": {"enum": ["billing", "tech"], "description": "Which team?"},
        "urgency": {"enum": [1, 2, 3, 4, 5], "description": "How urgent?"},
        "tone": {"enum": [0, 1, 2], "description": "Tone?"},
    }
    assert schema["required"] == list(QUESTIONS) and schema["additionalProperties"] is False


PROGRAM = """
from typing import Literal

import pytest
import synalinks
import synatest


class Ticket(synalinks.DataModel):
    text: str = synalinks.Field(description="The support ticket")


class Triage(synalinks.DataModel):
    is_refund: bool = synalinks.Field(description="Does `text` ask for a refund?")
    team: Literal["billing", "tech"] = synalinks.Field(description="Which team handles it?")
    urgency: synalinks.Rating = synalinks.Field(description="How urgent is it?")


@synatest.program
async def triage():
    inputs = synalinks.Input(data_model=Ticket)
    outputs = await synalinks.Generator(
        data_model=Triage, decision_model=synalinks.DecisionModel(model="ollama/laya")
    )(inputs)
    return synalinks.Program(inputs=inputs, outputs=outputs, name="triage")
"""

INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"


def run(pytester: pytest.Pytester, body: str, *args: str) -> pytest.RunResult:
    pytester.makeini(INI)
    pytester.makepyfile(test_it=PROGRAM + body)
    return pytester.runpytest("-p", "no:cacheprovider", *args)


def test_scripted_lm_answers_a_decision_model(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
async def test_rule_and_queue(triage, scripted_lm):
    scripted_lm.on(contains="charged twice").reply(
        {"is_refund": True, "team": "billing", "urgency": 5}
    )
    scripted_lm.add(Triage(is_refund=False, team="tech", urgency=2))
    first = await triage(Ticket(text="I was charged twice, refund me"))
    assert first.get_json() == {"is_refund": True, "team": "billing", "urgency": 5}
    second = await triage(Ticket(text="the app crashes"))
    assert second.get_json() == {"is_refund": False, "team": "tech", "urgency": 2}
    call = scripted_lm.calls[1]
    assert call.request.kind == "decision"
    assert set(call.request.schema["properties"]) == {"is_refund", "team", "urgency"}
    assert "the app crashes" in call.request.last_user_message


@pytest.mark.synalinks_lm(synatest.SchemaLM(seed=3))
async def test_schema_lm_answers_any_question(triage):
    result = (await triage(Ticket(text="hello"))).get_json()
    assert isinstance(result["is_refund"], bool)
    assert result["team"] in ("billing", "tech") and result["urgency"] in (1, 2, 3, 4, 5)


async def test_function_lm(triage, synalinks_router):
    synatest.FunctionLM(
        lambda request: {"is_refund": "refund" in request.text, "team": "billing", "urgency": 1}
    ).install(synalinks_router)
    assert (await triage(Ticket(text="refund"))).get("is_refund") is True
""",
    )
    result.assert_outcomes(passed=3)


def test_a_reply_outside_the_options_fails_naming_the_request(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
async def test_bad(triage, scripted_lm):
    scripted_lm.add({"is_refund": True, "team": "sales", "urgency": 5})
    await triage(Ticket(text="refund please"))
""",
    )
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert (
        "SchemaMismatch: ScriptedLM (queue #1) reply does not match the schema the "
        "program requested (DecisionQuestions):"
    ) in out
    assert (
        "request: model='hosted_vllm/laya', questions=['is_refund', 'team', 'urgency'], "
        "last user message: \"{'text': 'refund please'}\""
    ) in out
    assert "$.team: 'sales' is not one of ['billing', 'tech']" in out


def test_a_decision_error_synalinks_would_swallow_fails_the_test(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
async def test_down(triage, scripted_lm):
    scripted_lm.add(RuntimeError("decision service down"))
    await triage(Ticket(text="refund please"))
""",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*LMCallFailed: DecisionModel 'ollama/laya' failed after Synalinks' retries*",
            "*builtins.RuntimeError: decision service down",
        ]
    )
