"""litellm responses to plain data and back.

A recorded reply is stored as plain data (``model_dump`` without ``None`` fields)
plus its cost, and rebuilt on replay as the same litellm type -- ``ModelResponse``,
a stream of ``ModelResponseStream`` chunks, ``EmbeddingResponse`` -- with usage and
``_hidden_params["response_cost"]`` set, so Synalinks' token and cost counters work
exactly as on a live call. Provider errors (when recording them is asked for) are
rebuilt as the litellm exception type that was raised.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import AsyncIterator
from typing import Any

from synatest.cassettes.normalize import jsonable

# The litellm classes a cassette may name (nothing else is ever imported from a file).
_RESPONSE_TYPES = {
    "ModelResponse": "litellm.types.utils",
    "EmbeddingResponse": "litellm.types.utils",
    "ModelResponseStream": "litellm.types.utils",
    "TextCompletionResponse": "litellm.types.utils",
    # What a DecisionModel's `litellm.asystemone` returns.
    "DecisionsResponse": "litellm.types.decisions",
}


def response_type_name(response: Any) -> str:
    return type(response).__name__


def dump_response(response: Any) -> dict[str, Any]:
    """Plain data of a litellm response object."""
    model_dump = getattr(response, "model_dump", None)
    if callable(model_dump):
        data = model_dump(exclude_none=True)
    elif isinstance(response, dict):
        data = dict(response)
    else:
        raise TypeError(f"cannot record a {type(response).__name__} response")
    data = jsonable(data)
    assert isinstance(data, dict)
    return data


def response_cost(response: Any) -> float | None:
    hidden = getattr(response, "_hidden_params", None) or {}
    cost = hidden.get("response_cost")
    return float(cost) if isinstance(cost, (int, float)) else None


def _response_class(name: str) -> Any:
    module = _RESPONSE_TYPES.get(name)
    if module is None:
        from synatest.errors import CassetteError

        raise CassetteError(
            f"unknown response type {name!r} in cassette; expected one of {sorted(_RESPONSE_TYPES)}"
        )
    return getattr(importlib.import_module(module), name)


def build_response(type_name: str, data: dict[str, Any], cost: float | None) -> Any:
    """The litellm response object recorded as ``data``."""
    cls = _response_class(type_name)
    response = cls(**data)
    # pydantic private attribute: set after construction, for every response type.
    hidden = getattr(response, "_hidden_params", None)
    if isinstance(hidden, dict):
        hidden["response_cost"] = cost
        hidden["synatest_replayed"] = True
    return response


class ReplayedStream:
    """An async iterator of recorded ``ModelResponseStream`` chunks (a fresh one per replay)."""

    def __init__(self, chunks: list[dict[str, Any]], cost: float | None = None) -> None:
        self._chunks = chunks
        self._index = 0
        self._hidden_params: dict[str, Any] = {"response_cost": cost, "synatest_replayed": True}

    def __aiter__(self) -> AsyncIterator[Any]:
        return self

    async def __anext__(self) -> Any:
        if self._index >= len(self._chunks):
            raise StopAsyncIteration
        from litellm.types.utils import ModelResponseStream

        chunk = self._chunks[self._index]
        self._index += 1
        return ModelResponseStream(**chunk)


async def drain_stream(stream: Any) -> list[dict[str, Any]]:
    """Consume a live stream (litellm ``CustomStreamWrapper``) into plain chunk data."""
    chunks = []
    if hasattr(stream, "__aiter__"):
        async for chunk in stream:
            chunks.append(dump_response(chunk))
    else:
        for chunk in stream:
            chunks.append(dump_response(chunk))
    return chunks


def dump_error(error: BaseException) -> dict[str, Any]:
    """Plain data of a provider error (never its headers or request)."""
    data: dict[str, Any] = {
        "type": type(error).__name__,
        "module": type(error).__module__,
        "message": str(getattr(error, "message", None) or error),
    }
    for attr in ("status_code", "llm_provider", "model"):
        value = getattr(error, attr, None)
        if isinstance(value, (str, int)):
            data[attr] = value
    return data


def build_error(data: dict[str, Any]) -> BaseException:
    """The litellm exception recorded as ``data`` (``APIError`` for unknown types)."""
    import litellm

    name = str(data.get("type", "APIError"))
    message = str(data.get("message", ""))
    llm_provider = str(data.get("llm_provider", ""))
    model = str(data.get("model", ""))
    status = int(data.get("status_code", 500) or 500)
    cls = getattr(litellm.exceptions, name, None)
    if isinstance(cls, type) and issubclass(cls, Exception):
        params = inspect.signature(cls.__init__).parameters
        available = {
            "message": message,
            "llm_provider": llm_provider,
            "model": model,
            "status_code": status,
        }
        kwargs = {k: v for k, v in available.items() if k in params}
        required = [
            p.name
            for p in params.values()
            if p.name != "self"
            and p.default is inspect.Parameter.empty
            and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        ]
        if all(name in kwargs for name in required):
            try:
                error: BaseException = cls(**kwargs)
                return error
            except Exception:  # pragma: no cover - an exotic constructor
                pass
    return litellm.exceptions.APIError(
        status_code=status, message=f"{name}: {message}", llm_provider=llm_provider, model=model
    )
