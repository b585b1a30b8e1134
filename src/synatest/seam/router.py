"""The chain of layers answering a call (:class:`Router`), and which router is in force."""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from synatest.errors import UnservedLMCall
from synatest.seam.guard import call_guarded
from synatest.seam.provider import call_original
from synatest.seam.request import LMRequest, unserved_message

CallNext = Callable[[LMRequest], Awaitable[Any]]
Layer = Callable[[LMRequest, CallNext], Awaitable[Any]]


@dataclass
class Router:
    """The chain of layers that answers the LM calls of one test (or session)."""

    live: bool = False
    test_id: str | None = None
    allow_lm_errors: bool = False
    # Strict: a call nothing serves is refused here, at litellm's entry; Synalinks'
    # retry waits are zeroed and an error it would swallow fails the test. Not strict
    # (a test that does not use synatest): the call goes on through the real litellm,
    # where the test's own mocks may answer it, and only a connection it would open is
    # refused (seam/guard.py); Synalinks' retries, waits and swallowing are untouched.
    strict: bool = True
    # ``synalinks_strict = auto``: adding a layer (a double, a cassette in use) makes
    # the router strict.
    strict_on_use: bool = False
    # Extra "how to serve it" lines for the unserved message (e.g. how to record).
    hints: list[str] = field(default_factory=list)
    layers: list[tuple[str, Layer]] = field(default_factory=list)
    requests: list[LMRequest] = field(default_factory=list)
    # LM errors Synalinks swallowed while allowed (see ``allow_lm_errors``).
    lm_errors: list[BaseException] = field(default_factory=list)
    # End-of-test checks: each returns None, or raises a SynatestError.
    checks: list[Callable[[], None]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def use(
        self, layer: Layer, *, name: str = "", first: bool = False, engages: bool = True
    ) -> Callable[[], None]:
        """Add a layer (last by default: earlier layers answer first); returns its remover.

        ``engages=False`` for a layer that may serve nothing (a test's cassette when it
        has no file): it does not count as the test using synatest.
        """
        entry = (name or getattr(layer, "__name__", type(layer).__name__), layer)
        if engages and self.strict_on_use:
            self.strict = True
        with self._lock:
            if first:
                self.layers.insert(0, entry)
            else:
                self.layers.append(entry)

        def remove() -> None:
            with self._lock:
                if entry in self.layers:
                    self.layers.remove(entry)

        return remove

    def add_check(self, check: Callable[[], None]) -> None:
        self.checks.append(check)

    def run_checks(self) -> None:
        """Run end-of-test checks; the first failure propagates."""
        for check in list(self.checks):
            check()

    async def dispatch(self, request: LMRequest) -> Any:
        if request.test_id is None:
            request.test_id = self.test_id
        self.requests.append(request)
        layers = [layer for _, layer in self.layers]

        async def call_at(index: int, req: LMRequest) -> Any:
            if index < len(layers):
                return await layers[index](req, lambda r: call_at(index + 1, r))
            return await self.terminal(req)

        return await call_at(0, request)

    async def terminal(self, request: LMRequest) -> Any:
        if self.live:
            return await call_original(request)
        if self.strict:
            raise UnservedLMCall(unserved_message(request, self.hints))
        return await call_guarded(request, lambda: unserved_message(request, self.hints))


# --- which router is in force ---------------------------------------------------

_OVERRIDE: contextvars.ContextVar[Router | None] = contextvars.ContextVar(
    "synatest_router", default=None
)
_TEST_ROUTER: Router | None = None
_SESSION_ROUTER: Router = Router()


def current_router() -> Router:
    return _OVERRIDE.get() or _TEST_ROUTER or _SESSION_ROUTER


def set_session_router(router: Router) -> None:
    global _SESSION_ROUTER
    _SESSION_ROUTER = router


def set_test_router(router: Router | None) -> None:
    global _TEST_ROUTER
    _TEST_ROUTER = router


@contextlib.contextmanager
def use_router(router: Router) -> Iterator[Router]:
    """Route the calls of the current context (and tasks it starts) through ``router``."""
    token = _OVERRIDE.set(router)
    try:
        yield router
    finally:
        _OVERRIDE.reset(token)
