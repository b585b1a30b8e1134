"""Training a Synalinks program until its evaluation gate passes.

Plain Python on real Synalinks: split the dataset (seeded), evaluate the untrained
program, compile it with the suite's reward and a Synalinks optimizer, ``fit`` it
epoch by epoch while a callback watches the validation reward and the budgets,
keep the best program seen on validation, evaluate it on the held-out test split,
save it and write the before/after report. ``synatest train`` runs this inside a
pytest session; it is equally usable from a script or a test.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from synatest.eval.results import SuiteResult, Usage
from synatest.eval.reward_spec import reward_name
from synatest.eval.usage import UsageMeter
from synatest.seam import current_router
from synatest.train import _io
from synatest.train.checkpoint import checkpoint_path, read_checkpoint
from synatest.train.config import (
    CHECKPOINT_VERSION,
    STOP_ALREADY,
    STOP_CALLS,
    STOP_COST,
    STOP_EPOCHS,
    STOP_GATE,
    STOP_INTERRUPTED,
    EpochRecord,
    TrainConfig,
    TrainingError,
    TrainResult,
)
from synatest.train.evaluate import evaluate_split
from synatest.train.program_state import (
    forget_seed_candidates,
    load_trainable_state,
    make_optimizer,
    save_program_with_state,
    seed_everything,
    seeded_minibatches,
    take,
    trainable_state,
)
from synatest.train.split import Split, split_indices


class _Run:
    """State shared by the training loop and its Synalinks callback."""

    def __init__(self, config: TrainConfig, program: Any, meter: UsageMeter) -> None:
        self.config = config
        self.program = program
        self.meter = meter
        self.history: list[EpochRecord] = []
        self.best_val: float | None = None
        self.best_epoch = 0
        self.best_state: dict[str, Any] = {}
        self.validated_state: dict[str, Any] | None = None
        self.stop_reason = STOP_EPOCHS
        self.started = time.perf_counter()
        self.elapsed_before = 0.0
        self.in_fit = False
        self.on_epoch: Callable[[EpochRecord], None] | None = None
        self.baseline: dict[str, Any] = {}

    def elapsed(self) -> float:
        return self.elapsed_before + time.perf_counter() - self.started

    def budget_exhausted(self) -> str | None:
        if self.config.max_calls is not None and self.meter.calls >= self.config.max_calls:
            return STOP_CALLS
        if self.config.max_cost is not None and self.meter.cost >= self.config.max_cost:
            return STOP_COST
        return None

    def record(self, epoch: int, train: float | None, val: float | None) -> EpochRecord:
        if val is not None and (self.best_val is None or val > self.best_val):
            self.best_val = val
            self.best_epoch = epoch
            self.best_state = (
                self.validated_state
                if self.validated_state is not None
                else trainable_state(self.program)
            )
            save_program_with_state(self.program, self.best_state, self.program_path)
        row = EpochRecord(
            epoch=epoch,
            train_reward=train,
            val_reward=val,
            best_val_reward=self.best_val,
            calls=self.meter.calls,
            cost=self.meter.cost,
            elapsed_s=round(self.elapsed(), 3),
        )
        self.history.append(row)
        if self.on_epoch is not None:
            self.on_epoch(row)
        return row

    @property
    def program_path(self) -> Path:
        return self.config.output_dir / "program.json"

    def write_checkpoint(self, split: Split, epochs_done: int) -> None:
        data = {
            "version": CHECKPOINT_VERSION,
            "suite": self.config.suite,
            "split": split.fingerprint(),
            "epochs_done": epochs_done,
            "best_epoch": self.best_epoch,
            "best_val_reward": self.best_val,
            "best_state": self.best_state,
            "history": [row.as_dict() for row in self.history],
            "usage": self.meter.usage().model_dump(),
            "elapsed_s": self.elapsed(),
            "baseline": self.baseline,
        }
        _io.write_json(checkpoint_path(self.config.output_dir), data)


def _monitor(run: _Run, split: Split) -> Any:
    """The Synalinks callback watching ``fit`` (built lazily: Synalinks is heavy)."""
    import synalinks

    class TrainingMonitor(synalinks.callbacks.Callback):  # type: ignore[misc]
        def on_test_begin(self, logs: Any = None) -> None:
            # fit() validates with the candidate its optimizer just promoted; its
            # end-of-epoch bookkeeping may then swap in another one, so remember
            # exactly what the validation reward belongs to.
            if run.in_fit:
                run.validated_state = trainable_state(run.program)

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            reason = run.budget_exhausted()
            if reason is not None:
                run.stop_reason = reason
                run.program.stop_training = True

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            logs = logs or {}
            train = logs.get("reward")
            val = logs.get("val_reward")
            run.record(
                epoch + 1,
                float(train) if train is not None else None,
                float(val) if val is not None else None,
            )
            run.validated_state = None
            run.write_checkpoint(split, epoch + 1)
            reason = run.budget_exhausted()
            if (
                run.config.until_pass
                and run.best_val is not None
                and run.best_val >= run.config.threshold
            ):
                run.stop_reason = STOP_GATE
                run.program.stop_training = True
            elif reason is not None:
                run.stop_reason = reason
                run.program.stop_training = True

    return TrainingMonitor()


async def train_program(
    program: Any,
    x: Any,
    y: Any,
    *,
    reward: Any,
    config: TrainConfig,
    ids: Sequence[str] | None = None,
    language_model: Any = None,
    embedding_model: Any = None,
    on_epoch: Callable[[EpochRecord], None] | None = None,
) -> TrainResult:
    """Train ``program`` on ``(x, y)`` until ``config``'s gate passes or a budget runs out.

    Args:
        program: a built ``synalinks.Program`` (trained in place; it ends up holding
            the best variables seen on validation).
        x, y: the dataset, sequences of DataModels (inputs and expected outputs).
        reward: the suite's reward (a ``synalinks.rewards.Reward``, its name, or an
            ``async`` reward function).
        config: the run's settings (gate, optimizer, budgets, split, seed, output).
        ids: one readable id per example (default ``"0"``, ``"1"``, ...).
        language_model: the LM OMEGA uses to propose instructions (default: the
            program's first LM).
        embedding_model: the embedding model OMEGA needs.
        on_epoch: called with each history row (epoch 0 is the baseline).

    Returns:
        A :class:`TrainResult`; the report files are written under
        ``config.output_dir`` by :func:`synatest.train.report.write_report`.

    Raises:
        TrainingError: bad settings, an empty dataset, or ``resume`` without a
            matching checkpoint. Ctrl-C stops the run after saving the best
            program and checkpoint, then re-raises ``KeyboardInterrupt``.
    """
    config.validate()
    if len(x) != len(y):
        raise TrainingError(f"x has {len(x)} examples but y has {len(y)}: give one y per x")
    split = split_indices(
        len(x), validation=config.validation_split, test=config.test_split, seed=config.seed
    )
    ids = [str(i) for i in range(len(x))] if ids is None else [str(i) for i in ids]
    if len(ids) != len(x):
        raise TrainingError(f"{len(ids)} ids for {len(x)} examples: give one id per example")
    parts = {
        name: (take(x, idx), take(y, idx), [ids[i] for i in idx])
        for name, idx in (
            ("train", split.train),
            ("validation", split.validation),
            ("test", split.test),
        )
    }
    (x_train, y_train, _), (x_val, y_val, val_ids), (x_test, y_test, test_ids) = (
        parts["train"],
        parts["validation"],
        parts["test"],
    )
    output_dir = config.output_dir
    output_dir.mkdir(parents=True, exist_ok=True)
    checkpoint = (
        read_checkpoint(checkpoint_path(output_dir), config, split) if config.resume else None
    )

    seed_everything(config.seed)
    meter = UsageMeter()
    router = current_router()
    remove_meter = router.use(meter, name="synatest-train-meter", first=True)
    run = _Run(config, program, meter)
    run.on_epoch = on_epoch
    began = time.perf_counter()
    try:
        optimizer = make_optimizer(
            config, program, language_model=language_model, embedding_model=embedding_model
        )
        program.compile(reward=reward, optimizer=optimizer)
        reward_label = reward_name(reward)

        async def evaluate(xs: Any, ys: Any, split_ids: list[str]) -> SuiteResult:
            return await evaluate_split(
                program,
                xs,
                ys,
                split_ids,
                suite=config.suite,
                threshold=config.threshold,
                reward_name=reward_label,
                pass_at=config.pass_at,
                batch_size=config.eval_batch_size,
                repeat=config.repeat,
            )

        variables_before = trainable_state(program)
        if checkpoint is None:
            validation_before = await evaluate(x_val, y_val, val_ids)
            before = await evaluate(x_test, y_test, test_ids)
            run.baseline = {
                "validation": validation_before.model_dump(mode="json"),
                "test": before.model_dump(mode="json"),
                "variables": variables_before,
            }
            run.validated_state = variables_before
            run.record(0, None, validation_before.mean)
            run.validated_state = None
            initial_epoch = 0
            run.write_checkpoint(split, 0)
        else:
            run.baseline = checkpoint["baseline"]
            validation_before = SuiteResult.model_validate(run.baseline["validation"])
            before = SuiteResult.model_validate(run.baseline["test"])
            variables_before = run.baseline["variables"]
            run.history = [EpochRecord(**row) for row in checkpoint["history"]]
            run.best_val = checkpoint["best_val_reward"]
            run.best_epoch = checkpoint["best_epoch"]
            run.best_state = checkpoint["best_state"]
            run.elapsed_before = float(checkpoint.get("elapsed_s", 0.0))
            meter.restore(Usage.model_validate(checkpoint["usage"]))
            load_trainable_state(program, run.best_state)
            forget_seed_candidates(program)
            initial_epoch = int(checkpoint["epochs_done"])

        fit_s = 0.0
        gate_met = run.best_val is not None and run.best_val >= config.threshold
        if config.until_pass and gate_met:
            run.stop_reason = STOP_GATE if initial_epoch else STOP_ALREADY
        elif run.budget_exhausted() is not None:
            run.stop_reason = str(run.budget_exhausted())
        elif initial_epoch >= config.epochs:
            run.stop_reason = STOP_EPOCHS
        else:
            run.in_fit = True
            fit_began = time.perf_counter()
            try:
                with seeded_minibatches(config.seed + initial_epoch):
                    await program.fit(
                        x=x_train,
                        y=y_train,
                        validation_data=(x_val, y_val),
                        # One validation batch: its reward is the per-example mean.
                        validation_batch_size=len(x_val),
                        batch_size=config.batch_size,
                        minibatch_size=config.minibatch_size,
                        epochs=config.epochs,
                        initial_epoch=initial_epoch,
                        callbacks=[_monitor(run, split)],
                        verbose=1 if config.verbose else 0,
                    )
            except (KeyboardInterrupt, asyncio.CancelledError):
                # Ctrl-C under asyncio.Runner cancels the task (CancelledError here),
                # then surfaces as KeyboardInterrupt.
                run.stop_reason = STOP_INTERRUPTED
                # program.json already holds the best program; leave the program
                # object holding it too, then let the interrupt through.
                load_trainable_state(program, run.best_state)
                raise
            finally:
                run.in_fit = False
                fit_s = time.perf_counter() - fit_began

        load_trainable_state(program, run.best_state)
        after = await evaluate(x_test, y_test, test_ids)
        # program.json and checkpoint.json already hold the best program: both are
        # written whenever it improves / an epoch ends.
        return TrainResult(
            suite=config.suite,
            before=before,
            after=after,
            validation_before=validation_before,
            history=run.history,
            best_epoch=run.best_epoch,
            stop_reason=run.stop_reason,
            usage=meter.usage(),
            split=split,
            output_dir=output_dir,
            program_path=run.program_path,
            config=config,
            variables_before=variables_before,
            variables_after=trainable_state(program),
            duration_s=time.perf_counter() - began,
            fit_s=fit_s,
        )
    finally:
        remove_meter()
