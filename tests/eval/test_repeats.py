"""--synalinks-repeat, the marker's repeat=/gate=/k=, pass@k, pass^k, flaky examples and
transcripts (pytester, in-process), and the estimators and the simulation (plain Python)."""

from __future__ import annotations

import itertools
import json
import random
from typing import Any

import pytest

from synatest.eval.results import ExampleResult, RunResult
from synatest.eval.stats import pass_at_k, pass_hat_k

INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"

# Three questions; the program answers "b" wrong on run 2 (index 1) only, "c" always wrong.
FLAKY_SUITE = """
import pytest
import synalinks
import synatest


class Question(synalinks.DataModel):
    question: str


class Answer(synalinks.DataModel):
    answer: str


def model(request):
    question = request.last_user_message
    if "'c'" in question or ("'b'" in question and request.repeat == 1):
        return {{"answer": "wrong"}}
    return {{"answer": "right"}}


@pytest.fixture
async def program():
    synatest.use_lm(synatest.FunctionLM(model))
    lm = synalinks.LanguageModel(model="openai/gpt-4o-mini")
    inputs = synalinks.Input(data_model=Question)
    outputs = await synalinks.Generator(data_model=Answer, language_model=lm)(inputs)
    return synalinks.Program(inputs=inputs, outputs=outputs)


@pytest.mark.synalinks_eval({marker})
@pytest.mark.parametrize("y", [Answer(answer="right")], ids=["right"])
@pytest.mark.parametrize("x", [Question(question=q) for q in "abc"], ids=list("abc"))
async def test_qa(program, x, y):
    return await program(x)
"""


def run_suite(pytester: pytest.Pytester, *args: str, marker: str = 'suite="qa"') -> Any:
    pytester.makeini(INI)
    pytester.makepyfile(test_suite=FLAKY_SUITE.format(marker=marker))
    return pytester.runpytest("--synalinks-eval", "-v", *args)


def report(pytester: pytest.Pytester) -> Any:
    return json.loads((pytester.path / "reports" / "report.json").read_text())


def test_repeat_runs_each_example_k_times_and_reports_pass_at_k(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, "--synalinks-repeat", "3")
    result.stdout.fnmatch_lines(
        [
            "*test_qa?a-right? PASSED (3/3 runs passed)*",
            "*test_qa?b-right? PASSED (2/3 runs passed)*",
            "*test_qa?c-right? PASSED (0/3 runs passed)*",
        ]
    )
    suite = report(pytester)["suites"][0]
    assert suite["repeat"] == 3
    assert [len(e["runs"]) for e in suite["examples"]] == [3, 3, 3]
    b = suite["examples"][1]
    assert [run["reward"] for run in b["runs"]] == [1.0, 0.0, 1.0]
    assert b["reward"] == pytest.approx(2 / 3)  # the mean over its runs
    # pass@1 = mean over examples of c/n; pass@2: "b" passes in any 2 of its 3 runs
    # with probability 1 - C(1, 2)/C(3, 2) = 1; pass^3: only "a" passed every run.
    assert suite["pass_at_k"] == pytest.approx({"1": 5 / 9, "2": 2 / 3, "3": 2 / 3})
    assert suite["pass_hat_k"] == pytest.approx(1 / 3)
    assert suite["flaky"] == ["b-right"]
    assert suite["mean"] == pytest.approx(5 / 9)  # over all 9 runs
    assert suite["notes"] == []


def test_transcripts_are_kept_for_examples_that_did_not_pass(pytester: pytest.Pytester) -> None:
    run_suite(pytester, "--synalinks-repeat", "3")
    examples = report(pytester)["suites"][0]["examples"]
    assert [e["passed"] for e in examples] == [True, False, False]
    assert all(run["transcript"] is None for run in examples[0]["runs"])
    (call,) = examples[1]["runs"][1]["transcript"]
    assert call["source"] == "double"
    assert call["model"] == "openai/gpt-4o-mini"
    assert call["schema_title"] == "Answer"
    assert json.loads(call["content"]) == {"answer": "wrong"}
    assert call["messages"][-1] == {"role": "user", "content": "{'question': 'b'}"}
    assert call["usage"]["calls"] == 1 and call["usage"]["prompt_tokens"] > 0
    assert call["latency_s"] >= 0
    assert examples[1]["runs"][1]["prediction"] == {"answer": "wrong"}


@pytest.mark.parametrize(("keep", "kept"), [("all", [True] * 3), ("none", [False] * 3)])
def test_transcripts_flag_keeps_all_or_none(
    pytester: pytest.Pytester, keep: str, kept: list[bool]
) -> None:
    run_suite(pytester, f"--synalinks-transcripts={keep}")
    examples = report(pytester)["suites"][0]["examples"]
    assert [e["runs"][0]["transcript"] is not None for e in examples] == kept


def test_without_repeats_the_fields_exist_and_are_trivial(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester)
    result.stdout.fnmatch_lines(["*test_qa?b-right? PASSED*"])
    assert "runs passed" not in result.stdout.str()
    suite = report(pytester)["suites"][0]
    assert suite["repeat"] == 1
    assert [len(e["runs"]) for e in suite["examples"]] == [1, 1, 1]
    assert suite["pass_at_k"] == pytest.approx({"1": 2 / 3})
    assert suite["pass_hat_k"] == pytest.approx(2 / 3)
    assert suite["flaky"] == []


def test_the_marker_repeat_wins_over_the_flag(pytester: pytest.Pytester) -> None:
    run_suite(pytester, "--synalinks-repeat", "5", marker='suite="qa", repeat=2')
    suite = report(pytester)["suites"][0]
    assert suite["repeat"] == 2
    assert sorted(suite["pass_at_k"]) == ["1", "2"]


def test_gate_on_pass_hat_k_fails_flaky_examples(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, marker='suite="qa", repeat=3, gate="pass_hat_k", threshold=0.3')
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*AssertionError: 2/3 runs passed: the suite gates on pass^3, so at least 3 runs "
            "must pass (reward >= 1)*",
        ]
    )
    suite = report(pytester)["suites"][0]
    (threshold,) = [g for g in suite["gates"] if g["name"] == "threshold"]
    assert threshold["passed"] is True  # pass^3 = 1/3 >= 0.3
    assert threshold["details"] == {
        "threshold": 0.3,
        "mean": pytest.approx(5 / 9),
        "gate": "pass_hat_k",
        "k": 3,
        "value": pytest.approx(1 / 3),
    }


def test_gate_on_pass_at_k_with_a_smaller_k(pytester: pytest.Pytester) -> None:
    result = run_suite(
        pytester, marker='suite="qa", repeat=3, gate="pass_at_k", k=2, threshold=0.9'
    )
    result.assert_outcomes(passed=2, failed=1)  # "c" never passed
    result.stdout.fnmatch_lines(
        ["*FAILED suite 'qa' * threshold gate: pass@2 0.667 is under the threshold 0.9 *"]
    )
    assert result.ret == 1


def test_a_run_that_raises_fails_the_test_naming_the_run(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(
        test_suite="""
import pytest
import synalinks

CALLS = []


class Answer(synalinks.DataModel):
    answer: str


async def always(y_true, y_pred):
    return 1.0


@pytest.mark.synalinks_eval(suite="qa", repeat=3, reward=always)
def test_qa():
    CALLS.append(1)
    if len(CALLS) == 2:
        raise ValueError("the second run broke")
    return Answer(answer="ok")
"""
    )
    result = pytester.runpytest("--synalinks-eval")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*ValueError: the second run broke",
            "*synatest: 2/3 runs passed; this is the error of run 2",
        ]
    )
    (example,) = report(pytester)["suites"][0]["examples"]
    assert [run["error"] for run in example["runs"]] == [
        None,
        "ValueError: the second run broke",
        None,
    ]
    assert example["error"] is None and example["reward"] == 1.0  # over the 2 runs scored


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ("repeat=0", "repeat= must be a whole number >= 1, got 0"),
        ('gate="best"', "gate= must be one of 'mean', 'pass_at_k', 'pass_hat_k', got 'best'"),
        ("k=2", "k= applies to gate='pass_at_k' or 'pass_hat_k'"),
        (
            'gate="pass_at_k", k=4, repeat=3',
            "k=4 needs at least 4 runs per example, the suite has 3 (set repeat=4 on the "
            "marker or pass --synalinks-repeat 4)",
        ),
    ],
)
def test_bad_marker_settings_are_usage_errors(
    pytester: pytest.Pytester, marker: str, message: str
) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(
        test_suite=f"""
import pytest


@pytest.mark.synalinks_eval(suite="qa", {marker})
def test_qa():
    return "ok"
"""
    )
    result = pytester.runpytest("--synalinks-eval")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: @pytest.mark.synalinks_eval on *: {message}"])


def test_bad_repeat_flag_is_an_argparse_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--synalinks-eval", "--synalinks-repeat", "two")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--synalinks-repeat: the repeat count must be a whole number >= 1, got 'two'*"]
    )


# -- the estimators ---------------------------------------------------------------------


def _brute_pass_at_k(n: int, c: int, k: int) -> float:
    runs = [True] * c + [False] * (n - c)
    draws = list(itertools.combinations(runs, k))
    return sum(any(d) for d in draws) / len(draws)


def _brute_pass_hat_k(n: int, c: int, k: int) -> float:
    runs = [True] * c + [False] * (n - c)
    draws = list(itertools.combinations(runs, k))
    return sum(all(d) for d in draws) / len(draws)


def test_estimators_match_drawing_k_runs_without_replacement() -> None:
    for n in range(1, 8):
        for c in range(n + 1):
            for k in range(1, n + 1):
                assert pass_at_k(n, c, k) == pytest.approx(_brute_pass_at_k(n, c, k))
                assert pass_hat_k(n, c, k) == pytest.approx(_brute_pass_hat_k(n, c, k))
    with pytest.raises(ValueError, match="k must be between 1 and the number of runs 3, got 4"):
        pass_at_k(3, 1, 4)


# -- the paired regression gate with repeats (issue 13 acceptance) -------------------------
#
# 200 examples, each correct with probability 0.8 in every run, outcomes fully re-drawn in
# every run (pure noise: no example is "usually right"); the regressed program is right
# with probability 0.7 (a 10-point drop). The gate pairs examples by their mean over K runs.
# One run per example (K = 1) can detect this at best ~79% of the time; with K = 5 the
# gate must keep false alarms <= 5% and detect the drop >= 90% of the time.


def _examples(rng: random.Random, p: float, k: int, n: int = 200) -> list[ExampleResult]:
    examples = []
    for i in range(n):
        runs = [RunResult(index=j, reward=float(rng.random() < p)) for j in range(k)]
        mean = sum(r.reward or 0.0 for r in runs) / k
        examples.append(ExampleResult(id=f"e{i}", suite="s", reward=mean, runs=runs))
    return examples


def _alarm(rng: random.Random, regressed: bool, k: int) -> bool:
    from synatest.eval.gates import RegressionGate
    from synatest.eval.scoring import score_suite

    base = score_suite("s", _examples(rng, 0.8, k))
    now = score_suite("s", _examples(rng, 0.7 if regressed else 0.8, k))
    return RegressionGate(base, delta=0.0).fails(now) is not None


@pytest.mark.parametrize(("k", "min_power"), [(1, 0.60), (5, 0.90)], ids=["K=1", "K=5"])
def test_regression_gate_simulation_with_repeats(k: int, min_power: float) -> None:
    trials = 200
    rng = random.Random(20261202)
    false_alarms = sum(_alarm(rng, False, k) for _ in range(trials)) / trials
    detected = sum(_alarm(rng, True, k) for _ in range(trials)) / trials
    assert false_alarms <= 0.05, false_alarms
    assert detected >= min_power, detected
