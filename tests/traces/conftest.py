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
