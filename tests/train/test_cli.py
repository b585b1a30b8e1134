"""``synatest train`` end to end, in-process, on the example suite (examples/train)."""

from __future__ import annotations

import argparse
import json
import re
import shutil
from pathlib import Path

import pytest

from synatest import cli
from synatest.cli.train import pytest_args

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "train"
# Each test copies the suite into its own directory: import it by path, not by name.
ISOLATED = ["--pytest-args=--import-mode=importlib"]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # Not pytester: its end-of-test sys.modules restore would drop modules that
    # Synalinks imports lazily while their import hooks stay installed.
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def suite_dir(workdir: Path) -> Path:
    for name in ("suite_doubler.py", "doubler.jsonl"):
        shutil.copy(EXAMPLES / name, workdir / name)
    return workdir


def train(*args: str) -> int:
    return cli.main(["train", *args, *ISOLATED])


def run_pytest(*args: str) -> int:
    return int(pytest.main(["-p", "no:cacheprovider", "--import-mode=importlib", *args]))


def test_trains_the_suite_and_the_suite_passes_with_the_trained_program(
    suite_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert train("suite_doubler.py", "--output", "out") == 0
    out = capsys.readouterr().out
    assert "synatest train doubler: untrained: validation reward" in out  # progress
    assert "gate PASSED" in out
    assert "--synalinks-program doubler=out/program.json" in out
    report = json.loads((suite_dir / "out" / "report.json").read_text())
    assert report["passed"] and report["after"]["suites"][0]["mean"] == 1.0
    assert report["before"]["suites"][0]["mean"] < 0.9

    report_dir = "--synalinks-report-dir=reports"
    assert run_pytest("--synalinks-eval", report_dir, "suite_doubler.py") == 1
    # The eval summary row: suite, reward, n, mean, CI, threshold, passes, errors, gate.
    assert re.search(r"doubler +\w+ +30 +0\.40* .* FAIL", capsys.readouterr().out)
    trained = "--synalinks-program=doubler=out/program.json"
    assert run_pytest("--synalinks-eval", report_dir, trained, "suite_doubler.py") == 0
    assert re.search(r"doubler +\w+ +30 +1(\.0+)? .* PASS", capsys.readouterr().out)


def test_a_budget_that_runs_out_before_the_gate_exits_1(
    suite_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = train("suite_doubler.py", "--output", "out", "--max-calls", "5", "--no-until-pass")
    out = capsys.readouterr().out
    assert code == 1
    assert "stopped: call budget used" in out
    assert "gate FAILED" in out
    assert (suite_dir / "out" / "program.json").is_file()  # the best program, still saved


def test_resume_without_checkpoint_is_a_usage_error(
    suite_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert train("suite_doubler.py", "--output", "fresh", "--resume") == 2
    assert "--resume: no checkpoint at fresh/checkpoint.json" in capsys.readouterr().err


def test_target_without_suite_is_a_usage_error(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "test_plain.py").write_text("def test_nothing():\n    pass\n")
    assert train("test_plain.py") == 2
    assert "the target selects no evaluation suite" in capsys.readouterr().err


def test_unknown_or_ambiguous_suite_is_a_usage_error(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "test_two.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.parametrize(('x', 'y'), [(1, 2), (3, 6), (5, 10)])\n"
        "@pytest.mark.synalinks_eval(suite='a', threshold=0.5)\n"
        "def test_a(x, y):\n    pass\n\n"
        "@pytest.mark.synalinks_eval(suite='b')\n"
        "def test_b():\n    pass\n\n"
        "@pytest.mark.synalinks_eval(suite='c', threshold=0.5)\n"
        "def test_c():\n    pass\n"
    )
    assert train("test_two.py") == 2
    assert "selects 3 suites (a, b, c); train one at a time: pass --suite NAME" in (
        capsys.readouterr().err
    )
    assert train("test_two.py", "--suite", "z") == 2
    assert "--suite 'z': the target has no such suite; it has: a, b, c" in (capsys.readouterr().err)
    assert train("test_two.py", "--suite", "c") == 2
    assert "suite 'c' has no examples to train on" in capsys.readouterr().err
    assert train("test_two.py", "--suite", "b") == 2
    assert "suite 'b' declares no threshold" in capsys.readouterr().err
    # A suite whose test has no program fixture: nothing to train.
    assert train("test_two.py", "--suite", "a") == 2
    assert "uses no program fixture" in capsys.readouterr().err


def test_collection_errors_are_reported_as_such(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "test_broken.py").write_text("import nowhere_to_be_found\n")
    assert train("test_broken.py") == 2
    assert "test_broken.py could not be collected" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--epochs", "0", "expected a whole number of at least 1"),
        ("--max-cost", "-1", "expected a positive number"),
        ("--validation-split", "1.5", "expected a fraction between 0 and 1"),
        ("--threshold", "2", "expected a reward between 0 and 1"),
        ("--optimizer", "adam", "invalid choice: 'adam'"),
    ],
)
def test_bad_flags_are_argparse_errors(
    flag: str, value: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "x.py", flag, value])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_session_flags_and_pytest_args_are_forwarded() -> None:
    parser = cli.build_parser()
    args = parser.parse_args(
        [
            "train",
            "evals/",
            "-k",
            "q01",
            "--synalinks-seed",
            "3",
            "--synalinks-live",
            "--pytest-args",
            "-x --synalinks-record-mode='once'",
        ]
    )
    assert isinstance(args, argparse.Namespace)
    argv = pytest_args(args)
    assert argv[0] == "evals/"
    assert argv[-6:] == [
        "-k",
        "q01",
        "--synalinks-seed=3",
        "--synalinks-live",
        "-x",
        "--synalinks-record-mode=once",
    ]


def test_synalinks_program_errors_say_what_to_pass(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "test_x.py").write_text("def test_x():\n    pass\n")
    assert run_pytest("--synalinks-program", "doubler=nope.json", "test_x.py") == 4
    assert "--synalinks-program doubler=nope.json: no such file" in capsys.readouterr().err
    assert run_pytest("--synalinks-program", "doubler", "test_x.py") == 4
    assert "expected SUITE=PATH" in capsys.readouterr().err


def test_a_file_that_is_not_a_saved_program_is_refused(tmp_path: Path) -> None:
    from synatest.plugin.train import trained_variables

    path = tmp_path / "program.json"
    path.write_text('{"config": {}}')
    with pytest.raises(pytest.UsageError, match="is not a program saved by `synatest train`"):
        trained_variables(path)


def test_omega_learns_a_plan_for_the_planner_suite(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("suite_planner.py", "feet.jsonl"):
        shutil.copy(EXAMPLES / name, workdir / name)
    assert train("suite_planner.py", "--optimizer", "omega", "--output", "plan") == 0
    assert "gate PASSED" in capsys.readouterr().out
    report = json.loads((workdir / "plan" / "report.json").read_text())
    [change] = report["changes"]
    assert change["field"] == "steps" and change["before"] == []
    assert "0.3048" in change["after"][0]
