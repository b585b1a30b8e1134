"""Per-example evaluation of a compiled program on one split, as a SuiteResult.

Synalinks' ``evaluate()`` reports the mean of per-batch means and no per-example
rewards; reports need each example (to show what flipped), so programs are run
batch by batch here and every example keeps its own reward.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from synatest.eval.results import ExampleResult, RunResult, SuiteResult

NO_PREDICTION = "the program returned no prediction"


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
    repeat: int = 1,
) -> SuiteResult:
    """Run a compiled ``program`` on ``x`` and score each prediction against ``y``.

    An example passes when its reward is at least ``pass_at`` (as in eval suites).
    A prediction Synalinks gave up on (``None``, only possible when LM errors are
    allowed) is an errored example. With ``repeat`` > 1 every example runs that many
    times (each run marked with its index, as eval suites do): its reward is the mean
    over its runs, and the suite's mean is over every run.
    """
    from synatest.seam import use_repeat

    runs: list[list[RunResult]] = [[] for _ in range(len(x))]
    durations = [0.0] * len(x)
    for index in range(repeat):
        for start in range(0, len(x), batch_size):
            xb, yb = x[start : start + batch_size], y[start : start + batch_size]
            began = time.perf_counter()
            with use_repeat(index):
                y_pred = await program.predict_on_batch(xb, training=False)
                rewards = await program.compute_reward(x=xb, y=yb, y_pred=y_pred, training=False)
            elapsed = (time.perf_counter() - began) / max(1, len(xb))
            for offset, prediction in enumerate(y_pred):
                value = float(rewards[offset]) if prediction is not None else None
                runs[start + offset].append(
                    RunResult(
                        index=index,
                        reward=value,
                        passed=value is not None and value >= pass_at,
                        error=None if prediction is not None else NO_PREDICTION,
                        prediction=_json_of(prediction),
                        duration_s=elapsed,
                    )
                )
                durations[start + offset] += elapsed
    examples = []
    for position, (xi, yi) in enumerate(zip(x, y, strict=True)):
        scored = [run.reward for run in runs[position] if run.reward is not None]
        value = sum(scored) / len(scored) if scored else None
        examples.append(
            ExampleResult(
                id=ids[position],
                suite=suite,
                inputs=_json_of(xi),
                expected=_json_of(yi),
                prediction=runs[position][0].prediction,
                reward=value,
                passed=value is not None and value >= pass_at - 1e-9,
                error=None if scored else NO_PREDICTION,
                duration_s=durations[position],
                runs=runs[position],
            )
        )
    return score(suite, examples, threshold=threshold, reward=reward_name)
