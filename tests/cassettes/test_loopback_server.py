"""The loopback OpenAI-compatible server: loopback only, deterministic, stops by itself."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from synatest.testing import LoopbackLM, schema_instance


def post(url: str, body: Any) -> tuple[int, dict[str, str], bytes]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


SCHEMA = {
    "type": "object",
    "properties": {
        "answer": {"type": "string"},
        "score": {"type": "number"},
        "choice": {"enum": ["yes", "no"]},
        "items": {"type": "array", "items": {"$ref": "#/$defs/Item"}},
    },
    "$defs": {"Item": {"type": "object", "properties": {"n": {"type": "integer"}}}},
}


def test_structured_replies_are_valid_and_deterministic() -> None:
    import jsonschema

    value = schema_instance(SCHEMA, seed="q")
    jsonschema.validate(value, SCHEMA)
    assert value == schema_instance(SCHEMA, seed="q")
    with LoopbackLM() as server:
        assert server.base_url.startswith("http://127.0.0.1:")
        assert server._server.server_address[0] == "127.0.0.1"
        body = {
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": "q"}],
            "response_format": {"type": "json_schema", "json_schema": {"schema": SCHEMA}},
        }
        status, _, raw = post(server.base_url + "/chat/completions", body)
        assert status == 200
        reply = json.loads(raw)
        assert json.loads(reply["choices"][0]["message"]["content"]) == value
        assert reply["usage"]["total_tokens"] > 0
        assert server.requests == [body]


def test_tools_streams_embeddings_rate_limits_and_errors() -> None:
    tool = {
        "type": "function",
        "function": {
            "name": "lookup",
            "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
        },
    }
    with LoopbackLM() as server:
        url = server.base_url
        _, _, raw = post(
            url + "/chat/completions",
            {"messages": [{"role": "user", "content": "x"}], "tools": [tool]},
        )
        call = json.loads(raw)["choices"][0]["message"]["tool_calls"][0]
        assert call["function"]["name"] == "lookup" and "q" in json.loads(
            call["function"]["arguments"]
        )

        status, headers, raw = post(
            url + "/chat/completions",
            {"messages": [{"role": "user", "content": "one two three four"}], "stream": True},
        )
        events = [line for line in raw.decode().splitlines() if line.startswith("data: ")]
        assert headers["Content-Type"] == "text/event-stream"
        assert events[-1] == "data: [DONE]"
        text = "".join(
            json.loads(e[6:])["choices"][0]["delta"].get("content") or "" for e in events[:-1]
        )
        assert text == "Echo: one two three four"

        _, _, raw = post(url + "/embeddings", {"input": ["a", "b"], "dimensions": 4})
        vectors = [d["embedding"] for d in json.loads(raw)["data"]]
        assert len(vectors) == 2 and len(vectors[0]) == 4
        assert abs(sum(v * v for v in vectors[0]) - 1) < 1e-3

        server.rate_limit(1, retry_after=3)
        status, headers, raw = post(url + "/chat/completions", {"messages": []})
        assert status == 429 and headers["Retry-After"] == "3"
        assert json.loads(raw)["error"]["type"] == "rate_limit_error"
        assert post(url + "/chat/completions", {"messages": []})[0] == 200

        assert post(url + "/nowhere", {})[0] == 404
        assert post(url + "/chat/completions", b"{not json")[0] == 400


def test_a_responder_decides_replies() -> None:
    with LoopbackLM(lambda body: {"answer": "42"}) as server:
        _, _, raw = post(server.base_url + "/chat/completions", {"messages": []})
        assert json.loads(json.loads(raw)["choices"][0]["message"]["content"]) == {"answer": "42"}


def test_the_server_stops_by_itself_when_idle() -> None:
    server = LoopbackLM(idle_timeout=0.3).start()
    deadline = time.monotonic() + 10
    while server.running:
        assert time.monotonic() < deadline, "the idle server never stopped"
        time.sleep(0.05)
    with pytest.raises(OSError):
        post(server.base_url + "/chat/completions", {"messages": []})
