"""The plugin registers through its entry point, stays light, and can be disabled."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def test_options_are_registered_with_ini_mirrors(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    text = " ".join(result.stdout.str().split())  # help text is wrapped at any width
    for expected in [
        "--synalinks-seed=N random seed set before every test (random, numpy and Synalinks' "
        "own) (default: 1337) (ini: synalinks_seed)",
        "--synalinks-live allow LM calls that no double or cassette serves",
        "--synalinks-model=MODEL model of the `language_model` fixture (default: "
        "openai/gpt-4o-mini) (ini: synalinks_model)",
        "--synalinks-embedding-model=MODEL model of the `embedding_model` fixture (default: "
        "openai/text-embedding-3-small)",
        "synalinks_seed (string): default for --synalinks-seed",
        "synalinks_live (bool): default for --synalinks-live",
    ]:
        assert expected in text


def test_plugin_load_imports_neither_synalinks_nor_litellm(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import sys

        def test_nothing_heavy(pytestconfig):
            assert pytestconfig.pluginmanager.has_plugin("synatest")
            heavy = {
                "synalinks", "litellm", "mlflow", "pandas", "numpy", "vcr", "pydantic",
                "jinja2", "matplotlib",
            }
            assert not heavy & set(sys.modules), heavy & set(sys.modules)
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1)


# Every synatest module a `pytest --collect-only` of a suite that never uses Synalinks
# loads: the plugin's declarations (options, markers, fixtures, hooks) and nothing of
# what they forward to. Each costs startup time, all the more with no bytecode cache
# (benchmarks/bench_collect.py: < 50 ms in all); add one here only on purpose.
STARTUP_MODULES = {
    "synatest",
    "synatest._argtypes",
    "synatest._env",
    "synatest._postimport",
    "synatest.eval",
    "synatest.eval.flags",
    "synatest.eval.hookspecs",
    "synatest.eval.shard_flags",
    "synatest.markers",
    "synatest.options",
    "synatest.plugin",
    "synatest.plugin.cassettes",
    "synatest.plugin.concurrency",
    "synatest.plugin.doubles",
    "synatest.plugin.eval",
    "synatest.plugin.reports",
    "synatest.plugin.train",
    "synatest.session",
}
STARTUP_LINES = 2_420  # their source lines, docstrings and comments included (+30: the
# --synalinks-mlflow options and their hook, issue 21; +50: the retry options, issue 22;
# +100: the budget options and their parsers, +20: the token rate limit and the limiter's
# summary line, +20: --synalinks-resume and its runtest_protocol hook, issue 22)


def test_collect_only_of_a_plain_suite_loads_only_the_declarations(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_plain="def test_a():\n    pass\n")
    pytester.makeconftest(
        """
        import json, sys

        def pytest_sessionfinish(session):
            loaded = {
                name: getattr(module, "__file__", None)
                for name, module in sys.modules.items()
                if name == "synatest" or name.startswith("synatest.")
            }
            (session.config.rootpath / "loaded.json").write_text(json.dumps(loaded))
        """
    )
    result = pytester.runpytest_subprocess("--collect-only", "-q")
    result.stdout.fnmatch_lines(["*1 test collected*"])
    loaded = json.loads((pytester.path / "loaded.json").read_text())
    assert set(loaded) == STARTUP_MODULES, sorted(set(loaded) ^ STARTUP_MODULES)
    lines = sum(len(Path(path).read_text().splitlines()) for path in loaded.values())
    assert lines <= STARTUP_LINES


def test_seam_triggers_are_the_modules_the_seam_patches() -> None:
    from synatest.seam import patch
    from synatest.session import SEAM_TRIGGERS

    assert set(SEAM_TRIGGERS) == {*patch._HOOKS, "synatest.seam"}


def test_a_module_imported_at_collection_is_patched_before_any_test(
    pytester: pytest.Pytester,
) -> None:
    # The session loads the seam when litellm is first imported (here by a test module
    # at collection), not only when its first test starts.
    pytester.makepyfile(test_lm="import litellm\n\ndef test_a():\n    pass\n")
    pytester.makeconftest(
        """
        import sys

        def pytest_collection_finish(session):
            seam = getattr(sys.modules["litellm"].acompletion, "__synatest_seam__", False)
            print(f"seam at collection: {seam}")
        """
    )
    result = pytester.runpytest_subprocess("--collect-only", "-s")
    result.stdout.fnmatch_lines(["seam at collection: True"])


EVAL_CORE = (
    "synatest.eval.session",
    "synatest.eval.gates",
    "synatest.eval.stats",
    "synatest.eval.concurrency",
    "synatest.eval.window",
    "synatest.datasets",
)


def test_eval_core_loads_only_for_eval_examples(pytester: pytest.Pytester) -> None:
    # A suite that never uses Synalinks pays for none of the eval core.
    pytester.makepyfile(
        test_plain=f"""
        import sys

        def test_plain():
            loaded = [name for name in {EVAL_CORE!r} if name in sys.modules]
            assert not loaded, loaded
        """
    )
    pytester.runpytest_subprocess().assert_outcomes(passed=1)
    # Once an evaluation example is collected, eval mode loads and skips it as before.
    pytester.makepyfile(
        test_suite="""
        import pytest

        @pytest.mark.synalinks_eval(suite="qa")
        @pytest.mark.parametrize("x", [1, 2])
        def test_example(x):
            return x
        """
    )
    result = pytester.runpytest_subprocess("-rs", "test_suite.py")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(["*evaluation suite 'qa': run `pytest --synalinks-eval`*"])


def test_feature_plugins_can_be_disabled_one_by_one(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_ok(): pass")
    result = pytester.runpytest_subprocess("-p", "no:synatest.plugin.eval", "--synalinks-eval")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unrecognized arguments: --synalinks-eval*"])
    result = pytester.runpytest_subprocess("-p", "no:synatest.plugin.eval", "--synalinks-seed", "3")
    result.assert_outcomes(passed=1)


def test_report_header_says_offline_and_seed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_ok(): pass")
    result = pytester.runpytest("--synalinks-seed", "7")
    result.stdout.fnmatch_lines(["synatest: offline (unserved LM calls fail), seed=7, *"])
    result = pytester.runpytest("--synalinks-live")
    result.stdout.fnmatch_lines(["synatest: live LM calls ALLOWED, seed=1337, *"])


def test_disabling_the_plugin_removes_everything(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SYNATEST_SESSION_TMP")  # set by the session running this test
    pytester.makepyfile(
        """
        import os

        def test_plain(pytestconfig):
            assert not pytestconfig.pluginmanager.has_plugin("synatest")
            assert "SYNATEST_SESSION_TMP" not in os.environ
            import litellm
            assert not getattr(litellm.acompletion, "__synatest_seam__", False)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:synatest")
    result.assert_outcomes(passed=1)
    result = pytester.runpytest_subprocess("-p", "no:synatest", "--synalinks-seed", "3")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unrecognized arguments: --synalinks-seed*"])


def test_console_script_version_and_help() -> None:
    from synatest import __version__

    script = Path(sys.executable).with_name("synatest")  # the console-script entry point
    out = subprocess.run(
        [str(script), "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == f"synatest {__version__}"
    out = subprocess.run(
        [sys.executable, "-m", "synatest.cli", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "usage: synatest" in out.stdout
    assert "Test, evaluate and train Synalinks programs" in out.stdout


def test_cli_main_without_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    from synatest.cli import main

    assert main([]) == 0
    assert "usage: synatest" in capsys.readouterr().out
