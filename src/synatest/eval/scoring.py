"""Score a suite: per-example results in, a :class:`SuiteResult` with its gates out.

Pure and pytest-free: used by the eval plugin at the end of a session (serial or
merged from xdist workers) and by ``synatest train`` between training rounds.
"""

from __future__ import annotations

from collections.abc import Iterable

from synatest.eval.gates import GatePolicy
from synatest.eval.results import (
    ExampleResult,
    JudgeSettings,
    SuiteResult,
    Usage,
    run_latencies,
)
from synatest.eval.stats import confidence_interval, mean, pass_at_k, pass_hat_k, percentile

SINGLE_RECORDING_NOTE = (
    "runs after the first replayed a cassette recorded without repeats: every run of an "
    "example got the same answer, so flakiness cannot be observed (re-record with "
    "--synalinks-repeat K to see it)"
)


def score_suite(
    name: str,
    examples: Iterable[ExampleResult],
    *,
    policy: GatePolicy | None = None,
    threshold: float | None = None,
    reward: str | None = None,
    gate: str = "mean",
    k: int | None = None,
    model: str | None = None,
    base_name: str | None = None,
    judge: JudgeSettings | None = None,
    budgets: dict[str, float] | None = None,
) -> SuiteResult:
    """Aggregate ``examples`` of suite ``name`` and run its gates.

    Args:
        name: the suite's name.
        examples: its example results (an errored example has ``reward=None``).
        policy: gating settings of the run (default: no baseline, no errors allowed).
        threshold: the suite's own threshold (its marker's), overriding ``policy``'s.
        reward: the reward's name, for reports.
        gate: what the threshold applies to: ``mean`` (default), ``pass_at_k`` or
            ``pass_hat_k``; ``k`` is theirs (default: the repeat count).
        model, base_name: of a model matrix's suite ``base_name[model]``.
        judge: a judge suite's human-label settings: its examples' rewards are measured
            against their ``human`` labels (the suite's ``judge`` block) and gated by
            ``min_agreement`` / ``max_flip_rate`` when set.
        budgets: the suite's own ``max_cost`` / ``max_tokens`` / ``max_latency_p95``
            (its marker's), each overriding ``policy``'s.

    The mean is over every run that produced a reward (one run per example without
    repeats: the per-example mean, not Synalinks' mean of per-batch means); errors are
    counted, not scored 0. The confidence interval is over the examples' means (an
    example's runs are not independent samples of the suite).
    """
    policy = policy or GatePolicy()
    items = list(examples)
    rewards = [e.reward for e in items if e.reward is not None and not e.errored]
    low, high = confidence_interval(rewards)
    run_rewards = [r.reward for e in items for r in e.runs if r.reward is not None]
    repeat = max((len(e.runs) for e in items), default=1) or 1
    usage = Usage()
    for example in items:
        usage = usage + example.usage
    latencies = run_latencies(items)
    suite = SuiteResult(
        name=name,
        reward=reward,
        threshold=threshold if threshold is not None else policy.threshold,
        n=len(items),
        mean=mean(run_rewards) if any(e.runs for e in items) else mean(rewards),
        ci_low=low,
        ci_high=high,
        passes=sum(1 for e in items if e.passed),
        errors=sum(1 for e in items if e.errored),
        examples=items,
        usage=usage,
        latency_p50_s=percentile(latencies, 50),
        latency_p95_s=percentile(latencies, 95),
        budgets=policy.budgets_of(budgets),
        repeat=repeat,
        gate=gate,
        k=None if gate == "mean" else (k or repeat),
        model=model,
        base_name=base_name,
    )
    # (runs, passing runs) of each example; an example without runs is one run.
    tallies = [example.tally for example in items]
    if tallies:
        for j in range(1, repeat + 1):
            scores = [pass_at_k(n, c, j) for n, c in tallies if n >= j]
            suite.pass_at_k[str(j)] = sum(scores) / len(scores) if scores else 0.0
        suite.pass_hat_k = sum(pass_hat_k(n, c, n) for n, c in tallies) / len(tallies)
    suite.flaky = [e.id for e in items if e.flaky]
    if any(run.shared_recording for e in items for run in e.runs):
        suite.notes.append(SINGLE_RECORDING_NOTE)
    if judge is not None:
        from synatest.eval.judge_agreement import measure_judge

        suite.judge = measure_judge(items, judge)
    gates = policy.gates_for(name, threshold, judge, budgets)
    suite.gates = [check.check(suite) for check in gates]
    return suite
