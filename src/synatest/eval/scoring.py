"""Score a suite: per-example results in, a :class:`SuiteResult` with its gates out.

Pure and pytest-free: used by the eval plugin at the end of a session (serial or
merged from xdist workers) and by ``synatest train`` between training rounds.
"""

from __future__ import annotations

from collections.abc import Iterable

from synatest.eval.gates import GatePolicy
from synatest.eval.results import ExampleResult, SuiteResult, Usage
from synatest.eval.stats import confidence_interval, mean


def score_suite(
    name: str,
    examples: Iterable[ExampleResult],
    *,
    policy: GatePolicy | None = None,
    threshold: float | None = None,
    reward: str | None = None,
) -> SuiteResult:
    """Aggregate ``examples`` of suite ``name`` and run its gates.

    Args:
        name: the suite's name.
        examples: its example results (an errored example has ``reward=None``).
        policy: gating settings of the run (default: no baseline, no errors allowed).
        threshold: the suite's own threshold (its marker's), overriding ``policy``'s.
        reward: the reward's name, for reports.

    The mean is the per-example mean over the examples that produced a reward
    (not Synalinks' mean of per-batch means); errors are counted, not scored 0.
    """
    policy = policy or GatePolicy()
    items = list(examples)
    rewards = [e.reward for e in items if e.reward is not None and e.error is None]
    low, high = confidence_interval(rewards)
    usage = Usage()
    for example in items:
        usage = usage + example.usage
    suite = SuiteResult(
        name=name,
        reward=reward,
        threshold=threshold if threshold is not None else policy.threshold,
        n=len(items),
        mean=mean(rewards),
        ci_low=low,
        ci_high=high,
        passes=sum(1 for e in items if e.passed),
        errors=sum(1 for e in items if e.error is not None),
        examples=items,
        usage=usage,
    )
    suite.gates = [gate.check(suite) for gate in policy.gates_for(name, threshold)]
    return suite
