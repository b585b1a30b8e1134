"""End to end: record real HTTP calls to the loopback server, replay them offline.

Synalinks talks to the loopback OpenAI-compatible server through litellm and real
HTTP (structured output, a stream, a tool call, embeddings, a 429 that Synalinks
retries, 64 concurrent calls). Then the server is stopped and sockets are blocked,
and the same test replays from the cassette with identical outputs.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from synatest.testing import DUMMY_API_KEY as DUMMY_KEY
from synatest.testing import LoopbackLM

EVERYTHING = """
import asyncio, os
import litellm, pytest, synalinks
from helpers import Question, ask, lm, qa_program, save_output

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "weather of a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


@pytest.mark.synalinks_cassette(record_errors=True)
async def test_everything(synalinks_router, lm_cassette):
    out = {}
    model = lm()
    program = await qa_program(model)
    out["qa"] = (await program(Question(question="What is 2+2?"))).get_json()
    out["counters"] = [model.cumulated_calls, model.cumulated_prompt_tokens,
                       model.cumulated_completion_tokens, model.cumulated_cost]

    stream = await lm()(
        synalinks.ChatMessages(messages=[synalinks.ChatMessage(
            role="user", content="Tell a very short story about a cat")]),
        streaming=True,
    )
    out["stream"] = [chunk.get("content") async for chunk in stream]

    response = await litellm.acompletion(
        model="openai/gpt-4o-mini", api_base=os.environ["LOOPBACK_URL"],
        messages=[{"role": "user", "content": "What is the weather in Paris?"}],
        tools=[WEATHER_TOOL],
    )
    calls = response.choices[0].message.tool_calls
    out["tool_calls"] = [[c.function.name, c.function.arguments] for c in calls]

    embeddings = await litellm.aembedding(
        model="openai/text-embedding-3-small", api_base=os.environ["LOOPBACK_URL"],
        input=["hello", "world"],
    )
    out["embeddings"] = [item["embedding"] for item in embeddings.data]

    answers = await asyncio.gather(*(ask(f"Question number {i}?") for i in range(64)))
    out["concurrent"] = answers
    out["errors"] = sum(1 for i in lm_cassette.cassette.interactions if i.error)
    save_output(os.environ["PHASE"], out)
"""


def outputs(directory: Path, phase: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((directory / f"{phase}.json").read_text())
    return data


def test_record_through_http_then_replay_offline_with_identical_outputs(
    project: pytest.Pytester,
    loopback: LoopbackLM,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    project.makepyfile(test_e2e=EVERYTHING)
    monkeypatch.setenv("OUTPUT_DIR", str(tmp_path))
    # The first chat request is refused with 429 three times: the OpenAI client's own
    # retries give up, Synalinks retries, and the error is recorded (record_errors).
    # synatest's live retries are off: they would wait the 429s out, leaving no error.
    loopback.rate_limit(3, retry_after=0)

    monkeypatch.setenv("PHASE", "record")
    record = ("--synalinks-record-mode=once", "--synalinks-retries=0")
    project.runpytest("-p", "no:cacheprovider", *record).assert_outcomes(passed=1)
    recorded = outputs(tmp_path, "record")
    assert len(loopback.requests) == 3 + 1 + 1 + 1 + 1 + 64
    assert recorded["errors"] == 1
    assert recorded["tool_calls"][0][0] == "get_weather"
    assert "".join(recorded["stream"]).startswith("Echo: Tell a very short story")
    assert recorded["counters"][0] == 1 and recorded["counters"][3] > 0
    assert len(recorded["concurrent"]) == 64

    cassette = project.path / "cassettes/test_e2e/test_everything.yaml"
    text = cassette.read_text()
    assert DUMMY_KEY not in text
    assert "authorization" not in text.lower()
    assert text.count("- kind: completion") == 1 + 1 + 1 + 1 + 64
    assert text.count("- kind: embedding") == 1
    assert "RateLimitError" in text

    # Replay: no server, no sockets.
    loopback.stop()

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network is blocked during replay")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setenv("PHASE", "replay")
    result = project.runpytest("-p", "no:cacheprovider", "--synalinks-strict-cassettes")
    result.assert_outcomes(passed=1)
    replayed = outputs(tmp_path, "replay")
    assert replayed == recorded
    assert cassette.read_text() == text  # replay never rewrites


def test_a_secret_in_a_prompt_is_never_written(
    project: pytest.Pytester, loopback: LoopbackLM
) -> None:
    project.makepyfile(
        test_leak="""
import os
from helpers import ask

async def test_leak():
    await ask("my key is " + os.environ["OPENAI_API_KEY"])
"""
    )
    result = project.runpytest("-p", "no:cacheprovider", "--synalinks-record-mode=once")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*CassetteError: refusing to write cassette *test_leak.yaml: it contains line *: "
            "the value of $OPENAI_API_KEY*"
        ]
    )
    assert DUMMY_KEY not in result.stdout.str()
    assert not (project.path / "cassettes/test_leak/test_leak.yaml").exists()
