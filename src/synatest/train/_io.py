"""Atomic writes of training outputs (on the shared :mod:`synatest._atomic`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from synatest._atomic import atomic_path
from synatest._atomic import atomic_write_text as write_text

__all__ = ["write_json", "write_text", "write_with"]


def write_json(path: Path, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def write_with(path: Path, writer: Callable[[Path], None], suffix: str = "") -> None:
    """Let ``writer`` fill a temp file, then move it onto ``path``."""
    with atomic_path(path, suffix=suffix) as tmp:
        writer(tmp)
