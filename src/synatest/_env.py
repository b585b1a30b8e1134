"""Hermetic process environment for test sessions.

Set before Synalinks (or litellm, MLflow, matplotlib) is first imported, so that a
test session never writes under ``$HOME`` and never reaches the network at import.
Kept free of heavy imports: the plugin calls it while pytest is still starting.
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
import tempfile
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

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
    # `duckdb.connect` is given this as its `home_directory` (see `patch_duckdb`).
    DUCKDB_HOME_ENV: "duckdb",
    # SchemaLM's Hypothesis storage (its unicode tables cache), instead of
    # `./.hypothesis` in the working directory (see `hypothesis_home`).
    HYPOTHESIS_HOME_ENV: "hypothesis",
}

MARKER = "SYNATEST_SESSION_TMP"  # tells xdist workers the dirs are already ours


@dataclass
class HermeticEnv:
    """What :func:`enter` changed, so :meth:`restore` can put it back."""

    tmpdir: str | None
    owns_tmpdir: bool
    saved: dict[str, str | None] = field(default_factory=dict)

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


def patch_duckdb(module: ModuleType) -> None:
    """Make ``duckdb.connect`` use ``$SYNATEST_DUCKDB_HOME`` as DuckDB's home directory.

    DuckDB puts its extension directory (where ``INSTALL`` writes and autoloading
    looks) and its persistent secrets under its home directory, ``$HOME`` by default.
    Extensions are never fetched from the network in a session: known extensions
    are not auto-installed, and an explicit ``INSTALL`` (Synalinks' KnowledgeBase
    installs ``fts`` and ``vss``) reads ``<home>/repository`` instead of
    extensions.duckdb.org, failing at once when the file is not there. For full-text
    or vector search offline, point ``SYNATEST_DUCKDB_HOME`` at a directory whose
    ``.duckdb/extensions`` holds them (``SYNATEST_DUCKDB_HOME=$HOME`` reuses yours).
    What the caller passes in ``config`` wins. Idempotent; undone by
    :func:`unpatch_duckdb`.
    """
    original = getattr(module, "connect", None)
    if original is None or getattr(original, "__synatest_patched__", False):
        return

    @functools.wraps(original)
    def hermetic_connect(*args: Any, **kwargs: Any) -> Any:
        home = os.environ.get(DUCKDB_HOME_ENV)
        if home:
            config = dict(kwargs.get("config") or {})
            if len(args) >= 3:  # connect(database, read_only, config)
                config = dict(args[2] or {})
                args = args[:2]
            config.setdefault("home_directory", home)
            config.setdefault("autoinstall_known_extensions", False)
            config.setdefault("custom_extension_repository", os.path.join(home, "repository"))
            kwargs["config"] = config
        return original(*args, **kwargs)

    hermetic_connect.__synatest_patched__ = True  # type: ignore[attr-defined]
    hermetic_connect.__synatest_original__ = original  # type: ignore[attr-defined]
    module.connect = hermetic_connect  # type: ignore[attr-defined]


def unpatch_duckdb() -> None:
    module = sys.modules.get("duckdb")
    connect = getattr(module, "connect", None)
    original = getattr(connect, "__synatest_original__", None)
    if module is not None and original is not None:
        module.connect = original  # type: ignore[attr-defined]


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
