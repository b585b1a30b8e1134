"""Messages about a missing recording print commands that work from where pytest ran."""

from __future__ import annotations

import pytest

TEST = """
import pytest
from helpers import ask

@pytest.mark.synalinks_cassette
async def test_marked():
    await ask("What is the capital of France?")

async def test_unmarked():
    await ask("What is the capital of Spain?")
"""


def test_commands_use_node_ids_relative_to_the_current_directory(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    sub = project.mkpydir("suite")
    (sub / "test_miss.py").write_text(TEST)
    monkeypatch.chdir(sub)  # run from a subdirectory: node ids start with suite/
    result = project.runpytest("-p", "no:cacheprovider", "test_miss.py")
    result.assert_outcomes(failed=2)
    out = result.stdout.str()
    # No cassette yet: record it once, named as pasted from here.
    assert "CassetteMiss: no recording in the cassette matches this LM call" in out
    assert "Record this test once (needs the real model and its key):" in out
    assert "  pytest --synalinks-record-mode=once test_miss.py::test_marked\n" in out
    assert "record it once: pytest --synalinks-record-mode=once test_miss.py::test_unmarked" in out
    # The suggested command works from here.
    recorded = project.runpytest(
        "-p", "no:cacheprovider", "--synalinks-record-mode=once", "test_miss.py::test_marked"
    )
    recorded.assert_outcomes(passed=1)
