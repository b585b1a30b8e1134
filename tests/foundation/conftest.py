"""Fixtures of the hermetic-environment tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from synatest import _env


@pytest.fixture
def fresh_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty ``$HOME``, and none of the directories a session redirects set: as on a
    fresh machine, nothing inherited from the session running this test."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var in (
        *_env.REDIRECTED_DIRS,
        _env.MARKER,
        "XDG_CONFIG_HOME",
        "XDG_CACHE_HOME",
        "HYPOTHESIS_STORAGE_DIRECTORY",
    ):
        monkeypatch.delenv(var, raising=False)
    return home
