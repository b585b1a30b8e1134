"""pytest plugin: write every report of a ``--synalinks-eval`` run, and JUnit properties.

Eval mode (``synatest.plugin.eval``) builds the run's :class:`RunReport` at session
end and calls ``pytest_synalinks_eval_report(config, report)`` (on the xdist
controller only, after merging the workers' results); this plugin implements that
hook to write ``report.json``, ``examples.jsonl``, ``examples.csv``, ``report.md``
(also appended to ``$GITHUB_STEP_SUMMARY``) and ``report.html`` to
``--synalinks-report-dir``. It also attaches each example's result to its test's
JUnit XML entry. Light to import: the renderers load only at session end.

``--synalinks-mlflow[=URI]`` also logs the run to MLflow (``synatest.reports.mlflow_run``),
once the report files are written, on the controller only; a shard's run is not
logged (``synatest report merge --mlflow`` logs the merged run once).
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


options.group(
    "mlflow",
    [
        options.Option(
            "mlflow",
            "log the eval run to MLflow (params, metrics per suite, the reports as artifacts); "
            "URI: a tracking URI such as sqlite:///mlflow.db (without one: "
            "$MLFLOW_TRACKING_URI, else MLflow's default)",
            nargs="?",
            const="default",
            metavar="URI",
        ),
        options.Option(
            "mlflow-experiment",
            "the MLflow experiment of --synalinks-mlflow runs",
            default="synatest",
            metavar="NAME",
        ),
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
    uri = options.value(config, "mlflow")
    if uri:
        config.stash[MLFLOW_KEY] = _log_to_mlflow(config, report, None if uri == "default" else uri)


def _log_to_mlflow(config: pytest.Config, report: RunReport, uri: str | None) -> str:
    if report.shard is not None:
        return (
            "synatest mlflow: a shard's run is not logged; "
            "`synatest report merge --mlflow` logs the merged run once"
        )
    from synatest.errors import ReportError
    from synatest.reports.mlflow_run import describe, log_run

    experiment = str(options.value(config, "mlflow-experiment"))
    try:
        run_id = log_run(
            report,
            tracking_uri=uri,
            experiment=experiment,
            files=config.stash.get(WRITTEN_KEY, {}).values(),
        )
    except ReportError as error:
        return f"synatest mlflow: error: {error}"
    return f"synatest mlflow: logged {describe(run_id, uri, experiment)}"


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
