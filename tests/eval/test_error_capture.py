"""report.json keeps the whole error of an example and where it was raised."""

from __future__ import annotations

import json

import pytest

pytest_plugins = ["pytester"]

SUITE = """
import json
import pytest
import synalinks
import synatest


class Question(synalinks.DataModel):
    question: str


class Answer(synalinks.DataModel):
    answer: str


def lookup(number):
    if number == 1:
        raise ValueError("no answer for 1\\nsecond line of the message\\nthird line")
    return Answer(answer=f"a{number}")


@synatest.parametrize_dataset("qa.jsonl", x=Question, y=Answer)
@pytest.mark.synalinks_eval(suite="qa")
def test_qa(x, y):
    return lookup(int(x.question.split()[1].rstrip("?")))
"""


def test_report_json_holds_the_whole_message_and_the_traceback(
    pytester: pytest.Pytester,
) -> None:
    rows = [{"id": f"q{i}", "question": f"question {i}?", "answer": f"a{i}"} for i in range(2)]
    (pytester.path / "qa.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest("--synalinks-eval", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    report = json.loads((pytester.path / "reports" / "report.json").read_text())
    ok, bad = report["suites"][0]["examples"]
    assert (ok["error"], ok["traceback"]) == (None, None)
    assert bad["error"] == ("ValueError: no answer for 1\nsecond line of the message\nthird line")
    trace = bad["traceback"]
    assert trace.startswith("Traceback (most recent call last):\n")
    assert "test_suite.py" in trace and "in test_qa" in trace and "in lookup" in trace
    assert 'raise ValueError("no answer for 1' in trace
    assert trace.endswith("ValueError: no answer for 1\nsecond line of the message\nthird line\n")
    # The test runner's own frames are left out.
    assert "_pytest" not in trace and "pluggy" not in trace
