"""pytest-xdist: results travel from workers to the controller; gates run once there."""

from __future__ import annotations

import json

import pytest

from synatest.eval.results import ExampleResult
from synatest.eval.xdist import MergeError, merge_payloads, worker_payload
from synatest.reports.json_report import timeless

pytest_plugins = ["pytester"]


def result(i: int, suite: str = "qa") -> ExampleResult:
    return ExampleResult(id=f"e{i}", suite=suite, reward=float(i % 2), passed=bool(i % 2))


SPEC = {"reward": "exact_match", "threshold": 0.5, "pass_at": 1.0}


def test_merge_orders_by_collection_index_whatever_the_worker() -> None:
    a = worker_payload([(0, result(0)), (3, result(3))], {"qa": SPEC}, {"openai/a"})
    b = worker_payload([(2, result(2)), (1, result(1))], {"qa": SPEC, "other": SPEC}, ["m/b"])
    # Payloads are plain JSON (execnet sends them between processes).
    a, b = json.loads(json.dumps(a)), json.loads(json.dumps(b))
    merged = merge_payloads([b, a])
    assert [order for order, _ in merged.results] == [0, 1, 2, 3]
    assert [r.id for _, r in merged.results] == ["e0", "e1", "e2", "e3"]
    assert merged.results[3][1] == result(3)
    assert merged.suites == {"qa": SPEC, "other": SPEC}
    assert merged.models == {"openai/a", "m/b"}


def test_merge_of_nothing() -> None:
    merged = merge_payloads([])
    assert (merged.results, merged.suites, merged.models) == ([], {}, set())


def test_merge_rejects_disagreeing_workers() -> None:
    a = worker_payload([], {"qa": SPEC})
    b = worker_payload([], {"qa": {**SPEC, "threshold": 0.9}})
    with pytest.raises(MergeError, match="workers disagree about suite 'qa'"):
        merge_payloads([a, b])


def test_merge_rejects_an_unknown_payload_version() -> None:
    with pytest.raises(MergeError) as info:
        merge_payloads([{"version": 99}])
    assert str(info.value) == (
        "a worker sent eval results in format 99, expected 1: are the controller and workers "
        "running the same synatest?"
    )


SUITE = """
import pytest
import synalinks
import synatest


class Question(synalinks.DataModel):
    question: str


class Answer(synalinks.DataModel):
    answer: str


def reply(request):
    number = int(request.last_user_message.split("question ")[1].split("'")[0])
    return {"answer": "wrong" if number % 4 == 0 else f"a{number}"}


@synatest.parametrize_dataset("qa.jsonl", x=Question, y=Answer)
@pytest.mark.synalinks_eval(suite="qa", threshold=0.9)
async def test_qa(x, y, synalinks_router):
    synalinks_router.use(synatest.FunctionLM(reply))
    lm = synalinks.LanguageModel(model="openai/gpt-4o-mini")
    inputs = synalinks.Input(data_model=Question)
    outputs = await synalinks.Generator(data_model=Answer, language_model=lm)(inputs)
    return await synalinks.Program(inputs=inputs, outputs=outputs)(x)


@synatest.parametrize_dataset("qa.jsonl", x=Question, y=Answer)
@pytest.mark.synalinks_eval(suite="contains", reward="Contains", threshold=0.5)
async def test_contains(x, y):
    return Answer(answer=f"it is a{x.question.split()[1]}")
"""


def test_n2_gives_the_same_suites_and_gates_as_serial(pytester: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    rows = [{"id": f"q{i}", "question": f"question {i}", "answer": f"a{i}"} for i in range(12)]
    (pytester.path / "qa.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    pytester.makepyfile(test_suite=SUITE)
    # With repeats: each example's runs travel from its worker like the rest of its result.
    serial = pytester.runpytest(
        "--synalinks-eval", "--synalinks-report-dir=serial", "--synalinks-repeat", "2"
    )
    serial.assert_outcomes(passed=24)
    assert serial.ret == 1  # qa: 9/12 = 0.75 < 0.9
    parallel = pytester.runpytest_subprocess(
        "--synalinks-eval", "--synalinks-report-dir=parallel", "-n", "2", "--synalinks-repeat", "2"
    )
    parallel.assert_outcomes(passed=24)
    assert parallel.ret == 1
    parallel.stdout.fnmatch_lines(
        [
            "qa*exact_match*12*0.750*0.9*9*0*FAIL",
            "contains*contains*12*1.000*0.5*12*0*PASS",
            "FAILED suite 'qa' (score 0.750, threshold 0.9) threshold gate: *",
        ]
    )
    # Gates ran once, on the controller: one summary, one report.
    assert parallel.stdout.str().count("= synatest eval =") == 1
    one = json.loads((pytester.path / "serial" / "report.json").read_text())
    two = json.loads((pytester.path / "parallel" / "report.json").read_text())
    assert two["models"] == ["openai/gpt-4o-mini"]
    assert two["suites"][0]["usage"]["calls"] == 24  # 12 examples, 2 runs each
    assert [len(e["runs"]) for e in two["suites"][0]["examples"]] == [2] * 12
    assert two["suites"][0]["repeat"] == 2 and set(two["suites"][0]["pass_at_k"]) == {"1", "2"}
    assert timeless(one) == timeless(two)
