"""Unit tests of gates and suite scoring (plain objects, no pytest plugin)."""

from __future__ import annotations

import argparse

import pytest

from synatest.eval.gates import (
    GatePolicy,
    MaxErrorRateGate,
    RegressionGate,
    ThresholdGate,
    parse_alpha,
    parse_fraction,
)
from synatest.eval.results import ExampleResult, RunReport, Usage
from synatest.eval.scoring import score_suite


def examples(rewards: list[float | None], suite: str = "qa") -> list[ExampleResult]:
    return [
        ExampleResult(
            id=f"ex{i}",
            suite=suite,
            reward=r,
            passed=None if r is None else r >= 1.0,
            error=None if r is not None else "LMCallFailed: boom",
            usage=Usage(calls=1, prompt_tokens=10, completion_tokens=2, cost=0.5),
        )
        for i, r in enumerate(rewards)
    ]


def test_score_suite_aggregates_per_example() -> None:
    suite = score_suite("qa", examples([1.0, 1.0, 0.0, None]), threshold=0.5, reward="exact_match")
    assert (suite.n, suite.passes, suite.errors) == (4, 2, 1)
    assert suite.mean == pytest.approx(2 / 3)  # the error is not a 0
    assert suite.ci_low is not None and suite.ci_low < suite.mean < (suite.ci_high or 0)
    assert suite.usage == Usage(calls=4, prompt_tokens=40, completion_tokens=8, cost=2.0)
    assert suite.reward == "exact_match" and suite.threshold == 0.5
    assert [g.name for g in suite.gates] == ["threshold", "max_error_rate"]
    assert not suite.passed  # one error, none allowed


def test_all_examples_pass_but_mean_under_threshold_fails() -> None:
    suite = score_suite("qa", examples([1.0, 0.5, 0.5, 0.5]), threshold=0.8)
    assert suite.passes == 1 and suite.errors == 0
    gate = suite.gates[0]
    assert not gate.passed
    assert gate.message is not None
    assert gate.message.startswith("mean reward 0.625 is under the threshold 0.8 (95% CI ")
    assert "1/4 examples passed" in gate.message


def test_threshold_gate_with_no_reward_at_all() -> None:
    suite = score_suite("qa", examples([None, None]))
    message = ThresholdGate(0.5).fails(suite)
    assert message == (
        "no example produced a reward (2 collected, 2 errored), so the threshold 0.5 cannot be met"
    )


def test_threshold_gate_passes_at_the_threshold() -> None:
    suite = score_suite("qa", examples([1.0, 0.0]), threshold=0.5)
    assert suite.passed


def test_max_error_rate_gate() -> None:
    suite = score_suite("qa", examples([1.0, None, 1.0, 1.0]))
    assert MaxErrorRateGate(0.25).fails(suite) is None
    message = MaxErrorRateGate(0.1).fails(suite)
    assert message == (
        "1/4 examples errored (25.0% > the allowed 10.0%, --synalinks-max-error-rate): ex1; "
        "first error: LMCallFailed: boom"
    )


def _run(rewards: list[float | None]) -> RunReport:
    return RunReport(suites=[score_suite("qa", examples(rewards))])


def test_regression_gate_lists_flipped_examples() -> None:
    baseline = _run([1.0] * 30)
    now = score_suite("qa", examples([0.0] * 8 + [1.0] * 22))
    gate = RegressionGate(baseline.suites[0], delta=0.05)
    message = gate.fails(now)
    assert message is not None
    assert message.startswith(
        "mean reward dropped by 0.267 against the baseline (1.000 -> 0.733 on 30 paired "
        "examples; allowed drop 0.05; p=0.0039 < 0.05, exact sign test). 8 got worse: "
        "ex0, ex1, ex2, ex3, ex4, ex5, ex6, ex7; 0 got better"
    )
    result = gate.check(now)
    assert not result.passed
    assert result.details["worse"] == [f"ex{i}" for i in range(8)]
    assert result.details["better"] == []


def test_regression_gate_ignores_noise() -> None:
    # As many examples up as down: the means are equal, nothing fails.
    baseline = _run([1.0, 0.0] * 20)
    now = score_suite("qa", examples([0.0, 1.0] * 20))
    result = RegressionGate(baseline.suites[0]).check(now)
    assert result.passed and result.message is None
    assert len(result.details["worse"]) == 20 and len(result.details["better"]) == 20


def test_regression_gate_small_drop_within_delta_passes() -> None:
    baseline = _run([1.0] * 100)
    now = score_suite("qa", examples([0.0] * 5 + [1.0] * 95))
    assert RegressionGate(baseline.suites[0], delta=0.05).fails(now) is None
    assert RegressionGate(baseline.suites[0], delta=0.04).fails(now) is not None


def test_regression_gate_without_this_suite_in_the_baseline() -> None:
    result = RegressionGate(None).check(score_suite("qa", examples([0.0])))
    assert result.passed
    assert result.details["note"] == "suite 'qa' is not in the baseline run"


def test_policy_builds_gates() -> None:
    baseline = _run([1.0])
    policy = GatePolicy(threshold=0.7, baseline=baseline, fail_regression=0.02, max_error_rate=0.1)
    gates = policy.gates_for("qa")
    assert [g.name for g in gates] == ["threshold", "regression", "max_error_rate"]
    assert isinstance(gates[0], ThresholdGate) and gates[0].threshold == 0.7
    assert [g.name for g in policy.gates_for("qa", threshold=0.9)][0] == "threshold"
    assert [g.name for g in GatePolicy().gates_for("qa")] == ["max_error_rate"]
    # A baseline alone gates any significant drop (allowed drop 0).
    alone = GatePolicy(baseline=baseline).gates_for("qa")
    assert isinstance(alone[0], RegressionGate) and alone[0].delta == 0.0


@pytest.mark.parametrize(("raw", "value"), [("0.05", 0.05), ("5%", 0.05), ("0", 0.0), ("1", 1.0)])
def test_parse_fraction(raw: str, value: float) -> None:
    assert parse_fraction(raw) == pytest.approx(value)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("lots", "expected a number such as 0.05 or 5%, got 'lots'"),
        ("1.5", "expected a value between 0 and 1 (or 0% and 100%), got '1.5'"),
        ("-1%", "expected a value between 0 and 1 (or 0% and 100%), got '-1%'"),
    ],
)
def test_parse_fraction_errors(raw: str, message: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError) as info:
        parse_fraction(raw)
    assert str(info.value) == message


def test_parse_alpha() -> None:
    assert parse_alpha("0.01") == 0.01
    with pytest.raises(argparse.ArgumentTypeError, match="significance level"):
        parse_alpha("0")
