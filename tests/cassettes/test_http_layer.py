"""The opt-in HTTP layer (vcrpy): record real HTTP, replay offline, misses explain themselves."""

from __future__ import annotations

import socket

import pytest

from synatest.testing import DUMMY_API_KEY as DUMMY_KEY
from synatest.testing import LoopbackLM

TEST = """
import pytest, synalinks
from helpers import ask, lm

async def test_http():
    assert (await ask("What is the capital of QUESTION?"))["answer"]
    stream = await lm()(
        synalinks.ChatMessages(messages=[synalinks.ChatMessage(role="user", content="a story")]),
        streaming=True,
    )
    text = "".join([chunk.get("content") or "" async for chunk in stream])
    assert text == "Echo: a story"
"""


def test_http_layer_records_and_replays_offline(
    project: pytest.Pytester, loopback: LoopbackLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.makepyfile(test_h=TEST.replace("QUESTION", "France"))
    flags = ("-p", "no:cacheprovider", "--synalinks-cassette-layer=http")
    project.runpytest(*flags, "--synalinks-record-mode=once").assert_outcomes(passed=1)
    assert len(loopback.requests) == 2
    path = project.path / "cassettes/test_h/test_http.http.yaml"
    text = path.read_text()
    assert "What is the capital of France?" in text
    assert DUMMY_KEY not in text
    assert "recorded_with" in text and "synalinks" in text
    assert not (project.path / "cassettes/test_h/test_http.yaml").exists()

    loopback.stop()

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network is blocked during replay")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    project.runpytest(*flags, "--synalinks-strict-cassettes").assert_outcomes(passed=1)
    assert path.read_text() == text

    project.makepyfile(test_h=TEST.replace("QUESTION", "Spain"))
    result = project.runpytest(*flags)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*CassetteMiss: no HTTP recording matches this LM call*",
            "*JSON bodies differ*",
            "*pytest --synalinks-cassette-layer=http --synalinks-record-mode=rewrite "
            "test_h.py::test_http",
        ]
    )


def test_a_cut_http_cassette_fails_naming_the_file(
    project: pytest.Pytester, loopback: LoopbackLM
) -> None:
    project.makepyfile(test_h=TEST.replace("QUESTION", "France"))
    flags = ("-p", "no:cacheprovider", "--synalinks-cassette-layer=http")
    project.runpytest(*flags, "--synalinks-record-mode=once").assert_outcomes(passed=1)
    path = project.path / "cassettes/test_h/test_http.http.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# synatest-http-cassette: 2\n")
    assert text.splitlines()[-1].startswith("# synatest-seal: sha256=")
    # Cut just before the second recording: valid YAML, one exchange fewer.
    second = text.index("- request:", text.index("- request:") + 1)
    path.write_text(text[:second], encoding="utf-8")
    result = project.runpytest(*flags)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*CassetteError: {path}: cassette is truncated or damaged*"])
    assert "CassetteMiss" not in result.stdout.str()
