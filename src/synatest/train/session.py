"""``synatest train`` inside a pytest session: the plugin object that finds and trains a suite.

The CLI runs ``pytest.main([TARGET, ...], plugins=[TrainPlugin(settings)])``. After
collection the plugin keeps the selected evaluation suite (tests marked
``synalinks_eval``), deselects every other test, and turns the suite's first test
into the training run: that test's fixtures (its ``@synatest.program`` fixture, its
doubles, cassettes, hermetic session) are set up by pytest as usual, then the
program is trained on the examples of every selected test of the suite. So
training sees exactly what ``pytest --synalinks-eval`` sees.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from synatest import options
from synatest.markers import (
    DATASET_ATTR,
    EVAL_MARKER,
    MARKERS,
    example_id,
    suite_name,
)


class TrainUsageError(Exception):
    """The target selects nothing trainable; the message says what to change."""


@dataclass
class Example:
    id: str
    x: Any
    y: Any


@dataclass
class SuiteTarget:
    """One evaluation suite as collected."""

    name: str
    items: list[pytest.Item] = field(default_factory=list)
    reward: Any = None
    threshold: float | None = None
    pass_at: float = 1.0
    repeat: int = 1  # the marker's repeat= (runs per example)


def collect_suites(items: list[pytest.Item]) -> dict[str, SuiteTarget]:
    suites: dict[str, SuiteTarget] = {}
    for item in items:
        marker = item.get_closest_marker(EVAL_MARKER)
        if marker is None:
            continue
        name = suite_name(item, marker)
        suite = suites.get(name)
        if suite is None:
            suite = suites[name] = SuiteTarget(
                name=name,
                reward=marker.kwargs.get("reward"),
                threshold=marker.kwargs.get("threshold"),
                pass_at=float(marker.kwargs.get("pass_at", 1.0)),
                repeat=int(marker.kwargs.get("repeat") or 1),
            )
        suite.items.append(item)
    return suites


def suite_examples(suite: SuiteTarget) -> list[Example]:
    """The examples of the selected tests (their ``x``/``y`` parameters).

    Falls back to the whole dataset attached by ``@synatest.parametrize_dataset``
    when the tests are not parametrized by ``x`` and ``y``.
    """
    examples = []
    for item in suite.items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "x" in params and "y" in params:
            examples.append(Example(example_id(item), params["x"], params["y"]))
    if examples:
        return examples
    dataset = getattr(getattr(suite.items[0], "obj", None), DATASET_ATTR, None)
    if dataset is not None:
        return [Example(str(e.id), e.x, e.y) for e in dataset]
    raise TrainUsageError(
        f"suite {suite.name!r} has no examples to train on: its tests must be "
        "parametrized with `x` and `y` (use @synatest.parametrize_dataset(path, x=..., "
        "y=...))"
    )


def find_program(item: pytest.Item) -> tuple[str, Any]:
    """The fixture of ``item`` that built its program (registered ones first)."""
    from synalinks.src.programs.program import Program

    from synatest.programs import PROGRAM_FIXTURES

    funcargs: dict[str, Any] = getattr(item, "funcargs", {})
    for name in [n for n in funcargs if n in PROGRAM_FIXTURES] + list(funcargs):
        if isinstance(funcargs[name], Program):
            return name, funcargs[name]
    raise TrainUsageError(
        f"{item.nodeid} uses no program fixture, so there is nothing to train: build "
        "the program in a fixture decorated with @synatest.program and request it in "
        "the suite's test"
    )


@dataclass(frozen=True)
class TrainSettings:
    """What the ``synatest train`` command line asked for (None: the suite's own)."""

    suite: str | None = None
    threshold: float | None = None
    optimizer: str = "random_few_shot"
    epochs: int = 5
    repeat: int | None = None  # runs per example when scoring a split
    until_pass: bool = True
    max_calls: int | None = None
    max_cost: float | None = None
    validation_split: float = 0.2
    test_split: float = 0.2
    output: Path | None = None
    resume: bool = False
    progress: bool = False


class TrainPlugin:
    """The pytest plugin object of one ``synatest train`` run."""

    def __init__(self, settings: TrainSettings) -> None:
        self.settings = settings
        self.suite: SuiteTarget | None = None
        self.host: pytest.Item | None = None
        self.examples: list[Example] = []
        self.error: str | None = None
        self.result: Any = None  # TrainResult once trained
        self.report: Any = None  # TrainReport once written
        self.interrupted = False
        self.collect_errors: list[str] = []

    def pytest_configure(self, config: pytest.Config) -> None:
        # The eval plugin declares these markers; declare them too when absent, so a
        # suite collects under --strict-markers either way.
        declared = [str(line) for line in config.getini("markers")]
        for name, line in MARKERS.items():
            if not any(d.startswith(name) for d in declared):
                config.addinivalue_line("markers", line)

    # -- collection ------------------------------------------------------------------
    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collect_errors.append(report.nodeid)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        try:
            self._select(items)
        except TrainUsageError as error:
            self.error = str(error)
        keep = [self.host] if self.host is not None and self.error is None else []
        dropped = [item for item in items if item not in keep]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items[:] = keep

    def _select(self, items: list[pytest.Item]) -> None:
        suites = collect_suites(items)
        if self.collect_errors:
            raise TrainUsageError(
                f"{', '.join(self.collect_errors)} could not be collected (see the errors "
                "above); fix them, then train again"
            )
        if not suites:
            raise TrainUsageError(
                "the target selects no evaluation suite (no test marked "
                f"@pytest.mark.{EVAL_MARKER}); point TARGET at a suite's test file or "
                "node id, e.g. `synatest train tests/evals/test_qa.py`"
            )
        wanted = self.settings.suite
        if wanted is not None:
            if wanted not in suites:
                raise TrainUsageError(
                    f"--suite {wanted!r}: the target has no such suite; it has: "
                    f"{', '.join(sorted(suites))}"
                )
            suite = suites[wanted]
        elif len(suites) > 1:
            raise TrainUsageError(
                f"the target selects {len(suites)} suites ({', '.join(sorted(suites))}); "
                "train one at a time: pass --suite NAME"
            )
        else:
            suite = next(iter(suites.values()))
        if self.settings.threshold is None and suite.threshold is None:
            raise TrainUsageError(
                f"suite {suite.name!r} declares no threshold, so no gate to train "
                "towards: add threshold= to its @pytest.mark.synalinks_eval marker or "
                "pass --threshold"
            )
        self.examples = suite_examples(suite)
        self.suite = suite
        host = suite.items[0]
        if not isinstance(host, pytest.Function):
            raise TrainUsageError(f"{host.nodeid} is not a test function")
        self.host = host
        host.obj = self._runner(host)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        # Eval suites are skipped unless --synalinks-eval: the training run is not
        # an evaluation, so the skip does not apply to it.
        if self.host is not None:
            self.host.own_markers[:] = [
                mark
                for mark in self.host.own_markers
                if not (mark.name == "skip" and "synalinks-eval" in str(mark.kwargs))
            ]

    # -- the training run ------------------------------------------------------------
    def _runner(self, host: pytest.Function) -> Callable[..., None]:
        def synatest_train(**fixtures: Any) -> None:
            from synatest.session import get_session

            try:
                get_session(host.config).loop.run(self._train(host))
            except KeyboardInterrupt:
                # Ctrl-C cancels the training task; the loop re-raises it here.
                self.interrupted = True
                raise

        return synatest_train

    async def _train(self, host: pytest.Function) -> None:
        from synatest.eval.reward_spec import resolve_reward
        from synatest.train.config import TrainConfig, TrainingError
        from synatest.train.core import train_program
        from synatest.train.report import write_report

        assert self.suite is not None
        settings, suite = self.settings, self.suite
        try:
            _, program = find_program(host)
        except TrainUsageError as error:
            self.error = str(error)
            pytest.fail(str(error), pytrace=False)
        threshold = settings.threshold if settings.threshold is not None else suite.threshold
        assert threshold is not None
        config = TrainConfig(
            suite=suite.name,
            threshold=float(threshold),
            optimizer=settings.optimizer,
            pass_at=suite.pass_at,
            repeat=settings.repeat or suite.repeat,
            epochs=settings.epochs,
            until_pass=settings.until_pass,
            max_calls=settings.max_calls,
            max_cost=settings.max_cost,
            validation_split=settings.validation_split,
            test_split=settings.test_split,
            seed=options.value(host.config, "seed"),
            output=settings.output,
            resume=settings.resume,
            verbose=settings.progress,
        )
        embedding_model = None
        if settings.optimizer == "omega":
            embedding_model = host._request.getfixturevalue("embedding_model")
        terminal = host.config.pluginmanager.get_plugin("terminalreporter")
        capture = host.config.pluginmanager.get_plugin("capturemanager")

        def progress(row: Any) -> None:
            if terminal is None:
                return
            if capture is not None:
                with capture.global_and_fixture_disabled():
                    show(row)
            else:
                show(row)

        def show(row: Any) -> None:
            assert terminal is not None
            val = "-" if row.val_reward is None else f"{row.val_reward:.3f}"
            best = "-" if row.best_val_reward is None else f"{row.best_val_reward:.3f}"
            label = "untrained" if row.epoch == 0 else f"epoch {row.epoch}/{config.epochs}"
            terminal.write_line(
                f"\nsynatest train {suite.name}: {label}: validation reward {val} "
                f"(best {best}, gate {config.threshold}), {row.calls} LM calls"
            )

        try:
            self.result = await train_program(
                program,
                [e.x for e in self.examples],
                [e.y for e in self.examples],
                reward=resolve_reward(suite.reward),
                config=config,
                ids=[e.id for e in self.examples],
                embedding_model=embedding_model,
                on_epoch=progress,
            )
        except KeyboardInterrupt:
            self.interrupted = True
            raise
        except TrainingError as error:
            self.error = str(error)
            pytest.fail(str(error), pytrace=False)
        self.report = write_report(self.result)

    # -- summary -------------------------------------------------------------------------
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        write = terminalreporter.write_line
        if self.error is not None:
            terminalreporter.section("synatest train", red=True)
            write(self.error)
            return
        if self.result is None:
            return
        result = self.result
        out = result.output_dir
        verdict = "PASSED" if result.passed else "FAILED"
        terminalreporter.section("synatest train", green=result.passed, red=not result.passed)

        def fmt(value: float | None) -> str:
            return "-" if value is None else f"{value:.3f}"

        write(
            f"suite {result.suite}: test-split reward {fmt(result.before.mean)} -> "
            f"{fmt(result.after.mean)} (threshold {result.config.threshold}): gate {verdict}"
        )
        write(f"stopped: {result.stop_reason}; best epoch {result.best_epoch}")
        write(f"LM calls: {result.usage.calls}, cost ${result.usage.cost:.4f}")
        write(f"trained program: {result.program_path}")
        write(f"report: {out / 'report.md'} (curve.png, history.csv, report.json)")
        write(
            "evaluate it: pytest --synalinks-eval "
            f"--synalinks-program {result.suite}={result.program_path}"
        )
