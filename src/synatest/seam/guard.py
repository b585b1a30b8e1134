"""The no-accidental-live-call guard, where a connection would be made.

A test that does not use synatest (no fixture, marker, double or cassette of ours)
keeps whatever mocks it has: its LM calls go through the real litellm, so a patched
``litellm.acompletion``, respx, vcrpy, an httpx ``MockTransport`` or a patched
``AsyncHTTPHandler.post`` answers them as it would without the plugin. Only a call
that nothing below litellm served, and that goes on to open a connection to the
model, is refused: while such a call runs (:func:`call_guarded`), resolving a host
name or connecting a socket raises :class:`~synatest.errors.UnservedLMCall`, which
names the request and where it was going.

The patches sit at the bottom of every HTTP stack Python has:
``socket.getaddrinfo`` and ``socket.socket.connect``/``connect_ex`` (sync clients,
and asyncio's own ``sock_connect``), and ``BaseEventLoop.getaddrinfo`` (asyncio
resolves names in a worker thread, where the call's context is not visible). Outside
a guarded call they cost one context-variable read; connections a test makes for
its own reasons, or that a live or recording call makes, are never touched.
"""

from __future__ import annotations

import contextvars
import socket
from collections.abc import Callable
from typing import Any

from synatest.errors import UnservedLMCall
from synatest.seam.provider import call_original
from synatest.seam.request import LMRequest


class _Pending:
    """One unserved LM call running through the real litellm."""

    __slots__ = ("active", "message", "refusal")

    def __init__(self, message: Callable[[], str]) -> None:
        self.message = message
        self.active = True
        self.refusal: UnservedLMCall | None = None


_PENDING: contextvars.ContextVar[_Pending | None] = contextvars.ContextVar(
    "synatest_pending_lm_call", default=None
)


def _describe(target: Any) -> str:
    if isinstance(target, tuple) and len(target) >= 2:
        host = target[0].decode() if isinstance(target[0], bytes) else target[0]
        return f"{host}:{target[1]}"
    return str(target)


def refuse_if_pending(target: Any) -> None:
    """Raise UnservedLMCall when an unserved LM call is about to reach ``target``."""
    pending = _PENDING.get()
    if pending is None or not pending.active:
        return
    error = UnservedLMCall(
        f"{pending.message()}\n"
        f"Refused where it would have connected to {_describe(target)}: nothing below "
        "litellm (a patched HTTP handler, respx, vcrpy, a mock transport) served it."
    )
    pending.refusal = error
    raise error


async def call_guarded(request: LMRequest, message: Callable[[], str]) -> Any:
    """Send ``request`` through the real litellm, refusing any connection it opens.

    What a user's mock below litellm returns or raises comes back unchanged; a
    refusal comes back as the UnservedLMCall itself, however the layers in between
    wrapped it (anyio's task groups put it in an exception group).
    """
    install()
    pending = _Pending(message)
    token = _PENDING.set(pending)
    try:
        response = await call_original(request, retry=False)
    except BaseException as error:
        if pending.refusal is not None and error is not pending.refusal:
            raise pending.refusal.with_traceback(None) from None
        raise
    finally:
        # Tasks litellm started during the call keep a copy of this context: they
        # may connect for their own reasons once the call is over.
        pending.active = False
        _PENDING.reset(token)
    if request.source == "live":
        request.source = None  # served below litellm, by the test's own mock
    return response


# --- the patches -----------------------------------------------------------------

_ORIGINALS: dict[str, Any] = {}


def install() -> None:
    """Patch name resolution and socket connects (idempotent)."""
    if _ORIGINALS:
        return
    import asyncio.base_events

    loop_class = asyncio.base_events.BaseEventLoop
    _ORIGINALS["getaddrinfo"] = socket.getaddrinfo
    _ORIGINALS["connect"] = socket.socket.connect
    _ORIGINALS["connect_ex"] = socket.socket.connect_ex
    _ORIGINALS["loop.getaddrinfo"] = loop_class.getaddrinfo
    getaddrinfo = socket.getaddrinfo
    connect = socket.socket.connect
    connect_ex = socket.socket.connect_ex
    loop_getaddrinfo = loop_class.getaddrinfo

    def guarded_getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        refuse_if_pending((host, port))
        return getaddrinfo(host, port, *args, **kwargs)

    def guarded_connect(self: socket.socket, address: Any) -> None:
        refuse_if_pending(address)
        return connect(self, address)

    def guarded_connect_ex(self: socket.socket, address: Any) -> int:
        refuse_if_pending(address)
        return connect_ex(self, address)

    async def guarded_loop_getaddrinfo(
        self: Any, host: Any, port: Any, *args: Any, **kwargs: Any
    ) -> Any:
        refuse_if_pending((host, port))
        return await loop_getaddrinfo(self, host, port, *args, **kwargs)

    socket.getaddrinfo = guarded_getaddrinfo
    socket.socket.connect = guarded_connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = guarded_connect_ex  # type: ignore[method-assign,assignment]
    loop_class.getaddrinfo = guarded_loop_getaddrinfo  # type: ignore[method-assign]


def uninstall() -> None:
    """Undo :func:`install` (end of the pytest session)."""
    if not _ORIGINALS:
        return
    import asyncio.base_events

    socket.getaddrinfo = _ORIGINALS.pop("getaddrinfo")
    socket.socket.connect = _ORIGINALS.pop("connect")  # type: ignore[method-assign]
    socket.socket.connect_ex = _ORIGINALS.pop("connect_ex")  # type: ignore[method-assign]
    asyncio.base_events.BaseEventLoop.getaddrinfo = _ORIGINALS.pop(  # type: ignore[method-assign]
        "loop.getaddrinfo"
    )
