"""train_program on a real Synalinks program with a simulated, prompt-sensitive LM."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import synatest
from synatest.train.config import (
    STOP_ALREADY,
    STOP_CALLS,
    STOP_COST,
    STOP_EPOCHS,
    STOP_GATE,
    TrainConfig,
    TrainingError,
)
from synatest.train.core import train_program
from synatest.train.report import write_report

REWARD = "exact_match"


def config(tmp_path: Path, **changes: Any) -> TrainConfig:
    settings: dict[str, Any] = {
        "suite": "doubler",
        "threshold": 0.9,
        "output": tmp_path,
        "batch_size": 3,
    }
    settings.update(changes)
    return TrainConfig(**settings)


async def test_training_lifts_the_suite_past_its_gate(
    tmp_path: Path, build_program: Callable[..., Any], big_dataset: Any, simulated_lm: Any
) -> None:
    x, y = big_dataset
    program = await build_program()
    result = await train_program(program, x, y, reward=REWARD, config=config(tmp_path))

    assert result.stop_reason == STOP_GATE
    assert result.passed
    assert result.before.mean is not None and result.before.mean < 0.9
    assert result.after.mean == 1.0
    assert result.history[0].epoch == 0  # the untrained program
    assert result.history[-1].val_reward == 1.0
    assert result.best_epoch == result.history[-1].epoch >= 1
    # The trained program holds worked examples; the saved one is loadable.
    examples = program.trainable_variables[0].get("examples")
    assert examples and "inputs" in examples[0]
    saved = json.loads((tmp_path / "program.json").read_text())
    assert saved["variables"]["trainable_variables"]
    assert result.usage.calls == result.history[-1].calls + len(result.split.test)

    report = write_report(result)
    assert report.passed
    assert {f.direction for f in report.flipped} == {"fixed"}
    assert [c.field for c in report.changes] == ["examples"]
    for name in (
        "report.json",
        "report.md",
        "history.csv",
        "curve.png",
        "checkpoint.json",
        "compare.md",
        "compare.html",
        "before/report.json",
        "after/report.html",
    ):
        assert (tmp_path / name).is_file(), name
    assert (tmp_path / "curve.png").read_bytes().startswith(b"\x89PNG")
    csv_lines = (tmp_path / "history.csv").read_text().splitlines()
    assert csv_lines[0] == "epoch,train_reward,val_reward,best_val_reward,calls,cost,elapsed_s"
    assert len(csv_lines) == 1 + len(result.history)
    markdown = (tmp_path / "report.md").read_text()
    assert "gate PASSED" in markdown and "Examples that flipped" in markdown
    assert "```diff" in markdown
    # The report is the eval schema: the before/after runs are RunReports.
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["before"]["label"] == "before" and data["after"]["label"] == "after"
    assert data["after"]["suites"][0]["mean"] == 1.0
    # ... which the eval reports' tools read back.
    from synatest.reports import load_report

    assert load_report(tmp_path / "after" / "report.json").suites[0].mean == 1.0
    assert "before" in (tmp_path / "compare.md").read_text()


async def test_same_seed_replays_to_a_bit_identical_program(
    tmp_path: Path, build_program: Callable[..., Any], dataset: Any, simulated_lm: Any
) -> None:
    x, y = dataset
    for run in ("a", "b"):
        program = await build_program()
        settings = config(tmp_path / run, until_pass=False, epochs=2)
        await train_program(program, x, y, reward=REWARD, config=settings)
    first = (tmp_path / "a" / "program.json").read_bytes()
    assert first == (tmp_path / "b" / "program.json").read_bytes()


async def test_without_until_pass_every_epoch_runs(
    tmp_path: Path, build_program: Callable[..., Any], dataset: Any, simulated_lm: Any
) -> None:
    x, y = dataset
    program = await build_program()
    result = await train_program(
        program, x, y, reward=REWARD, config=config(tmp_path, until_pass=False, epochs=2)
    )
    assert result.stop_reason == STOP_EPOCHS
    assert [row.epoch for row in result.history] == [0, 1, 2]


async def test_call_budget_stops_training(
    tmp_path: Path, build_program: Callable[..., Any], dataset: Any, simulated_lm: Any
) -> None:
    x, y = dataset
    program = await build_program()
    result = await train_program(
        program, x, y, reward=REWARD, config=config(tmp_path, max_calls=10, until_pass=False)
    )
    assert result.stop_reason == STOP_CALLS
    # Checked after every optimizer step: the run ends in the epoch that crossed it.
    assert [row.epoch for row in result.history] == [0, 1]
    assert result.history[-1].calls < 25  # a whole epoch takes ~30 calls


async def test_cost_budget_stops_training(
    tmp_path: Path,
    build_program: Callable[..., Any],
    dataset: Any,
    synalinks_router: synatest.Router,
    answer: Any,
) -> None:
    async def priced(request: synatest.LMRequest, call_next: Any) -> Any:
        response = await call_next(request)
        response._hidden_params["response_cost"] = 0.01
        return response

    synalinks_router.use(priced)
    synalinks_router.use(synatest.FunctionLM(answer))
    x, y = dataset
    program = await build_program()
    result = await train_program(
        program, x, y, reward=REWARD, config=config(tmp_path, max_cost=0.1, until_pass=False)
    )
    assert result.stop_reason == STOP_COST
    assert result.usage.cost == pytest.approx(0.01 * result.usage.calls)
    assert result.history[-1].cost < 0.25


async def test_a_program_that_already_passes_is_not_trained(
    tmp_path: Path, build_program: Callable[..., Any], dataset: Any, synalinks_router: Any
) -> None:
    synalinks_router.use(
        synatest.FunctionLM(lambda r: {"answer": str(2 * int(r.text.split()[-2]))})
    )
    x, y = dataset
    program = await build_program()
    result = await train_program(program, x, y, reward=REWARD, config=config(tmp_path))
    assert result.stop_reason == STOP_ALREADY
    assert [row.epoch for row in result.history] == [0]
    assert result.usage.calls == len(result.split.validation) + 2 * len(result.split.test)


async def test_gate_fails_when_training_cannot_help(
    tmp_path: Path, build_program: Callable[..., Any], dataset: Any, synalinks_router: Any
) -> None:
    synalinks_router.use(synatest.FunctionLM(lambda r: {"answer": "no idea"}))
    x, y = dataset
    program = await build_program()
    result = await train_program(program, x, y, reward=REWARD, config=config(tmp_path, epochs=1))
    assert not result.passed
    assert result.stop_reason == STOP_EPOCHS
    assert result.after.gates[0].message  # says why, for the report
    assert "gate FAILED" in (write_report(result) and (tmp_path / "report.md").read_text())


def test_ctrl_c_keeps_the_best_program_and_resume_continues(
    tmp_path: Path,
    build_program: Callable[..., Any],
    dataset: Any,
    synalinks_session: Any,
    answer: Any,
) -> None:
    x, y = dataset
    calls = {"n": 0, "interrupt_at": None}

    def lm(request: synatest.LMRequest) -> Any:
        calls["n"] += 1
        if calls["n"] == calls["interrupt_at"]:
            os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C
        return answer(request)

    synalinks_session.test_router.use(synatest.FunctionLM(lm))
    settings = config(tmp_path, until_pass=False, epochs=3)

    async def first_run() -> None:
        program = await build_program()
        calls["interrupt_at"] = 45  # the untrained evaluation and epoch 1 take ~36
        await train_program(program, x, y, reward=REWARD, config=settings)

    # Python's own Ctrl-C handling, whatever the runner (xdist workers) installed.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            synalinks_session.loop.run(first_run())
    finally:
        signal.signal(signal.SIGINT, previous)
    checkpoint = json.loads((tmp_path / "checkpoint.json").read_text())
    assert checkpoint["epochs_done"] == 1
    assert checkpoint["best_val_reward"] == 1.0
    saved = json.loads((tmp_path / "program.json").read_text())
    assert saved["variables"]["trainable_variables"]

    async def resumed() -> Any:
        program = await build_program()
        calls["interrupt_at"] = None
        resume = config(tmp_path, until_pass=False, epochs=3, resume=True)
        return await train_program(program, x, y, reward=REWARD, config=resume)

    result = synalinks_session.loop.run(resumed())
    assert [row.epoch for row in result.history] == [0, 1, 2, 3]
    assert result.after.mean == 1.0
    assert result.usage.calls > checkpoint["usage"]["calls"]  # counted across both runs


async def test_resume_without_a_checkpoint_says_how_to_start(
    tmp_path: Path, build_program: Callable[..., Any], dataset: Any, simulated_lm: Any
) -> None:
    x, y = dataset
    program = await build_program()
    with pytest.raises(TrainingError, match=r"--resume: no checkpoint at .*run without --resume"):
        await train_program(program, x, y, reward=REWARD, config=config(tmp_path, resume=True))


async def test_resume_refuses_another_runs_checkpoint(
    tmp_path: Path, build_program: Callable[..., Any], dataset: Any, simulated_lm: Any
) -> None:
    (tmp_path / "checkpoint.json").write_text(
        json.dumps({"version": 1, "suite": "other", "split": "x"})
    )
    x, y = dataset
    program = await build_program()
    with pytest.raises(TrainingError, match="belongs to another run"):
        await train_program(program, x, y, reward=REWARD, config=config(tmp_path, resume=True))
    (tmp_path / "checkpoint.json").write_text("{not json")
    with pytest.raises(TrainingError, match="is not valid JSON"):
        await train_program(program, x, y, reward=REWARD, config=config(tmp_path, resume=True))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"optimizer": "adam"}, "unknown optimizer 'adam': choose from random_few_shot, omega"),
        ({"epochs": 0}, "epochs must be at least 1"),
        ({"max_calls": 0}, "max_calls must be at least 1"),
        ({"max_cost": -1.0}, "max_cost must be positive"),
        ({"threshold": 1.5}, "threshold must be between 0 and 1"),
    ],
)
def test_bad_settings_are_refused(tmp_path: Path, changes: dict, message: str) -> None:
    with pytest.raises(TrainingError, match=message):
        config(tmp_path, **changes).validate()


async def test_mismatched_dataset_and_missing_embedding_model(
    tmp_path: Path, build_program: Callable[..., Any], dataset: Any, simulated_lm: Any
) -> None:
    x, y = dataset
    program = await build_program()
    with pytest.raises(TrainingError, match="x has 15 examples but y has 14"):
        await train_program(program, x, y[:-1], reward=REWARD, config=config(tmp_path))
    with pytest.raises(TrainingError, match="3 ids for 15 examples"):
        await train_program(program, x, y, reward=REWARD, config=config(tmp_path), ids=["a"] * 3)
    with pytest.raises(TrainingError, match="omega optimizer needs an embedding model"):
        await train_program(
            program, x, y, reward=REWARD, config=config(tmp_path, optimizer="omega")
        )


async def test_repeat_scores_every_split_over_k_runs(
    tmp_path: Path, build_program: Callable[..., Any], dataset: Any, simulated_lm: Any
) -> None:
    x, y = dataset
    program = await build_program()
    settings = config(tmp_path, repeat=3, until_pass=False, epochs=1)
    result = await train_program(program, x, y, reward=REWARD, config=settings)
    for suite in (result.before, result.after, result.validation_before):
        assert suite.repeat == 3
        assert all([run.index for run in e.runs] == [0, 1, 2] for e in suite.examples)
        assert set(suite.pass_at_k) == {"1", "2", "3"}
    # Each test-split example was scored 3 times after training.
    assert result.usage.calls == result.history[-1].calls + 3 * len(result.split.test)
    with pytest.raises(TrainingError, match="repeat must be at least 1, got 0"):
        config(tmp_path, repeat=0).validate()
