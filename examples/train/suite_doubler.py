"""An evaluation suite that training fixes: `synatest train examples/train/suite_doubler.py`.

The "language model" here is a simulation whose accuracy depends on its prompt, as
a real one's does: shown no worked example it gets only 2 questions in 5 right
(those whose number ends in 0, 1, 5 or 6), shown one it answers every question. The suite's
gate (90%) fails on the untrained program; RandomFewShot puts a worked example in
the prompt and the gate passes.

Named ``suite_*.py`` so that ``pytest --synalinks-eval examples`` does not run the
untrained suite (it fails its gate by design); ``synatest train`` collects it
explicitly. Evaluate the trained program with::

    pytest --synalinks-eval examples/train/suite_doubler.py \\
        --synalinks-program doubler=reports/train/doubler/program.json
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import synalinks

import synatest


class Question(synalinks.DataModel):
    question: str = synalinks.Field(description="An arithmetic question")


class Answer(synalinks.DataModel):
    answer: str = synalinks.Field(description="The answer, digits only")


def simulated_lm(request: synatest.LMRequest) -> dict[str, Any]:
    """Right with a worked example in the prompt; otherwise right 2 times in 5."""
    number = int(re.findall(r"What is (\d+) doubled", request.last_user_message)[-1])
    lucky = number % 5 < 2
    if "<examples>" in request.text or lucky:
        return {"answer": str(2 * number)}
    return {"answer": f"{number} doubled is {2 * number}"}  # not digits only: wrong


@pytest.fixture(autouse=True)
def _simulated_lm(synalinks_router: synatest.Router) -> None:
    synalinks_router.use(synatest.FunctionLM(simulated_lm))


@synatest.program
async def doubler_program(language_model: synalinks.LanguageModel) -> synalinks.Program:
    inputs = synalinks.Input(data_model=Question)
    outputs = await synalinks.Generator(data_model=Answer, language_model=language_model)(inputs)
    return synalinks.Program(inputs=inputs, outputs=outputs, name="doubler")


@synatest.parametrize_dataset("doubler.jsonl", x=Question, y=Answer)
@pytest.mark.synalinks_eval(suite="doubler", reward="ExactMatch", threshold=0.9)
async def test_doubler(doubler_program: synalinks.Program, x: Question, y: Answer) -> Any:
    return await doubler_program(x)
