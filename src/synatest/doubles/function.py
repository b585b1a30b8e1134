"""``FunctionLM``: every reply computed from the request."""

from __future__ import annotations

from typing import Any

from synatest.doubles.base import Double
from synatest.doubles.replies import ReplyFn, resolve, to_response
from synatest.doubles.strict import check_reply
from synatest.seam import CallNext, LMRequest


class FunctionLM(Double):
    """A double whose every reply is ``fn(request)``.

    ``fn`` receives the :class:`~synatest.LMRequest` and returns any reply (dict,
    DataModel, str, tool call(s), exception, or a further callable). Returning
    ``NotImplemented`` passes the request on (to a cassette, another double, ...).

    Args:
        fn: the reply function.
        kinds: request kinds it answers (default: completions and decision-model
            calls; use ``("embedding",)`` with ``fn`` returning one vector per input
            text).
        strict: check structured replies against the requested schema (default
            True; raises :class:`~synatest.SchemaMismatch`).
    """

    def __init__(
        self,
        fn: ReplyFn,
        *,
        kinds: tuple[str, ...] = ("completion", "decision"),
        strict: bool = True,
    ) -> None:
        self.fn = fn
        self.kinds = kinds
        self.strict = strict
        self.calls: list[LMRequest] = []

    async def __call__(self, request: LMRequest, call_next: CallNext) -> Any:
        if request.kind not in self.kinds:
            return await call_next(request)
        reply = self.fn(request)
        if reply is NotImplemented:
            return await call_next(request)
        self.calls.append(request)
        reply = resolve(reply, request)
        if self.strict:
            check_reply(reply, request, source="FunctionLM")
        return to_response(reply, request)

    def fresh(self) -> FunctionLM:
        return FunctionLM(self.fn, kinds=self.kinds, strict=self.strict)
