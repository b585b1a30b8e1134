"""Per-example evaluation of a compiled program on one split, as a SuiteResult.

Synalinks' ``evaluate()`` reports the mean of per-batch means and no per-example
rewards; reports need each example (to show what flipped), so programs are run
batch by batch here and every example keeps its own reward.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from synatest.eval.results import ExampleResult, SuiteResult


def _json_of(value: Any) -> Any:
    if value is None:
        return None
    get_json = getattr(value, "get_json", None)
    return get_json() if callable(get_json) else value


def score(
    suite: str,
    examples: list[ExampleResult],
    *,
    threshold: float,
    reward: str | None,
) -> SuiteResult:
    """Aggregate example results with the eval suites' own scoring and gates."""
    from synatest.eval.gates import GatePolicy
    from synatest.eval.scoring import score_suite

    # Training reports errors in the results; only the threshold gates training.
    policy = GatePolicy(max_error_rate=1.0)
    return score_suite(suite, examples, policy=policy, threshold=threshold, reward=reward)


async def evaluate_split(
    program: Any,
    x: Any,
    y: Any,
    ids: Sequence[str],
    *,
    suite: str,
    threshold: float,
    reward_name: str | None,
    pass_at: float = 1.0,
    batch_size: int = 32,
) -> SuiteResult:
    """Run a compiled ``program`` on ``x`` and score each prediction against ``y``.

    An example passes when its reward is at least ``pass_at`` (as in eval suites).
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
                    passed=value is not None and value >= pass_at,
                    error=None if pi is not None else "the program returned no prediction",
                    duration_s=elapsed,
                )
            )
    return score(suite, examples, threshold=threshold, reward=reward_name)
