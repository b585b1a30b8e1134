"""What an imported trace is, whatever its source: one example and the LM calls behind it.

A :class:`TraceItem` pairs the :class:`Example` a regression test checks (inputs, the
output production gave, metadata) with the :class:`Recording` of every LM call that
produced it, which become cassette recordings. A Recorder line is one item (one LM
call: a module-level example); an MLflow trace is one item (a program call: a
program-level example, with one recording per LM span).
"""

from __future__ import annotations

import ast
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Recording:
    """One LM call as a trace saw it: the request's model and messages, and the reply."""

    model: str
    messages: list[dict[str, Any]]
    completion: dict[str, Any] | None  # the assistant message; None when the call failed
    usage: dict[str, Any] = field(default_factory=dict)
    cost: float | None = None
    exception: str | None = None
    created: float = 0.0


@dataclass
class Example:
    """A dataset row: what went in, what production gave back, and where it came from."""

    id: str
    program: str
    module: str
    inputs: Any
    expected: Any
    inputs_hash: str
    timestamp: float
    metadata: dict[str, Any] = field(default_factory=dict)
    exception: str | None = None

    def row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "inputs": self.inputs,
            "expected": self.expected,
            "metadata": {
                **self.metadata,
                "program": self.program,
                "module": self.module,
                "timestamp": self.timestamp,
                "inputs_hash": self.inputs_hash,
                **({"exception": self.exception} if self.exception else {}),
            },
        }


@dataclass
class TraceItem:
    example: Example
    recordings: list[Recording]
    modules: set[str] = field(default_factory=set)  # every module seen (for --module)
    where: str = ""  # file:line or URI trace id, for messages


def inputs_hash(data: Any) -> str:
    """SHA-256 of ``data`` as sorted-key JSON (the Recorder's own `inputs_hash` recipe)."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def module_inputs(messages: list[dict[str, Any]]) -> Any:
    """A module's inputs from the messages it rendered: the last user message's data.

    Synalinks' Generator renders its inputs into the user message as a Python dict
    (``{'question': '...'}``) or JSON; anything else gives the messages themselves.
    """
    for message in reversed(messages):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            for parse in (json.loads, ast.literal_eval):
                try:
                    value = parse(content)
                except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                    continue
                if isinstance(value, dict):
                    return value
        break
    return {"messages": messages}


def completion_response(recording: Recording, call_id: str) -> dict[str, Any]:
    """litellm ``ModelResponse`` data of a recorded completion (what the cassette replays)."""
    assert recording.completion is not None
    message = {k: v for k, v in recording.completion.items() if v is not None}
    message.setdefault("role", "assistant")
    if "content" not in message:
        message["content"] = None
    usage = recording.usage or {}
    prompt = int(usage.get("prompt_tokens") or 0)
    completion = int(usage.get("completion_tokens") or 0)
    return {
        "id": f"imported-{call_id}",
        "created": int(recording.created),
        "model": recording.model.split("/", 1)[-1],
        "object": "chat.completion",
        "choices": [
            {
                "finish_reason": "tool_calls" if message.get("tool_calls") else "stop",
                "index": 0,
                "message": message,
            }
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": int(usage.get("total_tokens") or prompt + completion),
        },
    }
