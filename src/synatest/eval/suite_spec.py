"""An evaluation suite as collected: the ``synalinks_eval`` marker's settings, checked.

Every test of a suite must declare the same settings; :func:`marker_settings` checks one
marker and :func:`check_consistent` checks it against the suite's first test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from synatest.datasets import Dataset
from synatest.eval import flags
from synatest.eval.reward_spec import reward_name
from synatest.markers import EVAL_MARKER

MARKER_ARGS = (
    "suite",
    "reward",
    "threshold",
    "pass_at",
    "repeat",
    "gate",
    "k",
    # Judges (see synatest.eval.judge_spec): the label field, its scale, and the gates.
    "human",
    "human_scale",
    "judge",
    "min_judge_agreement",
    "max_judge_flip_rate",
    # Budgets of the suite (gates) and limits of each example (stop it early).
    "max_cost",
    "max_tokens",
    "max_latency_p95",
    "cost_limit",
    "token_limit",
    "time_limit",
)
# Each budget or limit: whether it counts whole tokens (else dollars or seconds).
SPEND_ARGS = {
    "max_cost": False,
    "max_tokens": True,
    "max_latency_p95": False,
    "cost_limit": False,
    "token_limit": True,
    "time_limit": False,
}
JUDGE_ARGS = ("human", "human_scale", "judge", "min_judge_agreement", "max_judge_flip_rate")


@dataclass
class SuiteSpec:
    """One evaluation suite as collected: its marker settings and its test items."""

    name: str  # ``base_name[model]`` in a model matrix
    model: str | None = None  # its model in a matrix (--synalinks-models)
    base_name: str | None = None
    reward: Any = None  # as written in the marker
    threshold: float | None = None
    pass_at: float = 1.0
    repeat: int = 1  # runs per example (marker repeat=, else --synalinks-repeat)
    gate: str = "mean"  # what the threshold applies to
    k: int | None = None  # of a pass_at_k / pass_hat_k gate
    marker_kwargs: dict[str, Any] = field(default_factory=dict)
    dataset: Dataset | None = None
    items: list[pytest.Item] = field(default_factory=list)
    resolved_reward: Any = None  # the Synalinks Reward, once resolved
    # A judge suite with human labels: JudgeSettings fields, and each example's label.
    judge: dict[str, Any] | None = None
    labels: dict[str, float] = field(default_factory=dict)

    @property
    def budgets(self) -> dict[str, float]:
        """The suite's own max_cost / max_tokens / max_latency_p95 (its marker's)."""
        return {
            name: value
            for name in ("max_cost", "max_tokens", "max_latency_p95")
            if (value := self.marker_kwargs.get(name)) is not None
        }

    @property
    def reward_name(self) -> str:
        if self.resolved_reward is not None:
            return reward_name(self.resolved_reward)
        return reward_name(self.reward)

    def as_payload(self) -> dict[str, Any]:
        return {
            "reward": self.reward_name,
            "threshold": self.threshold,
            "pass_at": self.pass_at,
            "repeat": self.repeat,
            "gate": self.gate,
            "k": self.k,
            "model": self.model,
            "base_name": self.base_name,
            "judge": self.judge,
            "budgets": self.budgets,
        }


def marker_settings(item: pytest.Item, marker: pytest.Mark) -> dict[str, Any]:
    where = f"@pytest.mark.{EVAL_MARKER} on {item.nodeid}"
    if marker.args:
        raise pytest.UsageError(f"{where}: pass keyword arguments ({', '.join(MARKER_ARGS)})")
    unknown = sorted(set(marker.kwargs) - set(MARKER_ARGS))
    if unknown:
        raise pytest.UsageError(
            f"{where}: unknown argument(s) {', '.join(unknown)}; expected {', '.join(MARKER_ARGS)}"
        )
    settings = dict(marker.kwargs)
    function = getattr(item, "originalname", None) or item.name
    suite = settings.get("suite", function)
    if not isinstance(suite, str) or not suite:
        raise pytest.UsageError(f"{where}: suite= must be a non-empty string, got {suite!r}")
    settings["suite"] = suite
    for key in ("threshold", "pass_at"):
        value = settings.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise pytest.UsageError(f"{where}: {key}= must be a number, got {value!r}")
    for key in ("repeat", "k"):
        value = settings.get(key)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1
        ):
            raise pytest.UsageError(f"{where}: {key}= must be a whole number >= 1, got {value!r}")
    gate = settings.get("gate", "mean")
    if gate not in flags.GATES:
        raise pytest.UsageError(
            f"{where}: gate= must be one of {', '.join(map(repr, flags.GATES))}, got {gate!r}"
        )
    settings["gate"] = gate
    _check_judge_args(settings, where)
    _check_spend_args(settings, where)
    repeat = flags.repeat_of(item.config, marker)
    settings["repeat"] = repeat
    if gate == "mean":
        if settings.get("k") is not None:
            raise pytest.UsageError(f"{where}: k= applies to gate='pass_at_k' or 'pass_hat_k'")
    else:
        k = settings.get("k") or repeat
        if k > repeat:
            raise pytest.UsageError(
                f"{where}: k={k} needs at least {k} runs per example, the suite has {repeat} "
                f"(set repeat={k} on the marker or pass --synalinks-repeat {k})"
            )
        settings["k"] = k
    return settings


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_judge_args(settings: dict[str, Any], where: str) -> None:
    human = settings.get("human")
    if human is not None and (not isinstance(human, str) or not human):
        raise pytest.UsageError(
            f"{where}: human= must name the dataset field of the labels, got {human!r}"
        )
    judge = settings.get("judge")
    if judge is not None and not isinstance(judge, bool):
        raise pytest.UsageError(f"{where}: judge= must be True or False, got {judge!r}")
    kappa = settings.get("min_judge_agreement")
    if kappa is not None and (not _number(kappa) or not -1.0 <= kappa <= 1.0):
        raise pytest.UsageError(
            f"{where}: min_judge_agreement= must be a kappa between -1 and 1 (e.g. 0.6), "
            f"got {kappa!r}"
        )
    flips = settings.get("max_judge_flip_rate")
    if flips is not None and (not _number(flips) or not 0.0 <= flips <= 1.0):
        raise pytest.UsageError(
            f"{where}: max_judge_flip_rate= must be a fraction between 0 and 1 (e.g. 0.1), "
            f"got {flips!r}"
        )


def _check_spend_args(settings: dict[str, Any], where: str) -> None:
    for name, whole in SPEND_ARGS.items():
        value = settings.get(name)
        if value is None:
            continue
        unit = "a whole number of tokens" if whole else ("dollars" if "cost" in name else "seconds")
        if not _number(value) or value <= 0 or (whole and not isinstance(value, int)):
            raise pytest.UsageError(f"{where}: {name}= must be {unit} > 0, got {value!r}")


def check_consistent(spec: SuiteSpec, settings: dict[str, Any], item: pytest.Item) -> None:
    first = spec.items[0].nodeid
    for key, mine in (
        ("reward", spec.reward_name),
        ("threshold", spec.threshold),
        ("pass_at", spec.pass_at),
        ("repeat", spec.repeat),
        ("gate", spec.gate),
        ("k", spec.k),
        *((key, spec.marker_kwargs.get(key)) for key in (*JUDGE_ARGS, *SPEND_ARGS)),
    ):
        theirs: Any
        if key == "reward":
            theirs = reward_name(settings.get("reward"))
        elif key == "pass_at":
            theirs = float(settings.get("pass_at", 1.0))
        else:
            theirs = settings.get(key)
        if theirs != mine:
            raise pytest.UsageError(
                f"suite {spec.name!r} is declared with different {key}= values: {mine!r} "
                f"({first}) and {theirs!r} ({item.nodeid}); give every test of a suite "
                "the same settings"
            )
