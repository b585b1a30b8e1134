"""What every double shares: installing itself into a router."""

from __future__ import annotations

import copy
import functools
from collections.abc import Awaitable, Callable
from typing import Any, Self

from synatest.seam import CallNext, LMRequest, Router, current_router


def _tagging(
    call: Callable[[Any, LMRequest, CallNext], Awaitable[Any]],
) -> Callable[[Any, LMRequest, CallNext], Awaitable[Any]]:
    """A double's ``__call__`` that marks the requests it answered itself as ``"double"``
    (what transcripts show as the call's source)."""

    @functools.wraps(call)
    async def answer(self: Any, request: LMRequest, call_next: CallNext) -> Any:
        passed_on = False

        async def pass_on(req: LMRequest) -> Any:
            nonlocal passed_on
            passed_on = True
            return await call_next(req)

        response = await call(self, request, pass_on)
        if not passed_on:
            request.source = "double"
        return response

    return answer


class Double:
    """Base of synatest's LM doubles: a router layer with an ``install`` helper.

    A double answers the requests of the kinds it serves (``self.kinds``) and passes
    the others on. Subclasses implement :meth:`__call__` and may register an
    end-of-test check in :meth:`check`.
    """

    kinds: tuple[str, ...] = ("completion",)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__call__" in cls.__dict__:
            setattr(cls, "__call__", _tagging(cls.__dict__["__call__"]))  # noqa: B010

    async def __call__(self, request: LMRequest, call_next: CallNext) -> Any:
        raise NotImplementedError  # pragma: no cover

    def check(self) -> None:
        """End-of-test check (raise a SynatestError to fail the test)."""

    def install(self, router: Router | None = None, *, first: bool = False) -> Self:
        """Serve the calls of ``router`` (default: the router in force) with this double.

        In a pytest test the router in force is the test's own, so
        ``synatest.SchemaLM(seed=1).install()`` inside a test (or fixture) serves every
        LanguageModel of that test. Returns the double.
        """
        router = router if router is not None else current_router()
        router.use(self, name=type(self).__name__, first=first)
        router.add_check(self.check)
        return self

    def fresh(self) -> Self:
        """A copy with the same configuration and no recorded calls (used per test)."""
        return copy.deepcopy(self)


def use_lm(*doubles: Any, router: Router | None = None) -> Any:
    """Install doubles into the router in force (the current test's); returns the first.

    ``synatest.use_lm(synatest.SchemaLM(seed=3), synatest.HashEmbeddings(dim=64))``.
    A plain layer function (``async def layer(request, call_next)``) is accepted too.
    """
    if not doubles:
        raise TypeError("use_lm() needs at least one double, e.g. use_lm(synatest.SchemaLM())")
    target = router if router is not None else current_router()
    for double in doubles:
        if isinstance(double, Double):
            double.install(target)
        elif callable(double):
            target.use(double, name=getattr(double, "__name__", type(double).__name__))
        else:
            raise TypeError(
                f"use_lm() takes doubles (ScriptedLM, FunctionLM, SchemaLM, HashEmbeddings "
                f"or an async layer function), not {type(double).__name__}"
            )
    return doubles[0]
