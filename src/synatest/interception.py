"""The seam: every LM, embedding and decision call Synalinks makes, routed.

Synalinks looks ``litellm.acompletion`` / ``litellm.aembedding`` /
``litellm.asystemone`` up on the module at call time, so replacing those three
attributes reaches every ``LanguageModel``, ``EmbeddingModel`` and ``DecisionModel``
without touching the program under test.

Each call becomes an :class:`LMRequest` and runs through the current
:class:`Router`: an ordered chain of layers (doubles, cassettes, recorders), each an
``async def layer(request, call_next)`` that answers the request or passes it on.
At the end of the chain a call is either sent to the real provider (live mode) or
fails at once with :class:`~synatest.errors.UnservedLMCall`.

The router in force is, in order: a per-task override (:func:`use_router`, for
harnesses that run many examples concurrently), the current test's router, the
session's router. Nothing here imports litellm or Synalinks at module import.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import importlib.abc
import importlib.machinery
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Literal

from synatest.errors import LMCallFailed, SynatestError, UnservedLMCall

Kind = Literal["completion", "embedding", "decision"]
CallNext = Callable[["LMRequest"], Awaitable[Any]]
Layer = Callable[["LMRequest", CallNext], Awaitable[Any]]

# litellm attribute -> request kind
SEAMS: dict[str, Kind] = {
    "acompletion": "completion",
    "aembedding": "embedding",
    "asystemone": "decision",
}


def _text_of(content: Any) -> str:
    """The text of a chat message's content (a string or a list of parts)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text":
                parts.append(str(part.get("text", "")))
            elif isinstance(part, str):
                parts.append(part)
        return "\n".join(parts)
    return str(content)


def shorten(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class LMRequest:
    """One call as litellm received it, with convenient views for matching.

    ``kwargs`` is exactly what Synalinks passed to litellm (not a copy: treat it as
    read-only). The properties below are derived from it.
    """

    kind: Kind
    kwargs: dict[str, Any]
    test_id: str | None = None

    @property
    def model(self) -> str:
        return str(self.kwargs.get("model", ""))

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.kwargs.get("messages") or [])

    @property
    def response_format(self) -> dict[str, Any] | None:
        rf = self.kwargs.get("response_format")
        return rf if isinstance(rf, dict) else None

    @property
    def schema(self) -> dict[str, Any] | None:
        """The requested JSON schema of a structured-output call, else None."""
        rf = self.response_format
        if not rf:
            return None
        if rf.get("type") == "json_schema":
            js = rf.get("json_schema") or {}
            schema = js.get("schema")
            return schema if isinstance(schema, dict) else None
        return None

    @property
    def schema_title(self) -> str | None:
        schema = self.schema
        if schema is None:
            return None
        title = schema.get("title")
        if title:
            return str(title)
        rf = self.response_format or {}
        name = (rf.get("json_schema") or {}).get("name")
        return str(name) if name else None

    @property
    def tools(self) -> list[dict[str, Any]]:
        return list(self.kwargs.get("tools") or [])

    @property
    def tool_names(self) -> list[str]:
        names = []
        for tool in self.tools:
            fn = tool.get("function") if isinstance(tool, dict) else None
            if isinstance(fn, dict) and fn.get("name"):
                names.append(str(fn["name"]))
        return names

    @property
    def stream(self) -> bool:
        return bool(self.kwargs.get("stream"))

    @property
    def input(self) -> list[str]:
        """The texts of an embedding request."""
        value = self.kwargs.get("input")
        if value is None:
            return []
        if isinstance(value, str):
            return [value]
        return [str(v) for v in value]

    @property
    def last_user_message(self) -> str:
        for message in reversed(self.messages):
            if isinstance(message, dict) and message.get("role") == "user":
                return _text_of(message.get("content"))
        return ""

    @property
    def text(self) -> str:
        """All message texts (or embedding inputs) joined: what ``contains=`` searches."""
        if self.kind == "embedding":
            return "\n".join(self.input)
        return "\n".join(_text_of(m.get("content")) for m in self.messages if isinstance(m, dict))

    def describe(self) -> str:
        """One line naming the request: model, schema title, last user message."""
        bits = [f"model={self.model!r}"]
        if self.kind == "embedding":
            bits.append(f"embedding of {len(self.input)} text(s)")
            first = self.input[0] if self.input else ""
            bits.append(f"first input: {shorten(first)!r}")
            return ", ".join(bits)
        title = self.schema_title
        bits.append(f"schema={title!r}" if title else "schema=None")
        if self.tool_names:
            bits.append(f"tools={self.tool_names}")
        bits.append(f"last user message: {shorten(self.last_user_message)!r}")
        return ", ".join(bits)


def unserved_message(request: LMRequest, hints: Sequence[str] = ()) -> str:
    what = {"completion": "LM", "embedding": "embedding", "decision": "decision-model"}
    lines = [
        f"{what[request.kind]} call not served by any double or cassette, and live calls "
        "are off (synatest never lets a test reach a real model by accident).",
        f"  request: {request.describe()}",
    ]
    if request.test_id:
        lines.append(f"  test: {request.test_id}")
    lines.append("How to serve it:")
    lines.append(
        "  - script it: request the `scripted_lm` fixture and queue a reply "
        "(scripted_lm.add(...) or scripted_lm.on(contains=...).reply(...));"
    )
    lines.extend(f"  - {hint}" for hint in hints)
    lines.append("  - or allow real calls for this run: pytest --synalinks-live")
    return "\n".join(lines)


@dataclass
class Router:
    """The chain of layers that answers the LM calls of one test (or session)."""

    live: bool = False
    test_id: str | None = None
    allow_lm_errors: bool = False
    # Extra "how to serve it" lines for the unserved message (e.g. how to record).
    hints: list[str] = field(default_factory=list)
    layers: list[tuple[str, Layer]] = field(default_factory=list)
    requests: list[LMRequest] = field(default_factory=list)
    # LM errors Synalinks swallowed while allowed (see ``allow_lm_errors``).
    lm_errors: list[BaseException] = field(default_factory=list)
    # End-of-test checks: each returns None, or raises a SynatestError.
    checks: list[Callable[[], None]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def use(self, layer: Layer, *, name: str = "", first: bool = False) -> Callable[[], None]:
        """Add a layer (last by default: earlier layers answer first); returns its remover."""
        entry = (name or getattr(layer, "__name__", type(layer).__name__), layer)
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
        raise UnservedLMCall(unserved_message(request, self.hints))


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


# --- patching litellm -----------------------------------------------------------

_ORIGINALS: dict[str, Callable[..., Awaitable[Any]]] = {}


async def call_original(request: LMRequest) -> Any:
    """Send a request to the real provider through the unpatched litellm function."""
    for attr, kind in SEAMS.items():
        if kind == request.kind:
            original = _ORIGINALS.get(attr)
            if original is None:
                import litellm

                original = getattr(litellm, attr)
            return await original(**request.kwargs)
    raise AssertionError(request.kind)  # pragma: no cover


def _make_seam(kind: Kind) -> Callable[..., Awaitable[Any]]:
    async def seam(**kwargs: Any) -> Any:
        return await current_router().dispatch(LMRequest(kind=kind, kwargs=kwargs))

    seam.__name__ = f"synatest_{kind}_seam"
    seam.__synatest_seam__ = True  # type: ignore[attr-defined]
    return seam


def install_litellm(module: ModuleType | None = None) -> None:
    """Replace litellm's async entry points with the router (idempotent)."""
    if module is None:
        import litellm as module
    for attr, kind in SEAMS.items():
        current = getattr(module, attr, None)
        if current is None or getattr(current, "__synatest_seam__", False):
            continue
        _ORIGINALS[attr] = current
        setattr(module, attr, _make_seam(kind))


def uninstall_litellm() -> None:
    module = sys.modules.get("litellm")
    if module is None:
        return
    for attr, original in _ORIGINALS.items():
        setattr(module, attr, original)
    _ORIGINALS.clear()


def is_installed() -> bool:
    module = sys.modules.get("litellm")
    return bool(
        module and getattr(getattr(module, "acompletion", None), "__synatest_seam__", False)
    )


# --- Synalinks patches: zero retry waits, never retry or swallow harness errors --

_ZERO_WAITS = True
_SYNALINKS_PATCHED: dict[str, tuple[ModuleType, str, Any]] = {}

_LM_MODULES = (
    "synalinks.src.modules.language_models.language_model",
    "synalinks.src.modules.embedding_models.embedding_model",
    "synalinks.src.modules.decision_models.decision_model",
)


def set_zero_waits(value: bool) -> None:
    """Zero Synalinks' retry backoff (default), or keep it (live runs against real rate limits)."""
    global _ZERO_WAITS
    _ZERO_WAITS = value


def _patch_attr(module: ModuleType, attr: str, value: Any) -> None:
    key = f"{module.__name__}.{attr}"
    if key not in _SYNALINKS_PATCHED:
        _SYNALINKS_PATCHED[key] = (module, attr, getattr(module, attr))
    setattr(module, attr, value)


def _patched_wait_factory(original: Callable[..., Any]) -> Callable[..., Any]:
    def rate_limit_aware_wait(max_wait: float = 60.0) -> Any:
        if _ZERO_WAITS:
            import tenacity

            return tenacity.wait_none()
        return original(max_wait=max_wait)

    return rate_limit_aware_wait


def _no_retry_for_harness(*exception_types: type[BaseException]) -> Any:
    """``retry_if_not_exception_type`` that also never retries a SynatestError."""
    import tenacity

    excluded = (*exception_types, SynatestError)
    return tenacity.retry_if_exception(lambda e: not isinstance(e, excluded))


def _wrap_call_with_retry(original: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    async def _call_with_retry(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await original(self, *args, **kwargs)
        except SynatestError:
            raise
        except Exception as error:
            # Synalinks' caller catches this, warns, and returns None (reward 0).
            # With a fallback model configured, the fallback answers instead.
            if getattr(self, "fallback", None):
                raise
            router = current_router()
            if router.allow_lm_errors:
                router.lm_errors.append(error)
                raise
            raise LMCallFailed(
                f"{type(self).__name__} {getattr(self, 'model', '?')!r} failed after "
                f"Synalinks' retries, which would have swallowed the error (the module "
                f"returns None and the reward becomes 0):\n"
                f"  {type(error).__module__}.{type(error).__qualname__}: {error}\n"
                "Mark the test @pytest.mark.synalinks_allow_lm_errors if the failure is "
                "expected (the errors are then listed in the router's lm_errors)."
            ) from error

    _call_with_retry.__synatest_patched__ = True  # type: ignore[attr-defined]
    return _call_with_retry


def patch_synalinks_module(module: ModuleType) -> None:
    """Apply synatest's patches to one of Synalinks' model modules (idempotent)."""
    if hasattr(module, "rate_limit_aware_wait"):
        current = module.rate_limit_aware_wait
        if not getattr(current, "__synatest_patched__", False):
            patched = _patched_wait_factory(current)
            patched.__synatest_patched__ = True  # type: ignore[attr-defined]
            _patch_attr(module, "rate_limit_aware_wait", patched)
    if hasattr(module, "retry_if_not_exception_type"):
        if module.retry_if_not_exception_type is not _no_retry_for_harness:
            _patch_attr(module, "retry_if_not_exception_type", _no_retry_for_harness)
    for cls_name in ("LanguageModel", "EmbeddingModel"):
        cls = getattr(module, cls_name, None)
        if cls is None or cls.__module__ != module.__name__:
            continue
        method = cls.__dict__.get("_call_with_retry")
        if method is not None and not getattr(method, "__synatest_patched__", False):
            _patch_attr(cls, "_call_with_retry", _wrap_call_with_retry(method))  # type: ignore[arg-type]


def unpatch_synalinks() -> None:
    for obj, attr, original in _SYNALINKS_PATCHED.values():
        setattr(obj, attr, original)
    _SYNALINKS_PATCHED.clear()


# --- apply the patches whenever the modules are imported -------------------------

_HOOKS: dict[str, Callable[[ModuleType], None]] = {
    "litellm": install_litellm,
    **{name: patch_synalinks_module for name in _LM_MODULES},
}


class _PostImportLoader(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader, callback: Callable[[ModuleType], None]):
        self._loader = loader
        self._callback = callback

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        # Restore the real loader so reloads and introspection see it.
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        self._callback(module)


class _PostImportFinder(importlib.abc.MetaPathFinder):
    """Runs a callback right after selected modules finish importing."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        callback = _HOOKS.get(fullname)
        if callback is None:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _PostImportLoader(spec.loader, callback)
                return spec
        return None


_FINDER = _PostImportFinder()


def activate() -> None:
    """Patch what is imported already and what will be (idempotent)."""
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
    for name, callback in _HOOKS.items():
        module = sys.modules.get(name)
        if module is not None:
            callback(module)


def deactivate() -> None:
    """Undo every patch (end of the pytest session)."""
    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
    uninstall_litellm()
    unpatch_synalinks()


def snapshot(request: LMRequest) -> LMRequest:
    """A deep copy of a request, safe to keep after Synalinks mutates its messages."""
    return LMRequest(
        kind=request.kind, kwargs=copy.deepcopy(request.kwargs), test_id=request.test_id
    )
