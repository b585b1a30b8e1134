"""The real litellm functions behind the seam, kept to call the provider in live mode."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from synatest.seam.request import Kind, LMRequest
from synatest.seam.retry import call_with_retries

# litellm attribute -> request kind
SEAMS: dict[str, Kind] = {
    "acompletion": "completion",
    "aembedding": "embedding",
    "asystemone": "decision",
}

ORIGINALS: dict[str, Callable[..., Awaitable[Any]]] = {}


async def call_original(request: LMRequest, *, retry: bool = True) -> Any:
    """Send a request to the real provider through the unpatched litellm function,
    retrying its transient errors (:mod:`synatest.seam.retry`) unless ``retry`` is
    False (a test that is not strict: its own mocks answer, with their own errors)."""
    for attr, kind in SEAMS.items():
        if kind == request.kind:
            original = ORIGINALS.get(attr)
            if original is None:
                import litellm

                original = getattr(litellm, attr)
            request.source = "live"
            send = functools.partial(_send, original)
            return await (call_with_retries(request, send) if retry else send(request.kwargs))
    raise AssertionError(request.kind)  # pragma: no cover


async def _send(original: Callable[..., Awaitable[Any]], kwargs: dict[str, Any]) -> Any:
    return await original(**kwargs)
