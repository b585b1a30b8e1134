"""``synalinks_trace``: every module call of a test's programs, in order.

While a :class:`Trace` is active, ``synalinks.Module.__call__`` is wrapped (once, at
class level, so every module of every program is seen) to record each real call:
the module, its inputs, its outputs or the exception it raised, and the LM requests
made while it was the innermost running module. Symbolic calls (building a
Functional program) and the language/embedding model modules themselves are not
recorded; their requests are attributed to the module that made them.

Attribution uses context variables, so concurrent calls (batches,
``asyncio.gather``, parallel branches) are attributed correctly.
"""

from __future__ import annotations

import contextvars
import functools
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from synatest.seam import CallNext, LMRequest, Router

_ACTIVE: contextvars.ContextVar[Trace | None] = contextvars.ContextVar(
    "synatest_trace", default=None
)
_STACK: contextvars.ContextVar[tuple[ModuleCall, ...]] = contextvars.ContextVar(
    "synatest_trace_stack", default=()
)
_TRACES: list[Trace] = []
_ORIGINAL_CALL: list[Any] = []


def _to_json(value: Any) -> Any:
    """JSON view of module inputs/outputs (data models, lists of them, None)."""
    if value is None:
        return None
    get_json = getattr(value, "get_json", None)
    if callable(get_json):
        return get_json()
    if isinstance(value, (list, tuple)):
        return [_to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _to_json(v) for k, v in value.items()}
    return value


@dataclass
class LMCall:
    """One LM/embedding request made inside a module call, and its response."""

    request: LMRequest
    response: Any = None
    error: BaseException | None = None

    @property
    def tool_calls(self) -> list[tuple[str, dict[str, Any]]]:
        """``(name, arguments)`` of the tool calls in the response."""
        import json

        found = []
        try:
            message = self.response.choices[0].message
        except (AttributeError, IndexError, TypeError):
            return []
        for call in getattr(message, "tool_calls", None) or []:
            function = call.function
            try:
                arguments = json.loads(function.arguments or "{}")
            except ValueError:
                arguments = {"_raw": function.arguments}
            found.append((function.name, arguments))
        return found

    @property
    def content(self) -> str | None:
        try:
            return self.response.choices[0].message.content  # type: ignore[no-any-return]
        except (AttributeError, IndexError, TypeError):
            return None


@dataclass
class ModuleCall:
    """One call of one module: what went in, what came out, which LM calls it made."""

    module: Any
    name: str
    type: str
    inputs: Any
    kwargs: dict[str, Any]
    depth: int
    parent: ModuleCall | None = None
    outputs: Any = None
    exception: BaseException | None = None
    lm_calls: list[LMCall] = field(default_factory=list)
    children: list[ModuleCall] = field(default_factory=list)
    started: float = 0.0
    elapsed_s: float = 0.0
    done: bool = False
    owner: Trace | None = field(default=None, repr=False)

    @property
    def returned_none(self) -> bool:
        return self.done and self.exception is None and self.outputs is None

    def __repr__(self) -> str:
        state = (
            f"raised {type(self.exception).__name__}"
            if self.exception is not None
            else ("-> None" if self.outputs is None else "-> ok")
        )
        return f"<ModuleCall {self.name} ({self.type}) {state}, {len(self.lm_calls)} LM call(s)>"


class Trace:
    """The recorded module calls of a test, in start order.

    Assertions read it like a log::

        assert trace.names() == ["guarded_qa", "guard", "answer_generator"]
        assert trace.called("answer_generator") is False   # the guard bypassed it
        assert trace.tool_calls() == [("calculate", {"expression": "2+2"})]
    """

    def __init__(self) -> None:
        self.calls: list[ModuleCall] = []
        self.lm_calls: list[LMCall] = []
        self._token: contextvars.Token[Trace | None] | None = None
        self._remove_layer: Any = None

    # -- queries -------------------------------------------------------------------
    def __iter__(self) -> Iterator[ModuleCall]:
        return iter(self.calls)

    def __len__(self) -> int:
        return len(self.calls)

    def names(self, *, type: str | None = None) -> list[str]:
        """Module names in call order (optionally only of a module class name)."""
        return [c.name for c in self.calls if type is None or c.type == type]

    def find(self, name: str) -> list[ModuleCall]:
        """The calls of modules named ``name`` (or whose class is named ``name``)."""
        return [c for c in self.calls if name in (c.name, c.type)]

    def get(self, name: str) -> ModuleCall:
        """The single call of module ``name``; fails clearly if there are 0 or several."""
        found = self.find(name)
        if len(found) != 1:
            raise LookupError(
                f"expected one call of module {name!r}, found {len(found)}; "
                f"modules called: {self.names()}"
            )
        return found[0]

    def called(self, name: str) -> bool:
        """Whether module ``name`` ran and returned something (not None)."""
        return any(c.done and c.outputs is not None for c in self.find(name))

    def tool_calls(self) -> list[tuple[str, dict[str, Any]]]:
        """Every tool call the LM asked for, ``(name, arguments)``, in order."""
        return [tc for call in self.lm_calls for tc in call.tool_calls]

    def roots(self) -> list[ModuleCall]:
        return [c for c in self.calls if c.parent is None]

    def format(self) -> str:
        """An indented tree of the calls (shown by ``print(trace)``): children under
        their parent, each level in start order."""
        lines: list[str] = []

        def show(call: ModuleCall) -> None:
            lm = f" [{len(call.lm_calls)} LM call(s)]" if call.lm_calls else ""
            if call.exception is not None:
                result = f" raised {type(call.exception).__name__}"
            else:
                result = " -> None" if call.done and call.outputs is None else ""
            lines.append(f"{'  ' * call.depth}{call.name} ({call.type}){lm}{result}")
            for child in call.children:
                show(child)

        for root in self.roots():
            show(root)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()

    # -- recording -----------------------------------------------------------------
    def start(self, router: Router | None = None) -> Trace:
        """Begin recording (and attribute the LM calls ``router`` sees)."""
        _patch_module_call()
        _TRACES.append(self)
        self._token = _ACTIVE.set(self)
        if router is not None:
            self._remove_layer = router.use(self.layer, name="synalinks_trace", first=True)
        return self

    def stop(self) -> None:
        if self._remove_layer is not None:
            self._remove_layer()
            self._remove_layer = None
        if self in _TRACES:
            _TRACES.remove(self)
        if self._token is not None:
            try:
                _ACTIVE.reset(self._token)
            except ValueError:  # reset from another context (fixture teardown)
                _ACTIVE.set(None)
            self._token = None
        if not _TRACES:
            _unpatch_module_call()

    def __enter__(self) -> Trace:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def layer(self, request: LMRequest, call_next: CallNext) -> Any:
        """Router layer: note the request against the innermost running module."""
        record = LMCall(request=request)
        stack = _STACK.get()
        if stack and stack[-1].owner is self:
            stack[-1].lm_calls.append(record)
        self.lm_calls.append(record)
        try:
            record.response = await call_next(request)
        except BaseException as error:
            record.error = error
            raise
        return record.response


def _current_trace() -> Trace | None:
    trace = _ACTIVE.get()
    if trace is not None:
        return trace
    return _TRACES[-1] if _TRACES else None


def _is_symbolic(args: Any) -> bool:
    from synalinks.src.backend import is_symbolic_data_model

    for arg in args:
        if is_symbolic_data_model(arg):
            return True
        if isinstance(arg, (list, tuple)) and any(is_symbolic_data_model(a) for a in arg):
            return True
    return False


_SKIPPED_TYPES: tuple[type, ...] = ()


def _patch_module_call() -> None:
    global _SKIPPED_TYPES
    if _ORIGINAL_CALL:
        return
    from synalinks.src.modules.embedding_models.embedding_model import EmbeddingModel
    from synalinks.src.modules.language_models.language_model import LanguageModel
    from synalinks.src.modules.module import Module

    _SKIPPED_TYPES = (LanguageModel, EmbeddingModel)
    original = Module.__call__
    _ORIGINAL_CALL.append(original)

    @functools.wraps(original)
    async def traced_call(self: Any, *args: Any, **kwargs: Any) -> Any:
        trace = _current_trace()
        if trace is None or isinstance(self, _SKIPPED_TYPES) or _is_symbolic(args):
            return await original(self, *args, **kwargs)
        stack = _STACK.get()
        parent = stack[-1] if stack and stack[-1].owner is trace else None
        call = ModuleCall(
            module=self,
            name=str(getattr(self, "name", type(self).__name__)),
            type=type(self).__name__,
            inputs=_to_json(args[0] if len(args) == 1 else list(args)),
            kwargs={k: v for k, v in kwargs.items() if k != "training"},
            depth=(parent.depth + 1) if parent is not None else 0,
            parent=parent,
            started=time.perf_counter(),
            owner=trace,
        )
        if parent is not None:
            parent.children.append(call)
        trace.calls.append(call)
        token = _STACK.set((*stack, call))
        try:
            outputs = await original(self, *args, **kwargs)
        except BaseException as error:
            call.exception = error
            raise
        else:
            call.outputs = _to_json(outputs)
            return outputs
        finally:
            call.done = True
            call.elapsed_s = time.perf_counter() - call.started
            _STACK.reset(token)

    traced_call.__synatest_traced__ = True  # type: ignore[attr-defined]
    Module.__call__ = traced_call


def _unpatch_module_call() -> None:
    if not _ORIGINAL_CALL:
        return
    from synalinks.src.modules.module import Module

    Module.__call__ = _ORIGINAL_CALL.pop()
