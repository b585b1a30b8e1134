"""pytest plugin: concurrent examples of eval suites (``--synalinks-concurrency``).

Options and hooks only; the session deciding what runs ahead is
:mod:`synatest.eval.window`, imported by ``--synalinks-eval`` runs. Light to import.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import pytest

from synatest import options
from synatest._argtypes import argtype
from synatest.eval import flags
from synatest.eval.flags import DEFAULT_WINDOW
from synatest.session import SESSION_KEY

if TYPE_CHECKING:  # the core is imported by --synalinks-eval runs only
    from synatest.eval.window import ConcurrencySession

CONCURRENCY_KEY = pytest.StashKey["ConcurrencySession"]()


@argtype
def _rate_limits(raw: str) -> dict[str, float]:
    from synatest.eval.concurrency import parse_rate_limits

    return parse_rate_limits(raw)


@argtype
def _token_limits(raw: str) -> dict[str, float]:
    from synatest.eval.concurrency import parse_rate_limits

    return parse_rate_limits(raw, "token limit")


@argtype
def _window(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError("the concurrency must be a whole number >= 1 (1 turns it off)")
    return value


options.group(
    "concurrency",
    [
        options.Option(
            "concurrency",
            "examples of an eval suite in flight at once: while one example runs, the next "
            "ones are prefetched (their LM calls start early); each example still reports "
            "on its own. Applies to --synalinks-eval runs; the default 8 applies with "
            "--synalinks-live, otherwise give it to enable it (1 turns it off). In live "
            "runs it is also the ceiling of each model's adaptive limit of calls in flight",
            default=DEFAULT_WINDOW,
            type=_window,
            metavar="N",
        ),
        options.Option(
            "rate-limit",
            "most LM calls per model when examples run concurrently: RATE or MODEL=RATE, "
            "comma-separated, RATE like 500/min or 5/s (e.g. 'openai/gpt-4o=500/min,2/s')",
            type=_rate_limits,
            metavar="SPEC",
        ),
        options.Option(
            "token-rate-limit",
            "most tokens (prompt + completion) per model in live runs: RATE or MODEL=RATE, "
            "comma-separated, RATE like 90000/min (e.g. 'openai/gpt-4o=90000/min'); each "
            "call is counted before it is sent and corrected by its usage",
            type=_token_limits,
            metavar="SPEC",
        ),
    ],
)


def pytest_addoption(parser: pytest.Parser) -> None:
    options.register(parser, "concurrency")


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    # Only eval runs prefetch; eval mode may be disabled (-p no:synatest.plugin.eval).
    if config.pluginmanager.has_plugin("synatest.plugin.eval") and flags.enabled(config):
        from synatest.eval.window import ConcurrencySession

        config.stash[CONCURRENCY_KEY] = ConcurrencySession.from_config(config)


def _session(config: pytest.Config) -> ConcurrencySession | None:
    return config.stash.get(CONCURRENCY_KEY, None)


def pytest_collection_finish(session: pytest.Session) -> None:
    if (current := _session(session.config)) is not None:
        current.collection_finish(session.items)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # Runs after the session's per-test reset (a wrapper) and before the fixtures.
    if (current := _session(item.config)) is not None:
        current.setup()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Generator[None, Any, Any]:
    current = _session(pyfuncitem.config)
    if current is None:
        return (yield)
    return (yield from current.pyfunc_call(pyfuncitem))


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    if (current := _session(session.config)) is not None:
        current.finish()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if (current := _session(terminalreporter.config)) is not None:
        return current.summary(terminalreporter)  # with the limiter's line
    # Not an eval run: the limiter's line alone, if it acted.
    limiter = getattr(terminalreporter.config.stash.get(SESSION_KEY, None), "limiter", None)
    if limiter is not None and (line := limiter.describe()) is not None:
        terminalreporter.write_line(line)
