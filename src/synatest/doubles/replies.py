"""Turning a double's reply into litellm's real response types.

A reply is what a test author writes: a dict or DataModel (structured output), a
str (plain content), :func:`tool_call` / a list of them, an exception instance
(raised as the provider's error), or a callable taking the :class:`LMRequest` and
returning any of these. :func:`to_response` builds the ``litellm.ModelResponse``
(with usage) that Synalinks parses exactly as it parses a provider's, or a stream of
``ModelResponseStream`` chunks when the request asked for ``stream=True``.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from synatest.doubles._content import approx_tokens, reply_content
from synatest.errors import InvalidReply
from synatest.seam import LMRequest

_ids = itertools.count(1)

__all__ = [
    "StreamedReply",
    "ToolCall",
    "approx_tokens",
    "as_tool_calls",
    "embedding_response",
    "reply_content",
    "reply_json",
    "resolve",
    "to_response",
    "tool_call",
]


@dataclass(frozen=True)
class ToolCall:
    """A tool call the LM makes: ``synatest.tool_call("search", query="...")``."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    id: str | None = None


def tool_call(name: str, /, **arguments: Any) -> ToolCall:
    """A reply that calls tool ``name`` with ``arguments``."""
    return ToolCall(name=name, arguments=arguments)


def _prompt_tokens(request: LMRequest) -> int:
    return approx_tokens(request.text)


def resolve(reply: Any, request: LMRequest) -> Any:
    """Call a callable reply (repeatedly: it may return another callable)."""
    while callable(reply) and not isinstance(reply, (ToolCall, BaseException, type)):
        reply = reply(request)
    return reply


def reply_json(reply: Any) -> Any:
    """The JSON value of a structured reply (a str is parsed), for schema checks."""
    if isinstance(reply, str):
        return json.loads(reply)
    content = reply_content(reply)
    return None if content is None else json.loads(content)


def as_tool_calls(reply: Any) -> list[ToolCall] | None:
    if isinstance(reply, ToolCall):
        return [reply]
    if isinstance(reply, (list, tuple)) and reply and all(isinstance(r, ToolCall) for r in reply):
        return list(reply)
    return None


def to_response(reply: Any, request: LMRequest) -> Any:
    """Build litellm's response for ``reply`` (raises it if it is an exception)."""
    reply = resolve(reply, request)
    if isinstance(reply, BaseException):
        raise reply
    if request.kind == "embedding":
        return embedding_response(reply, request)
    if request.kind == "decision":
        from synatest.doubles.decisions import decision_response

        return decision_response(reply, request)
    from litellm import ModelResponse, Usage
    from litellm.types.utils import (
        ChatCompletionMessageToolCall,
        Choices,
        Function,
        Message,
    )

    calls = as_tool_calls(reply)
    if calls is not None:
        message = Message(
            role="assistant",
            content=None,
            tool_calls=[
                ChatCompletionMessageToolCall(
                    id=call.id or f"call_synatest_{next(_ids)}",
                    type="function",
                    function=Function(name=call.name, arguments=json.dumps(call.arguments)),
                )
                for call in calls
            ],
        )
        finish, completion_text = "tool_calls", json.dumps([c.arguments for c in calls])
    else:
        content = reply_content(reply)
        if content is None:
            raise InvalidReply(
                f"cannot use {type(reply).__name__} as an LM reply: give a dict, a DataModel, "
                "a str, synatest.tool_call(...), a list of tool calls, an exception, or a "
                f"callable returning one of these\n  request: {request.describe()}"
            )
        message = Message(role="assistant", content=content)
        finish, completion_text = "stop", content
    prompt, completion = _prompt_tokens(request), approx_tokens(completion_text)
    usage = Usage(
        prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
    )
    if request.stream and calls is None:
        return StreamedReply(message.content or "", request.model)
    response = ModelResponse(
        model=request.model,
        choices=[Choices(index=0, finish_reason=finish, message=message)],
        usage=usage,
    )
    response._hidden_params["response_cost"] = 0.0
    return response


def embedding_response(reply: Any, request: LMRequest) -> Any:
    """An ``EmbeddingResponse`` from a list of vectors (one per input text)."""
    from litellm import EmbeddingResponse, Usage

    try:
        vectors = [list(map(float, v)) for v in reply]
    except (TypeError, ValueError) as error:
        raise InvalidReply(
            f"an embedding reply is a list of vectors (lists of numbers), one per input "
            f"text; got {type(reply).__name__}: {error}\n  request: {request.describe()}"
        ) from None
    if len(vectors) != len(request.input):
        raise InvalidReply(
            f"embedding double returned {len(vectors)} vector(s) for "
            f"{len(request.input)} input text(s)"
        )
    tokens = sum(approx_tokens(t) for t in request.input)
    response = EmbeddingResponse(
        model=request.model,
        data=[
            {"object": "embedding", "index": i, "embedding": vector}
            for i, vector in enumerate(vectors)
        ],
        usage=Usage(prompt_tokens=tokens, total_tokens=tokens),
    )
    response._hidden_params["response_cost"] = 0.0
    return response


class StreamedReply:
    """An async stream of litellm ``ModelResponseStream`` chunks, a few words each."""

    def __init__(self, content: str, model: str, chunk_words: int = 3) -> None:
        words = content.split(" ")
        self._pieces = [
            " ".join(words[i : i + chunk_words]) + (" " if i + chunk_words < len(words) else "")
            for i in range(0, len(words), chunk_words)
        ] or [""]
        self._model = model
        self._index = 0

    def __aiter__(self) -> AsyncIterator[Any]:
        return self

    async def __anext__(self) -> Any:
        from litellm.types.utils import Delta, ModelResponseStream, StreamingChoices

        if self._index > len(self._pieces):
            raise StopAsyncIteration
        index = self._index
        self._index += 1
        if index == len(self._pieces):
            return ModelResponseStream(
                model=self._model,
                choices=[StreamingChoices(index=0, delta=Delta(), finish_reason="stop")],
            )
        return ModelResponseStream(
            model=self._model,
            choices=[StreamingChoices(index=0, delta=Delta(content=self._pieces[index]))],
        )


Reply = Any
ReplyFn = Callable[[LMRequest], Reply]
