"""Run ``async def`` tests and async fixtures with no configuration.

One ``asyncio.Runner`` (the standard library's) serves the whole session, so async
fixtures of any scope and the tests that use them share one event loop; litellm's
cached HTTP clients, bound to the loop that created them, keep working across tests.

We step aside for the plugins that already claim a test or fixture:
- pytest-asyncio: in auto mode everything; in strict mode tests marked ``asyncio``
  and fixtures declared with ``@pytest_asyncio.fixture``;
- anyio's plugin: tests marked ``anyio`` (or anyio auto mode), and fixtures of
  requests that involve ``anyio_backend``.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import asyncio


class SessionLoop:
    def __init__(self) -> None:
        self._runner: asyncio.Runner | None = None

    @property
    def runner(self) -> asyncio.Runner:
        if self._runner is None:
            import asyncio  # only sessions that run async code pay for it

            self._runner = asyncio.Runner()
        return self._runner

    def run(self, coro: Any) -> Any:
        # A fresh copy of the caller's context each time: context variables set by
        # sync fixtures are seen by the test, and a test's own settings do not leak
        # into the next test (the Runner's default context is shared by every run).
        return self.runner.run(coro, context=contextvars.copy_context())

    def close(self) -> None:
        if self._runner is not None:
            self._runner.close()
            self._runner = None


def _mode(config: pytest.Config, name: str) -> str | None:
    try:
        value = config.getoption(name, default=None)
    except ValueError:
        value = None
    if value is None:
        try:
            value = config.getini(name)
        except ValueError:
            return None
    return str(value) if value is not None else None


def _pytest_asyncio_auto(config: pytest.Config) -> bool:
    return config.pluginmanager.has_plugin("asyncio") and _mode(config, "asyncio_mode") == "auto"


def _anyio_auto(config: pytest.Config) -> bool:
    return config.pluginmanager.has_plugin("anyio") and _mode(config, "anyio_mode") == "auto"


def claimed_by_other_plugin(item: pytest.Function) -> bool:
    config = item.config
    if config.pluginmanager.has_plugin("asyncio") and (
        _pytest_asyncio_auto(config) or item.get_closest_marker("asyncio") is not None
    ):
        return True
    if config.pluginmanager.has_plugin("anyio") and (
        _anyio_auto(config)
        or item.get_closest_marker("anyio") is not None
        or "anyio_backend" in item.funcargs
    ):
        return True
    return False


def _is_async(func: Any) -> bool:
    return inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(func)


def pyfunc_call(loop: SessionLoop, item: pytest.Function) -> bool | None:
    """Run an unclaimed coroutine test on the session loop; None lets others run it."""
    obj = item.obj
    hypothesis_inner = getattr(getattr(obj, "hypothesis", None), "inner_test", None)
    if hypothesis_inner is not None:
        if inspect.iscoroutinefunction(hypothesis_inner) and not claimed_by_other_plugin(item):

            @functools.wraps(hypothesis_inner)
            def run_inner(*args: Any, **kwargs: Any) -> None:
                loop.run(hypothesis_inner(*args, **kwargs))

            obj.hypothesis.inner_test = run_inner
        return None
    if not inspect.iscoroutinefunction(obj) or claimed_by_other_plugin(item):
        return None
    testargs = {arg: item.funcargs[arg] for arg in item._fixtureinfo.argnames}
    loop.run(obj(**testargs))
    return True


def _claims_fixture(fixturedef: Any, request: pytest.FixtureRequest) -> bool:
    func = fixturedef.func
    if not _is_async(func):
        return False
    config = request.config
    if config.pluginmanager.has_plugin("asyncio"):
        if _pytest_asyncio_auto(config) or getattr(func, "_force_asyncio_fixture", False):
            return False
    if config.pluginmanager.has_plugin("anyio") and "anyio_backend" in request.fixturenames:
        return False
    return True


def _synchronize(loop: SessionLoop, func: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.isasyncgenfunction(func):

        @functools.wraps(func)
        def run_asyncgen(*args: Any, **kwargs: Any) -> Generator[Any]:
            agen = func(*args, **kwargs)
            value = loop.run(agen.__anext__())
            try:
                yield value
            finally:
                try:
                    loop.run(agen.__anext__())
                except StopAsyncIteration:
                    pass
                else:
                    loop.run(agen.aclose())
                    raise RuntimeError(f"async fixture {func.__name__!r} yielded more than once")

        return run_asyncgen

    @functools.wraps(func)
    def run_coroutine(*args: Any, **kwargs: Any) -> Any:
        return loop.run(func(*args, **kwargs))

    return run_coroutine


def fixture_setup(
    loop: SessionLoop, fixturedef: Any, request: pytest.FixtureRequest
) -> Generator[None, Any, Any]:
    """Body of a ``pytest_fixture_setup`` wrapper: synchronize unclaimed async fixtures."""
    if not _claims_fixture(fixturedef, request):
        return (yield)
    from _pytest.fixtures import resolve_fixture_function

    original = fixturedef.func
    # Bound to the test instance where the fixture is a method of the test class.
    func = resolve_fixture_function(fixturedef, request)  # type: ignore[arg-type]
    fixturedef.func = _synchronize(loop, func)
    try:
        return (yield)
    finally:
        fixturedef.func = original
