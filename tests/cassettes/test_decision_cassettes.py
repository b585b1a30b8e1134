"""Decision-model calls are recorded from real HTTP (litellm's SystemOne client) and replayed."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from synatest.cassettes.store import Cassette


def answer(question: dict[str, Any]) -> dict[str, Any]:
    """What a decision model answers: yes, the first option, the top level."""
    if question["type"] == "noul":
        return {"type": "noul", "noul": 0.9}
    if question["type"] == "choice":
        options = list(question["criteria"])
        probabilities = {o: 0.0 for o in options} | {options[0]: 1.0}
        return {
            "type": "choice",
            "choice": options[0],
            "probabilities": probabilities,
            "confidence": 0.8,
        }
    levels = [str(i) for i in range(len(question["criteria"]))]
    probabilities = {k: 0.0 for k in levels} | {levels[-1]: 1.0}
    return {
        "type": "score",
        "score": float(len(levels) - 1),
        "confidence": 0.7,
        "legend": dict(zip(levels, question["criteria"], strict=True)),
        "probabilities": probabilities,
    }


class SystemOneServer:
    """A loopback SystemOne (decision model) server: ``POST /v1/systemone``."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                server.requests.append({"path": self.path, "body": body})
                questions = body.get("questions") or {}
                payload = json.dumps(
                    {
                        "model": "laya",
                        "answers": {key: answer(q) for key, q in questions.items()},
                        "usage": {"input_tokens": 40, "output_tokens": len(questions)},
                    }
                ).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> SystemOneServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def systemone(monkeypatch: pytest.MonkeyPatch) -> Iterator[SystemOneServer]:
    with SystemOneServer() as server:
        monkeypatch.setenv("SYSTEMONE_URL", server.url)
        monkeypatch.delenv("CI", raising=False)
        yield server


TEST = """
import os
from typing import Literal

import synalinks


class Ticket(synalinks.DataModel):
    text: str = synalinks.Field(description="The support ticket")


class Triage(synalinks.DataModel):
    is_refund: bool = synalinks.Field(description="Does `text` ask for a refund?")
    team: Literal["billing", "tech"] = synalinks.Field(description="Which team handles it?")
    urgency: synalinks.Rating = synalinks.Field(description="How urgent is it?")


async def test_triage():
    model = synalinks.DecisionModel(
        model="ollama/laya", api_base=os.environ.get("SYSTEMONE_URL", "http://127.0.0.1:9")
    )
    inputs = synalinks.Input(data_model=Ticket)
    outputs = await synalinks.Generator(data_model=Triage, decision_model=model)(inputs)
    program = synalinks.Program(inputs=inputs, outputs=outputs)
    result = await program(Ticket(text="I was charged twice, refund me"))
    assert result.get_json() == {"is_refund": True, "team": "billing", "urgency": 5}
"""


def test_decision_calls_record_over_http_and_replay_offline(
    synalinks_imported: None,
    pytester: pytest.Pytester,
    systemone: SystemOneServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_triage=TEST)
    recorded = pytester.runpytest("-p", "no:cacheprovider", "--synalinks-record-mode=once")
    recorded.assert_outcomes(passed=1)
    assert [r["path"] for r in systemone.requests] == ["/v1/systemone"]
    path = pytester.path / "cassettes" / "test_triage" / "test_triage.yaml"
    (interaction,) = Cassette.load(path).interactions
    assert interaction.kind == "decision"
    assert interaction.response_type == "DecisionsResponse"
    assert set(interaction.request) == {"model", "questions", "state"}  # no api_base, timeout
    assert interaction.response is not None and set(interaction.response["answers"]) == {
        "is_refund",
        "team",
        "urgency",
    }
    # Offline: the server is gone, the cassette answers.
    monkeypatch.delenv("SYSTEMONE_URL")
    replayed = pytester.runpytest("-p", "no:cacheprovider")
    replayed.assert_outcomes(passed=1)
    assert len(systemone.requests) == 1
