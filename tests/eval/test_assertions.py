"""assert_reward: passes quietly, fails with the reward, masks and differing fields."""

from __future__ import annotations

from typing import Any

import pytest

import synatest


@pytest.fixture(scope="module")
def M() -> Any:
    import synalinks

    class Answer(synalinks.DataModel):
        answer: str
        reasoning: str = ""

    return Answer


async def test_passes_and_returns_the_reward(M: Any) -> None:
    assert await synatest.assert_reward("ExactMatch", M(answer="4"), M(answer="4")) == 1.0
    import synalinks

    reward = synalinks.rewards.ExactMatch(in_mask=["answer"])
    assert await synatest.assert_reward(reward, M(answer="4"), M(answer="4", reasoning="x")) == 1.0


async def test_failure_shows_reward_masks_and_fields(M: Any) -> None:
    import synalinks

    reward = synalinks.rewards.ExactMatch(out_mask=["reasoning"])
    with pytest.raises(AssertionError) as info:
        await synatest.assert_reward(reward, M(answer="Paris"), M(answer="Lyon", reasoning="guess"))
    assert str(info.value) == (
        "reward 'exact_match' = 0.000, expected at least 1\n"
        "  masks: out_mask=['reasoning']\n"
        "  fields that differ (after masks):\n"
        '    answer: expected "Paris", got "Lyon"'
    )


async def test_failure_without_masks_and_at_least(M: Any) -> None:
    with pytest.raises(AssertionError) as info:
        await synatest.assert_reward(
            synatest.Contains(), M(answer="Paris"), M(answer="Lyon"), at_least=0.5
        )
    message = str(info.value)
    assert message.startswith("reward 'contains' = 0.000, expected at least 0.5\n  masks: none\n")
    assert '    answer: expected "Paris", got "Lyon"' in message


async def test_failure_when_no_field_differs(M: Any) -> None:
    with pytest.raises(AssertionError) as info:
        await synatest.assert_reward(synatest.RegexMatch(r"\d"), M(answer="x"), M(answer="x"))
    assert str(info.value).endswith(
        "  no field differs from y_true after masks; the reward judged the prediction itself: "
        '{"answer": "x", "reasoning": ""}'
    )


async def test_failure_on_a_none_prediction(M: Any) -> None:
    with pytest.raises(AssertionError) as info:
        await synatest.assert_reward("ExactMatch", M(answer="x"), None)
    assert str(info.value) == (
        "reward 'exact_match' = 0.000, expected at least 1\n"
        "  masks: none\n"
        "  the prediction is None: the program returned nothing for this input (check its "
        "outputs; an LM call that failed raises LMCallFailed instead)"
    )


async def test_a_reward_function(M: Any) -> None:
    async def length(y_true: Any, y_pred: Any) -> float:
        return min(1.0, len(y_pred.get("answer")) / 10)

    assert await synatest.assert_reward(length, None, M(answer="x" * 10)) == 1.0
    with pytest.raises(AssertionError, match=r"reward 'length' = 0.200, expected at least 0.5"):
        await synatest.assert_reward(length, None, M(answer="xx"), at_least=0.5)


def test_missing_field_and_extra_field_lines() -> None:
    from synatest.jsondiff import field_differences

    assert field_differences({"a": 1, "b": {"c": 2}}, {"b": {"c": 3}, "d": 4}) == [
        "a: expected 1, missing from the prediction",
        "b.c: expected 2, got 3",
        "d: not expected, predicted 4",
    ]


async def test_unknown_reward_name(M: Any) -> None:
    with pytest.raises(ValueError, match="unknown reward 'Nope'"):
        await synatest.assert_reward("Nope", M(answer="x"), M(answer="x"))
