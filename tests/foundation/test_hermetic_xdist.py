"""Under pytest-xdist, workers share the controller's hermetic temp dir."""

from __future__ import annotations

from pathlib import Path

import pytest


def test_workers_share_the_controller_temp_dir(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SYNATEST_SESSION_TMP")  # as a fresh session would start
    monkeypatch.delenv("SYNALINKS_HOME")
    out = pytester.path / "seen"
    out.mkdir()
    pytester.makepyfile(
        f"""
        import os
        import pytest

        @pytest.mark.parametrize("n", range(4))
        def test_record(n):
            worker = os.environ.get("PYTEST_XDIST_WORKER", "controller")
            path = os.path.join({str(out)!r}, f"{{worker}}-{{n}}")
            with open(path, "w") as f:
                f.write(os.environ["SYNATEST_SESSION_TMP"] + "\\n" + os.environ["SYNALINKS_HOME"])
        """
    )
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)
    seen = [p.read_text().splitlines() for p in out.iterdir()]
    workers = {p.name.split("-")[0] for p in out.iterdir()}
    assert workers == {"gw0", "gw1"}
    tmpdirs = {tmp for tmp, _ in seen}
    homes = {home for _, home in seen}
    assert len(tmpdirs) == 1 and len(homes) == 1
    (tmpdir,) = tmpdirs
    assert homes == {str(Path(tmpdir) / "synalinks")}
    assert not Path(tmpdir).exists(), "removed by the controller at the end"
