"""Record a suite's cassettes from a simulated model: no real provider, no API key.

:func:`record_from_loopback` starts a :class:`~synatest.testing.LoopbackLM` whose
``responder`` plays the model, tells the suite where it listens through an
environment variable (the suite's ``LanguageModel(api_base=os.environ.get(...))``),
and runs pytest in a subprocess with ``--synalinks-record-mode=rewrite``. The
examples' recording scripts are one call to it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from synatest.testing.server import LoopbackLM, Responder

# litellm wants some key for `openai/...` models; this one is never recorded.
LOOPBACK_KEY = "sk-loopback-dummy"


def record_from_loopback(
    responder: Responder,
    pytest_args: Sequence[str],
    *,
    api_base_env: str = "SYNATEST_EXAMPLE_API_BASE",
    cwd: str | os.PathLike[str] | None = None,
    idle_timeout: float = 600,
) -> int:
    """Re-record cassettes by running pytest against a loopback model.

    Args:
        responder: called with each request body; returns the structured reply (a
            dict), or None to let the server build a schema-valid one.
        pytest_args: the tests to record and any extra flags (e.g.
            ``["examples/eval", "--synalinks-eval"]``).
        api_base_env: the environment variable the suite reads its ``api_base``
            from (default ``SYNATEST_EXAMPLE_API_BASE``).
        cwd: where pytest runs (default: the current directory).
        idle_timeout: seconds without a request after which the server stops.

    Returns:
        pytest's exit code.
    """
    with LoopbackLM(responder, idle_timeout=idle_timeout) as server:
        env = {**os.environ, api_base_env: server.base_url, "OPENAI_API_KEY": LOOPBACK_KEY}
        env.pop("CI", None)  # CI refuses to record; this run records on purpose
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            *pytest_args,
            "--synalinks-record-mode=rewrite",
        ]
        return subprocess.call(command, cwd=Path(cwd) if cwd else None, env=env)
