"""Shared fixtures of synatest's own tests."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# pytester's in-process runs drop the modules first imported inside them; numpy and
# friends cannot be imported twice in one process, so import them once here.
import litellm  # noqa: F401
import numpy  # noqa: F401
import pytest
import synalinks  # noqa: F401


class _ChatHandler(BaseHTTPRequestHandler):
    """Answers every POST like OpenAI's chat completions endpoint, and counts hits."""

    server: _LoopbackLM

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        self.server.hits.append({"path": self.path, "body": body})
        reply = {
            "id": "chatcmpl-loopback",
            "object": "chat.completion",
            "created": 0,
            "model": body.get("model", "loopback"),
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": self.server.content},
                }
            ],
            "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10},
        }
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _LoopbackLM(ThreadingHTTPServer):
    hits: list[dict[str, Any]]
    content: str

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


@pytest.fixture
def loopback_lm() -> Iterator[_LoopbackLM]:
    """A minimal OpenAI-compatible server on 127.0.0.1 that records what reaches it."""
    server = _LoopbackLM(("127.0.0.1", 0), _ChatHandler)
    server.hits = []
    server.content = '{"answer": "from the loopback server"}'
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


PYTESTER_INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"


@pytest.fixture
def pytester(pytester: pytest.Pytester) -> pytest.Pytester:
    """pytester with a default ini that keeps pytest-asyncio quiet in inner runs."""
    pytester.makeini(PYTESTER_INI)
    return pytester
