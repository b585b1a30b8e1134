"""Per-example evaluation of a compiled program on one split, as a SuiteResult.

Synalinks' ``evaluate()`` reports the mean of per-batch means and no per-example
rewards; reports need each example (to show what flipped), so programs are run
batch by batch here and every example keeps its own reward.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

from synatest.eval.results import ExampleResult, GateResult, SuiteResult


def _json_of(value: Any) -> Any:
    if value is None:
        return None
    get_json = getattr(value, "get_json", None)
    return get_json() if callable(get_json) else value


def confidence_interval(rewards: Sequence[float]) -> tuple[float | None, float | None]:
    """95% interval of the mean: Wilson for 0/1 rewards, normal otherwise (clipped to [0, 1])."""
    n = len(rewards)
    if n == 0:
        return None, None
    mean = sum(rewards) / n
    z = 1.959963984540054
    if all(r in (0.0, 1.0) for r in rewards):
        denom = 1 + z * z / n
        centre = (mean + z * z / (2 * n)) / denom
        half = z * math.sqrt(mean * (1 - mean) / n + z * z / (4 * n * n)) / denom
        return max(0.0, centre - half), min(1.0, centre + half)
    if n == 1:
        return 0.0, 1.0
    sd = math.sqrt(sum((r - mean) ** 2 for r in rewards) / (n - 1))
    half = z * sd / math.sqrt(n)
    return max(0.0, mean - half), min(1.0, mean + half)


def threshold_gate(mean: float | None, threshold: float, split: str) -> GateResult:
    passed = mean is not None and mean >= threshold
    message = None
    if not passed:
        shown = "no score" if mean is None else f"{mean:.3f}"
        message = f"mean reward on the {split} split is {shown}, below the threshold {threshold}"
    return GateResult(name="threshold", passed=passed, message=message, details={"split": split})


def score(
    suite: str,
    examples: list[ExampleResult],
    *,
    threshold: float,
    reward: str | None,
    split: str,
) -> SuiteResult:
    """Aggregate example results (errored examples are counted, not scored)."""
    rewards = [e.reward for e in examples if e.reward is not None and e.error is None]
    low, high = confidence_interval(rewards)
    mean = sum(rewards) / len(rewards) if rewards else None
    return SuiteResult(
        name=suite,
        reward=reward,
        threshold=threshold,
        n=len(examples),
        mean=mean,
        ci_low=low,
        ci_high=high,
        passes=sum(1 for e in examples if e.passed),
        errors=sum(1 for e in examples if e.error is not None),
        gates=[threshold_gate(mean, threshold, split)],
        examples=examples,
    )


async def evaluate_split(
    program: Any,
    x: Any,
    y: Any,
    ids: Sequence[str],
    *,
    suite: str,
    threshold: float,
    reward_name: str | None,
    split: str,
    batch_size: int = 32,
) -> SuiteResult:
    """Run a compiled ``program`` on ``x`` and score each prediction against ``y``.

    A prediction Synalinks gave up on (``None``, only possible when LM errors are
    allowed) is an errored example.
    """
    examples: list[ExampleResult] = []
    for start in range(0, len(x), batch_size):
        xb, yb = x[start : start + batch_size], y[start : start + batch_size]
        began = time.perf_counter()
        y_pred = await program.predict_on_batch(xb, training=False)
        rewards = await program.compute_reward(x=xb, y=yb, y_pred=y_pred, training=False)
        elapsed = (time.perf_counter() - began) / max(1, len(xb))
        for offset, (xi, yi, pi) in enumerate(zip(xb, yb, y_pred, strict=True)):
            value = float(rewards[offset]) if pi is not None else None
            examples.append(
                ExampleResult(
                    id=ids[start + offset],
                    suite=suite,
                    inputs=_json_of(xi),
                    expected=_json_of(yi),
                    prediction=_json_of(pi),
                    reward=value,
                    passed=value is not None and value >= threshold,
                    error=None if pi is not None else "the program returned no prediction",
                    duration_s=elapsed,
                )
            )
    return score(suite, examples, threshold=threshold, reward=reward_name, split=split)
