"""A suite scored by an LM judge, with the judge checked against human labels.

The support bot's answers are scored by Synalinks' ``LMAsJudge``; nobody would trust
that score unless the judge agrees with people. Each row of
``datasets/support_judged.jsonl`` carries ``human``: a person's verdict (true/false) on
the bot's answer. With ``--synalinks-eval`` the report gets a *judge agreement* block
(agreement rate, Cohen's kappa with a 95% bootstrap interval, the confusion matrix, the
examples the judge and the person disagree on most), and ``min_judge_agreement=0.6``
fails the suite with "judge not calibrated" if kappa drops under 0.6, whatever the
suite's score.

Both models are stand-ins served by one ``synatest.FunctionLM``, told apart by the
schema they are asked for: the bot answers from a table; the judge (Synalinks'
``LMAsJudge`` program, its LM scripted) grades by word overlap with the gold answer,
so it misses the paraphrase "three months" for "3 months" (example s08).
"""

from __future__ import annotations

import ast
import re

import pytest
import synalinks

import synatest


class Question(synalinks.DataModel):
    question: str = synalinks.Field(description="A customer's question")


class Answer(synalinks.DataModel):
    answer: str = synalinks.Field(description="The answer to the customer")


BOT = {
    "How do I reset my password?": "Click 'Forgot password' on the sign-in page.",
    "Can I change my username?": "No, usernames are permanent.",
    "How long do refunds take?": "Refunds take about a month.",
    "Do you ship to Canada?": "Yes, we ship to Canada.",
    "How do I delete my account?": "Go to Settings, Privacy, Delete account.",
    "Is there a student discount?": "Sorry, there is no student discount.",
    "Which payment methods do you accept?": "We accept cards and PayPal.",
    "Can I pause my subscription?": "Yes, for three months at most.",
    "Where is my invoice?": "Invoices are sent by email.",
    "Do you have a mobile app?": "Yes, on iOS and Android.",
    "How do I contact support?": "Email help@example.com.",
    "Can two people share an account?": "Yes, sharing an account is fine.",
}
STOP = {"a", "an", "the", "on", "in", "to", "of", "and", "or", "is", "are", "for", "up", "with"}
STOP |= {"we", "you", "your", "my", "i", "do", "yes", "no", "then"}


def words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9@]+", text.lower()) if w not in STOP}


def overlap_grade(gold: str, answer: str) -> float:
    """The share of the gold answer's words the answer uses, on the 0.05 grid of
    Synalinks' ``FineScore`` (the judge's default scale)."""
    expected = words(gold)
    share = len(expected & words(answer)) / len(expected) if expected else 0.0
    return round(share * 20) / 20


def judged_fields(request: synatest.LMRequest) -> dict[str, str]:
    """The gold answer and the answer the judge is shown (Synalinks writes the judge's
    inputs as a Python dict: ``{'gold_answer': ..., 'answer': ...}``)."""
    fields: dict[str, str] = ast.literal_eval(request.last_user_message)
    return fields


def stand_in_models(request: synatest.LMRequest) -> dict[str, object]:
    if request.schema_title == "CritiqueWithReward":  # the judge
        fields = judged_fields(request)
        grade = overlap_grade(fields["gold_answer"], fields["answer"])
        return {"critique": f"{grade:.0%} of the gold answer's words.", "reward": grade}
    for question, answer in BOT.items():
        if question in request.last_user_message:
            return {"answer": answer}
    return {"answer": "I don't know."}


@pytest.fixture
def support_lms(synalinks_router: synatest.Router) -> synatest.FunctionLM:
    return synatest.use_lm(synatest.FunctionLM(stand_in_models), router=synalinks_router)


# The judge: Synalinks' own LM-as-judge reward, with its own (scripted) model.
overlap_judge = synalinks.rewards.LMAsJudge(
    language_model=synalinks.LanguageModel(model="openai/gpt-4o"), name="overlap_judge"
)


async def build_program() -> synalinks.Program:
    language_model = synalinks.LanguageModel(model="openai/gpt-4o-mini")
    inputs = synalinks.Input(data_model=Question)
    outputs = await synalinks.Generator(data_model=Answer, language_model=language_model)(inputs)
    return synalinks.Program(inputs=inputs, outputs=outputs, name="support_bot")


@synatest.parametrize_dataset("datasets/support_judged.jsonl", x=Question, y=Answer)
@pytest.mark.synalinks_eval(
    suite="support_judged",
    reward=overlap_judge,
    pass_at=0.6,
    threshold=0.5,
    min_judge_agreement=0.6,
)
async def test_support_judged(x: Question, y: Answer, support_lms: synatest.FunctionLM) -> object:
    program = await build_program()
    return await program(x)
