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

from synatest.errors import InvalidReply
from synatest.seam import LMRequest
from synatest.seam.request import score_levels

_ids = itertools.count(1)

__all__ = [
    "StreamedReply",
    "ToolCall",
    "approx_tokens",
    "as_tool_calls",
    "decision_response",
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


def approx_tokens(text: str) -> int:
    """A deterministic token estimate (4 characters a token), for usage counters."""
    return max(1, (len(text) + 3) // 4) if text else 0


def reply_content(reply: Any) -> str | None:
    """The content string of a structured or plain reply (None for tool calls)."""
    if isinstance(reply, str):
        return reply
    if isinstance(reply, dict):
        return json.dumps(reply)
    get_json = getattr(reply, "get_json", None)
    if callable(get_json):  # a synalinks DataModel or JsonDataModel
        return json.dumps(get_json())
    model_dump = getattr(reply, "model_dump", None)
    if callable(model_dump):
        return json.dumps(model_dump(mode="json"))
    return None


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


# --- replies to decision-model calls (``DecisionModel`` -> ``litellm.asystemone``) ---
#
# A double answers a decision call with the plain value of each question, keyed by
# question id (the fields of the program's output DataModel): ``True``/``False`` for a
# yes/no (``noul``) question, an option for a choice, a level for a score (the number
# of a numeric scale such as ``synalinks.Rating``, else the level index). A DataModel
# instance with those fields works as well. :func:`decision_response` turns that into
# the ``DecisionsResponse`` the provider would send: full answers with a probability
# of 1 for the chosen value, usage and cost.


def _answer(question_id: str, question: dict[str, Any], value: Any, request: LMRequest) -> Any:
    kind = question.get("type")
    if kind == "noul":
        if not isinstance(value, bool):
            raise _invalid(request, f"{question_id!r} is a yes/no question: answer True or False")
        return {"type": "noul", "noul": 1.0 if value else 0.0}
    if kind == "choice":
        options = [str(option) for option in (question.get("criteria") or {})]
        if str(value) not in options:
            raise _invalid(request, f"{question_id!r} is a choice among {options}: got {value!r}")
        return {
            "type": "choice",
            "choice": str(value),
            "probabilities": {o: 1.0 if o == str(value) else 0.0 for o in options},
            "confidence": 1.0,
        }
    if kind == "score":
        levels = score_levels(question)
        if value not in levels or isinstance(value, bool):
            raise _invalid(request, f"{question_id!r} is a score over {levels}: got {value!r}")
        index = levels.index(value)
        keys = [str(i) for i in range(len(levels))]
        criteria = list(question.get("criteria") or [])
        return {
            "type": "score",
            "score": float(index),
            "legend": dict(zip(keys, criteria, strict=True)),
            "probabilities": {k: 1.0 if k == str(index) else 0.0 for k in keys},
            "confidence": 1.0,
        }
    if isinstance(value, dict) and value.get("type") == kind:
        return value  # a full answer of a question kind synatest does not model
    raise _invalid(request, f"{question_id!r} is a {kind!r} question: give its full answer")


def _invalid(request: LMRequest, why: str) -> InvalidReply:
    return InvalidReply(
        f"cannot answer a decision-model call with this reply: {why}\n"
        f"  request: {request.describe()}"
    )


def decision_response(reply: Any, request: LMRequest) -> Any:
    """The ``DecisionsResponse`` answering ``request`` with ``reply`` (plain values)."""
    from litellm.types.decisions import DecisionsResponse, DecisionsUsage

    content = reply_content(reply)
    try:
        values = json.loads(content) if content is not None else None
    except json.JSONDecodeError:
        values = None
    if not isinstance(values, dict):
        raise _invalid(
            request,
            f"give a dict (or DataModel) of one value per question, not {type(reply).__name__}",
        )
    questions = request.kwargs.get("questions") or {}
    missing = [key for key in questions if key not in values]
    unknown = [key for key in values if key not in questions]
    if missing or unknown:
        raise _invalid(request, f"missing answers {missing}, unknown questions {unknown}")
    answers = {key: _answer(key, questions[key], values[key], request) for key in questions}
    response = DecisionsResponse(
        model=request.model.partition("/")[2] or request.model,
        answers=answers,
        usage=DecisionsUsage(input_tokens=approx_tokens(request.text), output_tokens=len(answers)),
    )
    response.set_hidden_params({"response_cost": 0.0})
    return response
