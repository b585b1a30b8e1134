"""pytest plugin of eval mode: options, markers, and hooks forwarding to EvalSession.

Light to import: it loads :mod:`synatest.eval.flags` and
:mod:`synatest.eval.shard_flags` only. The eval core
(:mod:`synatest.eval.session`: datasets, gates, statistics) is imported when the run
has ``--synalinks-eval`` or collects an evaluation example; Synalinks only to
resolve rewards, in ``--synalinks-eval`` runs.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import pytest

from synatest import markers, options
from synatest.eval import flags, hookspecs, shard_flags

if TYPE_CHECKING:
    from synatest.eval.session import EvalSession

EVAL_KEY = pytest.StashKey["EvalSession"]()


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    options.register(parser, "eval", "shard")


def eval_session(config: pytest.Config, create: bool = False) -> EvalSession | None:
    """The run's EvalSession; made (importing the eval core) only when ``create``."""
    session = config.stash.get(EVAL_KEY, None)
    if session is None and create:
        from synatest.eval.session import EvalSession

        session = config.stash[EVAL_KEY] = EvalSession(config)
        session.configure()
    return session


def pytest_configure(config: pytest.Config) -> None:
    for line in markers.MARKERS.values():
        config.addinivalue_line("markers", line)
    config.stash[shard_flags.SHARD_KEY] = shard_flags.shard_of(config)  # a bad value fails at start
    if flags.enabled(config):
        eval_session(config, create=True)
    else:
        flags.check_eval_only_flags(config)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """--synalinks-shard: keep this shard's examples (after every other selection)."""
    if config.stash.get(shard_flags.SHARD_KEY, None) is not None:
        from synatest.eval import shard

        shard.select(config, items)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    current = eval_session(session.config) or eval_session(
        session.config,
        create=any(item.get_closest_marker(markers.EVAL_MARKER) for item in session.items),
    )
    if current is not None:
        current.collection_finish(session.items)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
    """--synalinks-resume: an example the journal holds is reported as it ended, not run."""
    current = eval_session(item.config)
    if current is None or not current.resume:
        return None
    return current.runtest_protocol(item, nextitem)


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Generator[None, Any, Any]:
    current = eval_session(pyfuncitem.config)
    if current is None:
        return (yield)
    return (yield from current.pyfunc_call(pyfuncitem))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    current = eval_session(item.config)
    if current is not None:
        current.makereport(item, report)
    return report


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """pytest-xdist (controller): a worker finished; keep its eval results."""
    output = getattr(node, "workeroutput", None)
    current = eval_session(node.config)
    if output and current is not None:
        current.add_worker_output(output)


def pytest_sessionfinish(session: pytest.Session) -> None:
    current = eval_session(session.config)
    if current is not None:
        current.finish(session)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    current = eval_session(terminalreporter.config)
    if current is not None:
        current.terminal_summary(terminalreporter)


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> Any:
    """A repeated example's line says how many of its runs passed: ``PASSED (3/5 runs passed)``."""
    if report.when != "call" or report.outcome not in ("passed", "failed"):
        return None
    tally = next((str(v) for k, v in report.user_properties if k == "synalinks_runs"), None)
    if tally is None or tally.split(" ", 1)[0].endswith("/1"):
        return None
    word = report.outcome.upper()
    letter = "." if report.passed else "F"
    return (
        report.outcome,
        letter,
        (f"{word} ({tally})", {"green": report.passed, "red": report.failed}),
    )
