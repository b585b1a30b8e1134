"""``synatest judge calibrate``: a judge against human labels with no program under test.

One subprocess run (a real ``synatest`` process: Synalinks, a FunctionLM double serving
LMAsJudge's calls); the usage errors run in-process (they stop before any LM is set up).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from synatest.cli.main import main

ROWS = [
    {"id": "a1", "expected": {"answer": "Paris"}, "output": {"answer": "Paris"}, "human": True},
    {"id": "a2", "expected": {"answer": "Paris"}, "output": {"answer": "Lyon"}, "human": False},
    {"id": "a3", "expected": "Berlin", "output": "Berlin, the capital", "human": True},
    {"id": "a4", "expected": "Rome", "output": "Milan", "human": False},
]

JUDGES = '''
import synalinks
import synatest

judge = synalinks.rewards.LMAsJudge(
    language_model=synalinks.LanguageModel(model="openai/gpt-4o"), name="capitals_judge"
)


def contrarian(request):
    """Calls right answers wrong and wrong answers right."""
    text = request.last_user_message
    right = "'Paris', 'answer': 'Paris'" in text or "Berlin, the" in text
    return {"critique": "...", "reward": 0.0 if right else 1.0}


lm = synatest.FunctionLM(contrarian)
'''


def write(tmp_path: Path, rows: list[dict[str, object]] | None = None) -> Path:
    path = tmp_path / "labels.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in (rows or ROWS)))
    (tmp_path / "judges.py").write_text(JUDGES)
    return path


COMMAND = [sys.executable, "-m", "synatest", "judge", "calibrate", "labels.jsonl"]


def test_a_disagreeing_judge_is_not_calibrated(tmp_path: Path) -> None:
    write(tmp_path)
    env = dict(os.environ, LITELLM_LOCAL_MODEL_COST_MAP="True")
    result = subprocess.run(
        [*COMMAND, "--judge", "judges:judge", "--lm", "judges:lm", "--min-agreement", "0.6"],
        check=False,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "judge of 'capitals_judge' vs human labels (field 'human', binary, 4 labelled examples)"
    )
    assert lines[1].startswith("  agreement 0.0% [0.0%, 0.0%] · kappa -1.000")
    assert lines[-1].startswith("  disagree most: a1 (human 1, judge 0), a2 (human 0, judge 1),")
    assert "synatest judge calibrate: judge not calibrated: kappa -1.000" in result.stderr


def calibrate(tmp_path: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        code = main(["judge", "calibrate", *args])
    except SystemExit as exit:  # argparse errors
        code = int(exit.code or 0)
    finally:
        os.chdir(cwd)
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("rows", "args", "message"),
    [
        (
            None,
            ["missing.jsonl", "--judge", "judges:judge"],
            "DATASET 'missing.jsonl': no such file",
        ),
        (
            [{"output": "x"}],
            ["labels.jsonl", "--judge", "judges:judge"],
            "labels.jsonl: no row has a human label in field 'human'; add a person's verdict",
        ),
        (
            [{"output": "x", "human": "maybe"}],
            ["labels.jsonl", "--judge", "judges:judge"],
            "labels.jsonl, line 1: human label in field 'human': 'maybe' is not a verdict or a "
            "score",
        ),
        (
            [{"human": True}],
            ["labels.jsonl", "--judge", "judges:judge"],
            "labels.jsonl, line 1: no 'output' field (the output the judge scores; "
            "--output-field names another)",
        ),
        (None, ["labels.jsonl", "--judge", "judges"], "--judge 'judges': expected MODULE:ATTR"),
        (
            None,
            ["labels.jsonl", "--judge", "no_such_module:judge"],
            "--judge 'no_such_module:judge': cannot import module 'no_such_module': "
            "ModuleNotFoundError",
        ),
        (
            None,
            ["labels.jsonl", "--judge", "judges:judge", "--record-mode", "once"],
            "--record-mode once needs --cassette PATH (the file to record into)",
        ),
        (
            None,
            [
                *("labels.jsonl", "--judge", "judges:judge", "--lm", "judges:lm"),
                *("--cassette", "judge.yaml", "--record-mode", "rewrite"),
            ],
            "--record-mode rewrite records the judge's real LM calls, but --lm 'judges:lm' "
            "answers them with a double: nothing would be recorded.",
        ),
        (
            None,
            ["labels.jsonl", "--judge", "judges:judge", "--cassette", "missing.yaml"],
            "--cassette 'missing.yaml': no such file; record it once with synatest judge "
            "calibrate labels.jsonl --judge judges:judge --cassette missing.yaml "
            "--record-mode=once (needs the judge's real model and its key)",
        ),
        (None, ["labels.jsonl", "--judge", "x:y", "--min-agreement", "2"], "expected a kappa"),
        (None, ["labels.jsonl", "--judge", "x:y", "--human-scale", "5,1"], "expected LOW,HIGH"),
    ],
)
def test_usage_errors_name_the_file_or_flag_and_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    rows: list[dict[str, object]] | None,
    args: list[str],
    message: str,
) -> None:
    write(tmp_path, rows)
    code, err = calibrate(tmp_path, *args, capsys=capsys)
    assert code == 2
    assert message in err
