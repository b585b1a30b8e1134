"""Both cassette layers record a provider error only with `record_errors=True`, and replay it."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from synatest.testing import LoopbackLM

TEST = """
import pytest
from helpers import ask

MARK

async def test_ask():
    assert (await ask("What is the capital of France?"))["answer"]
"""


def cassette_file(project: pytest.Pytester, layer: str) -> Path:
    name = "test_ask.http.yaml" if layer == "http" else "test_ask.yaml"
    return project.path / "cassettes" / "test_e" / name


@pytest.mark.parametrize("layer", ["lm", "http"])
@pytest.mark.parametrize("record_errors", [False, True])
def test_a_rate_limit_is_recorded_only_when_asked_and_replays(
    project: pytest.Pytester,
    loopback: LoopbackLM,
    monkeypatch: pytest.MonkeyPatch,
    layer: str,
    record_errors: bool,
) -> None:
    mark = "@pytest.mark.synalinks_cassette(record_errors=True)" if record_errors else ""
    project.makepyfile(test_e=TEST.replace("MARK", mark))
    flags = ["-p", "no:cacheprovider", f"--synalinks-cassette-layer={layer}"]
    # Three 429s: the OpenAI client's own two retries fail too, so litellm raises a
    # RateLimitError (what the LM layer sees); Synalinks' retry then succeeds. (synatest's
    # live retries off: they would wait the 429s out and leave no error to record.)
    loopback.rate_limit(3)
    record = ("--synalinks-record-mode=once", "--synalinks-retries=0")
    project.runpytest(*flags, *record).assert_outcomes(passed=1)
    assert len(loopback.requests) == 4
    text = cassette_file(project, layer).read_text(encoding="utf-8")
    error_recorded = ("RateLimitError" in text) if layer == "lm" else ("code: 429" in text)
    assert error_recorded is record_errors, text
    # Offline: the recordings answer, the error (when recorded) first.
    loopback.stop()

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network is blocked during replay")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    project.runpytest(*flags, "--synalinks-strict-cassettes").assert_outcomes(passed=1)
