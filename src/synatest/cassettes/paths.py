"""Where a test's cassette lives: ``<cassette dir>/<test module path>/<test name>.yaml``."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

_UNSAFE = re.compile(r"[^A-Za-z0-9._\-\[\]=,+@]")
MAX_NAME = 120


def _safe(part: str) -> str:
    part = _UNSAFE.sub("_", part)
    if part in ("", ".", ".."):
        part = part.replace(".", "_") or "_"
    if len(part) > MAX_NAME:
        digest = hashlib.sha1(part.encode()).hexdigest()[:10]
        part = f"{part[: MAX_NAME - 11]}-{digest}"
    return part


def cassette_relpath(nodeid: str) -> Path:
    """``tests/sub/test_x.py::TestA::test_b[p]`` -> ``tests/sub/test_x/TestA.test_b[p].yaml``."""
    module, _, rest = nodeid.partition("::")
    parts = [p for p in module.replace("\\", "/").split("/") if p]
    if parts and parts[-1].endswith(".py"):
        parts[-1] = parts[-1][:-3]
    safe_parts = [("_up_" if p == ".." else _safe(p)) for p in parts]
    name = _safe(rest.replace("::", ".") if rest else "module")
    return Path(*safe_parts, f"{name}.yaml") if safe_parts else Path(f"{name}.yaml")


def cassette_path(nodeid: str, cassette_dir: Path) -> Path:
    return cassette_dir / cassette_relpath(nodeid)


def named_cassette(name: str, cassette_dir: Path) -> Path:
    """A shared cassette ``name`` (may contain ``/``) under the cassette dir."""
    parts = [_safe(p) for p in name.replace("\\", "/").split("/") if p]
    if not parts:
        raise ValueError("a cassette name cannot be empty")
    if not parts[-1].endswith(".yaml"):
        parts[-1] += ".yaml"
    return cassette_dir.joinpath(*parts)
