"""Suite gates: each one parsed from its flag, ``.fails(suite)`` -> message or None.

A gate judges a whole :class:`~synatest.eval.results.SuiteResult` (its examples,
mean and errors). :func:`gates_for` builds a suite's gates from a
:class:`GatePolicy` (the flags of the run plus the suite's marker), and
:func:`synatest.eval.scoring.score_suite` runs them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    # pydantic models: imported where built, so the plugin loads without pydantic.
    from synatest.eval.results import (
        ExampleResult,
        GateResult,
        JudgeSettings,
        RunReport,
        SuiteResult,
    )
from synatest.eval.flags import (  # re-exported: the flags are parsed where the plugin loads
    DEFAULT_ALPHA,
    FlagValueError,
    parse_alpha,
    parse_fraction,
)
from synatest.eval.stats import EPSILON, PairedComparison, paired_comparison, pass_hat_k

__all__ = [
    "BUDGETS",
    "DEFAULT_ALPHA",
    "BudgetGate",
    "FlagValueError",
    "Gate",
    "GatePolicy",
    "JudgeAgreementGate",
    "JudgeStabilityGate",
    "MaxErrorRateGate",
    "RegressionGate",
    "SpendRegressionGate",
    "ThresholdGate",
    "parse_alpha",
    "parse_fraction",
]

MAX_LISTED = 10  # example ids named in a message; details keep them all


def _result(name: str, message: str | None, details: dict[str, Any]) -> GateResult:
    """The :class:`GateResult` of a gate (passed when it had no failure message)."""
    from synatest.eval.results import GateResult  # pydantic: imported when gates run

    return GateResult(name=name, passed=message is None, message=message, details=details)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _ids(ids: list[str]) -> str:
    shown = ", ".join(ids[:MAX_LISTED])
    more = len(ids) - MAX_LISTED
    return shown + (f" (+{more} more)" if more > 0 else "")


class Gate(Protocol):
    name: str

    def fails(self, suite: SuiteResult) -> str | None: ...

    def check(self, suite: SuiteResult) -> GateResult: ...


@dataclass
class ThresholdGate:
    """Fails when the suite's per-example mean reward is under ``threshold``."""

    threshold: float
    name: str = "threshold"

    def fails(self, suite: SuiteResult) -> str | None:
        label, value = gated_value(suite)
        if value is None:
            return (
                f"no example produced a reward ({suite.n} collected, {suite.errors} errored), "
                f"so the threshold {self.threshold:g} cannot be met"
            )
        if value < self.threshold - EPSILON:
            runs = f" over {suite.repeat} runs each" if suite.repeat > 1 else ""
            return (
                f"{label} {value:.3f} is under the threshold {self.threshold:g} "
                f"({'' if suite.gate == 'mean' else f'mean reward {_fmt(suite.mean)}, '}"
                f"95% CI {_fmt(suite.ci_low)}-{_fmt(suite.ci_high)}, "
                f"{suite.passes}/{suite.n} examples passed{runs})"
            )
        return None

    def check(self, suite: SuiteResult) -> GateResult:
        message = self.fails(suite)
        _, value = gated_value(suite)
        details = {"threshold": self.threshold, "mean": suite.mean, "gate": suite.gate}
        if suite.gate != "mean":
            details.update(k=suite.k, value=value)
        return _result(self.name, message, details)


def gated_value(suite: SuiteResult) -> tuple[str, float | None]:
    """What a suite's threshold applies to, named for messages: its mean reward (over
    all runs), pass@k or pass^k (the unbiased estimators, averaged over examples)."""
    if suite.gate == "mean" or suite.mean is None:
        return "mean reward", suite.mean
    k = suite.k or suite.repeat
    if suite.gate == "pass_at_k":
        return f"pass@{k}", suite.pass_at_k.get(str(k))
    tallies = [example.tally for example in suite.examples]
    scores = [pass_hat_k(n, c, k) for n, c in tallies if n >= k]
    return f"pass^{k}", sum(scores) / len(scores) if scores else None


@dataclass
class MaxErrorRateGate:
    """Fails when more than ``max_rate`` of the suite's examples errored."""

    max_rate: float = 0.0
    name: str = "max_error_rate"

    def fails(self, suite: SuiteResult) -> str | None:
        if suite.n == 0 or suite.errors == 0:
            return None
        rate = suite.errors / suite.n
        if rate > self.max_rate + EPSILON:
            errored = [e.id for e in suite.examples if e.errored]
            first = next(
                (e.error.splitlines()[0] for e in suite.examples if e.errored and e.error), ""
            )
            return (
                f"{suite.errors}/{suite.n} examples errored ({rate:.1%} > the allowed "
                f"{self.max_rate:.1%}, --synalinks-max-error-rate): {_ids(errored)}; "
                f"first error: {first}"
            )
        return None

    def check(self, suite: SuiteResult) -> GateResult:
        message = self.fails(suite)
        return _result(
            self.name,
            message,
            {
                "max_error_rate": self.max_rate,
                "errors": suite.errors,
                "n": suite.n,
            },
        )


@dataclass
class RegressionGate:
    """Fails on a real drop against a baseline run, compared example by example.

    Fails when the mean reward on the examples both runs scored dropped by more
    than ``delta`` AND the drop is significant: an exact one-sided sign test
    (McNemar's exact test for 0/1 rewards) on the examples that changed gives
    p < ``alpha``. Noise alone (as many examples up as down) never fails it.
    """

    baseline: SuiteResult | None
    delta: float = 0.0
    alpha: float = DEFAULT_ALPHA
    name: str = "regression"

    def compare(self, suite: SuiteResult) -> PairedComparison | None:
        if self.baseline is None:
            return None
        before = {e.id: e.reward for e in self.baseline.examples}
        now = {e.id: e.reward for e in suite.examples}
        return paired_comparison(before, now)

    def _message(self, suite: SuiteResult, cmp: PairedComparison | None) -> str | None:
        if cmp is None or cmp.paired == 0:
            return None
        if cmp.drop > self.delta + EPSILON and cmp.p_value < self.alpha:
            return (
                f"mean reward dropped by {cmp.drop:.3f} against the baseline "
                f"({_fmt(cmp.baseline_mean)} -> {_fmt(cmp.current_mean)} on {cmp.paired} "
                f"paired examples; allowed drop {self.delta:g}; p={cmp.p_value:.4f} < "
                f"{self.alpha:g}, exact sign test). {len(cmp.worse)} got worse: "
                f"{_ids(cmp.worse)}; {len(cmp.better)} got better"
                + (f": {_ids(cmp.better)}" if cmp.better else "")
            )
        return None

    def fails(self, suite: SuiteResult) -> str | None:
        return self._message(suite, self.compare(suite))

    def check(self, suite: SuiteResult) -> GateResult:
        cmp = self.compare(suite)
        message = self._message(suite, cmp)
        details: dict[str, object] = {"delta": self.delta, "alpha": self.alpha}
        if cmp is None:
            details["note"] = f"suite {suite.name!r} is not in the baseline run"
        else:
            details.update(cmp.as_dict())
            if cmp.paired == 0:
                details["note"] = "no example was scored in both runs"
        return _result(self.name, message, details)


# -- cost, tokens and latency ------------------------------------------------------------

BUDGETS = ("max_cost", "max_tokens", "max_latency_p95")


def _money(value: float) -> str:
    return f"${value:.6f}" if value < 1 else f"${value:,.2f}"


def _spent(example: ExampleResult, measure: str) -> tuple[float, str]:
    """What ``example`` weighs on a budget, as a number and as shown in a message."""
    if measure == "max_cost":
        return example.usage.cost, _money(example.usage.cost)
    if measure == "max_tokens":
        return float(example.usage.tokens), f"{example.usage.tokens:,} tokens"
    return example.latency_s, f"{example.latency_s:.2f} s"


def _costliest(suite: SuiteResult, measure: str) -> str:
    """The three examples that weigh most on ``measure``, for a budget's message."""
    top = sorted(suite.examples, key=lambda e: _spent(e, measure)[0], reverse=True)[:3]
    return ", ".join(f"{e.id} {_spent(e, measure)[1]}" for e in top)


@dataclass
class BudgetGate:
    """Fails when a suite spent more than its budget: ``max_cost`` (dollars, every LM call
    of every run, the judge's included), ``max_tokens`` (prompt + completion) or
    ``max_latency_p95`` (seconds: the 95th percentile of its runs' latency). Replayed
    calls count what they cost and took when recorded."""

    name: str  # one of BUDGETS
    limit: float

    def measured(self, suite: SuiteResult) -> float | None:
        if self.name == "max_cost":
            return suite.usage.cost
        if self.name == "max_tokens":
            return float(suite.usage.tokens)
        return suite.latency_p95_s

    def fails(self, suite: SuiteResult) -> str | None:
        value = self.measured(suite)
        if value is None or value <= self.limit + EPSILON * max(1.0, self.limit):
            return None
        runs = sum(len(e.runs) or 1 for e in suite.examples)
        if self.name == "max_cost":
            figure = f"cost {_money(value)} is over max_cost {_money(self.limit)}"
        elif self.name == "max_tokens":
            figure = f"{int(value):,} tokens are over max_tokens {int(self.limit):,}"
        else:
            figure = (
                f"latency p95 {value:.2f} s is over max_latency_p95 {self.limit:g} s "
                f"(p50 {_fmt(suite.latency_p50_s)} s)"
            )
        return (
            f"{figure} ({suite.n} examples, {runs} runs, {suite.usage.calls} LM calls); "
            f"most: {_costliest(suite, self.name)}"
        )

    def check(self, suite: SuiteResult) -> GateResult:
        return _result(
            self.name, self.fails(suite), {"limit": self.limit, "value": self.measured(suite)}
        )


@dataclass
class SpendRegressionGate:
    """Fails when a suite's cost (or latency) rose by more than ``allowed`` (0.2: +20%)
    against the baseline, on the examples both runs scored, and the rise is no noise:
    the one-sided exact sign test on the examples that changed gives p < ``alpha``."""

    measure: str  # "cost" | "latency"
    baseline: SuiteResult | None
    allowed: float
    alpha: float = DEFAULT_ALPHA
    name: str = ""

    def __post_init__(self) -> None:
        self.name = self.name or f"{self.measure}_regression"

    def _values(self, suite: SuiteResult) -> dict[str, float | None]:
        # Negated: the comparison's "drop" is then the rise (errored examples left out).
        if self.measure == "cost":
            return {e.id: None if e.errored else -e.usage.cost for e in suite.examples}
        return {e.id: None if e.errored else -e.latency_s for e in suite.examples}

    def compare(self, suite: SuiteResult) -> PairedComparison | None:
        if self.baseline is None:
            return None
        return paired_comparison(self._values(self.baseline), self._values(suite))

    def _message(self, cmp: PairedComparison | None) -> str | None:
        if cmp is None or not cmp.paired or cmp.baseline_mean is None:
            return None
        before, now = -cmp.baseline_mean, -(cmp.current_mean or 0.0)
        if before <= 0:
            return None
        rise = now / before - 1
        if rise <= self.allowed + EPSILON or cmp.p_value >= self.alpha:
            return None
        shown = _money if self.measure == "cost" else (lambda v: f"{v:.2f} s")
        per = "cost" if self.measure == "cost" else "latency"
        return (
            f"{per} rose by {rise:+.0%} against the baseline (mean {shown(before)} -> "
            f"{shown(now)} an example on {cmp.paired} paired examples; allowed "
            f"{self.allowed:+.0%}, --synalinks-fail-{self.measure}-regression; p="
            f"{cmp.p_value:.4f} < {self.alpha:g}, exact sign test). {len(cmp.worse)} rose: "
            f"{_ids(cmp.worse)}; {len(cmp.better)} fell"
        )

    def fails(self, suite: SuiteResult) -> str | None:
        return self._message(self.compare(suite))

    def check(self, suite: SuiteResult) -> GateResult:
        cmp = self.compare(suite)
        details: dict[str, Any] = {"allowed": self.allowed, "alpha": self.alpha}
        if cmp is None:
            details["note"] = f"suite {suite.name!r} is not in the baseline run"
        elif cmp.paired and cmp.baseline_mean is not None:
            details.update(
                baseline_mean=-cmp.baseline_mean,
                current_mean=-(cmp.current_mean or 0.0),
                paired=cmp.paired,
                p_value=cmp.p_value,
                rose=cmp.worse,
            )
        return _result(self.name, self._message(cmp), details)


@dataclass
class JudgeAgreementGate:
    """Fails a judge suite whose judge agrees too little with the human labels.

    The figure is the block's kappa (quadratic-weighted for ordinal labels, Cohen's on
    pass/fail verdicts otherwise); the suite fails whatever its mean reward, since that
    mean is the judge's word.
    """

    min_kappa: float
    name: str = "judge_agreement"

    def fails(self, suite: SuiteResult) -> str | None:
        block = suite.judge
        if block is None or block.n == 0:
            return (
                f"judge not calibrated: no labelled example has a judge reward "
                f"(min_judge_agreement {self.min_kappa:g} cannot be checked)"
            )
        kind = "weighted kappa" if block.kappa_weights else "kappa"
        if block.kappa is None:
            return (
                f"judge not calibrated: {kind} is undefined on {block.n} labelled examples "
                "(the judge and the people each gave one verdict only); label examples of "
                f"both kinds (min_judge_agreement {self.min_kappa:g})"
            )
        if block.kappa < self.min_kappa - EPSILON:
            return (
                f"judge not calibrated: {kind} {block.kappa:.3f} with the human labels "
                f"(95% CI [{_fmt(block.kappa_ci_low)}, {_fmt(block.kappa_ci_high)}], "
                f"agreement {_pct(block.agreement)} on {block.n} labelled examples) is under "
                f"min_judge_agreement {self.min_kappa:g}; the suite's score "
                f"{_fmt(suite.mean)} rests on this judge"
            )
        return None

    def check(self, suite: SuiteResult) -> GateResult:
        block = suite.judge
        details: dict[str, Any] = {"min_judge_agreement": self.min_kappa}
        if block is not None:
            details.update(kappa=block.kappa, n=block.n, kappa_weights=block.kappa_weights)
        return _result(self.name, self.fails(suite), details)


@dataclass
class JudgeStabilityGate:
    """Fails when the judge changed its verdict on the same output in too many examples
    across repeats (``--synalinks-repeat K``)."""

    max_flip_rate: float
    name: str = "judge_stability"

    def fails(self, suite: SuiteResult) -> str | None:
        stability = suite.judge.stability if suite.judge else None
        if stability is None or stability.flip_rate is None:
            return (
                f"judge stability cannot be measured: it needs every example run at least "
                f"twice with the same output (--synalinks-repeat K or repeat=K; "
                f"max_judge_flip_rate {self.max_flip_rate:g})"
            )
        if stability.flip_rate > self.max_flip_rate + EPSILON:
            return (
                f"judge unstable: its verdict flipped on the same output in "
                f"{len(stability.flipped)}/{stability.examples} examples "
                f"({_pct(stability.flip_rate)} > max_judge_flip_rate "
                f"{self.max_flip_rate:g}, {stability.runs} runs each): {_ids(stability.flipped)}"
            )
        return None

    def check(self, suite: SuiteResult) -> GateResult:
        stability = suite.judge.stability if suite.judge else None
        details: dict[str, Any] = {"max_judge_flip_rate": self.max_flip_rate}
        if stability is not None:
            details.update(flip_rate=stability.flip_rate, examples=stability.examples)
        return _result(self.name, self.fails(suite), details)


@dataclass
class JudgePositionBiasGate:
    """Fails when a pairwise judge's preference followed the position (it changed when A
    and B were swapped) in more than ``max_bias`` of the pairs."""

    max_bias: float
    name: str = "judge_position_bias"

    def fails(self, suite: SuiteResult) -> str | None:
        bias = suite.judge.position_bias if suite.judge else None
        if bias is None or bias.consistency_rate is None:
            return (
                f"judge position bias cannot be measured: no pair was judged in both orders "
                f"(A/B then B/A; max position bias {self.max_bias:g})"
            )
        rate = 1.0 - bias.consistency_rate
        if rate > self.max_bias + EPSILON:
            return (
                f"judge position-biased: its preference changed when A and B were swapped in "
                f"{len(bias.inconsistent)}/{bias.pairs} pairs ({_pct(rate)} > max position "
                f"bias {self.max_bias:g}; the first shown won {_pct(bias.first_position_rate)} "
                f"of the verdicts): {_ids(bias.inconsistent)}"
            )
        return None

    def check(self, suite: SuiteResult) -> GateResult:
        bias = suite.judge.position_bias if suite.judge else None
        details: dict[str, Any] = {"max_position_bias": self.max_bias}
        if bias is not None:
            details.update(consistency_rate=bias.consistency_rate, pairs=bias.pairs)
        return _result(self.name, self.fails(suite), details)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


@dataclass
class GatePolicy:
    """The gating settings of a run: from flags (and, for ``threshold``, the marker)."""

    threshold: float | None = None
    baseline: RunReport | None = None
    fail_regression: float = 0.0  # allowed drop; the gate runs whenever there is a baseline
    alpha: float = DEFAULT_ALPHA
    max_error_rate: float = 0.0
    # Budgets of every suite (--synalinks-max-cost, ...); a suite's marker overrides them.
    budgets: dict[str, float] = field(default_factory=dict)
    # Allowed rise of cost / latency against the baseline (0.2: +20%); None: not gated.
    cost_regression: float | None = None
    latency_regression: float | None = None

    def budgets_of(self, own: dict[str, float] | None = None) -> dict[str, float]:
        """A suite's budgets: the run's, each overridden by the suite's marker."""
        return {**self.budgets, **(own or {})}

    def gates_for(
        self,
        suite_name: str,
        threshold: float | None = None,
        judge: JudgeSettings | None = None,
        budgets: dict[str, float] | None = None,
    ) -> list[Gate]:
        gates: list[Gate] = []
        limit = threshold if threshold is not None else self.threshold
        if limit is not None:
            gates.append(ThresholdGate(limit))
        base = None
        if self.baseline is not None:
            base = next((s for s in self.baseline.suites if s.name == suite_name), None)
            gates.append(RegressionGate(base, delta=self.fail_regression, alpha=self.alpha))
        gates.append(MaxErrorRateGate(self.max_error_rate))
        for name, value in sorted(self.budgets_of(budgets).items()):
            gates.append(BudgetGate(name, value))
        for measure, allowed in (
            ("cost", self.cost_regression),
            ("latency", self.latency_regression),
        ):
            if allowed is not None and self.baseline is not None:
                gates.append(SpendRegressionGate(measure, base, allowed, self.alpha))
        if judge is not None and judge.min_agreement is not None:
            gates.append(JudgeAgreementGate(judge.min_agreement))
        if judge is not None and judge.max_flip_rate is not None:
            gates.append(JudgeStabilityGate(judge.max_flip_rate))
        return gates
