"""``await synatest.assert_reward(reward, y_true, y_pred, at_least=1.0)``.

A failure shows the reward's value, the masks it applied and, field by field, where
the prediction differs from the expected output (after those masks): what a test
author needs to see to fix a prompt or a dataset row.
"""

from __future__ import annotations

from typing import Any

from synatest.jsondiff import field_differences, short

__all__ = ["assert_reward"]

_MASKS = ("in_mask", "out_mask", "in_mask_pattern", "out_mask_pattern")
_EPSILON = 1e-9


def _masked(reward: Any, y_true: Any, y_pred: Any) -> tuple[Any, Any]:
    """``y_true``/``y_pred`` as JSON after the reward's masks (as the reward saw them)."""
    from synalinks.src.rewards.reward import apply_masks

    masks = {name: getattr(reward, name, None) for name in _MASKS}
    true_dm, pred_dm = apply_masks(y_true, y_pred, **masks)
    return (
        None if true_dm is None else true_dm.get_json(),
        None if pred_dm is None else pred_dm.get_json(),
    )


async def assert_reward(reward: Any, y_true: Any, y_pred: Any, at_least: float = 1.0) -> float:
    """Assert that ``reward(y_true, y_pred) >= at_least``; return the reward.

    Args:
        reward: a Synalinks ``Reward`` (instance or class), a reward name
            (``"ExactMatch"``, ``"NumericMatch"``, ...), or an
            ``async def fn(y_true, y_pred)``.
        y_true: the expected output (a DataModel, JsonDataModel, or None).
        y_pred: the program's prediction.
        at_least: the minimum reward (default 1.0).

    Raises:
        AssertionError: with the reward value, the masks applied and the fields
            that differ.
    """
    from synatest.eval.reward_spec import resolve_reward

    resolved = resolve_reward(reward)
    value = float(await resolved(y_true, y_pred))
    if value >= at_least - _EPSILON:
        return value
    name = getattr(resolved, "name", type(resolved).__name__)
    lines = [f"reward {name!r} = {value:.3f}, expected at least {at_least:g}"]
    masks = {m: getattr(resolved, m, None) for m in _MASKS if getattr(resolved, m, None)}
    lines.append(
        "  masks: " + (", ".join(f"{k}={v!r}" for k, v in masks.items()) if masks else "none")
    )
    if y_pred is None:
        lines.append(
            "  the prediction is None: the program returned nothing for this input "
            "(check its outputs; an LM call that failed raises LMCallFailed instead)"
        )
        return _fail(lines)
    expected, predicted = _masked(resolved, y_true, y_pred)
    differences = field_differences(expected, predicted) if expected is not None else []
    if differences:
        lines.append("  fields that differ (after masks):")
        lines.extend(f"    {line}" for line in differences)
    else:
        lines.append(
            "  no field differs from y_true after masks; the reward judged the prediction "
            f"itself: {short(predicted, 300)}"
        )
    return _fail(lines)


def _fail(lines: list[str]) -> float:
    __tracebackhide__ = True
    raise AssertionError("\n".join(lines))
