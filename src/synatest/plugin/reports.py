"""pytest plugin: write every report of a ``--synalinks-eval`` run, and JUnit properties.

Eval mode (``synatest.plugin.eval``) builds the run's :class:`RunReport` at session
end and calls ``pytest_synalinks_eval_report(config, report)`` (on the xdist
controller only, after merging the workers' results); this plugin implements that
hook to write ``report.json``, ``examples.jsonl``, ``examples.csv``, ``report.md``
(also appended to ``$GITHUB_STEP_SUMMARY``) and ``report.html`` to
``--synalinks-report-dir``. It also attaches each example's result to its test's
JUnit XML entry. Light to import: the renderers load only at session end.
``--synalinks-mlflow`` then logs the run (``synatest.reports.mlflow_run.session_line``).
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from synatest import options
from synatest._argtypes import argtype

if TYPE_CHECKING:
    from synatest.eval.results import ExampleResult, RunReport

WRITTEN_KEY = pytest.StashKey[dict[str, Path]]()
MLFLOW_KEY = pytest.StashKey[str]()


@argtype
def _formats(raw: str) -> tuple[str, ...]:
    from synatest.reports import parse_formats

    return parse_formats(raw)


options.group(
    "reports",
    [
        options.Option(
            "report-formats",
            "report files written to --synalinks-report-dir after an eval run: 'all' or a "
            "comma-separated list of json,jsonl,csv,md,html",
            default="all",
            type=_formats,
            metavar="LIST",
        ),
    ],
)


_MLFLOW_HELP = "log the eval run to MLflow at URI (default: $MLFLOW_TRACKING_URI or MLflow's)"
options.group(
    "mlflow",
    [
        options.Option("mlflow", _MLFLOW_HELP, nargs="?", const="default", metavar="URI"),
        options.Option("mlflow-experiment", "its experiment", default="synatest", metavar="NAME"),
    ],
)


def pytest_addoption(parser: pytest.Parser) -> None:
    options.register(parser, "reports", "mlflow")


def pytest_configure(config: pytest.Config) -> None:
    options.value(config, "report-formats")  # a bad ini value fails at start, not at end


def report_dir(config: pytest.Config) -> Path:
    """``--synalinks-report-dir``, relative to where pytest was invoked."""
    raw = options.value(config, "report-dir") or "reports"
    return Path(config.invocation_params.dir) / str(raw)


@pytest.hookimpl(optionalhook=True, trylast=True)
def pytest_synalinks_eval_report(config: pytest.Config, report: RunReport) -> None:
    from synatest.reports import FORMATS, write_reports

    formats = options.value(config, "report-formats")
    if isinstance(formats, str):  # the default, not converted by argparse
        formats = _formats(formats)
    config.stash[WRITTEN_KEY] = write_reports(report, report_dir(config), formats or FORMATS)
    if uri := options.value(config, "mlflow"):
        from synatest.reports.mlflow_run import session_line

        experiment = str(options.value(config, "mlflow-experiment"))
        written = config.stash[WRITTEN_KEY].values()
        config.stash[MLFLOW_KEY] = session_line(report, uri, experiment, written)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    written = terminalreporter.config.stash.get(WRITTEN_KEY, None)
    if written:
        names = ", ".join(path.name for path in written.values())
        directory = next(iter(written.values())).parent
        terminalreporter.write_line(f"synatest reports: {names} in {directory}")
    logged = terminalreporter.config.stash.get(MLFLOW_KEY, None)
    if logged:
        terminalreporter.write_line(logged, red=": error:" in logged)


def _example_of(item: pytest.Item) -> ExampleResult | None:
    """The eval result eval mode recorded for ``item`` (its latest), if any."""
    from synatest.plugin.eval import eval_session

    session = eval_session(item.config)
    results = getattr(session, "results", None) or ()
    for _, result in reversed(results):
        if result.nodeid == item.nodeid:
            return result  # type: ignore[no-any-return]
    return None


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call" and item.get_closest_marker("synalinks_eval") is not None:
        example = _example_of(item)
        if example is not None:
            from synatest.reports.junit import junit_properties

            # Like record_property: --junitxml writes the teardown report's
            # user_properties (copied from the item) as <property> elements.
            item.user_properties.extend(junit_properties(example))
    return report
