"""OMEGA learning a plan: `synatest train examples/train/suite_planner.py --optimizer omega`.

The program is a ``SequentialPlanSynthesis``: a trainable plan of steps, each run
by a runner module, then a final answer. It starts with no plan. The simulated
language model converts feet to metres correctly only when its prompt carries
the conversion step (otherwise 2 questions in 5, those whose number ends in 0, 1,
5 or 6); asked by OMEGA to improve the plan, it proposes that step. OMEGA compares
candidates by embedding, served offline by ``synatest.HashEmbeddings``.

Named ``suite_*.py`` so ``pytest --synalinks-eval examples`` skips the untrained
suite (it fails its gate by design).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import synalinks
from synalinks.src.modules.synthesis.sequential_plan_synthesis import (
    SequentialPlanSynthesis,  # not exported by synalinks 0.10.14
)

import synatest

CONVERSION_STEP = "Multiply the number of feet by 0.3048 and round to one decimal place"


class Length(synalinks.DataModel):
    feet: int = synalinks.Field(description="A length in feet")


class StepResult(synalinks.DataModel):
    result: str = synalinks.Field(description="What this step found")


class Metres(synalinks.DataModel):
    metres: str = synalinks.Field(description="The length in metres, one decimal")


def simulated_lm(request: synatest.LMRequest) -> dict[str, Any]:
    fields = list((request.schema or {}).get("properties", {}))
    if "steps" in fields:  # OMEGA asks for a better plan
        return {"thinking": "The answers lack the conversion.", "steps": [CONVERSION_STEP]}
    feet = int(re.findall(r"'feet': (\d+)", request.text)[0])
    if fields == ["result"]:  # the runner, once per plan step
        return {"result": f"{feet} feet"}
    knows_how = "0.3048" in request.text or feet % 5 < 2
    metres = f"{feet * 0.3048:.1f}" if knows_how else f"{feet / 3:.1f}"
    return {"thinking": "Converting.", "metres": metres}


@pytest.fixture(autouse=True)
def _simulated_models(synalinks_router: synatest.Router, hash_embeddings: Any) -> None:
    synalinks_router.use(synatest.FunctionLM(simulated_lm))


@synatest.program
async def planner_program(language_model: synalinks.LanguageModel) -> synalinks.Program:
    inputs = synalinks.Input(data_model=Length)
    planner = SequentialPlanSynthesis(
        data_model=Metres,
        language_model=language_model,
        runner=synalinks.Generator(
            data_model=StepResult,
            language_model=language_model,
            return_inputs=False,
            trainable=False,
        ),
        # Synalinks 0.10.14 defaults the seed plan to [[]], which its optimizers
        # cannot read; a seed candidate is a dict of the plan's fields.
        seed_steps=[{"steps": []}],
    )
    planner.final_generator.trainable = False  # only the plan is learned here
    outputs = await planner(inputs)
    return synalinks.Program(
        inputs=inputs,
        outputs=outputs,
        name="planner",
        description="Converts a length in feet to metres",
    )


@synatest.parametrize_dataset("feet.jsonl", x=Length, y=Metres)
@pytest.mark.synalinks_eval(
    suite="planner",
    # The final answer also carries the model's `thinking`: compare `metres` only.
    reward=synalinks.rewards.ExactMatch(in_mask=["metres"]),
    threshold=0.9,
)
async def test_planner(planner_program: synalinks.Program, x: Length, y: Metres) -> Any:
    return await planner_program(x)
