"""A test session never writes under $HOME and never reaches the network at import."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from synatest import _env


def test_session_importing_synalinks_leaves_home_untouched(
    pytester: pytest.Pytester, fresh_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = fresh_home
    monkeypatch.delenv("LITELLM_LOCAL_MODEL_COST_MAP", raising=False)
    pytester.makepyfile(
        """
        import os
        import synalinks

        def test_uses_synalinks():
            home = os.environ["SYNALINKS_HOME"]
            assert os.path.basename(os.path.dirname(home)).startswith("synatest-")
            assert os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"
            assert os.environ["MLFLOW_DISABLE_TELEMETRY"] == "true"
            # Persists the default model to synalinks.json: must land in the temp home.
            synalinks.set_default_language_model("openai/gpt-4o-mini")
            assert os.path.exists(os.path.join(home, "synalinks.json"))
            print("SESSION_TMP=" + os.environ["SYNATEST_SESSION_TMP"])
        """
    )
    result = pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert list(home.iterdir()) == []
    # litellm did not try to fetch its cost map from the network.
    assert "Failed to fetch remote model cost map" not in result.stderr.str()
    found = re.search(r"SESSION_TMP=(\S+)", result.stdout.str())
    assert found is not None
    assert not Path(found.group(1)).exists(), "the session temp dir is removed at the end"


def test_enter_redirects_dirs_and_restore_puts_everything_back() -> None:
    environ = {"HOME": "/home/u", "DO_NOT_TRACK": "false"}
    handle = _env.enter(environ)
    try:
        assert handle.tmpdir is not None
        assert environ["SYNALINKS_HOME"] == os.path.join(handle.tmpdir, "synalinks")
        assert environ["MPLCONFIGDIR"] == os.path.join(handle.tmpdir, "matplotlib")
        assert environ["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"
        assert environ["DO_NOT_TRACK"] == "true"
        assert environ[_env.MARKER] == handle.tmpdir
        assert Path(environ["SYNALINKS_HOME"]).is_dir()
    finally:
        handle.restore(environ)
    assert environ == {"HOME": "/home/u", "DO_NOT_TRACK": "false"}
    assert handle.tmpdir is not None and not Path(handle.tmpdir).exists()


def test_user_chosen_synalinks_home_is_respected(tmp_path: Path) -> None:
    environ = {"SYNALINKS_HOME": str(tmp_path / "mine")}
    handle = _env.enter(environ)
    try:
        assert environ["SYNALINKS_HOME"] == str(tmp_path / "mine")
    finally:
        handle.restore(environ)
    assert environ == {"SYNALINKS_HOME": str(tmp_path / "mine")}


def test_worker_inherits_the_controller_temp_dir_and_does_not_delete_it(tmp_path: Path) -> None:
    controller = {}
    parent = _env.enter(controller)
    try:
        worker_env = dict(controller)
        worker = _env.enter(worker_env)
        assert worker.tmpdir == parent.tmpdir and not worker.owns_tmpdir
        worker.restore(worker_env)
        assert parent.tmpdir is not None and Path(parent.tmpdir).exists()
    finally:
        parent.restore(controller)
