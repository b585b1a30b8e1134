"""Hermetic process environment for test sessions.

Set before Synalinks (or litellm, MLflow, matplotlib) is first imported, so that a
test session never writes under ``$HOME`` and never reaches the network at import.
Kept free of heavy imports: the plugin calls it while pytest is still starting.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field

# Variables set whatever the user has (they only switch things *off*).
FORCED = {
    # litellm fetches its model cost map from the network at import otherwise,
    # retrying for ~10 s on a machine with no route out.
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "HF_HUB_DISABLE_TELEMETRY": "1",
}

# Directories redirected under the session's temp dir unless the user chose them.
REDIRECTED_DIRS = {
    "SYNALINKS_HOME": "synalinks",  # synalinks.json (may hold a persisted default LM)
    "MPLCONFIGDIR": "matplotlib",  # font cache written at first import
    "HF_DATASETS_CACHE": "hf-datasets",  # datasets writes its cache on load
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


def describe(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    return f"SYNALINKS_HOME={env.get('SYNALINKS_HOME', '?')}"
