"""The compatibility check's comparison (``run_compat.py``), on JUnit files written here."""

from __future__ import annotations

from pathlib import Path

import pytest
from run_compat import Outcome, compare, node_id, read_junit, report, shipped_tests

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="5">
<testcase classname="pkg.a_test.ATest" name="test_ok" time="0.1"/>
<testcase classname="pkg.a_test.ATest" name="test_fails" time="0.1">
  <failure message="AssertionError: 1 != 2">Traceback...</failure></testcase>
<testcase classname="pkg.a_test.ATest" name="test_refused" time="0.1">
  <failure message="synatest.errors.UnservedLMCall: LM call not served">...</failure>
</testcase>
<testcase classname="pkg.a_test.ATest" name="test_skipped" time="0">
  <skipped message="no GPU"/></testcase>
<testcase classname="pkg.a_test.ATest" name="test_teardown" time="0.1"/>
<testcase classname="pkg.a_test.ATest" name="test_teardown" time="0.1">
  <error message="failed on teardown">boom</error></testcase>
</testsuite></testsuites>
"""


def test_read_junit_gives_each_test_its_worst_outcome(tmp_path: Path) -> None:
    path = tmp_path / "run.xml"
    path.write_text(JUNIT)
    outcomes = read_junit(path)
    statuses = {test_id.split("::")[1]: o.status for test_id, o in outcomes.items()}
    assert statuses == {
        "test_ok": "passed",
        "test_fails": "failed",
        "test_refused": "failed",
        "test_skipped": "skipped",
        "test_teardown": "error",
    }
    assert outcomes["pkg.a_test.ATest::test_refused"].refused
    assert not outcomes["pkg.a_test.ATest::test_fails"].refused


def test_compare_sorts_every_change() -> None:
    refusal = "synatest.errors.UnservedLMCall: decision-model call not served"
    without = {
        "same": Outcome("passed"),
        "refused": Outcome("passed"),
        "broken": Outcome("passed"),
        "gone": Outcome("passed"),
        "was_failing": Outcome("failed", "ConnectionError"),
    }
    with_plugin = {
        "same": Outcome("passed"),
        "refused": Outcome("failed", refusal),
        "broken": Outcome("failed", "synatest.errors.LMCallFailed: swallowed"),
        "new": Outcome("passed"),
        "was_failing": Outcome("failed", refusal),
    }
    result = compare(without, with_plugin)
    assert result.refused == ["refused"]
    assert result.other == ["broken", "gone", "new"]
    assert result.refused_unchanged == ["was_failing"]
    assert not result.ok
    text = report("demo", result)
    assert "demo: without synatest: 1 failed, 4 passed" in text
    assert "demo: 1 changed by a refused live call, 3 changed otherwise" in text
    assert "  changed: refused live call: refused (passed -> failed)" in text
    assert (
        "  CHANGED: broken (passed -> failed)\n    synatest.errors.LMCallFailed: swallowed" in text
    )
    assert "  CHANGED: gone (passed -> absent)" in text
    assert compare({"a": Outcome("passed")}, {"a": Outcome("passed")}).ok


def test_shipped_tests_are_found_from_the_installed_package(tmp_path: Path) -> None:
    count = shipped_tests(tmp_path)
    copied = sorted((tmp_path / "synalinks_tests").rglob("*_test.py"))
    assert count == len(copied) > 100
    assert (tmp_path / "synalinks_tests" / "src" / "modules" / "decision_models").is_dir()


def test_missing_synalinks_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    with pytest.raises(SystemExit, match="compat: Synalinks is not installed in this environment"):
        shipped_tests(tmp_path)


def test_node_ids_are_found_from_junit_ids(tmp_path: Path) -> None:
    module = tmp_path / "synalinks_tests" / "src" / "kb" / "adapter_test.py"
    module.parent.mkdir(parents=True)
    module.write_text("")
    assert (
        node_id(tmp_path, "synalinks_tests.src.kb.adapter_test.SearchTest::test_x[1]")
        == "synalinks_tests/src/kb/adapter_test.py::SearchTest::test_x[1]"
    )
    assert node_id(tmp_path, "synalinks_tests.src.kb.adapter_test::test_y") == (
        "synalinks_tests/src/kb/adapter_test.py::test_y"
    )
    assert node_id(tmp_path, "synalinks_tests.src.gone_test::test_z") is None
