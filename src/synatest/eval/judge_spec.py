"""Whether a collected suite is a judge suite with human labels, and its labels.

A suite gets an agreement block when its reward is a judge (a Synalinks
``ProgramAsJudge``: ``LMAsJudge``, ``RubricsAsJudge``, ``AgentAsJudge``...; or any reward
with ``judge=True`` on the marker) and the examples of its dataset carry human labels
(the field ``human``, or the marker's ``human=``). ``min_judge_agreement=`` and
``max_judge_flip_rate=`` make it one too, and then labels are required.
"""

from __future__ import annotations

from typing import Any

from synatest.datasets import Dataset
from synatest.eval.judge_labels import DEFAULT_FIELD, LabelError, Scale, detect_kind, parse_label

GATE_ARGS = ("min_judge_agreement", "max_judge_flip_rate")


def is_judge_reward(reward: Any) -> bool:
    """A Synalinks reward computed by a program of its own (an LM, rubric or agent judge)."""
    try:
        from synalinks.rewards import ProgramAsJudge
    except ImportError:  # pragma: no cover - every supported Synalinks has it
        return False
    return isinstance(reward, ProgramAsJudge)


def judge_settings(
    kwargs: dict[str, Any],
    dataset: Dataset | None,
    *,
    reward: Any,
    pass_at: float,
) -> tuple[dict[str, Any] | None, dict[str, float]]:
    """A suite's ``JudgeSettings`` fields and each example's 0..1 label by example id;
    ``(None, {})`` when the suite is not a judge suite with labels.

    Args:
        kwargs: the suite's marker keyword arguments.
        dataset: the suite's dataset (``parametrize_dataset``), if any.
        reward: the resolved Synalinks reward.
        pass_at: the suite's per-example pass mark (a verdict passes at it).

    Raises:
        ValueError: a bad ``human_scale``, a label that is neither a verdict nor a
            score (naming the file, line and field), or gates asked for without labels.
    """
    field = kwargs.get("human") or DEFAULT_FIELD
    gated = [key for key in GATE_ARGS if kwargs.get(key) is not None]
    declared = kwargs.get("judge")
    if declared is None:
        wanted = is_judge_reward(reward) or bool(gated) or "human" in kwargs
    else:
        wanted = declared or bool(gated)
    if not wanted:
        return None, {}
    scale = Scale.parse(kwargs.get("human_scale"), "synalinks_eval marker")
    labels: dict[str, float] = {}
    for example in dataset or ():
        try:
            label = parse_label(example.row.get(field), scale)
        except LabelError as error:
            raise LabelError(
                f"{example.source or example.id}: human label in field {field!r}: {error}"
            ) from None
        if label is not None:
            labels[example.id] = label
    if not labels:
        needs = ", ".join(f"{key}=" for key in gated)
        if not needs and "human" in kwargs:
            needs = f"human={field!r}"
        if not needs:
            return None, {}  # a judge with no labels: nothing to measure it against
        where = (
            f"dataset {dataset.path or dataset.name!r}"
            if dataset is not None
            else "its examples (the test is not parametrized with synatest.parametrize_dataset)"
        )
        raise LabelError(
            f"{needs} needs human labels, and no example of {where} has a {field!r} field; "
            f"add a person's verdict (true/false) or score (0 to 1) to each row as "
            f'"{field}": ..., or name the field with human="..."'
        )
    kind, levels = detect_kind(labels.values(), scale)
    settings = {
        "field": field,
        "kind": kind,
        "levels": levels,
        "pass_at": pass_at,
        "min_agreement": kwargs.get("min_judge_agreement"),
        "max_flip_rate": kwargs.get("max_judge_flip_rate"),
    }
    return settings, labels
