"""A training run recorded once (cassette) replays offline to the identical program.

The "provider" is synatest's loopback OpenAI-compatible server with a
prompt-sensitive responder: real HTTP through litellm while recording, no server
at all while replaying.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

from synatest import cli
from synatest.testing import LoopbackLM

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "train"

SUITE = textwrap.dedent(
    """
    import os

    import pytest
    import synalinks

    import synatest
    from synatest.datasets import parametrize_dataset


    class Question(synalinks.DataModel):
        question: str


    class Answer(synalinks.DataModel):
        answer: str


    @synatest.program
    async def doubler_program():
        model = synalinks.LanguageModel(
            model="openai/gpt-4o-mini", api_base=os.environ.get("TRAIN_TEST_API_BASE")
        )
        inputs = synalinks.Input(data_model=Question)
        outputs = await synalinks.Generator(data_model=Answer, language_model=model)(inputs)
        return synalinks.Program(inputs=inputs, outputs=outputs, name="doubler")


    @parametrize_dataset("doubler.jsonl", x=Question, y=Answer)
    @pytest.mark.synalinks_cassette(allow_repeats=True)
    @pytest.mark.synalinks_eval(suite="doubler", reward="ExactMatch", threshold=0.9)
    async def test_doubler(doubler_program, x, y):
        return await doubler_program(x)
    """
)


def responder(body: dict[str, Any]) -> dict[str, str] | None:
    text = json.dumps(body.get("messages", []))
    found = re.findall(r"What is (\d+) doubled", text)
    if not found:
        return None
    number = int(found[-1])
    if "<examples>" in text or number % 5 < 2:
        return {"answer": str(2 * number)}
    return {"answer": f"{number} doubled is {2 * number}"}


def test_a_recorded_training_run_replays_to_a_bit_identical_program(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
    )
    (tmp_path / "suite_recorded.py").write_text(SUITE)
    (tmp_path / "doubler.jsonl").write_text((EXAMPLES / "doubler.jsonl").read_text())
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-loopback-dummy")

    def train(output: str, record_mode: str) -> int:
        return cli.main(
            [
                "train",
                "suite_recorded.py",
                "--output",
                output,
                "--epochs",
                "2",
                "--no-until-pass",
                "--pytest-args",
                f"--import-mode=importlib --synalinks-record-mode={record_mode} "
                "--synalinks-cassette-dir=cassettes",
            ]
        )

    with LoopbackLM(responder) as server:
        monkeypatch.setenv("TRAIN_TEST_API_BASE", server.base_url)
        assert train("recorded", "once") == 0, capsys.readouterr().out[-3000:]
    # The server is gone: the replay cannot reach it. The program keeps the same
    # api_base (part of its saved config) so the saved files can be compared whole.
    assert not server.running
    assert list((tmp_path / "cassettes").rglob("*.yaml")), "nothing was recorded"

    assert train("replayed", "none") == 0, capsys.readouterr().out[-3000:]
    recorded = (tmp_path / "recorded" / "program.json").read_bytes()
    assert recorded == (tmp_path / "replayed" / "program.json").read_bytes()
    assert "gate PASSED" in capsys.readouterr().out
