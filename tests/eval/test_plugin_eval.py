"""pytest --synalinks-eval: the marker, every flag, the gates, the summary, the report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["pytester"]

INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"

HEADER = """
import pytest
import synalinks
import synatest


class Question(synalinks.DataModel):
    question: str


class Answer(synalinks.DataModel):
    answer: str
"""


def write_dataset(pytester: pytest.Pytester, n: int, name: str = "qa.jsonl") -> Path:
    rows = [{"id": f"q{i}", "question": f"question {i}?", "answer": f"a{i}"} for i in range(n)]
    path = pytester.path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def suite_module(wrong: set[int] | frozenset[int] = frozenset(), marker: str = 'suite="qa"') -> str:
    """A suite whose program answers every question right except those in ``wrong``."""
    return (
        HEADER
        + f"""
WRONG = {sorted(wrong)!r}


@synatest.parametrize_dataset("qa.jsonl", x=Question, y=Answer)
@pytest.mark.synalinks_eval({marker})
def test_qa(x, y):
    number = int(x.question.split()[1].rstrip("?"))
    return Answer(answer="wrong" if number in WRONG else f"a{{number}}")
"""
    )


def read_report(pytester: pytest.Pytester, path: str = "reports/report.json") -> Any:
    return json.loads((pytester.path / path).read_text())


def test_skipped_without_the_flag_saying_how_to_run(pytester: pytest.Pytester) -> None:
    write_dataset(pytester, 3)
    pytester.makepyfile(test_suite=suite_module())
    result = pytester.runpytest("-rs", "--strict-markers")
    result.assert_outcomes(skipped=3)
    result.stdout.fnmatch_lines(
        ["SKIPPED [[]3[]] * evaluation suite 'qa': run `pytest --synalinks-eval` to evaluate it"]
    )
    assert not (pytester.path / "reports").exists()


def test_eval_records_rewards_and_writes_the_report(pytester: pytest.Pytester) -> None:
    write_dataset(pytester, 4)
    pytester.makepyfile(test_suite=suite_module({3}, 'suite="qa", threshold=0.7'))
    result = pytester.runpytest("--synalinks-eval", "--strict-markers", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "*= synatest eval =*",
            "suite*reward*n*mean*95% CI*threshold*passes*errors*gate",
            "qa*exact_match*4*0.750*0.301-0.954*0.7*3*0*PASS",
            f"report: {pytester.path / 'reports' / 'report.json'}",
        ]
    )
    report = read_report(pytester)
    assert report["schema_version"] == 5
    (suite,) = report["suites"]
    assert (suite["name"], suite["n"], suite["mean"], suite["passes"]) == ("qa", 4, 0.75, 3)
    assert [e["id"] for e in suite["examples"]] == ["q0", "q1", "q2", "q3"]
    last = suite["examples"][3]
    assert last["inputs"] == {"question": "question 3?"}
    assert last["expected"] == {"answer": "a3"}
    assert last["prediction"] == {"answer": "wrong"}
    assert (last["reward"], last["passed"], last["error"]) == (0.0, False, None)
    assert [g["name"] for g in suite["gates"]] == ["threshold", "max_error_rate"]
    # Written atomically: no temp file left behind.
    # report.json from eval mode, the other renderings from the reports plugin.
    assert sorted(p.name for p in (pytester.path / "reports").iterdir()) == [
        "examples.csv",
        "examples.jsonl",
        "report.html",
        "report.json",
        "report.md",
    ]


def test_suite_under_threshold_fails_the_session_though_every_test_passed(
    pytester: pytest.Pytester,
) -> None:
    write_dataset(pytester, 3)
    pytester.makepyfile(test_suite=suite_module({2}, 'suite="qa", threshold=0.9'))
    result = pytester.runpytest("--synalinks-eval")
    result.assert_outcomes(passed=3)
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "qa*exact_match*3*0.667*0.9*2*0*FAIL",
            "FAILED suite 'qa' (score 0.667, threshold 0.9) threshold gate: mean reward 0.667 "
            "is under the threshold 0.9 (95% CI 0.208-0.939, 2/3 examples passed)",
            "synatest: suite gates failed, so the session fails (exit code 1) even if every "
            "example test passed",
        ]
    )
    assert read_report(pytester)["suites"][0]["gates"][0]["passed"] is False


LM_SUITE = (
    HEADER
    + """

def answer(request):
    if "question 1?" in request.last_user_message:
        return RuntimeError("provider exploded")
    number = request.last_user_message.split("question ")[1].split("?")[0]
    return {"answer": f"a{number}"}


async def build():
    lm = synalinks.LanguageModel(model="openai/gpt-4o-mini")
    inputs = synalinks.Input(data_model=Question)
    outputs = await synalinks.Generator(data_model=Answer, language_model=lm)(inputs)
    return synalinks.Program(inputs=inputs, outputs=outputs)


@synatest.parametrize_dataset("qa.jsonl", x=Question, y=Answer)
@pytest.mark.synalinks_eval(suite="qa", threshold=1.0)
async def test_qa(x, y, synalinks_router):
    synalinks_router.use(synatest.FunctionLM(answer))
    program = await build()
    return await program(x)
"""
)


def test_an_lm_failure_is_an_error_not_a_zero(pytester: pytest.Pytester) -> None:
    write_dataset(pytester, 4)
    pytester.makepyfile(test_suite=LM_SUITE)
    result = pytester.runpytest("--synalinks-eval")
    result.assert_outcomes(passed=3, failed=1)
    assert result.ret == 1
    (suite,) = read_report(pytester)["suites"]
    # The mean is over the examples that produced a reward: the error is no 0.
    assert (suite["n"], suite["mean"], suite["errors"]) == (4, 1.0, 1)
    errored = suite["examples"][1]
    assert errored["reward"] is None
    assert errored["error"].startswith("LMCallFailed: LanguageModel 'openai/gpt-4o-mini' failed")
    assert errored["usage"]["calls"] >= 1
    result.stdout.fnmatch_lines(
        [
            "FAILED suite 'qa' (score 1.000, threshold 1) max_error_rate gate: 1/4 examples "
            "errored (25.0% > the allowed 0.0%, --synalinks-max-error-rate): q1; first error: "
            "LMCallFailed: LanguageModel 'openai/gpt-4o-mini' failed*",
        ]
    )


def test_max_error_rate_tolerates_lm_errors_as_xfailed(pytester: pytest.Pytester) -> None:
    write_dataset(pytester, 4)
    pytester.makepyfile(test_suite=LM_SUITE)
    result = pytester.runpytest("--synalinks-eval", "--synalinks-max-error-rate=25%", "-rx")
    result.assert_outcomes(passed=3, xfailed=1)
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "XFAIL test_suite.py::test_qa[[]q1[]] - LM error counted against "
            "--synalinks-max-error-rate 0.25*"
        ]
    )
    result = pytester.runpytest("--synalinks-eval", "--synalinks-max-error-rate=0.2")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*1/4 examples errored (25.0% > the allowed 20.0%*"])


def test_baseline_regression_lists_flipped_examples(pytester: pytest.Pytester) -> None:
    write_dataset(pytester, 20)
    pytester.makepyfile(test_suite=suite_module({19}))
    result = pytester.runpytest("--synalinks-eval", "--synalinks-save-baseline")
    assert result.ret == 0
    result.stdout.fnmatch_lines([f"baseline saved: {pytester.path / 'synatest-baseline.json'}"])
    saved = json.loads((pytester.path / "synatest-baseline.json").read_text())
    assert saved["suites"][0]["mean"] == 0.95

    # Noise: one example flips each way -> no alarm.
    pytester.makepyfile(test_suite=suite_module({0}))
    result = pytester.runpytest("--synalinks-eval", "--synalinks-baseline=synatest-baseline.json")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "suite 'qa' vs baseline: 20 paired examples, drop +0.000, 1 worse, 1 better (p=0.750)",
        ]
    )

    # A real drop: 8 examples break.
    pytester.makepyfile(test_suite=suite_module(set(range(8)) | {19}))
    result = pytester.runpytest(
        "--synalinks-eval", "--synalinks-fail-regression=0.05", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=20)
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "FAILED suite 'qa' (score 0.550, threshold -) regression gate: mean reward dropped "
            "by 0.400 against the baseline (0.950 -> 0.550 on 20 paired examples; allowed drop "
            "0.05; p=0.0039 < 0.05, exact sign test). 8 got worse: q0, q1, q2, q3, q4, q5, q6, "
            "q7; 0 got better",
        ]
    )
    gate = read_report(pytester)["suites"][0]["gates"][0]
    assert gate["name"] == "regression" and gate["details"]["worse"] == [f"q{i}" for i in range(8)]

    # The same drop is allowed by a larger delta.
    result = pytester.runpytest("--synalinks-eval", "--synalinks-fail-regression=50%")
    assert result.ret == 0


def test_report_json_of_a_previous_run_works_as_a_baseline(pytester: pytest.Pytester) -> None:
    write_dataset(pytester, 10)
    pytester.makepyfile(test_suite=suite_module())
    assert pytester.runpytest("--synalinks-eval", "--synalinks-report-dir=before").ret == 0
    pytester.makepyfile(test_suite=suite_module(set(range(6))))
    result = pytester.runpytest("--synalinks-eval", "--synalinks-baseline=before/report.json")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*regression gate: mean reward dropped by 0.600*"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--synalinks-baseline=b.json"],
            "ERROR: --synalinks-baseline only apply to evaluation runs: add --synalinks-eval",
        ),
        (
            ["--synalinks-save-baseline", "--synalinks-fail-regression=0.1"],
            "ERROR: --synalinks-save-baseline, --synalinks-fail-regression only apply to "
            "evaluation runs: add --synalinks-eval",
        ),
        (
            ["--synalinks-eval", "--synalinks-baseline=missing.json"],
            "ERROR: --synalinks-baseline: baseline */missing.json: no such file. Create it with "
            "`pytest --synalinks-eval --synalinks-save-baseline=*/missing.json` on the reference "
            "version of your program",
        ),
        (
            ["--synalinks-eval", "--synalinks-fail-regression=0.1"],
            "ERROR: --synalinks-fail-regression needs a baseline: pass --synalinks-baseline=PATH "
            "(no baseline at the default synatest-baseline.json; save one with "
            "--synalinks-save-baseline)",
        ),
        (
            ["--synalinks-eval", "--synalinks-fail-regression=lots"],
            "*error: argument --synalinks-fail-regression: expected a number such as 0.05 or 5%, "
            "got 'lots'",
        ),
        (
            ["--synalinks-eval", "--synalinks-max-error-rate=2"],
            "*error: argument --synalinks-max-error-rate: expected a value between 0 and 1 (or "
            "0% and 100%), got '2'",
        ),
        (
            ["--synalinks-eval", "--synalinks-regression-alpha=1"],
            "*error: argument --synalinks-regression-alpha: the significance level must be "
            "between 0 and 1, got '1'",
        ),
    ],
    ids=[
        "baseline-needs-eval",
        "two-flags-need-eval",
        "missing-baseline",
        "regression-needs-baseline",
        "bad-delta",
        "bad-error-rate",
        "bad-alpha",
    ],
)
def test_flag_errors(pytester: pytest.Pytester, args: list[str], message: str) -> None:
    pytester.makepyfile(test_x="def test_x(): pass")
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_unreadable_baseline(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_x="def test_x(): pass")
    (pytester.path / "bad.json").write_text("{not json")
    result = pytester.runpytest("--synalinks-eval", "--synalinks-baseline=bad.json")
    result.stderr.fnmatch_lines(
        ["ERROR: --synalinks-baseline: baseline */bad.json: not a readable JSON file (*"]
    )
    (pytester.path / "old.json").write_text('{"schema_version": 0}')
    result = pytester.runpytest("--synalinks-eval", "--synalinks-baseline=old.json")
    result.stderr.fnmatch_lines(
        [
            "ERROR: --synalinks-baseline: baseline */old.json: schema_version 0, this synatest "
            "reads 1 to 5; save a new baseline with --synalinks-save-baseline"
        ]
    )


def test_ini_options_and_cli_precedence(pytester: pytest.Pytester) -> None:
    write_dataset(pytester, 2)
    pytester.makepyfile(test_suite=suite_module({1}, 'suite="qa", threshold=0.5'))
    pytester.makeini(INI + "synalinks_eval = true\nsynalinks_report_dir = from-ini\n")
    result = pytester.runpytest()
    assert result.ret == 0
    assert (pytester.path / "from-ini" / "report.json").is_file()
    result = pytester.runpytest("--synalinks-report-dir=from-cli")
    assert (pytester.path / "from-cli" / "report.json").is_file()
    pytester.makeini(INI + "synalinks_eval = true\nsynalinks_max_error_rate = much\n")
    result = pytester.runpytest()
    result.stderr.fnmatch_lines(
        [
            "ERROR: ini synalinks_max_error_rate: invalid value 'much': expected a number such "
            "as 0.05 or 5%, got 'much'"
        ]
    )


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        (
            'suite="qa", treshold=0.5',
            "ERROR: @pytest.mark.synalinks_eval on test_suite.py::test_qa[q0]: "
            "unknown argument(s) treshold; expected suite, reward, threshold, pass_at, repeat, "
            "gate, k, human, human_scale, judge, min_judge_agreement, max_judge_flip_rate, "
            "max_cost, max_tokens, max_latency_p95, cost_limit, token_limit, time_limit",
        ),
        (
            '"qa"',
            "ERROR: @pytest.mark.synalinks_eval on test_suite.py::test_qa[q0]: pass keyword "
            "arguments (suite, reward, threshold, pass_at, repeat, gate, k, human, human_scale, "
            "judge, min_judge_agreement, max_judge_flip_rate, max_cost, max_tokens, "
            "max_latency_p95, cost_limit, token_limit, time_limit)",
        ),
        (
            'suite="qa", threshold="high"',
            "ERROR: @pytest.mark.synalinks_eval on "
            "test_suite.py::test_qa[q0]: threshold= must be a number, got 'high'",
        ),
        (
            'suite="qa", reward="ExactMatchh"',
            "ERROR: suite 'qa' (test_suite.py::test_qa[q0]): "
            "unknown reward 'ExactMatchh': use a Synalinks reward name ('ExactMatch', "
            "'CosineSimilarity', ...), a synatest reward (Contains, JSONSchemaValid, NumericMatch, "
            "RegexMatch), a Reward instance or an `async def reward(y_true, y_pred)`",
        ),
        (
            'suite="qa", reward=lambda t, p: 1.0',
            "ERROR: suite 'qa' (test_suite.py::test_qa[q0]): "
            "reward function '<lambda>' must be declared `async def <lambda>(y_true, y_pred)` "
            "(Synalinks awaits rewards)",
        ),
    ],
    ids=["unknown-kwarg", "positional", "bad-threshold", "unknown-reward", "sync-reward"],
)
def test_marker_errors(pytester: pytest.Pytester, marker: str, message: str) -> None:
    write_dataset(pytester, 1)
    pytester.makepyfile(test_suite=suite_module(marker=marker))
    result = pytester.runpytest("--synalinks-eval")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_a_suite_declared_inconsistently(pytester: pytest.Pytester) -> None:
    write_dataset(pytester, 1)
    pytester.makepyfile(
        test_suite=HEADER
        + """
@pytest.mark.synalinks_eval(suite="qa", threshold=0.5)
def test_one():
    return None


@pytest.mark.synalinks_eval(suite="qa", threshold=0.8)
def test_two():
    return None
"""
    )
    result = pytester.runpytest("--synalinks-eval")
    result.stderr.fnmatch_lines(
        [
            "ERROR: suite 'qa' is declared with different threshold= values: 0.5 "
            "(test_suite.py::test_one) and 0.8 (test_suite.py::test_two); give every test of a "
            "suite the same settings"
        ]
    )


def test_rewards_by_name_function_and_instance_and_hook(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
SEEN = []


def pytest_synalinks_eval_report(config, report):
    SEEN.append(report)
    path = config.rootpath / "hook.txt"
    path.write_text(" ".join(f"{s.name}={s.mean:.2f}" for s in report.suites))
"""
    )
    pytester.makepyfile(
        test_suite=HEADER
        + """

class Number(synalinks.DataModel):
    value: str


async def half(y_true, y_pred):
    return 0.5


@pytest.mark.parametrize(("x", "y"), [("1", Number(value="3")), ("2", Number(value="4.0"))])
@pytest.mark.synalinks_eval(suite="numbers", reward="NumericMatch", threshold=0.5)
def test_numbers(x, y):
    return Number(value=f"the answer is {int(x) + 2}")


@pytest.mark.synalinks_eval(reward=half, pass_at=0.5)
async def test_custom():
    return Answer(answer="anything")


@pytest.mark.synalinks_eval(suite="contains", reward=synatest.Contains())
@pytest.mark.parametrize("y", [Answer(answer="paris")])
def test_contains(y):
    return Answer(answer="It is Paris.")
"""
    )
    result = pytester.runpytest("--synalinks-eval", "--strict-markers")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "numbers*numeric_match*2*1.000*",
            "test_custom*half*1*0.500*",
            "contains*contains*1*1.000*",
        ]
    )
    suites = {s["name"]: s for s in read_report(pytester)["suites"]}
    assert [e["id"] for e in suites["numbers"]["examples"]] == ["1-y0", "2-y1"]
    assert suites["test_custom"]["examples"][0]["id"] == "test_custom"
    assert suites["test_custom"]["examples"][0]["expected"] is None
    assert suites["test_custom"]["passes"] == 1  # pass_at=0.5
    assert (pytester.path / "hook.txt").read_text() == "numbers=1.00 test_custom=0.50 contains=1.00"


def test_an_error_computing_the_reward_is_an_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_suite=HEADER
        + """

async def broken(y_true, y_pred):
    raise KeyError("no such field")


@pytest.mark.synalinks_eval(suite="s", reward=broken)
def test_x():
    return Answer(answer="a")
"""
    )
    result = pytester.runpytest("--synalinks-eval")
    result.assert_outcomes(failed=1)
    (suite,) = read_report(pytester)["suites"]
    assert suite["examples"][0]["error"] == "computing reward 'broken': KeyError: 'no such field'"


def test_skips_and_xfails_are_not_results(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_suite=HEADER
        + """

@pytest.mark.synalinks_eval(suite="s")
@pytest.mark.parametrize("y", [Answer(answer="a")])
@pytest.mark.parametrize("mode", ["ok", "skip", "xfail"])
def test_x(y, mode):
    if mode == "skip":
        pytest.skip("not today")
    if mode == "xfail":
        pytest.xfail("known")
    return Answer(answer="a")
"""
    )
    result = pytester.runpytest("--synalinks-eval")
    result.assert_outcomes(passed=1, skipped=1, xfailed=1)
    (suite,) = read_report(pytester)["suites"]
    assert suite["n"] == 1 and suite["errors"] == 0


def test_no_eval_example_ran(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_x="def test_x(): pass")
    result = pytester.runpytest("--synalinks-eval")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        ["no evaluation example ran (no test marked synalinks_eval was run)"]
    )
    assert read_report(pytester)["suites"] == []


def test_registry_for_other_plugins(pytester: pytest.Pytester) -> None:
    write_dataset(pytester, 2)
    pytester.makeconftest(
        """
from synatest.plugin.eval import eval_session


def pytest_collection_finish(session):
    spec = eval_session(session.config).suites["qa"]
    print("REGISTRY", spec.name, spec.threshold, spec.reward_name, len(spec.items),
          spec.dataset.ids, spec.marker_kwargs)
"""
    )
    pytester.makepyfile(test_suite=suite_module(marker='suite="qa", threshold=0.5'))
    result = pytester.runpytest("-s")
    result.stdout.fnmatch_lines(
        ["REGISTRY qa 0.5 exact_match 2 ['q0', 'q1'] {'suite': 'qa', 'threshold': 0.5}"]
    )
