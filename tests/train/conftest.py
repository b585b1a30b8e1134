"""Fixtures of the training tests: a real Synalinks program and a simulated LM.

The simulated LM answers like a model whose accuracy depends on its prompt: right
for every question when the prompt shows a worked example (what RandomFewShot
adds), otherwise right only for numbers ending in 0, 1, 5 or 6 (40%).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

import synatest


def question_number(request: synatest.LMRequest) -> int:
    return int(re.findall(r"What is (\d+) doubled", request.last_user_message)[-1])


def prompt_sensitive(request: synatest.LMRequest) -> dict[str, Any]:
    number = question_number(request)
    if "<examples>" in request.text or number % 5 < 2:
        return {"answer": str(2 * number)}
    return {"answer": f"{number} doubled is {2 * number}"}


@pytest.fixture
def models() -> Any:
    import synalinks

    class Question(synalinks.DataModel):
        question: str

    class Answer(synalinks.DataModel):
        answer: str

    return Question, Answer


def make_dataset(models: Any, size: int) -> tuple[list[Any], list[Any]]:
    question, answer = models
    numbers = [7 * i + 3 for i in range(1, size + 1)]
    x = [question(question=f"What is {n} doubled?") for n in numbers]
    y = [answer(answer=str(2 * n)) for n in numbers]
    return x, y


@pytest.fixture
def dataset(models: Any) -> tuple[list[Any], list[Any]]:
    """15 examples (9 train / 3 validation / 3 test): small, so training is quick."""
    return make_dataset(models, 15)


@pytest.fixture
def big_dataset(models: Any) -> tuple[list[Any], list[Any]]:
    """30 examples, 40% right before training."""
    return make_dataset(models, 30)


@pytest.fixture
def build_program(models: Any) -> Callable[[], Any]:
    """Builds a fresh doubler program (call it again for an identical second one)."""
    import synalinks

    question, answer = models

    async def build() -> Any:
        synalinks.clear_session()
        language_model = synalinks.LanguageModel(model="openai/gpt-4o-mini")
        inputs = synalinks.Input(data_model=question)
        outputs = await synalinks.Generator(data_model=answer, language_model=language_model)(
            inputs
        )
        return synalinks.Program(inputs=inputs, outputs=outputs, name="doubler")

    return build


@pytest.fixture
def answer() -> Callable[[synatest.LMRequest], dict[str, Any]]:
    """The simulated LM's reply function (to wrap in another double)."""
    return prompt_sensitive


@pytest.fixture
def simulated_lm(synalinks_router: synatest.Router) -> synatest.FunctionLM:
    lm = synatest.FunctionLM(prompt_sensitive)
    synalinks_router.use(lm)
    return lm
