"""Budgets as gates: suite budgets, per-example limits and paired cost/latency regressions.

End to end against the loopback server over real HTTP, with a real Synalinks program:
a run records cassettes (each call's latency and cost kept), and the replay is gated on
the recorded figures offline; live runs are stopped early by per-example limits and
compared with a baseline for cost and latency.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from synatest.eval.gates import BudgetGate, GatePolicy, SpendRegressionGate
from synatest.eval.results import ExampleResult, RunReport, RunResult, Usage
from synatest.eval.scoring import score_suite
from synatest.testing import DUMMY_API_KEY, Fault, LoopbackLM

PROGRAM = """
import os
import pytest
import synalinks
import synatest


class Question(synalinks.DataModel):
    question: str


class Answer(synalinks.DataModel):
    answer: str


def limits():
    return json.loads(os.environ.get("LIMITS", "{}"))


@pytest.fixture
async def program():
    lm = synalinks.LanguageModel(model="openai/gpt-4o-mini", api_base=os.environ["LOOPBACK_URL"])
    pad = " ".join(["Answer briefly."] * int(os.environ.get("PAD", "0")))
    x0 = synalinks.Input(data_model=Question)
    x1 = await synalinks.Generator(
        data_model=Answer, language_model=lm, instructions=pad or None
    )(x0)
    if os.environ.get("TWO_CALLS"):
        x1 = await synalinks.Generator(data_model=Answer, language_model=lm)(x1)
    return synalinks.Program(inputs=x0, outputs=x1)


@synatest.parametrize_dataset("qa.jsonl", x=Question, y=Answer)
@pytest.mark.synalinks_eval(suite="qa", threshold=0.0, **limits())
async def test_qa(program, x, y):
    return await program(x)
"""


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Any:
    with LoopbackLM(idle_timeout=60) as server:
        monkeypatch.setenv("OPENAI_API_KEY", DUMMY_API_KEY)
        monkeypatch.setenv("LOOPBACK_URL", server.base_url)
        yield server


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    rows = [{"id": f"q{i}", "question": f"question {i}?", "answer": "a"} for i in range(10)]
    (pytester.path / "qa.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    pytester.makepyfile(test_suite="import json\n" + PROGRAM)
    return pytester


def run(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict[str, Any]]:
    result = pytester.runpytest("-p", "no:cacheprovider", "--synalinks-eval", *args)
    report = json.loads((pytester.path / "reports" / "report.json").read_text())
    return result, report


def gate(report: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [g for g in report["suites"][0]["gates"] if g["name"] == name]
    return found


def test_budgets_hold_on_replay_with_the_recorded_latency_and_cost(
    suite: pytest.Pytester, server: LoopbackLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.inject(Fault.slow(0.2))
    result, recorded = run(
        suite, "--synalinks-record-mode=once", "--synalinks-allow-recording-in-ci"
    )
    result.assert_outcomes(passed=10)
    hits = len(server.requests)
    assert hits == 10
    cassette = (suite.path / "cassettes" / "test_suite" / "test_qa[q5].yaml").read_text()
    latency = re.search(r"^  latency_s: ([0-9.]+)$", cassette, re.MULTILINE)
    assert latency is not None and float(latency.group(1)) >= 0.2 and "cost: " in cassette
    live_cost = recorded["suites"][0]["usage"]["cost"]
    assert live_cost > 0

    # Offline: the replay costs and takes what the recording did, and is gated on it.
    result, report = run(
        suite,
        "--synalinks-max-latency-p95=0.1",
        f"--synalinks-max-cost={live_cost / 2}",
        "--synalinks-max-tokens=100000",
        "--synalinks-transcripts=all",
    )
    assert len(server.requests) == hits  # nothing went to the server
    assert result.ret == 1
    qa = report["suites"][0]
    assert qa["usage"]["cost"] == pytest.approx(live_cost)
    assert qa["latency_p95_s"] >= 0.2  # (the first call also paid for the connection)
    call = qa["examples"][0]["runs"][0]["transcript"][0]
    assert call["source"] == "cassette" and call["latency_s"] >= 0.2
    assert call["usage"]["cost"] > 0
    latency = gate(report, "max_latency_p95")
    assert not latency["passed"]
    assert latency["message"].startswith(f"latency p95 {qa['latency_p95_s']:.2f} s")
    assert "is over max_latency_p95 0.1 s" in latency["message"]
    cost = gate(report, "max_cost")
    assert not cost["passed"] and f"is over max_cost ${live_cost / 2:.6f}" in cost["message"]
    assert "(10 examples, 10 runs, 10 LM calls); most: q" in cost["message"]
    assert gate(report, "max_tokens")["passed"]
    out = result.stdout.str()
    assert "max_latency_p95 gate: latency p95 " in out and "max_cost gate: cost $" in out

    # The marker's budget wins over the command line's; a per-example limit stops
    # each replayed example where the recorded latency crossed it.
    monkeypatch.setenv("LIMITS", json.dumps({"max_latency_p95": 5, "time_limit": 0.1}))
    result, report = run(suite, "--synalinks-max-latency-p95=0.1")
    assert len(server.requests) == hits
    result.assert_outcomes(failed=10)
    qa = report["suites"][0]
    assert gate(report, "max_latency_p95")["passed"]
    assert qa["budgets"] == {"max_latency_p95": 5}
    assert qa["errors"] == 0 and qa["mean"] == 0.0  # failed, not errored
    example = qa["examples"][0]
    assert example["limit"] == "time_limit" and example["reward"] == 0.0
    assert example["error"].startswith("ExampleLimitExceeded: time_limit 0.1 s exceeded")
    result.stdout.fnmatch_lines(["*ExampleLimitExceeded: time_limit 0.1 s exceeded*"])


def test_per_example_limits_stop_a_live_example_early(
    suite: pytest.Pytester, server: LoopbackLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWO_CALLS", "1")
    # One call of this program is ~100 tokens: a limit of 20 stops it after the first.
    monkeypatch.setenv("LIMITS", json.dumps({"token_limit": 20}))
    result, report = run(suite, "--synalinks-live", "-k", "q0 or q1")
    result.assert_outcomes(failed=2)
    assert len(server.requests) == 2  # the second call of each was never made
    example = report["suites"][0]["examples"][0]
    assert example["limit"] == "token_limit"
    assert "token_limit 20 exceeded: " in example["error"]
    assert "tokens after 1 LM call; the example stopped there" in example["error"]

    monkeypatch.setenv("LIMITS", json.dumps({"cost_limit": 1e-9}))
    result, report = run(suite, "--synalinks-live", "-k", "q2")
    result.assert_outcomes(failed=1)
    assert len(server.requests) == 3
    assert "cost_limit $1e-09 exceeded: $0.0000" in report["suites"][0]["examples"][0]["error"]

    # A call still waiting when the time runs out is cut off.
    # (One example at a time: the slow reply goes to q3.)
    monkeypatch.setenv("LIMITS", json.dumps({"time_limit": 2}))
    server.inject(Fault.slow(8), times=1)
    result, report = run(suite, "--synalinks-live", "--synalinks-concurrency=1", "-k", "q3 or q4")
    result.assert_outcomes(failed=1, passed=1)
    stopped = report["suites"][0]["examples"][0]
    assert stopped["limit"] == "time_limit" and stopped["duration_s"] < 4
    assert re.search(r"time_limit 2 s exceeded: stopped at 2\.\d\d s after 1 LM", stopped["error"])
    assert report["suites"][0]["examples"][1]["limit"] is None


def test_a_cost_or_latency_rise_fails_the_paired_gate(
    suite: pytest.Pytester, server: LoopbackLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One example at a time, each reply taking 0.2 s: latency is the server's, not noise.
    server.inject(Fault.slow(0.2))
    serial = ("--synalinks-live", "--synalinks-concurrency=1")
    result, _ = run(suite, *serial, "--synalinks-save-baseline=base.json")
    result.assert_outcomes(passed=10)
    flags = (
        *serial,
        "--synalinks-baseline=base.json",
        "--synalinks-fail-cost-regression=+20%",
        "--synalinks-fail-latency-regression=+20%",
    )
    # The same program again: no gate fails on noise.
    result, report = run(suite, *flags)
    assert result.ret == 0, result.stdout.str()
    assert gate(report, "cost_regression")["passed"]

    # Longer instructions: +50% cost or more on every example; slower replies.
    monkeypatch.setenv("PAD", "24")
    server.clear_faults()
    server.inject(Fault.slow(0.5))
    result, report = run(suite, *flags)
    assert result.ret == 1
    cost = gate(report, "cost_regression")
    assert not cost["passed"] and cost["details"]["paired"] == 10
    rise = cost["details"]["current_mean"] / cost["details"]["baseline_mean"] - 1
    assert rise >= 0.5
    assert cost["message"].startswith(f"cost rose by {rise:+.0%} against the baseline")
    assert "allowed +20%, --synalinks-fail-cost-regression; p=0.0010 < 0.05" in cost["message"]
    latency = gate(report, "latency_regression")
    assert not latency["passed"] and latency["message"].startswith("latency rose by +")


# -- the gates on their own (no session) ----------------------------------------------


def example(i: int, cost: float, tokens: int = 10, latency: float = 0.5) -> ExampleResult:
    usage = Usage(calls=1, prompt_tokens=tokens, cost=cost)
    return ExampleResult(
        id=f"e{i}",
        suite="s",
        reward=1.0,
        passed=True,
        usage=usage,
        latency_s=latency,
        runs=[RunResult(reward=1.0, passed=True, usage=usage, latency_s=latency)],
    )


def test_budget_gates_name_the_figure_and_the_costliest_examples() -> None:
    examples = [example(i, cost=0.01 * (i + 1), tokens=100 * (i + 1)) for i in range(4)]
    policy = GatePolicy(budgets={"max_cost": 0.05, "max_tokens": 2000, "max_latency_p95": 1})
    suite = score_suite("s", examples, policy=policy)
    failed = {g.name: g.message for g in suite.gates if not g.passed}
    assert failed == {
        "max_cost": "cost $0.100000 is over max_cost $0.050000 (4 examples, 4 runs, 4 LM "
        "calls); most: e3 $0.040000, e2 $0.030000, e1 $0.020000"
    }
    # The suite's own budget wins over the run's.
    suite = score_suite("s", examples, policy=policy, budgets={"max_tokens": 500})
    failed = {g.name: g.message for g in suite.gates if not g.passed}
    assert failed["max_tokens"] == (
        "1,000 tokens are over max_tokens 500 (4 examples, 4 runs, 4 LM calls); most: "
        "e3 400 tokens, e2 300 tokens, e1 200 tokens"
    )
    assert BudgetGate("max_latency_p95", 1).fails(suite) is None


def test_the_paired_regression_needs_a_significant_rise() -> None:
    before = score_suite("s", [example(i, cost=0.01) for i in range(12)])
    baseline = RunReport(suites=[before])
    policy = GatePolicy(baseline=baseline, cost_regression=0.2)
    # +10% on every example: within the allowed +20%.
    within = score_suite("s", [example(i, cost=0.011) for i in range(12)], policy=policy)
    assert all(g.passed for g in within.gates)
    # +60% on average, but from two examples only: not significant.
    few = [example(i, cost=0.046 if i < 2 else 0.01) for i in range(12)]
    assert all(g.passed for g in score_suite("s", few, policy=policy).gates)
    # +50% on every example fails, naming the examples.
    risen = score_suite("s", [example(i, cost=0.015) for i in range(12)], policy=policy)
    (failed,) = [g for g in risen.gates if not g.passed]
    assert failed.name == "cost_regression"
    assert failed.message is not None and failed.message.startswith(
        "cost rose by +50% against the baseline (mean $0.010000 -> $0.015000 an example on "
        "12 paired examples; allowed +20%"
    )
    # A suite the baseline does not have is not gated.
    gate = SpendRegressionGate("cost", None, 0.2)
    assert gate.check(risen).passed and "not in the baseline" in gate.check(risen).details["note"]


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ("max_cost=-1", "max_cost= must be dollars > 0, got -1"),
        ("token_limit=1.5", "token_limit= must be a whole number of tokens > 0, got 1.5"),
        ("time_limit='1s'", "time_limit= must be seconds > 0, got '1s'"),
    ],
)
def test_bad_budgets_in_the_marker_say_what_is_expected(
    pytester: pytest.Pytester, marker: str, message: str
) -> None:
    pytester.makepyfile(
        test_x=f"""
import pytest

@pytest.mark.synalinks_eval(suite="s", {marker})
def test_x():
    return 1
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--synalinks-eval")
    result.stderr.fnmatch_lines([f"*{message}*"])


def test_bad_budget_flags_say_what_is_expected(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    result = pytester.runpytest("--synalinks-eval", "--synalinks-max-cost=cheap")
    result.stderr.fnmatch_lines(["*--synalinks-max-cost*expected dollars (like 0.50) > 0*"])
    result = pytester.runpytest("--synalinks-eval", "--synalinks-fail-cost-regression=lots")
    result.stderr.fnmatch_lines(["*expected an allowed rise such as +20% or 0.2, got 'lots'*"])
    result = pytester.runpytest("--synalinks-fail-latency-regression=0.2")
    result.stderr.fnmatch_lines(["*--synalinks-fail-latency-regression*only apply to evaluation*"])
    pytester.makeini("[pytest]\nsynalinks_max_tokens = 1.5\n")
    result = pytester.runpytest("--synalinks-eval")
    result.stderr.fnmatch_lines(
        ["*ini synalinks_max_tokens: invalid value '1.5': expected a whole number of tokens*"]
    )


def test_a_cassette_with_a_bad_latency_names_the_file(tmp_path: Path) -> None:
    from synatest.cassettes.store import Interaction
    from synatest.errors import CassetteError

    data = {"kind": "completion", "request": {}, "response": {}, "latency_s": "slow"}
    with pytest.raises(CassetteError, match=r"^c.yaml #1: `latency_s` must be seconds >= 0"):
        Interaction.from_data(data, where="c.yaml #1")
