"""--synalinks-resume (pytester, in-process): an interrupted eval run resumed from its journal.

The inner suite's LM (a FunctionLM) writes the number of every question it is asked to
``calls.txt`` and its program fixture writes a line to ``fixtures.txt``, so each test
sees which examples a run paid for. ``STOP_AT`` makes the example asking that question
raise KeyboardInterrupt: the run stops there, as on Ctrl-C.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

SUITE = """
import os
import pathlib
import pytest
import synalinks
import synatest


class Question(synalinks.DataModel):
    question: str


class Answer(synalinks.DataModel):
    answer: str


def answer(request):
    number = request.last_user_message.split("question ")[1].split("?")[0]
    with pathlib.Path("calls.txt").open("a") as calls:
        calls.write(number + "\\n")
    if number == "1":
        return RuntimeError("provider exploded")
    if number == "2":
        return {"answer": "wrong"}
    return {"answer": f"a{number}"}


@pytest.fixture
async def program():
    with pathlib.Path("fixtures.txt").open("a") as fixtures:
        fixtures.write("program\\n")
    synatest.use_lm(synatest.FunctionLM(answer))
    lm = synalinks.LanguageModel(model="openai/gpt-4o-mini")
    inputs = synalinks.Input(data_model=Question)
    outputs = await synalinks.Generator(data_model=Answer, language_model=lm)(inputs)
    return synalinks.Program(inputs=inputs, outputs=outputs)


@synatest.parametrize_dataset("qa.jsonl", x=Question, y=Answer)
@pytest.mark.synalinks_eval(MARKER)
async def test_qa(program, x, y):
    if os.environ.get("STOP_AT") == x.question:
        raise KeyboardInterrupt
    return await program(x)
"""

TIMINGS = {"duration_s", "created_at", "latency_s", "latency_p50_s", "latency_p95_s"}


def write_suite(pytester: pytest.Pytester, n: int = 6, marker: str = 'suite="qa"') -> None:
    rows = [{"id": f"q{i}", "question": f"question {i}?", "answer": f"a{i}"} for i in range(n)]
    (pytester.path / "qa.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    pytester.makepyfile(test_suite=SUITE.replace("MARKER", marker))


def asked(pytester: pytest.Pytester) -> list[int]:
    """The questions the LM was asked (and forget them), in order, once each."""
    path = pytester.path / "calls.txt"
    numbers = [int(n) for n in path.read_text().split()] if path.exists() else []
    path.unlink(missing_ok=True)
    return sorted(set(numbers))


def fixtures_set_up(pytester: pytest.Pytester) -> int:
    path = pytester.path / "fixtures.txt"
    count = len(path.read_text().split()) if path.exists() else 0
    path.unlink(missing_ok=True)
    return count


def without_timings(value: Any) -> Any:
    """A report with its timings (and nothing else) left out."""
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if k not in TIMINGS}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def report(pytester: pytest.Pytester) -> Any:
    return json.loads((pytester.path / "reports" / "report.json").read_text())


def journal_lines(pytester: pytest.Pytester) -> list[dict[str, Any]]:
    files = sorted((pytester.path / "reports" / ".journal" / "run").glob("*.jsonl"))
    return [json.loads(line) for path in files for line in path.read_text().splitlines()]


def test_a_resumed_run_pays_only_for_unfinished_examples_and_reports_the_same(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_suite(pytester)
    flags = ("--synalinks-eval", "--synalinks-max-error-rate=20%", "-rx")
    whole = pytester.runpytest(*flags)
    whole.assert_outcomes(passed=5, xfailed=1)
    uninterrupted = report(pytester)
    assert asked(pytester) == [0, 1, 2, 3, 4, 5]
    assert fixtures_set_up(pytester) == 6
    # A finished run leaves no journal.
    assert not (pytester.path / "reports" / ".journal").exists()

    monkeypatch.setenv("STOP_AT", "question 4?")
    stopped = pytester.runpytest(*flags, no_reraise_ctrlc=True)
    assert stopped.ret == pytest.ExitCode.INTERRUPTED
    assert asked(pytester) == [0, 1, 2, 3]
    fixtures_set_up(pytester)
    lines = journal_lines(pytester)
    assert [line["nodeid"] for line in lines] == [f"test_suite.py::test_qa[q{i}]" for i in range(4)]
    # Every run's transcript is journalled, whatever --synalinks-transcripts keeps.
    assert all(line["result"]["runs"][0]["transcript"] for line in lines)

    monkeypatch.delenv("STOP_AT")
    resumed = pytester.runpytest(*flags, "--synalinks-resume")
    resumed.assert_outcomes(passed=5, xfailed=1)
    assert asked(pytester) == [4, 5]
    assert fixtures_set_up(pytester) == 2  # none for a resumed example
    resumed.stdout.fnmatch_lines(
        [
            "synatest resume: 4 of 6 examples from the journal (reports/.journal/run), 2 run",
            "XFAIL test_suite.py::test_qa[[]q1[]] - LM error counted against "
            "--synalinks-max-error-rate 0.2: LMCallFailed: LanguageModel 'openai/gpt-4o-mini' "
            "failed*",
        ]
    )
    assert without_timings(report(pytester)) == without_timings(uninterrupted)
    assert not (pytester.path / "reports" / ".journal").exists()


def test_resumed_failures_fail_again_with_their_message_and_stale_results_rerun(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_suite(pytester, marker='suite="qa", repeat=2, gate="pass_hat_k"')
    monkeypatch.setenv("STOP_AT", "question 3?")
    stopped = pytester.runpytest("--synalinks-eval", no_reraise_ctrlc=True)
    assert stopped.ret == pytest.ExitCode.INTERRUPTED
    assert asked(pytester) == [0, 1, 2]
    # The dataset changes under the journal: q0's expected answer.
    rows = (pytester.path / "qa.jsonl").read_text().replace('"answer": "a0"', '"answer": "x"')
    (pytester.path / "qa.jsonl").write_text(rows)

    monkeypatch.delenv("STOP_AT")
    monkeypatch.delenv("CI", raising=False)  # (with CI set, the short summary repeats them)
    resumed = pytester.runpytest("--synalinks-eval", "--synalinks-resume", "--tb=line")
    resumed.assert_outcomes(passed=3, failed=3)
    assert asked(pytester) == [0, 3, 4, 5]
    text = resumed.stdout.str()
    # q1: the journalled LM error, as the first run's; q2: the missed pass^2 rule.
    assert "LMCallFailed: LanguageModel 'openai/gpt-4o-mini' failed" in text
    assert "synatest: 0/2 runs passed; this is the error of run 1" in text
    assert (
        "0/2 runs passed: the suite gates on pass^2, so at least 2 runs must pass "
        "(reward >= 1)" in text
    )
    assert text.count("(synatest resume: this result is from the journal") == 2
    resumed.stdout.fnmatch_lines(
        [
            "synatest resume: 2 of 6 examples from the journal (reports/.journal/run), 4 run; "
            "1 journalled results ignored (their example, dataset row or suite settings "
            "changed since)",
        ]
    )
    examples = report(pytester)["suites"][0]["examples"]
    assert [e["id"] for e in examples] == [f"q{i}" for i in range(6)]
    assert examples[0]["expected"] == {"answer": "x"}
    # --synalinks-transcripts failed (the default): q1 and q2 failed, so keep theirs.
    assert [e["runs"][0]["transcript"] is not None for e in examples] == [
        True,  # q0 now fails: "x" was expected
        True,
        True,
        False,
        False,
        False,
    ]


def test_resumed_examples_are_never_prefetched(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_suite(pytester, n=10)
    flags = ("--synalinks-eval", "--synalinks-concurrency=4")
    monkeypatch.setenv("STOP_AT", "question 6?")
    pytester.runpytest(*flags, no_reraise_ctrlc=True)
    done = {line["nodeid"] for line in journal_lines(pytester)}
    asked(pytester)
    monkeypatch.delenv("STOP_AT")
    resumed = pytester.runpytest(*flags, "--synalinks-resume")
    resumed.assert_outcomes(passed=9, failed=1)
    again = {f"test_suite.py::test_qa[q{n}]" for n in asked(pytester)}
    assert done and not done & again
    assert len(done | again) == 10


def test_resume_without_a_journal_runs_everything_and_says_so(pytester: pytest.Pytester) -> None:
    write_suite(pytester, n=1)
    result = pytester.runpytest("--synalinks-eval", "--synalinks-resume")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["synatest resume: no journal in reports/.journal/run, so every example ran"]
    )


def test_resume_needs_eval_mode(pytester: pytest.Pytester) -> None:
    write_suite(pytester, n=1)
    result = pytester.runpytest("--synalinks-resume")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--synalinks-resume only apply to evaluation runs: add --synalinks-eval*"]
    )


def test_a_corrupt_journal_line_is_an_error_naming_the_file_and_line(
    pytester: pytest.Pytester,
) -> None:
    write_suite(pytester, n=1)
    journal = pytester.path / "reports" / ".journal" / "run"
    journal.mkdir(parents=True)
    bad: Path = journal / "main-0.jsonl"
    bad.write_text('{"v": 1, "nodeid": "a", "order": 0, "fp": "f", "result": {}}\nnot json\n{}\n')
    result = pytester.runpytest("--synalinks-eval", "--synalinks-resume")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"*--synalinks-resume: journal {bad}, line 2: not JSON (Expecting value*"]
    )
    # Without --synalinks-resume the run replaces the journal instead of reading it.
    result = pytester.runpytest("--synalinks-eval")
    result.assert_outcomes(passed=1)
    assert not bad.exists()


def test_a_run_stopped_by_x_keeps_its_journal(pytester: pytest.Pytester) -> None:
    write_suite(pytester, n=4)
    stopped = pytester.runpytest("--synalinks-eval", "-x")
    stopped.assert_outcomes(passed=1, failed=1)
    assert [line["result"]["id"] for line in journal_lines(pytester)] == ["q0", "q1"]
    asked(pytester)
    resumed = pytester.runpytest("--synalinks-eval", "--synalinks-resume")
    resumed.assert_outcomes(passed=3, failed=1)
    assert asked(pytester) == [2, 3]
