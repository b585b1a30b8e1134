"""Cassettes and repeats: each run recorded apart and replayed as recorded (flakiness
stays visible offline); a cassette recorded without repeats serves every run, and the
report says so. Recorded over real HTTP from the loopback server, in-process."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from synatest.cassettes.store import Cassette, Interaction
from synatest.eval.scoring import SINGLE_RECORDING_NOTE
from synatest.testing import LoopbackLM

SUITE = """
import pytest
import helpers


@pytest.mark.synalinks_eval(suite="qa", reward=helpers.exact)
@pytest.mark.parametrize("x", ["What is 2 + 2?", "Is this sarcasm?"], ids=["sum", "tone"])
async def test_qa(x):
    return await helpers.predict(x)
"""

EXACT = """

async def exact(y_true, y_pred):
    return float(y_pred.get_json() == {"answer": "right"})


async def predict(question):
    program = await qa_program()
    return await program(Question(question=question))
"""

CASSETTE = "cassettes/test_suite/test_qa[{}].yaml"


def moody(body: dict[str, Any], seen: Counter[str]) -> dict[str, str]:
    """The sum is always right; the tone question is wrong the 2nd time it is asked."""
    question = json.dumps(body["messages"][-1])
    seen[question] += 1
    wrong = "sarcasm" in question and seen[question] == 2
    return {"answer": "wrong" if wrong else "right"}


@pytest.fixture
def suite(project: pytest.Pytester, loopback: LoopbackLM) -> pytest.Pytester:
    (project.path / "helpers.py").write_text((project.path / "helpers.py").read_text() + EXACT)
    project.makepyfile(test_suite=SUITE)
    seen: Counter[str] = Counter()
    loopback.responder = lambda body: moody(body, seen)
    return project


def report(project: pytest.Pytester) -> Any:
    return json.loads((project.path / "reports" / "report.json").read_text())["suites"][0]


def test_each_run_is_recorded_apart_and_replays_its_own_answer(
    suite: pytest.Pytester, loopback: LoopbackLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ("--synalinks-eval", "--synalinks-repeat", "3")
    suite.runpytest(*args, "--synalinks-record-mode=once").assert_outcomes(passed=2)
    assert len(loopback.requests) == 6
    text = (suite.path / CASSETTE.format("tone")).read_text()
    assert text.count("  repeat: 1\n") == 1 and text.count("  repeat: 2\n") == 1
    recorded = report(suite)

    monkeypatch.setenv("LOOPBACK_URL", "http://127.0.0.1:9")  # nothing listens: offline
    suite.runpytest(*args).assert_outcomes(passed=2)
    assert len(loopback.requests) == 6
    replayed = report(suite)
    assert replayed["flaky"] == ["tone"]  # still flaky offline, as recorded
    assert [r["reward"] for r in replayed["examples"][1]["runs"]] == [1.0, 0.0, 1.0]
    assert replayed["pass_at_k"] == recorded["pass_at_k"]
    assert replayed["notes"] == []

    # A fourth run was never recorded: a miss, not a silent replay of another run.
    result = suite.runpytest("--synalinks-eval", "--synalinks-repeat", "4")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*CassetteMiss*"])


def test_a_cassette_recorded_without_repeats_serves_every_run_and_says_so(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite.runpytest("--synalinks-eval", "--synalinks-record-mode=once").assert_outcomes(passed=2)
    monkeypatch.setenv("LOOPBACK_URL", "http://127.0.0.1:9")
    suite.runpytest("--synalinks-eval", "--synalinks-repeat", "3").assert_outcomes(passed=2)
    replayed = report(suite)
    assert replayed["notes"] == [SINGLE_RECORDING_NOTE]
    assert replayed["flaky"] == []
    runs = replayed["examples"][0]["runs"]
    assert [r["shared_recording"] for r in runs] == [False, True, True]


def _recording(repeat: int, answer: str) -> Interaction:
    return Interaction(
        kind="completion",
        request={"model": "m", "messages": [{"role": "user", "content": "q"}]},
        response={"answer": answer},
        repeat=repeat,
    )


@pytest.mark.parametrize("lazy", [False, True], ids=["parsed", "lazily-indexed"])
def test_the_run_index_survives_a_save_and_a_load(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, lazy: bool
) -> None:
    from synatest.cassettes import store

    cassette = Cassette(tmp_path / "c.yaml")
    for repeat, answer in [(0, "a"), (1, "b"), (2, "c")]:
        cassette.record(_recording(repeat, answer))
    cassette.save()
    if lazy:
        monkeypatch.setattr(store, "LAZY_MIN_BYTES", 1)
    loaded = Cassette.load(tmp_path / "c.yaml")
    request = loaded.normalize("completion", _recording(0, "").request)
    answers = []
    for repeat in (2, 0, 1):
        played = loaded.play("completion", request, repeat)
        assert played is not None and played.repeat == repeat
        answers.append(played.materialize_reply().response)
    assert answers == [{"answer": "c"}, {"answer": "a"}, {"answer": "b"}]
    assert loaded.play("completion", request, 3) is None  # recorded with repeats: a miss


def test_a_bad_run_index_in_a_cassette_names_the_recording() -> None:
    from synatest.errors import CassetteError

    data = _recording(0, "a").to_data()
    data["repeat"] = -1
    with pytest.raises(
        CassetteError,
        match=r"^c.yaml: interaction #3: `repeat` must be a whole number >= 0, got -1$",
    ):
        Interaction.from_data(data, where="c.yaml: interaction #3")
