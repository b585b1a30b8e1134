"""pytest plugin of eval mode: options, markers, and hooks forwarding to EvalSession.

Light to import: the eval core imports Synalinks only to resolve rewards, in
``--synalinks-eval`` runs.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from synatest import options
from synatest.eval import hookspecs
from synatest.eval.session import EVAL_KEY, EvalSession, get_eval_session


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    options.register(parser, "eval")


def pytest_configure(config: pytest.Config) -> None:
    session = EvalSession(config)
    config.stash[EVAL_KEY] = session
    session.configure()


def pytest_collection_finish(session: pytest.Session) -> None:
    get_eval_session(session.config).collection_finish(session.items)


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Generator[None, Any, Any]:
    return (yield from get_eval_session(pyfuncitem.config).pyfunc_call(pyfuncitem))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    get_eval_session(item.config).makereport(item, report)
    return report


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """pytest-xdist (controller): a worker finished; keep its eval results."""
    output = getattr(node, "workeroutput", None)
    if output:
        get_eval_session(node.config).add_worker_output(output)


def pytest_sessionfinish(session: pytest.Session) -> None:
    get_eval_session(session.config).finish(session)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    get_eval_session(terminalreporter.config).terminal_summary(terminalreporter)
