"""An eval run logged to MLflow, next to Synalinks' own training runs.

``log_run(report, tracking_uri=..., experiment=..., files=...)`` creates one MLflow
run in ``experiment`` (created when missing) with:

- params: ``models``, ``repeat``, ``shard`` (``none`` or ``merged N``), ``git_commit``,
  ``label``, ``synatest_version``, ``synalinks_version``;
- metrics, per suite as ``<suite>.<name>`` (the suite name with characters MLflow
  refuses replaced by ``_``): ``mean``, ``ci_low``, ``ci_high``, ``pass_rate``,
  ``pass_at_k.<k>``, ``pass_hat_k``, ``n``, ``errors``, ``cost``, ``prompt_tokens``,
  ``completion_tokens``, ``tokens``, ``calls``, ``latency_s`` (mean per example),
  ``gates_passed`` (1/0); and for the run: ``cost``, ``tokens``, ``duration_s``;
- the report files as artifacts under ``reports/``;
- tags ``synatest.kind=eval`` and ``synatest.gates=passed|failed``.

It uses an ``MlflowClient`` for the URI, so MLflow's process-wide tracking URI and
active run are left as they were.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from synatest.errors import ReportError

if TYPE_CHECKING:
    from synatest.eval.results import RunReport

DEFAULT_EXPERIMENT = "synatest"
_UNSAFE = re.compile(r"[^\w.\- /]")


def metric_name(*parts: str) -> str:
    return ".".join(_UNSAFE.sub("_", part) for part in parts)


def run_metrics(report: RunReport) -> dict[str, float]:
    """Every metric ``log_run`` logs, by name."""
    metrics: dict[str, float] = {
        "cost": report.usage.cost,
        "tokens": float(report.usage.prompt_tokens + report.usage.completion_tokens),
        "duration_s": report.duration_s,
    }
    for suite in report.suites:

        def put(name: str, value: float | None, suite_name: str = suite.name) -> None:
            if value is not None:
                metrics[metric_name(suite_name, name)] = float(value)

        put("mean", suite.mean)
        put("ci_low", suite.ci_low)
        put("ci_high", suite.ci_high)
        put("pass_rate", suite.passes / suite.n if suite.n else None)
        for k, value in suite.pass_at_k.items():
            put(f"pass_at_k.{k}", value)
        put("pass_hat_k", suite.pass_hat_k)
        put("n", suite.n)
        put("errors", suite.errors)
        put("cost", suite.usage.cost)
        put("prompt_tokens", suite.usage.prompt_tokens)
        put("completion_tokens", suite.usage.completion_tokens)
        put("tokens", suite.usage.prompt_tokens + suite.usage.completion_tokens)
        put("calls", suite.usage.calls)
        durations = [example.duration_s for example in suite.examples]
        put("latency_s", sum(durations) / len(durations) if durations else None)
        put("gates_passed", float(suite.passed))
    return metrics


def run_params(report: RunReport, shards: int | None = None) -> dict[str, str]:
    repeat = max((suite.repeat for suite in report.suites), default=1)
    return {
        "models": ",".join(report.models) or "default",
        "repeat": str(repeat),
        "shard": f"merged {shards}" if shards else "none",
        "git_commit": report.git_commit or "unknown",
        "label": report.label or "",
        "synatest_version": report.synatest_version or "unknown",
        "synalinks_version": report.synalinks_version or "unknown",
    }


def _artifact_location(uri: str) -> str | None:
    """Artifacts of a new experiment in a sqlite store: beside the database file.

    MLflow's default for such a store is ``./mlruns`` in the working directory.
    """
    parsed = urlparse(uri)
    if parsed.scheme != "sqlite":
        return None
    database = Path(unquote(parsed.path[1:])).resolve()
    return (database.parent / f"{database.stem}-artifacts").as_uri()


def log_run(
    report: RunReport,
    *,
    tracking_uri: str | None,
    experiment: str = DEFAULT_EXPERIMENT,
    files: Iterable[Path] = (),
    shards: int | None = None,
) -> str:
    """Log ``report`` as one MLflow run; returns its run id.

    Raises:
        ReportError: naming the URI, when MLflow cannot be reached or refuses the run.
    """
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    where = tracking_uri or "MLflow's default tracking URI"
    parsed = urlparse(tracking_uri or "")
    if parsed.scheme == "sqlite" and not Path(unquote(parsed.path[1:])).resolve().parent.is_dir():
        raise ReportError(f"{tracking_uri}: cannot log the eval run: its folder does not exist")
    try:
        client = MlflowClient(tracking_uri=tracking_uri)
        found = client.get_experiment_by_name(experiment)
        if found is not None:
            experiment_id = found.experiment_id
        else:
            experiment_id = client.create_experiment(
                experiment, artifact_location=_artifact_location(tracking_uri or "")
            )
        passed = report.passed
        tags = {
            "synatest.kind": "eval",
            "synatest.gates": "passed" if passed else "failed",
            "mlflow.source.git.commit": report.git_commit or "",
        }
        run = client.create_run(
            experiment_id,
            run_name=f"synatest eval{' ' + report.label if report.label else ''}",
            tags=tags,
        )
        run_id = run.info.run_id
        now = int(time.time() * 1000)
        metrics = [Metric(k, v, now, 0) for k, v in sorted(run_metrics(report).items())]
        params = [Param(k, v) for k, v in run_params(report, shards).items()]
        for start in range(0, max(len(metrics), 1), 1000):
            client.log_batch(
                run_id,
                metrics=metrics[start : start + 1000],
                params=params if start == 0 else [],
                tags=[RunTag(k, v) for k, v in tags.items()] if start == 0 else [],
            )
        for path in files:
            client.log_artifact(run_id, str(path), artifact_path="reports")
        client.set_terminated(run_id, "FINISHED")
    except MlflowException as error:
        raise ReportError(f"{where}: cannot log the eval run: {error.message}") from None
    except OSError as error:
        raise ReportError(f"{where}: cannot log the eval run: {error}") from None
    return str(run_id)


def describe(run_id: str, tracking_uri: str | None, experiment: str) -> str:
    at = tracking_uri or "MLflow's default tracking URI"
    return f"MLflow run {run_id} in experiment {experiment!r} at {at}"


def session_line(report: RunReport, uri: str, experiment: str, files: Iterable[Path]) -> str:
    """What ``--synalinks-mlflow`` does at the end of an eval session, as its terminal line.

    On the xdist controller only (where the report is built). A shard's run is not logged:
    its numbers are partial and its gates deferred; ``synatest report merge --mlflow`` logs
    the merged run once. ``uri`` "default" is MLflow's own default.
    """
    if report.shard is not None:
        return (
            "synatest mlflow: a shard's run is not logged; "
            "`synatest report merge --mlflow` logs the merged run once"
        )
    tracking_uri = None if uri == "default" else uri
    try:
        run_id = log_run(report, tracking_uri=tracking_uri, experiment=experiment, files=files)
    except ReportError as error:
        return f"synatest mlflow: error: {error}"
    return f"synatest mlflow: logged {describe(run_id, tracking_uri, experiment)}"
