"""One LM, embedding or decision call as litellm received it: :class:`LMRequest`."""

from __future__ import annotations

import contextlib
import contextvars
import copy
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["completion", "embedding", "decision"]

# Which run of a repeated eval example the calls of the current task belong to.
_REPEAT: contextvars.ContextVar[int] = contextvars.ContextVar("synatest_repeat", default=0)


def current_repeat() -> int:
    """The repeat index (0-based) of the run the current task belongs to (0 when not repeated)."""
    return _REPEAT.get()


@contextlib.contextmanager
def use_repeat(index: int) -> Iterator[int]:
    """Mark the calls made in this context (and the tasks it starts) as run ``index``."""
    token = _REPEAT.set(index)
    try:
        yield index
    finally:
        _REPEAT.reset(token)


def _text_of(content: Any) -> str:
    """The text of a chat message's content (a string or a list of parts)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text":
                parts.append(str(part.get("text", "")))
            elif isinstance(part, str):
                parts.append(part)
        return "\n".join(parts)
    return str(content)


def shorten(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class LMRequest:
    """One call as litellm received it, with convenient views for matching.

    ``kwargs`` is exactly what Synalinks passed to litellm (not a copy: treat it as
    read-only). The properties below are derived from it.
    """

    kind: Kind
    kwargs: dict[str, Any]
    test_id: str | None = None
    # The run of a repeated eval example that made the call (0-based; 0 when not
    # repeated): a FunctionLM can answer by it, cassettes record each run apart.
    repeat: int = field(default_factory=current_repeat)
    # What answered the call: "double", "cassette" or "live" (set by whoever did).
    source: str | None = None
    # The run whose cassette recording answered it (may differ from ``repeat`` when the
    # cassette was recorded without repeats).
    recorded_repeat: int | None = None
    # Transient provider errors retried for it, and the seconds waited (seam/retry.py).
    retries: int = 0
    retry_wait_s: float = 0.0
    # How long the call took when it was really made, when a recording answers it (a
    # cassette, an example's prefetch): latency budgets hold on replay too.
    recorded_latency_s: float | None = None

    def take_provenance(self, original: LMRequest) -> None:
        """Answered with ``original``'s response: carry over what answered it, its
        retries and its latency (a prefetch's call, replayed for its example)."""
        self.source = original.source
        self.recorded_repeat = original.recorded_repeat
        self.retries = original.retries
        self.retry_wait_s = original.retry_wait_s
        self.recorded_latency_s = original.recorded_latency_s

    @property
    def model(self) -> str:
        return str(self.kwargs.get("model", ""))

    @property
    def messages(self) -> list[dict[str, Any]]:
        if self.kind == "decision":
            # A DecisionModel sends a chat as its `state` (other states have none).
            state = self.kwargs.get("state")
            if isinstance(state, list) and all(isinstance(m, dict) and "role" in m for m in state):
                return list(state)
            return []
        return list(self.kwargs.get("messages") or [])

    @property
    def response_format(self) -> dict[str, Any] | None:
        rf = self.kwargs.get("response_format")
        return rf if isinstance(rf, dict) else None

    @property
    def schema(self) -> dict[str, Any] | None:
        """The requested JSON schema of a structured-output call, else None.

        For a decision-model call: the schema of a plain reply to its questions
        (see :func:`questions_schema`).
        """
        if self.kind == "decision":
            return questions_schema(self.kwargs.get("questions"))
        rf = self.response_format
        if not rf:
            return None
        if rf.get("type") == "json_schema":
            js = rf.get("json_schema") or {}
            schema = js.get("schema")
            return schema if isinstance(schema, dict) else None
        return None

    @property
    def schema_title(self) -> str | None:
        schema = self.schema
        if schema is None:
            return None
        title = schema.get("title")
        if title:
            return str(title)
        rf = self.response_format or {}
        name = (rf.get("json_schema") or {}).get("name")
        return str(name) if name else None

    @property
    def tools(self) -> list[dict[str, Any]]:
        return list(self.kwargs.get("tools") or [])

    @property
    def tool_names(self) -> list[str]:
        names = []
        for tool in self.tools:
            fn = tool.get("function") if isinstance(tool, dict) else None
            if isinstance(fn, dict) and fn.get("name"):
                names.append(str(fn["name"]))
        return names

    @property
    def stream(self) -> bool:
        return bool(self.kwargs.get("stream"))

    @property
    def input(self) -> list[str]:
        """The texts of an embedding request."""
        value = self.kwargs.get("input")
        if value is None:
            return []
        if isinstance(value, str):
            return [value]
        return [str(v) for v in value]

    @property
    def last_user_message(self) -> str:
        for message in reversed(self.messages):
            if isinstance(message, dict) and message.get("role") == "user":
                return _text_of(message.get("content"))
        return ""

    @property
    def text(self) -> str:
        """All message texts (or embedding inputs) joined: what ``contains=`` searches."""
        if self.kind == "embedding":
            return "\n".join(self.input)
        if self.kind == "decision" and not self.messages:
            state = self.kwargs.get("state")
            return state if isinstance(state, str) else json.dumps(state, default=str)
        return "\n".join(_text_of(m.get("content")) for m in self.messages if isinstance(m, dict))

    def describe(self) -> str:
        """One line naming the request: model, schema title, last user message."""
        bits = [f"model={self.model!r}"]
        if self.kind == "embedding":
            bits.append(f"embedding of {len(self.input)} text(s)")
            first = self.input[0] if self.input else ""
            bits.append(f"first input: {shorten(first)!r}")
            return ", ".join(bits)
        if self.kind == "decision":
            questions = self.kwargs.get("questions") or {}
            bits.append(f"questions={list(questions)}")
            if self.messages:
                bits.append(f"last user message: {shorten(self.last_user_message)!r}")
            else:
                bits.append(f"state: {shorten(self.text)!r}")
            return ", ".join(bits)
        title = self.schema_title
        bits.append(f"schema={title!r}" if title else "schema=None")
        if self.tool_names:
            bits.append(f"tools={self.tool_names}")
        bits.append(f"last user message: {shorten(self.last_user_message)!r}")
        return ", ".join(bits)


def snapshot(request: LMRequest) -> LMRequest:
    """A deep copy of a request, safe to keep after Synalinks mutates its messages."""
    return LMRequest(
        kind=request.kind,
        kwargs=copy.deepcopy(request.kwargs),
        test_id=request.test_id,
        repeat=request.repeat,
        source=request.source,
    )


def unserved_message(request: LMRequest, hints: Sequence[str] = ()) -> str:
    what = {"completion": "LM", "embedding": "embedding", "decision": "decision-model"}
    lines = [
        f"{what[request.kind]} call not served by any double or cassette, and live calls "
        "are off (synatest never lets a test reach a real model by accident).",
        f"  request: {request.describe()}",
    ]
    if request.test_id:
        lines.append(f"  test: {request.test_id}")
    lines.append("How to serve it:")
    lines.append(
        "  - script it: request the `scripted_lm` fixture and queue a reply "
        "(scripted_lm.add(...) or scripted_lm.on(contains=...).reply(...));"
    )
    lines.extend(f"  - {hint}" for hint in hints)
    lines.append("  - or allow real calls for this run: pytest --synalinks-live")
    return "\n".join(lines)


# --- decision-model calls: their questions as a JSON schema ------------------------
#
# A ``DecisionModel`` does not send an output schema: it sends ``questions``, one per
# field of the program's output DataModel (``{"is_refund": {"type": "noul", ...},
# "team": {"type": "choice", "criteria": {"billing": None, ...}}, ...}``). Doubles
# answer them with the plain value of each field, so the questions are seen as the
# JSON schema of that reply: ``noul`` (yes/no) -> ``boolean``; ``choice`` -> ``enum``
# of its options; ``score`` -> ``enum`` of its levels, the numbers of a numeric scale
# (``synalinks.Rating`` -> 1..5), otherwise the level index (0 = lowest).

TITLE = "DecisionQuestions"


def _number(text: Any) -> float | int | None:
    if isinstance(text, bool):
        return None
    if isinstance(text, (int, float)):
        return text
    try:
        value = float(str(text))
    except ValueError:
        return None
    return int(value) if value.is_integer() else value


def score_levels(question: dict[str, Any]) -> list[Any]:
    """The values a score question is answered with (see the module docstring)."""
    criteria = list(question.get("criteria") or [])
    numbers = [_number(level) for level in criteria]
    if criteria and all(n is not None for n in numbers):
        return numbers
    return list(range(len(criteria)))


def question_schema(question: dict[str, Any]) -> dict[str, Any]:
    """The JSON schema of the plain answer to one question."""
    kind = question.get("type")
    schema: dict[str, Any]
    if kind == "noul":
        schema = {"type": "boolean"}
    elif kind == "choice":
        schema = {"enum": [str(option) for option in (question.get("criteria") or {})]}
    elif kind == "score":
        schema = {"enum": score_levels(question)}
    else:
        schema = {}  # a kind this synatest does not know (e.g. "box"): anything
    instructions = question.get("instructions")
    if isinstance(instructions, str):
        schema["description"] = instructions
    return schema


def questions_schema(questions: Any) -> dict[str, Any] | None:
    """The JSON schema of a whole reply to ``questions`` (None when there are none)."""
    if not isinstance(questions, dict) or not questions:
        return None
    properties = {
        str(key): question_schema(q if isinstance(q, dict) else {}) for key, q in questions.items()
    }
    return {
        "title": TITLE,
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }
