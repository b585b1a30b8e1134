"""Suite gates: each one parsed from its flag, ``.fails(suite)`` -> message or None.

A gate judges a whole :class:`~synatest.eval.results.SuiteResult` (its examples,
mean and errors). :func:`gates_for` builds a suite's gates from a
:class:`GatePolicy` (the flags of the run plus the suite's marker), and
:func:`synatest.eval.scoring.score_suite` runs them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    # pydantic models: imported where built, so the plugin loads without pydantic.
    from synatest.eval.results import GateResult, RunReport, SuiteResult
from synatest.eval.flags import (  # re-exported: the flags are parsed where the plugin loads
    DEFAULT_ALPHA,
    FlagValueError,
    parse_alpha,
    parse_fraction,
)
from synatest.eval.stats import EPSILON, PairedComparison, paired_comparison, pass_hat_k

__all__ = [
    "DEFAULT_ALPHA",
    "FlagValueError",
    "Gate",
    "GatePolicy",
    "MaxErrorRateGate",
    "RegressionGate",
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
            errored = [e.id for e in suite.examples if e.error is not None]
            first = next((e.error.splitlines()[0] for e in suite.examples if e.error), "")
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


@dataclass
class GatePolicy:
    """The gating settings of a run: from flags (and, for ``threshold``, the marker)."""

    threshold: float | None = None
    baseline: RunReport | None = None
    fail_regression: float = 0.0  # allowed drop; the gate runs whenever there is a baseline
    alpha: float = DEFAULT_ALPHA
    max_error_rate: float = 0.0

    def gates_for(self, suite_name: str, threshold: float | None = None) -> list[Gate]:
        gates: list[Gate] = []
        limit = threshold if threshold is not None else self.threshold
        if limit is not None:
            gates.append(ThresholdGate(limit))
        if self.baseline is not None:
            base = next((s for s in self.baseline.suites if s.name == suite_name), None)
            gates.append(RegressionGate(base, delta=self.fail_regression, alpha=self.alpha))
        gates.append(MaxErrorRateGate(self.max_error_rate))
        return gates
