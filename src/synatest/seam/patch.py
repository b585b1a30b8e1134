"""Patching litellm and Synalinks: installed now and whenever they are imported later."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Awaitable, Callable
from types import ModuleType
from typing import Any

from synatest import _env
from synatest._postimport import PostImportFinder
from synatest.errors import LMCallFailed, SynatestError
from synatest.seam.provider import ORIGINALS, SEAMS
from synatest.seam.request import Kind, LMRequest
from synatest.seam.retry import FINAL
from synatest.seam.router import current_router


def _make_seam(kind: Kind) -> Callable[..., Awaitable[Any]]:
    async def seam(**kwargs: Any) -> Any:
        return await current_router().dispatch(LMRequest(kind=kind, kwargs=kwargs))

    seam.__name__ = f"synatest_{kind}_seam"
    seam.__synatest_seam__ = True  # type: ignore[attr-defined]
    return seam


def _is_user_mock(value: Any) -> bool:
    # unittest.mock's objects (patch, AsyncMock, MagicMock), named without importing it.
    return type(value).__module__ == "unittest.mock"


def install_litellm(module: ModuleType | None = None) -> None:
    """Replace litellm's async entry points with the router (idempotent).

    A test's own mock in force (``mock.patch("litellm.acompletion")`` started by a
    fixture) is left in place: it answers that test's calls, and putting the seam in
    front of it would keep the mock as "the real litellm" once the test restored it.
    """
    if module is None:
        import litellm as module
    for attr, kind in SEAMS.items():
        current = getattr(module, attr, None)
        if current is None or _is_user_mock(current):
            continue
        if getattr(current, "__synatest_seam__", False):
            continue
        ORIGINALS[attr] = current
        setattr(module, attr, _make_seam(kind))


def uninstall_litellm() -> None:
    module = sys.modules.get("litellm")
    if module is None:
        return
    for attr, original in ORIGINALS.items():
        setattr(module, attr, original)
    ORIGINALS.clear()


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
    """Zero Synalinks' retry backoff in strict tests (default), or keep it (live runs
    against real rate limits). Tests that are not strict always keep it."""
    global _ZERO_WAITS
    _ZERO_WAITS = value


def _patch_attr(module: ModuleType, attr: str, value: Any) -> None:
    key = f"{module.__name__}.{attr}"
    if key not in _SYNALINKS_PATCHED:
        _SYNALINKS_PATCHED[key] = (module, attr, getattr(module, attr))
    setattr(module, attr, value)


def _patched_wait_factory(original: Callable[..., Any]) -> Callable[..., Any]:
    def rate_limit_aware_wait(max_wait: float = 60.0) -> Any:
        if _ZERO_WAITS and current_router().strict:
            import tenacity

            return tenacity.wait_none()
        return original(max_wait=max_wait)

    return rate_limit_aware_wait


def _no_retry_for_harness(*exception_types: type[BaseException]) -> Any:
    """``retry_if_not_exception_type`` that also never retries a SynatestError, nor a
    provider error synatest's own retries are done with (seam/retry.py)."""
    import tenacity

    excluded = (*exception_types, SynatestError)
    return tenacity.retry_if_exception(
        lambda e: not isinstance(e, excluded) and not getattr(e, FINAL, False)
    )


def _wrap_call_with_retry(original: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    async def _call_with_retry(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await original(self, *args, **kwargs)
        except SynatestError:
            raise
        except Exception as error:
            # Synalinks' caller catches this, warns, and returns None (reward 0).
            # With a fallback model configured, the fallback answers instead; a test
            # that is not strict keeps Synalinks' own behaviour.
            router = current_router()
            if getattr(self, "fallback", None) or not router.strict:
                raise
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
    for cls_name in ("LanguageModel", "EmbeddingModel", "DecisionModel"):
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


# --- DuckDB: its home under the session temp dir -------------------------------


def patch_duckdb(module: ModuleType) -> None:
    """Make ``duckdb.connect`` use ``$SYNATEST_DUCKDB_HOME`` as DuckDB's home directory.

    DuckDB puts its extension directory (where ``INSTALL`` writes and autoloading
    looks) and its persistent secrets under its home directory, ``$HOME`` by default.
    Extensions are never fetched from the network in a session: known extensions
    are not auto-installed, and an explicit ``INSTALL`` (Synalinks' KnowledgeBase
    installs ``fts`` and ``vss``) reads ``<home>/repository`` instead of
    extensions.duckdb.org, failing at once when the file is not there. For full-text
    or vector search offline, point ``SYNATEST_DUCKDB_HOME`` at a directory whose
    ``.duckdb/extensions`` holds them (``SYNATEST_DUCKDB_HOME=$HOME`` reuses yours).
    What the caller passes in ``config`` wins. Only in strict tests (see
    :mod:`synatest.strictness`); elsewhere DuckDB runs as it would without the plugin.
    Idempotent; undone by :func:`unpatch_duckdb`.
    """
    original = getattr(module, "connect", None)
    if original is None or getattr(original, "__synatest_patched__", False):
        return

    @functools.wraps(original)
    def hermetic_connect(*args: Any, **kwargs: Any) -> Any:
        home = os.environ.get(_env.DUCKDB_HOME_ENV)
        # A test that is not strict gets DuckDB as it comes (its own extensions).
        if home and current_router().strict:
            config = dict(kwargs.get("config") or {})
            if len(args) >= 3:  # connect(database, read_only, config)
                config = dict(args[2] or {})
                args = args[:2]
            config.setdefault("home_directory", home)
            config.setdefault("autoinstall_known_extensions", False)
            config.setdefault("custom_extension_repository", os.path.join(home, "repository"))
            kwargs["config"] = config
        return original(*args, **kwargs)

    hermetic_connect.__synatest_patched__ = True  # type: ignore[attr-defined]
    hermetic_connect.__synatest_original__ = original  # type: ignore[attr-defined]
    module.connect = hermetic_connect  # type: ignore[attr-defined]


def unpatch_duckdb() -> None:
    module = sys.modules.get("duckdb")
    connect = getattr(module, "connect", None)
    original = getattr(connect, "__synatest_original__", None)
    if module is not None and original is not None:
        module.connect = original  # type: ignore[attr-defined]


# --- apply the patches whenever the modules are imported -------------------------

_HOOKS: dict[str, Callable[[ModuleType], None]] = {
    "litellm": install_litellm,
    "duckdb": patch_duckdb,  # KnowledgeBase: DuckDB's home under the session temp dir
    **{name: patch_synalinks_module for name in _LM_MODULES},
}


_FINDER = PostImportFinder(_HOOKS)


def activate() -> None:
    """Patch what is imported already and what will be (idempotent)."""
    _FINDER.install()
    for name, callback in _HOOKS.items():
        module = sys.modules.get(name)
        if module is not None:
            callback(module)


def deactivate() -> None:
    """Undo every patch (end of the pytest session)."""
    from synatest.seam import guard

    guard.uninstall()
    _FINDER.uninstall()
    uninstall_litellm()
    unpatch_synalinks()
    unpatch_duckdb()
