"""``synatest judge calibrate --cassette``: the judge's LM calls recorded once over real HTTP
from the loopback server, then replayed offline (no server, no key) to the same block; a
changed judge instruction misses with the cassette's diff and the command that re-records.

In-process: the CLI runs its calls under its own router (``seam.use_router``).
"""

from __future__ import annotations

import ast
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from synatest.cli.main import main
from synatest.testing import LoopbackLM

ROWS = [
    {"id": "a1", "expected": "Paris", "output": "Paris", "human": True},
    {"id": "a2", "expected": "Paris", "output": "Lyon", "human": False},
    {"id": "a3", "expected": "Berlin", "output": "Berlin, the capital", "human": True},
    {"id": "a4", "expected": "Rome", "output": "Milan", "human": False},
]

JUDGES = """
import os

import synalinks


def lm():
    return synalinks.LanguageModel(model="openai/gpt-4o", api_base=os.environ.get("JUDGE_API"))


judge = synalinks.rewards.LMAsJudge(language_model=lm(), name="capitals_judge")
strict = synalinks.rewards.LMAsJudge(
    language_model=lm(), name="capitals_judge", instructions="Be strict."
)
"""

MODULE = "cassette_judges"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "labels.jsonl").write_text("".join(json.dumps(row) + "\n" for row in ROWS))
    (tmp_path / f"{MODULE}.py").write_text(JUDGES)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop(MODULE, None)


def exact_judge(body: dict[str, Any]) -> dict[str, Any]:
    """The model behind the judge: the answer right only when it is the gold one, word
    for word (so it disputes a3's "Berlin, the capital")."""
    seen = ast.literal_eval(body["messages"][-1]["content"])
    same = seen["answer"] == seen["gold_answer"]
    return {"critique": "Compared.", "reward": 1.0 if same else 0.0}


def calibrate(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["judge", "calibrate", "labels.jsonl", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_records_over_http_once_then_replays_offline_and_misses_on_a_new_instruction(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    record = ["--judge", f"{MODULE}:judge", "--cassette", "judge.yaml"]
    with LoopbackLM(exact_judge) as server:
        monkeypatch.setenv("JUDGE_API", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-dummy")  # litellm wants one; the test's
        code, recorded, err = calibrate(*record, "--record-mode", "once", capsys=capsys)
        assert code == 0, err
        assert len(server.requests) == len(ROWS)  # the judge's calls, over real HTTP
    text = (workdir / "judge.yaml").read_text(encoding="utf-8")
    assert "sk-test-dummy" not in text and server.base_url not in text
    assert recorded.splitlines()[:2] == [
        "judge of 'capitals_judge' vs human labels (field 'human', binary, 4 labelled examples)",
        "  agreement 75.0% [25.0%, 100.0%] · kappa 0.500 [0.000, 1.000]",
    ]
    assert recorded.splitlines()[-1] == "  disagree most: a3 (human 1, judge 0)"

    # Offline: the server is gone, no api_base, no key; the cassette answers.
    monkeypatch.delenv("JUDGE_API")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    code, replayed, err = calibrate(*record, capsys=capsys)
    assert (code, err) == (0, "")
    assert replayed == recorded

    # A judge whose instruction changed asks something never recorded.
    code, _, err = calibrate(
        "--judge", f"{MODULE}:strict", "--cassette", "judge.yaml", capsys=capsys
    )
    assert code == 2
    assert err.startswith(
        "synatest judge calibrate: error: labels.jsonl, line 1: CassetteMiss: no recording in "
        "the cassette matches this LM call (recording is off).\n"
        "  cassette: judge.yaml (4 recording(s); record mode: none)\n"
    )
    assert "  fields that differ: messages\n" in err
    assert "+    Be strict.\n" in err
    assert (
        "Re-record this test (needs the real model and its key):\n"
        "  synatest judge calibrate labels.jsonl --judge cassette_judges:strict "
        "--cassette judge.yaml --record-mode=rewrite\n"
    ) in err
