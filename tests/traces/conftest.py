"""Production traces for the traces tests: ``production.py`` run once, for real.

A subprocess runs the Synalinks program of ``program.py`` with ``record_traces`` and
``enable_observability`` (a local sqlite MLflow store) against the loopback server over
real HTTP; the tests import what it wrote.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent


@pytest.fixture(scope="session", autouse=True)
def _mlflow_imported(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every part of MLflow (and SQLAlchemy) these tests use, imported before any test.

    Both import parts of themselves on first use. Imported during a test that uses
    ``pytester``, those modules are dropped from ``sys.modules`` when it ends, and the
    next MLflow call in this process mixes two copies of SQLAlchemy
    (``'InternalTraversal' object is not callable``).
    """
    import mlflow
    from mlflow.tracking import MlflowClient

    from synatest.eval.results import RunReport
    from synatest.reports.mlflow_run import log_run

    where = tmp_path_factory.mktemp("mlflow-warm-up")
    uri = f"sqlite:///{where / 'mlflow.db'}"
    (where / "report.json").write_text("{}")
    log_run(RunReport(), tracking_uri=uri, experiment="warm-up", files=[where / "report.json"])
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("warm-up")
    assert experiment is not None
    list(client.search_traces(locations=[experiment.experiment_id]))
    mlflow.set_tracking_uri(uri)
    try:
        mlflow.search_runs(experiment_names=["warm-up"])
    finally:
        mlflow.set_tracking_uri(None)


@pytest.fixture(scope="session")
def production(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with ``recorder/`` and ``mlflow.db`` from 4 program calls (one repeated)."""
    out = tmp_path_factory.mktemp("production")
    env = {
        **os.environ,
        "SYNALINKS_HOME": str(out / "synalinks-home"),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
    }
    env.pop("MLFLOW_TRACKING_URI", None)
    done = subprocess.run(
        [sys.executable, str(HERE / "production.py"), str(out)],
        check=False,  # the return code is asserted, with stderr
        cwd=out,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ['{"answer":', '"5"}', '{"answer":', '"12"}'] * 1 + [
        '{"answer":',
        '"5"}',
        '{"answer":',
        '"10"}',
    ]
    return out


@pytest.fixture
def recorder_file(production: Path) -> Path:
    (path,) = (production / "recorder").rglob("*.jsonl")
    return path


@pytest.fixture
def program_project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester project holding the program module (the emitted tests build it)."""
    shutil.copy(HERE / "program.py", pytester.path / "program.py")
    return pytester
