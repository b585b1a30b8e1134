"""Unit tests of the suite statistics (no pytest plugin involved)."""

from __future__ import annotations

import math
import random

import pytest

from synatest.eval.stats import (
    binomial_upper_tail,
    confidence_interval,
    mean,
    paired_comparison,
    t_quantile_975,
    wilson_interval,
)


def test_mean_is_per_example() -> None:
    # Synalinks' evaluate() would give mean(mean([1, 1, 1]), mean([0])) = 0.5 for
    # batches of 3 and 1; the per-example mean is 0.75.
    assert mean([1.0, 1.0, 1.0, 0.0]) == 0.75
    assert mean([]) is None


def test_binomial_tail_matches_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    for n in (1, 5, 20, 64, 300):
        for k in range(0, n + 2, max(1, n // 7)):
            expected = float(stats.binom.sf(k - 1, n, 0.5))
            assert binomial_upper_tail(k, n) == pytest.approx(expected, rel=1e-9, abs=1e-300)


def test_binomial_tail_edges() -> None:
    assert binomial_upper_tail(0, 10) == 1.0
    assert binomial_upper_tail(11, 10) == 0.0
    assert binomial_upper_tail(10, 10) == pytest.approx(1 / 1024)


def test_wilson_interval_of_all_passes_is_below_one() -> None:
    low, high = wilson_interval(20, 20)
    assert high == 1.0
    assert 0.8 < low < 0.9  # 20/20 does not prove perfection
    with pytest.raises(ValueError, match="positive"):
        wilson_interval(0, 0)


def test_confidence_interval_binary_uses_wilson() -> None:
    values = [1.0] * 16 + [0.0] * 4
    assert confidence_interval(values) == pytest.approx(wilson_interval(16, 20))


def test_confidence_interval_continuous_uses_t() -> None:
    values = [0.2, 0.4, 0.6, 0.8]
    low, high = confidence_interval(values)
    assert low is not None and high is not None
    sd = math.sqrt(sum((v - 0.5) ** 2 for v in values) / 3)
    half = 3.182 * sd / 2
    assert (low, high) == pytest.approx((0.5 - half, 0.5 + half))


def test_confidence_interval_clips_to_unit_range_and_handles_tiny_samples() -> None:
    assert confidence_interval([]) == (None, None)
    assert confidence_interval([0.5]) == (0.0, 1.0)
    low, high = confidence_interval([0.9, 0.95, 1.0, 0.97])
    assert high == 1.0 and low is not None and low < 0.97
    # Rewards outside [0, 1] are not clipped.
    low, high = confidence_interval([2.0, 4.0, 6.0])
    assert low is not None and low < 0


def test_t_quantile_table_and_tail() -> None:
    assert t_quantile_975(1) == 12.706
    assert t_quantile_975(30) == 2.042
    assert t_quantile_975(60) == pytest.approx(2.0003, abs=1e-3)
    assert t_quantile_975(10_000) == pytest.approx(1.96, abs=1e-3)
    with pytest.raises(ValueError, match=">= 1"):
        t_quantile_975(0)


def test_paired_comparison_lists_flips_new_and_missing() -> None:
    before = {"a": 1.0, "b": 1.0, "c": 0.0, "d": 1.0, "gone": 1.0, "err": 1.0}
    now = {"a": 0.0, "b": 1.0, "c": 1.0, "d": 0.0, "new": 1.0, "err": None}
    cmp = paired_comparison(before, now)
    assert cmp.worse == ["a", "d"]
    assert cmp.better == ["c"]
    assert cmp.new == ["new"]
    assert cmp.missing == ["gone"]
    assert cmp.paired == 4  # a b c d (err errored now)
    assert cmp.drop == pytest.approx(0.25)
    assert cmp.p_value == pytest.approx(binomial_upper_tail(2, 3))


def test_paired_comparison_of_identical_runs() -> None:
    runs = {str(i): float(i % 2) for i in range(10)}
    cmp = paired_comparison(runs, dict(runs))
    assert cmp.worse == [] and cmp.better == [] and cmp.p_value == 1.0 and cmp.drop == 0.0


# -- the regression gate's simulation (issue 5 acceptance) -------------------------
#
# A stochastic program: each example is correct with probability 0.8 in any run.
# Example i has its own usual outcome t_i ~ Bernoulli(0.8) and each run re-draws a
# fraction ``redraw`` of the outcomes afresh (sampling noise), so the marginal
# accuracy of every run is exactly 0.8. The regressed program breaks 1 in 8 of the
# examples it used to get right (accuracy 0.7: a 10-point drop).
#
# With redraw=1.0 (examples independent from run to run: pure noise) NO test can
# keep false alarms at 5% and detect the drop 90% of the time with 200 examples:
# the best possible power is ~79% (normal approximation of the two totals).
# That case is measured too, and its false-alarm rate must still hold.


def _simulated_run(rng: random.Random, redraw: float, regressed: bool, n: int = 200) -> bool:
    from synatest.eval.gates import RegressionGate
    from synatest.eval.results import ExampleResult
    from synatest.eval.scoring import score_suite

    base, now = [], []
    for i in range(n):
        usual = rng.random() < 0.8
        before = usual if rng.random() >= redraw else rng.random() < 0.8
        usual_now = usual and not (regressed and rng.random() < 0.125)
        after = usual_now if rng.random() >= redraw else rng.random() < (0.7 if regressed else 0.8)
        base.append(ExampleResult(id=f"e{i}", suite="s", reward=float(before)))
        now.append(ExampleResult(id=f"e{i}", suite="s", reward=float(after)))
    gate = RegressionGate(score_suite("s", base), delta=0.0)
    return gate.fails(score_suite("s", now)) is not None


@pytest.mark.parametrize(
    ("redraw", "max_false_alarms", "min_power"),
    [(0.2, 0.05, 0.90), (1.0, 0.05, 0.60)],
    ids=["consistent-examples", "pure-noise"],
)
def test_regression_gate_simulation(redraw: float, max_false_alarms: float, min_power: float) -> None:
    runs = 200
    rng = random.Random(20261121)
    false_alarms = sum(_simulated_run(rng, redraw, regressed=False) for _ in range(runs)) / runs
    detected = sum(_simulated_run(rng, redraw, regressed=True) for _ in range(runs)) / runs
    assert false_alarms <= max_false_alarms, false_alarms
    assert detected >= min_power, detected
