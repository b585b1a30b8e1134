"""A small real OpenAI-compatible HTTP server on 127.0.0.1, for tests and examples.

It answers ``POST /v1/chat/completions``, ``POST /v1/embeddings`` and a decision
provider's ``POST /v1/systemone`` the way a provider would, deterministically:

- a ``response_format`` JSON schema gets a valid instance (values derived from the
  request, or from ``responder``);
- offered ``tools`` get one call of the first tool (until a tool result comes back);
- ``stream: true`` gets server-sent events, a few words per chunk, then ``[DONE]``;
- :meth:`LoopbackLM.rate_limit` makes the next requests fail with ``429`` and a
  ``Retry-After`` header; :meth:`LoopbackLM.inject` injects any
  :class:`~synatest.testing.faults.Fault` (error statuses, slow replies, timeouts,
  dropped connections, cut streams) by path and schedule, and
  :meth:`LoopbackLM.limit_rate` enforces requests per minute;
  :attr:`LoopbackLM.outcomes` counts what each request got;
- embeddings are hash-derived unit vectors.

It binds 127.0.0.1 only, runs in a daemon thread, and stops by itself after
``idle_timeout`` seconds without a request (and when the block or the process
ends). Point Synalinks at it with ``LanguageModel(model="openai/<any>",
api_base=server.base_url)`` (litellm also needs *some* ``OPENAI_API_KEY``).
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from synatest.testing.faults import Fault, FaultRule, RequestRate, retry_after_header

Responder = Callable[[dict[str, Any]], Any]


def _digest(*parts: Any) -> bytes:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).digest()


def schema_instance(schema: dict[str, Any], seed: str = "", name: str = "value") -> Any:
    """A deterministic instance of a JSON schema (objects, arrays, enums, scalars, $refs)."""
    defs = {**schema.get("$defs", {}), **schema.get("definitions", {})}

    def build(node: dict[str, Any], path: str, depth: int) -> Any:
        if "$ref" in node:
            ref = str(node["$ref"]).rsplit("/", 1)[-1]
            return build(defs.get(ref, {}), path, depth + 1)
        for combo in ("anyOf", "oneOf", "allOf"):
            if node.get(combo):
                options = [o for o in node[combo] if o.get("type") != "null"] or node[combo]
                return build(options[0], path, depth + 1)
        if "const" in node:
            return node["const"]
        if node.get("enum"):
            choices = node["enum"]
            return choices[_digest(seed, path)[0] % len(choices)]
        kind = node.get("type", "object" if "properties" in node else "string")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "string")
        number = int.from_bytes(_digest(seed, path)[:4], "big")
        if kind == "object":
            props = node.get("properties", {})
            return {key: build(sub, f"{path}.{key}", depth + 1) for key, sub in props.items()}
        if kind == "array":
            count = 1 if depth > 4 else max(int(node.get("minItems", 0)), 2)
            return [build(node.get("items", {}), f"{path}[{i}]", depth + 1) for i in range(count)]
        if kind == "integer":
            return number % 100
        if kind == "number":
            return round((number % 10000) / 100, 2)
        if kind == "boolean":
            return bool(number % 2)
        if kind == "null":
            return None
        return f"{path.rsplit('.', 1)[-1]} {number % 10000:04d}"

    return build(schema, name, 0)


def approx_tokens(text: str) -> int:
    return max(1, (len(text) + 3) // 4) if text else 0


class LoopbackLM:
    """A deterministic OpenAI-compatible server on 127.0.0.1 (a context manager).

    Args:
        responder: optional ``fn(request_body) -> reply`` giving the reply of a chat
            request: a dict (JSON content), a str (plain content), ``{"tool_calls":
            [{"name":..., "arguments": {...}}]}``, or None for the default reply.
        idle_timeout: stop after this many seconds without a request (default 60).
        port: port to bind (default 0: any free port).
    """

    def __init__(
        self, responder: Responder | None = None, *, idle_timeout: float = 60.0, port: int = 0
    ) -> None:
        self.responder = responder
        self.idle_timeout = idle_timeout
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.rules: list[FaultRule] = []
        self.rate: RequestRate | None = None
        # What each request got, in arrival order: (path, "ok" or the fault's name).
        self.log: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._last_request = time.monotonic()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None
        self._watchdog: threading.Thread | None = None
        self._stopped = threading.Event()

    # -- lifecycle ----------------------------------------------------------------
    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> LoopbackLM:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            self._thread.start()
            self._watchdog = threading.Thread(target=self._watch_idle, daemon=True)
            self._watchdog.start()
        return self

    def stop(self) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        if self._thread is not None:
            self._server.shutdown()
        self._server.server_close()

    @property
    def running(self) -> bool:
        return self._thread is not None and not self._stopped.is_set()

    def _watch_idle(self) -> None:
        while not self._stopped.wait(min(1.0, self.idle_timeout / 4)):
            if time.monotonic() - self._last_request > self.idle_timeout:
                self.stop()

    def __enter__(self) -> LoopbackLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- behaviour ------------------------------------------------------------------
    def rate_limit(self, times: int = 1, retry_after: int = 0) -> None:
        """Answer the next ``times`` requests with HTTP 429 and ``Retry-After``."""
        self.inject(Fault.rate_limited(retry_after), times=times)

    def inject(
        self,
        fault: Fault,
        *,
        path: str | None = None,
        times: int | None = None,
        every: int | None = None,
        probability: float | None = None,
        seed: int = 0,
    ) -> FaultRule:
        """Give ``fault`` to the requests a :class:`FaultRule` picks (see there); rules
        are tried in the order they were added, the first that fires wins."""
        rule = FaultRule(
            fault, path=path, times=times, every=every, probability=probability, seed=seed
        )
        with self._lock:
            self.rules.append(rule)
        return rule

    def limit_rate(self, per_minute: float, *, burst: int = 1) -> RequestRate:
        """Answer ``429`` with ``Retry-After`` beyond ``per_minute`` requests (a token
        bucket holding ``burst``); checked after the injected faults."""
        with self._lock:
            self.rate = RequestRate(per_minute, burst=burst)
            return self.rate

    def clear_faults(self) -> None:
        with self._lock:
            self.rules.clear()
            self.rate = None

    @property
    def outcomes(self) -> Counter[str]:
        """How many requests got each outcome: ``"ok"``, ``"429"``, ``"drop"``, ..."""
        with self._lock:
            return Counter(outcome for _, outcome in self.log)

    def _decide(self, path: str) -> tuple[Fault | None, float | None]:
        """(the fault for this request, or the rate limit's wait); logs the outcome."""
        with self._lock:
            fault = next((rule.fault for rule in self.rules if rule.decide(path)), None)
            self.rules = [rule for rule in self.rules if not rule.spent]
            wait = self.rate.take() if fault is None and self.rate is not None else None
            outcome = fault.name if fault is not None else "429" if wait is not None else "ok"
            self.log.append((path, outcome))
            return fault, wait

    def reply_for(self, body: dict[str, Any]) -> dict[str, Any]:
        """The assistant message (content or tool_calls) for a chat request."""
        messages = body.get("messages") or []
        last_user = next(
            (_text(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), ""
        )
        if self.responder is not None:
            custom = self.responder(body)
            if custom is not None:
                return _as_message(custom, last_user)
        tools = body.get("tools") or []
        answered_tool = bool(messages) and messages[-1].get("role") == "tool"
        if tools and not answered_tool:
            fn = tools[0].get("function", {})
            arguments = schema_instance(fn.get("parameters") or {}, seed=last_user, name="arg")
            return _as_message(
                {"tool_calls": [{"name": fn.get("name"), "arguments": arguments}]}, last_user
            )
        rf = body.get("response_format") or {}
        if rf.get("type") == "json_schema":
            schema = (rf.get("json_schema") or {}).get("schema") or {}
            return {
                "role": "assistant",
                "content": json.dumps(schema_instance(schema, seed=last_user)),
            }
        return {"role": "assistant", "content": f"Echo: {last_user}"}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            cut_after: int | None = None  # a "cut" fault: chunks (or half the body) sent

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: tests read `server.requests` instead

            def do_POST(self) -> None:
                server._last_request = time.monotonic()
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    return self._json(400, {"error": {"message": "invalid JSON body"}})
                with server._lock:
                    server.requests.append(body)
                    server.headers.append(dict(self.headers.items()))
                path = self.path.split("?", 1)[0].rstrip("/")
                fault, wait = server._decide(path)
                self.cut_after = fault.after if fault is not None and fault.kind == "cut" else None
                if wait is not None:
                    limited = Fault.rate_limited(None)
                    return self._json(429, limited.error_body(), retry_after_header(wait))
                if fault is not None and not self._fault(fault):
                    return None
                if path.endswith("/chat/completions"):
                    return self._chat(body)
                if path.endswith("/embeddings"):
                    return self._embeddings(body)
                if path.endswith("/systemone"):
                    return self._json(200, decisions_reply(body))
                return self._json(404, {"error": {"message": f"no route {self.path}"}})

            def _fault(self, fault: Fault) -> bool:
                """Act out ``fault``; True if the request is then served normally."""
                if fault.kind == "status":
                    headers = {}
                    if fault.retry_after is not None:
                        headers = retry_after_header(fault.retry_after)
                    self._json(fault.status, fault.error_body(), headers)
                    return False
                if fault.kind == "slow":
                    server._stopped.wait(fault.seconds)
                    return True
                if fault.kind == "hang":
                    server._stopped.wait(fault.seconds)
                if fault.kind in ("hang", "drop"):
                    self.close_connection = True
                    return False
                return True  # "cut": served, and cut while writing

            def _json(
                self, status: int, payload: Any, headers: dict[str, str] | None = None
            ) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                if self.cut_after is not None and status == 200:
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(data)

            def _chat(self, body: dict[str, Any]) -> None:
                message = server.reply_for(body)
                model = str(body.get("model", "loopback"))
                ident = "chatcmpl-" + _digest(body).hex()[:24]
                prompt = approx_tokens(json.dumps(body.get("messages")))
                text = message.get("content") or json.dumps(message.get("tool_calls"))
                completion = approx_tokens(text)
                usage = {
                    "prompt_tokens": prompt,
                    "completion_tokens": completion,
                    "total_tokens": prompt + completion,
                }
                finish = "tool_calls" if message.get("tool_calls") else "stop"
                if body.get("stream"):
                    return self._stream(
                        ident=ident,
                        model=model,
                        message=message,
                        finish=finish,
                        usage=usage,
                        body=body,
                    )
                self._json(
                    200,
                    {
                        "id": ident,
                        "object": "chat.completion",
                        "created": 1_700_000_000,
                        "model": model,
                        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                        "usage": usage,
                    },
                )

            def _stream(
                self,
                *,
                ident: str,
                model: str,
                message: dict[str, Any],
                finish: str,
                usage: dict[str, int],
                body: dict[str, Any],
            ) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                cut = self.cut_after is not None
                if cut:  # chunked, so closing before the last chunk is a protocol error
                    self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self.close_connection = True

                def event(delta: dict[str, Any], reason: str | None = None, **extra: Any) -> None:
                    chunk = {
                        "id": ident,
                        "object": "chat.completion.chunk",
                        "created": 1_700_000_000,
                        "model": model,
                        "choices": [{"index": 0, "delta": delta, "finish_reason": reason}],
                        **extra,
                    }
                    data = f"data: {json.dumps(chunk)}\n\n".encode()
                    if cut:
                        data = f"{len(data):x}\r\n".encode() + data + b"\r\n"
                    self.wfile.write(data)
                    self.wfile.flush()

                event({"role": "assistant", "content": ""})
                if self.cut_after is not None:
                    words = str(message.get("content") or "").split(" ")
                    for i in range(0, min(len(words), 3 * self.cut_after), 3):
                        event({"content": " ".join(words[i : i + 3]) + " "})
                    return  # no finish chunk, no [DONE]: the connection closes
                if message.get("tool_calls"):
                    event(
                        {
                            "tool_calls": [
                                {"index": i, **c} for i, c in enumerate(message["tool_calls"])
                            ]
                        }
                    )
                else:
                    words = str(message.get("content") or "").split(" ")
                    for i in range(0, len(words), 3):
                        piece = " ".join(words[i : i + 3]) + (" " if i + 3 < len(words) else "")
                        event({"content": piece})
                extra = {}
                if (body.get("stream_options") or {}).get("include_usage"):
                    extra["usage"] = usage
                event({}, finish, **extra)
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

            def _embeddings(self, body: dict[str, Any]) -> None:
                texts = body.get("input") or []
                if isinstance(texts, str):
                    texts = [texts]
                dim = int(body.get("dimensions") or 8)
                data = []
                for index, text in enumerate(texts):
                    raw = _digest(text)
                    vector = [(raw[i % len(raw)] - 127.5) / 127.5 for i in range(dim)]
                    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
                    data.append(
                        {
                            "object": "embedding",
                            "index": index,
                            "embedding": [round(v / norm, 6) for v in vector],
                        }
                    )
                tokens = sum(approx_tokens(str(t)) for t in texts)
                self._json(
                    200,
                    {
                        "object": "list",
                        "data": data,
                        "model": body.get("model", "loopback-embedding"),
                        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
                    },
                )

        return Handler


def decisions_reply(body: dict[str, Any]) -> dict[str, Any]:
    """A decision provider's answer (``POST .../systemone``) to every question of ``body``.

    Deterministic in the request: yes/no questions get a probability, choices and
    scores one of their options with probabilities over all of them.
    """
    seed = json.dumps(body.get("state"), sort_keys=True, default=str)
    answers: dict[str, Any] = {}
    for name, question in (body.get("questions") or {}).items():
        kind = question.get("type")
        number = int.from_bytes(_digest(seed, name)[:4], "big")
        if kind == "noul":
            answers[name] = {"type": "noul", "noul": round((number % 1000) / 1000, 3)}
            continue
        options = [str(option) for option in (question.get("criteria") or {})] or ["0"]
        picked = options[number % len(options)]
        probabilities = {
            o: (0.9 if o == picked else 0.1 / max(1, len(options) - 1)) for o in options
        }
        answer: dict[str, Any] = {"type": kind, "probabilities": probabilities, "confidence": 0.9}
        if kind == "score":
            answer["score"] = float(options.index(picked))
            answer["legend"] = {str(i): o for i, o in enumerate(options)}
            answer["probabilities"] = {str(i): probabilities[o] for i, o in enumerate(options)}
        else:
            answer["choice"] = picked
        answers[name] = answer
    tokens = approx_tokens(json.dumps(body.get("state"), default=str))
    return {
        "model": str(body.get("model", "loopback-decisions")),
        "answers": answers,
        "usage": {"input_tokens": tokens, "output_tokens": len(answers)},
    }


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "" if content is None else str(content)


def _as_message(reply: Any, seed: str) -> dict[str, Any]:
    if isinstance(reply, str):
        return {"role": "assistant", "content": reply}
    if isinstance(reply, dict) and "tool_calls" in reply:
        calls = []
        for index, call in enumerate(reply["tool_calls"]):
            ident = "call_" + _digest(seed, index, call.get("name")).hex()[:16]
            calls.append(
                {
                    "id": ident,
                    "type": "function",
                    "function": {
                        "name": call.get("name"),
                        "arguments": json.dumps(call.get("arguments") or {}),
                    },
                }
            )
        return {"role": "assistant", "content": None, "tool_calls": calls}
    return {"role": "assistant", "content": json.dumps(reply)}
