"""A training run's settings and results: :class:`TrainConfig`, :class:`TrainResult`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synatest.eval.results import SuiteResult, Usage
from synatest.train.split import DEFAULT_TEST_SPLIT, DEFAULT_VALIDATION_SPLIT, Split

OPTIMIZERS = ("random_few_shot", "omega")
DEFAULT_EPOCHS = 5
DEFAULT_OUTPUT_ROOT = Path("reports") / "train"
CHECKPOINT_VERSION = 1

# Why a run stopped.
STOP_GATE = "gate passed on validation"
STOP_ALREADY = "gate already passed on validation before training"
STOP_EPOCHS = "epoch budget used"
STOP_CALLS = "call budget used"
STOP_COST = "cost budget used"
STOP_INTERRUPTED = "interrupted"


class TrainingError(ValueError):
    """A training run that cannot start: bad settings, no data, no checkpoint to resume."""


@dataclass(frozen=True)
class TrainConfig:
    """Settings of one training run (``synatest train`` flags map one to one).

    Args:
        suite: the suite's name (names the default output directory).
        threshold: the gate: mean reward the program must reach.
        optimizer: ``"random_few_shot"`` (default) or ``"omega"``.
        pass_at: an example passes (for "flipped" examples) when its reward is at
            least this (default 1.0, as eval suites).
        epochs: at most this many epochs (default 5).
        repeat: runs per example when scoring a split (default 1): a stochastic
            program's objective is its mean reward over runs.
        until_pass: stop as soon as the gate passes on validation (default True).
        max_calls: stop once this many LM/embedding calls were made (default: no limit).
        max_cost: stop once this much was spent, in dollars (default: no limit).
        validation_split: fraction held out for validation (default 0.2).
        test_split: fraction held out for the final test (default 0.2).
        seed: seeds the split and every random draw of the run (default 1337).
        batch_size: training examples per optimizer step (default 1, as ``fit``).
        minibatch_size: validation examples scoring each candidate (default 4).
        eval_batch_size: examples evaluated concurrently (default 32).
        output: directory of the program, checkpoint and report
            (default ``reports/train/<suite>/``).
        resume: continue from ``output``'s checkpoint (default False).
        verbose: Synalinks' progress bar during ``fit`` (default False).
        optimizer_options: extra keyword arguments for the optimizer.
    """

    suite: str
    threshold: float
    optimizer: str = "random_few_shot"
    pass_at: float = 1.0
    epochs: int = DEFAULT_EPOCHS
    repeat: int = 1
    until_pass: bool = True
    max_calls: int | None = None
    max_cost: float | None = None
    validation_split: float = DEFAULT_VALIDATION_SPLIT
    test_split: float = DEFAULT_TEST_SPLIT
    seed: int = 1337
    batch_size: int = 1
    minibatch_size: int | None = 4
    eval_batch_size: int = 32
    output: Path | None = None
    resume: bool = False
    verbose: bool = False
    optimizer_options: dict[str, Any] = field(default_factory=dict)

    @property
    def output_dir(self) -> Path:
        return self.output if self.output is not None else DEFAULT_OUTPUT_ROOT / self.suite

    def validate(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise TrainingError(
                f"unknown optimizer {self.optimizer!r}: choose from {', '.join(OPTIMIZERS)}"
            )
        if self.repeat < 1:
            raise TrainingError(f"repeat must be at least 1, got {self.repeat}")
        if self.epochs < 1:
            raise TrainingError(f"epochs must be at least 1, got {self.epochs}")
        if self.max_calls is not None and self.max_calls < 1:
            raise TrainingError(f"max_calls must be at least 1, got {self.max_calls}")
        if self.max_cost is not None and self.max_cost <= 0:
            raise TrainingError(f"max_cost must be positive, got {self.max_cost}")
        if not 0.0 <= self.threshold <= 1.0:
            raise TrainingError(f"threshold must be between 0 and 1, got {self.threshold}")
        if self.batch_size < 1 or self.eval_batch_size < 1:
            raise TrainingError("batch sizes must be at least 1")


@dataclass
class EpochRecord:
    """One row of the training history (epoch 0 is the untrained program)."""

    epoch: int
    train_reward: float | None
    val_reward: float | None
    best_val_reward: float | None
    calls: int
    cost: float
    elapsed_s: float

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class TrainResult:
    """What a training run produced; ``passed`` decides ``synatest train``'s exit code."""

    suite: str
    before: SuiteResult  # untrained program, test split
    after: SuiteResult  # best trained program, test split
    validation_before: SuiteResult
    history: list[EpochRecord]
    best_epoch: int
    stop_reason: str
    usage: Usage
    split: Split
    output_dir: Path
    program_path: Path
    config: TrainConfig
    variables_before: dict[str, Any]
    variables_after: dict[str, Any]
    duration_s: float = 0.0
    fit_s: float = 0.0  # of which inside Synalinks' fit (this run; not resumed ones)

    @property
    def passed(self) -> bool:
        """The gate on the held-out test split, with the trained program."""
        return self.after.passed
