"""The pytest plugin: options, markers, fixtures, and hooks forwarding to the session.

Loaded through the ``pytest11`` entry point. Imports nothing heavy: Synalinks and
litellm are imported by the fixtures that need them, never at plugin load.
"""

from __future__ import annotations

import importlib
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import pytest

from synatest import _env, options
from synatest.session import MARKERS, ROUTER_KEY, SESSION_KEY, SynatestSession, get_session

if TYPE_CHECKING:
    from synatest.seam import Router

# Feature plugins (options, markers, fixtures, hooks of one capability each),
# registered by this one. Each must stay light to import. They are registered in
# ``pytest_addhooks`` rather than listed in ``pytest_plugins``: pytest looks every
# ``pytest_plugins`` entry up among all installed distributions' entry points first,
# which cost ~18 ms per entry -- more than importing the module.
FEATURE_PLUGINS: tuple[str, ...] = (
    "synatest.plugin.doubles",
    "synatest.plugin.cassettes",
    "synatest.plugin.eval",
    "synatest.plugin.train",
    "synatest.plugin.reports",
    "synatest.plugin.concurrency",
)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    for name in FEATURE_PLUGINS:
        if pluginmanager.is_blocked(name) or pluginmanager.get_plugin(name) is not None:
            continue
        pluginmanager.register(importlib.import_module(name), name)


_EARLY_ENV: list[_env.HermeticEnv] = []

# Warnings the libraries under a Synalinks program emit as noise, ignored unless
# `--synalinks-third-party-warnings=false`. Each is tied to the library's module or
# to a message only that library writes, so the same kind of warning from the user's
# own code still reaches their filters. Categories are builtins: resolving any other
# would import the library at plugin load.
THIRD_PARTY_WARNINGS: tuple[str, ...] = (
    # Synalinks, on every failed LM attempt before retrying (synatest reports the
    # error itself: LMCallFailed, or the test's lm_errors).
    "ignore:Error occured while trying to call:UserWarning",
    "ignore:All retries failed for:UserWarning",
    # Import-time and per-call deprecations inside the libraries.
    "ignore::DeprecationWarning:litellm.*",
    "ignore::DeprecationWarning:pydantic.*",
    "ignore::DeprecationWarning:mlflow.*",
    "ignore::DeprecationWarning:datasets.*",
    "ignore::DeprecationWarning:synalinks.*",
    "ignore::UserWarning:mlflow.*",
    # MLflow about its own type hints, at import.
    "ignore:.*Any type hint is inferred as AnyType:UserWarning",
    # pydantic, while Synalinks parses a litellm response (litellm's TypedDicts).
    "ignore:Item .* is using the `ReadOnly` qualifier:UserWarning",
    # Synalinks' KnowledgeBase when DuckDB's fts/vss extensions cannot be installed,
    # which is what a hermetic session does unless SYNATEST_DUCKDB_HOME holds them.
    "ignore:Failed to install DuckDB extensions:UserWarning",
    "ignore:DuckDB extension LOAD failed:UserWarning",
    # ... and then cannot build the indexes those extensions provide.
    "ignore:FTS index rebuild failed:UserWarning",
    "ignore:Vector index rebuild failed:UserWarning",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    options.register(parser, "session", "retries")


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    # Before any conftest (which may import Synalinks) is loaded.
    _EARLY_ENV.append(_env.enter())


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    for line in MARKERS.values():
        config.addinivalue_line("markers", line)
    if options.value(config, "third-party-warnings"):
        # Appended: they take precedence over the ini's own lines (a `-W` flag still
        # wins); `--synalinks-third-party-warnings=false` gives the ini full control.
        for line in THIRD_PARTY_WARNINGS:
            config.addinivalue_line("filterwarnings", line)
    env = _EARLY_ENV.pop() if _EARLY_ENV else _env.enter()
    session = SynatestSession(config, env)
    config.stash[SESSION_KEY] = session
    session.start()


def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(SESSION_KEY, None)
    if session is not None:
        session.close()
        del config.stash[SESSION_KEY]


def pytest_report_header(config: pytest.Config) -> str:
    return get_session(config).report_header()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    get_session(item.config).start_test(item)
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    result = yield
    get_session(item.config).check_test(item)
    return result


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    try:
        return (yield)
    finally:
        get_session(item.config).end_test(item)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Any:
    return get_session(pyfuncitem.config).pyfunc_call(pyfuncitem)


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(
    fixturedef: Any, request: pytest.FixtureRequest
) -> Generator[None, Any, Any]:
    return (yield from get_session(request.config).fixture_setup(fixturedef, request))


@pytest.fixture
def synalinks_router(request: pytest.FixtureRequest) -> Router:
    """The router answering this test's LM calls: its ``requests`` and ``lm_errors``."""
    router: Router = request.node.stash[ROUTER_KEY]
    return router


@pytest.fixture
def synalinks_session(request: pytest.FixtureRequest) -> SynatestSession:
    """The synatest session object (seed, live mode, event loop)."""
    return get_session(request.config)
