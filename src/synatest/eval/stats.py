"""Plain statistics for evaluation suites (no pytest, no numpy, no scipy).

- :func:`confidence_interval`: 95% interval of a suite's per-example mean reward
  (Wilson score interval for pass/fail rewards, Student's t otherwise);
- :func:`paired_comparison`: example-by-example comparison with a baseline and an
  exact one-sided sign test on the discordant pairs (McNemar's exact test when the
  rewards are 0/1). Under "nothing changed" every example that moved is as likely
  to have moved up as down, whatever each example's own difficulty, so the test
  keeps its false-alarm rate under ``alpha`` without assuming examples alike.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

# Two-sided 95% quantiles of Student's t for 1..30 degrees of freedom.
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip
_Z975 = 1.959963984540054
# Rewards closer than this are the same reward (float noise from averaging).
EPSILON = 1e-9


def mean(values: Sequence[float]) -> float | None:
    return math.fsum(values) / len(values) if values else None


def is_binary(values: Sequence[float]) -> bool:
    return all(abs(v) < EPSILON or abs(v - 1.0) < EPSILON for v in values)


def t_quantile_975(df: int) -> float:
    """Upper 97.5% quantile of Student's t (table to 30 df, Cornish-Fisher beyond)."""
    if df < 1:
        raise ValueError("degrees of freedom must be >= 1")
    if df <= len(_T975):
        return _T975[df - 1]
    z = _Z975
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


def wilson_interval(successes: float, n: int) -> tuple[float, float]:
    """95% Wilson score interval of a proportion (sensible at 0/n and n/n too)."""
    if n <= 0:
        raise ValueError("n must be positive")
    p = successes / n
    z2 = _Z975**2
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = _Z975 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def confidence_interval(values: Sequence[float]) -> tuple[float | None, float | None]:
    """95% confidence interval of the mean of ``values`` (None, None when empty).

    Pass/fail (0/1) rewards get the Wilson interval; other rewards Student's t,
    clipped to [0, 1] when every reward lies there.
    """
    n = len(values)
    if n == 0:
        return None, None
    if is_binary(values):
        return wilson_interval(sum(round(v) for v in values), n)
    m = math.fsum(values) / n
    if n == 1:
        low, high = -math.inf, math.inf
    else:
        var = math.fsum((v - m) ** 2 for v in values) / (n - 1)
        half = t_quantile_975(n - 1) * math.sqrt(var / n)
        low, high = m - half, m + half
    if all(0.0 <= v <= 1.0 for v in values):
        low, high = max(0.0, low), min(1.0, high)
    return low, high


def binomial_upper_tail(k: int, n: int) -> float:
    """P(X >= k) for X ~ Binomial(n, 1/2), computed exactly in log space."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    log_half_n = n * math.log(0.5)
    logs = [
        math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) for i in range(k, n + 1)
    ]
    top = max(logs)
    total = top + math.log(math.fsum(math.exp(v - top) for v in logs)) + log_half_n
    return min(1.0, math.exp(total))


@dataclass
class PairedComparison:
    """A suite compared example by example with its baseline."""

    paired: int = 0  # examples with a reward in both runs
    baseline_mean: float | None = None  # over the paired examples
    current_mean: float | None = None
    drop: float = 0.0  # baseline_mean - current_mean (> 0: worse now)
    worse: list[str] = field(default_factory=list)  # ids whose reward went down
    better: list[str] = field(default_factory=list)
    p_value: float = 1.0  # one-sided: P(this many or more got worse | no change)
    new: list[str] = field(default_factory=list)  # ids absent from the baseline
    missing: list[str] = field(default_factory=list)  # baseline ids absent now

    def as_dict(self) -> dict[str, object]:
        return {
            "paired": self.paired,
            "baseline_mean": self.baseline_mean,
            "current_mean": self.current_mean,
            "drop": self.drop,
            "worse": list(self.worse),
            "better": list(self.better),
            "p_value": self.p_value,
            "new": list(self.new),
            "missing": list(self.missing),
        }


def paired_comparison(
    baseline: Mapping[str, float | None], current: Mapping[str, float | None]
) -> PairedComparison:
    """Compare two runs of a suite on the examples both scored (errors are left out).

    The p-value is the exact one-sided sign test on the examples whose reward
    changed: with ``w`` worse and ``b`` better, P(Binomial(w + b, 1/2) >= w).
    """
    result = PairedComparison()
    base_scores: list[float] = []
    cur_scores: list[float] = []
    for example_id, reward in current.items():
        if example_id not in baseline:
            result.new.append(example_id)
            continue
        before = baseline[example_id]
        if reward is None or before is None:
            continue
        base_scores.append(before)
        cur_scores.append(reward)
        if reward < before - EPSILON:
            result.worse.append(example_id)
        elif reward > before + EPSILON:
            result.better.append(example_id)
    result.missing = [i for i in baseline if i not in current]
    result.paired = len(cur_scores)
    if result.paired:
        result.baseline_mean = mean(base_scores)
        result.current_mean = mean(cur_scores)
        assert result.baseline_mean is not None and result.current_mean is not None
        result.drop = result.baseline_mean - result.current_mean
    moved = len(result.worse) + len(result.better)
    result.p_value = binomial_upper_tail(len(result.worse), moved) if moved else 1.0
    return result


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) of ``values``, linearly interpolated; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# -- repeated runs ---------------------------------------------------------------------


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased estimate of pass@k for one example: ``c`` of its ``n`` runs passed.

    The probability that at least one of ``k`` runs drawn without replacement from the
    ``n`` passed, ``1 - C(n - c, k) / C(n, k)`` (Chen et al. 2021, "Evaluating Large
    Language Models Trained on Code"), computed as a product to stay exact for large n.
    """
    if not 1 <= k <= n:
        raise ValueError(f"k must be between 1 and the number of runs {n}, got {k}")
    if n - c < k:
        return 1.0
    failing_only = 1.0
    for i in range(n - c + 1, n + 1):
        failing_only *= 1.0 - k / i
    return 1.0 - failing_only


def pass_hat_k(n: int, c: int, k: int) -> float:
    """Unbiased estimate of pass^k for one example: all of ``k`` runs drawn from its
    ``n`` pass, ``C(c, k) / C(n, k)`` (1 or 0 when k = n: every run passed, or not)."""
    if not 1 <= k <= n:
        raise ValueError(f"k must be between 1 and the number of runs {n}, got {k}")
    if c < k:
        return 0.0
    return float(math.comb(c, k) / math.comb(n, k))
