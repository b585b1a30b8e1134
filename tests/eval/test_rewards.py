"""synatest's extra rewards: behaviour, masks, serialization, use in compile/evaluate."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="module")
def sl() -> Any:
    import synalinks

    return synalinks


@pytest.fixture(scope="module")
def M(sl: Any) -> Any:
    class Answer(sl.DataModel):
        answer: str
        reasoning: str = ""

    class Value(sl.DataModel):
        value: float

    class Ns:
        pass

    Ns.Answer = Answer  # type: ignore[attr-defined]
    Ns.Value = Value  # type: ignore[attr-defined]
    return Ns


async def test_regex_match_with_a_pattern(M: Any) -> None:
    from synatest import RegexMatch

    reward = RegexMatch(r"^\d{4}-\d{2}-\d{2}$", in_mask=["answer"])
    assert await reward(None, M.Answer(answer="2026-11-21", reasoning="no date")) == 1.0
    assert await reward(None, M.Answer(answer="21/11/2026")) == 0.0
    # Without the mask every text field must match.
    assert await RegexMatch(r"\d")(None, M.Answer(answer="1", reasoning="none")) == 0.0
    assert (
        await RegexMatch("PARIS", ignore_case=True, full_match=True)(None, M.Answer(answer="paris"))
        == 0.0
    )
    assert (
        await RegexMatch("PARIS", ignore_case=True, full_match=True, in_mask=["answer"])(
            None, M.Answer(answer="paris")
        )
        == 1.0
    )
    with pytest.raises(Exception, match="unterminated"):
        RegexMatch("(")


async def test_regex_match_with_patterns_from_y_true(M: Any) -> None:
    from synatest import RegexMatch

    reward = RegexMatch(in_mask=["answer"])
    assert await reward(M.Answer(answer=r"Paris|paris"), M.Answer(answer="It's Paris")) == 1.0
    assert await reward(M.Answer(answer=r"^Lyon$"), M.Answer(answer="Paris")) == 0.0


async def test_contains(M: Any) -> None:
    from synatest import Contains

    assert (
        await Contains(in_mask=["answer"])(
            M.Answer(answer="paris"), M.Answer(answer="It is Paris.")
        )
        == 1.0
    )
    assert (
        await Contains(ignore_case=False, in_mask=["answer"])(
            M.Answer(answer="paris"), M.Answer(answer="It is Paris.")
        )
        == 0.0
    )
    assert await Contains()(M.Answer(answer="x"), None) == 0.0


async def test_numeric_match(M: Any) -> None:
    from synatest import NumericMatch

    reward = NumericMatch(in_mask=["answer"])
    assert await reward(M.Answer(answer="1234"), M.Answer(answer="so the total is 1,234.")) == 1.0
    assert await reward(M.Answer(answer="$5"), M.Answer(answer="5.0")) == 1.0
    assert await reward(M.Answer(answer="5"), M.Answer(answer="six")) == 0.0
    assert await NumericMatch(tolerance=0.1)(M.Value(value=1.0), M.Value(value=1.05)) == 1.0
    assert (
        await NumericMatch(tolerance=0.01, relative=True)(M.Value(value=200), M.Value(value=201))
        == 1.0
    )
    assert (
        await NumericMatch(tolerance=0.01, relative=True)(M.Value(value=200), M.Value(value=203))
        == 0.0
    )
    with pytest.raises(ValueError, match="tolerance must be >= 0"):
        NumericMatch(tolerance=-1)


async def test_json_schema_valid(sl: Any, M: Any) -> None:
    from synatest import JSONSchemaValid

    prediction = sl.JsonDataModel(json={"answer": 3}, schema={"type": "object"})
    # Default schema: the expected output's.
    assert await JSONSchemaValid()(M.Answer(answer="x"), prediction) == 0.0
    assert await JSONSchemaValid()(M.Answer(answer="x"), M.Answer(answer="y")) == 1.0
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "integer"}},
        "required": ["answer"],
    }
    assert await JSONSchemaValid(schema=schema)(None, prediction) == 1.0
    assert await JSONSchemaValid(schema=schema)(None, None) == 0.0
    with pytest.raises(Exception, match="is not valid under any of the given schemas"):
        JSONSchemaValid(schema={"type": "nonsense"})


def test_rewards_serialize_round_trip(sl: Any) -> None:
    from synatest import Contains, JSONSchemaValid, NumericMatch, RegexMatch

    for reward in (
        RegexMatch("a+", full_match=True, in_mask=["answer"]),
        Contains(ignore_case=False),
        NumericMatch(tolerance=0.5, relative=True, name="close"),
        JSONSchemaValid(schema={"type": "object"}),
    ):
        config = sl.rewards.serialize(reward)
        assert config["registered_name"] == f"synatest>{type(reward).__name__}"
        again = sl.rewards.deserialize(config)
        assert type(again) is type(reward)
        assert again.get_config() == reward.get_config()


async def test_rewards_work_in_compile_and_evaluate(sl: Any, synalinks_router: Any) -> None:
    import numpy as np

    from synatest import FunctionLM, NumericMatch

    class Question(sl.DataModel):
        question: str

    class Answer(sl.DataModel):
        answer: str

    synalinks_router.use(FunctionLM(lambda req: {"answer": "The result is 4."}))
    lm = sl.LanguageModel(model="openai/gpt-4o-mini")
    inputs = sl.Input(data_model=Question)
    outputs = await sl.Generator(data_model=Answer, language_model=lm)(inputs)
    program = sl.Program(inputs=inputs, outputs=outputs)
    program.compile(reward=NumericMatch())
    x = np.array([Question(question="2+2?"), Question(question="3+3?")], dtype=object)
    y = np.array([Answer(answer="4"), Answer(answer="6")], dtype=object)
    metrics = await program.evaluate(x=x, y=y, batch_size=2, verbose=0)
    assert metrics["reward"] == pytest.approx(0.5)
