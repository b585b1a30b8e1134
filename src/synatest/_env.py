"""Hermetic process environment for test sessions.

Set before Synalinks (or litellm, MLflow, matplotlib) is first imported, so that a
test session never writes under ``$HOME`` and never reaches the network at import.
Kept free of heavy imports: the plugin calls it while pytest is still starting.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from collections.abc import Mapping, MutableMapping

# Variables set whatever the user has (they only switch things *off*).
FORCED = {
    # litellm fetches its model cost map from the network at import otherwise,
    # retrying for ~10 s on a machine with no route out.
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "HF_HUB_DISABLE_TELEMETRY": "1",
}

DUCKDB_HOME_ENV = "SYNATEST_DUCKDB_HOME"
HYPOTHESIS_HOME_ENV = "SYNATEST_HYPOTHESIS_HOME"

# Directories redirected under the session's temp dir unless the user chose them.
REDIRECTED_DIRS = {
    "SYNALINKS_HOME": "synalinks",  # synalinks.json (may hold a persisted default LM)
    "MPLCONFIGDIR": "matplotlib",  # font cache written at first import
    "HF_DATASETS_CACHE": "hf-datasets",  # datasets writes its cache on load
    # DuckDB (Synalinks' KnowledgeBase) keeps extensions (and installs missing ones:
    # `INSTALL fts`) and secrets under `~/.duckdb`; it has no variable for that, so
    # `duckdb.connect` is given this as its `home_directory` (see
    # `synatest.seam.patch.patch_duckdb`).
    DUCKDB_HOME_ENV: "duckdb",
    # SchemaLM's Hypothesis storage (its unicode tables cache), instead of
    # `./.hypothesis` in the working directory (see `hypothesis_home`).
    HYPOTHESIS_HOME_ENV: "hypothesis",
}

MARKER = "SYNATEST_SESSION_TMP"  # tells xdist workers the dirs are already ours


class HermeticEnv:
    """What :func:`enter` changed, so :meth:`restore` can put it back."""

    # A plain class, not a dataclass: it loads with the plugin (see synatest.options.Option).
    def __init__(
        self, tmpdir: str | None, owns_tmpdir: bool, saved: dict[str, str | None] | None = None
    ) -> None:
        self.tmpdir = tmpdir
        self.owns_tmpdir = owns_tmpdir
        self.saved: dict[str, str | None] = {} if saved is None else saved

    def restore(self, environ: MutableMapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        for key, value in self.saved.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        if self.owns_tmpdir and self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)


def enter(environ: MutableMapping[str, str] | None = None) -> HermeticEnv:
    """Make the environment hermetic; return a handle that restores it.

    A worker started by a synatest session (pytest-xdist) inherits the controller's
    temp dir through ``SYNATEST_SESSION_TMP`` and neither creates nor deletes one.
    """
    env = os.environ if environ is None else environ
    inherited = env.get(MARKER)
    if inherited:
        tmpdir, owns = inherited, False
    else:
        tmpdir, owns = tempfile.mkdtemp(prefix="synatest-"), True
    handle = HermeticEnv(tmpdir=tmpdir, owns_tmpdir=owns)

    def put(key: str, value: str) -> None:
        handle.saved.setdefault(key, env.get(key))
        env[key] = value

    for key, value in FORCED.items():
        put(key, value)
    for key, sub in REDIRECTED_DIRS.items():
        if key not in env:
            path = os.path.join(tmpdir, sub)
            os.makedirs(path, exist_ok=True)
            put(key, path)
    if owns:
        put(MARKER, tmpdir)
    return handle


def hypothesis_home() -> str:
    """Where synatest's own Hypothesis runs (SchemaLM) keep their storage.

    ``$SYNATEST_HYPOTHESIS_HOME`` in a test session (under its temp dir), else one
    temp dir per process: never ``./.hypothesis``, which belongs to the user's own
    property tests.
    """
    home = os.environ.get(HYPOTHESIS_HOME_ENV)
    if not home:
        home = _process_hypothesis_home()
    return home


@functools.cache
def _process_hypothesis_home() -> str:
    return tempfile.mkdtemp(prefix="synatest-hypothesis-")


def describe(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    return f"SYNALINKS_HOME={env.get('SYNALINKS_HOME', '?')}"
