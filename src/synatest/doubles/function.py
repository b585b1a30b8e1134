"""``FunctionLM``: every reply computed from the request."""

from __future__ import annotations

from typing import Any

from synatest.doubles.replies import ReplyFn, to_response
from synatest.interception import CallNext, LMRequest


class FunctionLM:
    """A double whose every reply is ``fn(request)``.

    ``fn`` receives the :class:`~synatest.LMRequest` and returns any reply (dict,
    DataModel, str, tool call(s), exception, or a further callable). Returning
    ``NotImplemented`` passes the request on (to a cassette, another double, ...).

    Args:
        fn: the reply function.
        kinds: request kinds it answers (default: completions only).
    """

    def __init__(self, fn: ReplyFn, *, kinds: tuple[str, ...] = ("completion",)) -> None:
        self.fn = fn
        self.kinds = kinds
        self.calls: list[LMRequest] = []

    async def __call__(self, request: LMRequest, call_next: CallNext) -> Any:
        if request.kind not in self.kinds:
            return await call_next(request)
        reply = self.fn(request)
        if reply is NotImplemented:
            return await call_next(request)
        self.calls.append(request)
        return to_response(reply, request)
