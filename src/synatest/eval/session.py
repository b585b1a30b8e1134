"""The eval-mode session: suites registry, per-example recording, gates, report.

Made on first use and kept by :mod:`synatest.plugin.eval`, whose every hook is one
call into it. Imports nothing heavy: Synalinks is
imported only to resolve rewards, in ``--synalinks-eval`` runs.
"""

from __future__ import annotations

import os
import subprocess
import time
import traceback
from collections.abc import Generator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from synatest import options
from synatest.datasets import Dataset
from synatest.errors import ExampleLimitExceeded, LMCallFailed
from synatest.eval import flags, shard
from synatest.eval.flags import DEFAULT_BASELINE, DEFAULT_REPORT_DIR, REPORT_FILE
from synatest.eval.gates import GatePolicy
from synatest.eval.journal import RESUMED_KEY, Journal, JournalError, fingerprint
from synatest.eval.judge_spec import judge_settings
from synatest.eval.limits import ExampleLimits
from synatest.eval.reward_spec import resolve_reward
from synatest.eval.runs import Run, RunRecorder, repeating, scoring
from synatest.eval.suite_spec import SuiteSpec, check_consistent, marker_settings
from synatest.markers import (
    DATASET_ATTR,
    EVAL_MARKER,
    example_id,
    matrix_model,
    suite_name,
    with_model,
)
from synatest.session import ROUTER_KEY, get_session

if TYPE_CHECKING:
    from synatest.eval.results import ExampleResult, RunReport, ShardInfo

# The result objects (pydantic) and what builds them are imported by the methods
# that run in eval mode only, so loading the plugin costs no pydantic import.

_TOLERATED_KEY = pytest.StashKey[str]()
# An eval item's journal fingerprint (computed at collection), and whether the journal
# held a stale result for it (counted when the item runs, so xdist workers count each once).
_FINGERPRINT_KEY = pytest.StashKey[str]()
_STALE_KEY = pytest.StashKey[bool]()
RESUME_OUTPUT_KEY = "synatest_resume"


def to_json(value: Any) -> Any:
    """A JSON-friendly view of an input, expected output or prediction."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    get_json = getattr(value, "get_json", None)
    if callable(get_json):
        return get_json()
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    return repr(value)


def _describe_error(error: BaseException) -> str:
    """``Type: the whole message`` (every line: CassetteMiss diffs, LMCallFailed causes)."""
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


# Frames of the test runner itself: not where an example failed.
_RUNNER_DIRS = (f"{os.sep}_pytest{os.sep}", f"{os.sep}pluggy{os.sep}")


def _format_traceback(error: BaseException) -> str:
    """The traceback of an example's error, chained causes included, runner frames left out."""
    summary = traceback.TracebackException.from_exception(error)
    seen: set[int] = set()
    pending: list[traceback.TracebackException | None] = [summary]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        kept = [f for f in current.stack if not any(d in f.filename for d in _RUNNER_DIRS)]
        current.stack = traceback.StackSummary.from_list(kept)
        pending += [current.__cause__, current.__context__]
    return "".join(summary.format())


def _synalinks_version() -> str | None:
    # From the installed metadata: the xdist controller never imports Synalinks.
    try:
        return version("synalinks")
    except PackageNotFoundError:
        return None


def _git_commit(root: Path) -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


class EvalSession:
    """Eval mode of one pytest session (an xdist worker's share, or the controller)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.enabled: bool = flags.enabled(config)
        self.is_worker = hasattr(config, "workerinput")
        base = Path(config.invocation_params.dir)
        self.report_dir = base / str(options.value(config, "report-dir") or DEFAULT_REPORT_DIR)
        save = options.value(config, "save-baseline")
        self.save_baseline: Path | None = (
            None if save is None else base / (save or DEFAULT_BASELINE)
        )
        baseline = options.value(config, "baseline")
        self.baseline_path: Path | None = None if baseline is None else base / str(baseline)
        self.policy = GatePolicy(
            fail_regression=options.value(config, "fail-regression") or 0.0,
            alpha=float(options.value(config, "regression-alpha")),
            max_error_rate=float(options.value(config, "max-error-rate")),
            budgets=flags.budgets(config),
            cost_regression=options.value(config, "fail-cost-regression"),
            latency_regression=options.value(config, "fail-latency-regression"),
        )
        self._fail_regression_given = options.value(config, "fail-regression") is not None
        self.suites: dict[str, SuiteSpec] = {}
        self.results: list[tuple[int, ExampleResult]] = []
        self.worker_payloads: list[dict[str, Any]] = []
        self.models: set[str] = set()
        self.order: dict[str, int] = {}
        self.report: RunReport | None = None
        self.report_path: Path | None = None
        self.started = time.monotonic()
        self.shard = config.stash.get(shard.SHARD_KEY, None)
        # --synalinks-resume: the journal of finished examples (see eval/journal.py).
        self.resume = bool(options.value(config, "resume"))
        process = config.workerinput["workerid"] if self.is_worker else "main"  # type: ignore[attr-defined]
        self.journal = Journal(self.report_dir, Journal.scope_of(self.shard), process)
        self.journal_found: bool | None = None  # the controller's look at the start
        self.resume_counts = {"resumed": 0, "ran": 0, "stale": 0}

    # -- configure ---------------------------------------------------------------------
    def configure(self) -> None:
        # Without --synalinks-eval the plugin's pytest_configure checked the flags already.
        if not self.enabled:
            return
        if self.is_worker:
            return  # the controller loads the baseline and runs the gates
        if self.resume:
            try:
                # Read once here so a bad journal fails the run before any worker starts.
                self.journal_found = bool(len(self.journal.read()))
            except JournalError as error:
                raise pytest.UsageError(f"--synalinks-resume: {error}") from None
        else:
            self.journal.remove()  # a fresh run starts a fresh journal
        if self.shard is not None and self.save_baseline is not None:
            raise pytest.UsageError(
                f"--synalinks-save-baseline with --synalinks-shard {self.shard} would save part "
                "of the run: merge the shards (`synatest report merge DIR... -o OUT`) and use "
                "OUT/report.json as the baseline"
            )
        if self.baseline_path is None and self._fail_regression_given:
            default = Path(self.config.invocation_params.dir) / DEFAULT_BASELINE
            if not default.is_file():
                raise pytest.UsageError(
                    f"--synalinks-fail-regression needs a baseline: pass --synalinks-baseline=PATH "
                    f"(no baseline at the default {DEFAULT_BASELINE}; save one with "
                    "--synalinks-save-baseline)"
                )
            self.baseline_path = default
        if self.baseline_path is not None:
            from synatest.eval.io import BaselineError, load_report

            try:
                self.policy.baseline = load_report(self.baseline_path)
            except BaselineError as error:
                raise pytest.UsageError(f"--synalinks-baseline: {error}") from None

    # -- collection ----------------------------------------------------------------------
    def collection_finish(self, items: list[pytest.Item]) -> None:
        suites: dict[str, SuiteSpec] = {}
        # A shard orders its examples as in the whole collection (see eval/shard.py).
        whole = self.config.stash.get(shard.ORDER_KEY, {})
        for index, item in enumerate(items):
            marker = item.get_closest_marker(EVAL_MARKER)
            if marker is None:
                continue
            settings = marker_settings(item, marker)
            name = with_model(settings["suite"], item)
            spec = suites.get(name)
            if spec is None:
                model = matrix_model(item)
                spec = suites[name] = SuiteSpec(
                    name=name,
                    model=model,
                    base_name=None if model is None else settings["suite"],
                    reward=settings.get("reward"),
                    threshold=settings.get("threshold"),
                    pass_at=float(settings.get("pass_at", 1.0)),
                    repeat=settings["repeat"],
                    gate=settings["gate"],
                    k=settings.get("k"),
                    marker_kwargs={
                        key: value
                        for key, value in settings.items()
                        if key in marker.kwargs or key == "suite"
                    },
                )
            else:
                check_consistent(spec, settings, item)
            spec.items.append(item)
            dataset = getattr(getattr(item, "obj", None), DATASET_ATTR, None)
            if isinstance(dataset, Dataset) and spec.dataset is None:
                spec.dataset = dataset
            self.order[item.nodeid] = whole.get(item.nodeid, index)
            if not self.enabled:
                item.add_marker(
                    pytest.mark.skip(
                        reason=f"evaluation suite {name!r}: run `pytest --synalinks-eval` to "
                        "evaluate it"
                    )
                )
        self.suites = suites
        if self.enabled:
            self._match_journal(suites)
            for spec in suites.values():
                try:
                    spec.resolved_reward = resolve_reward(spec.reward)
                    spec.judge, spec.labels = judge_settings(
                        spec.marker_kwargs,
                        spec.dataset,
                        reward=spec.resolved_reward,
                        pass_at=spec.pass_at,
                    )
                except ValueError as error:
                    raise pytest.UsageError(
                        f"suite {spec.name!r} ({spec.items[0].nodeid}): {error}"
                    ) from None

    def _match_journal(self, suites: dict[str, SuiteSpec]) -> None:
        """Fingerprint every example; with --synalinks-resume, find its journalled result."""
        from pydantic import ValidationError

        contents = None
        if self.resume:
            try:
                contents = self.journal.read()
            except JournalError as error:
                raise pytest.UsageError(f"--synalinks-resume: {error}") from None
        model = options.value(self.config, "model")
        for name, spec in suites.items():
            settings = spec.as_payload()
            for item in spec.items:
                callspec = getattr(item, "callspec", None)
                params = {k: to_json(v) for k, v in callspec.params.items()} if callspec else {}
                digest = fingerprint(
                    suite=name,
                    settings=settings,
                    nodeid=item.nodeid,
                    params=params,
                    model=model,
                    human=spec.labels.get(example_id(item)),
                )
                item.stash[_FINGERPRINT_KEY] = digest
                if contents is None:
                    continue
                entry, stale = contents.match(item.nodeid, digest)
                if stale:
                    item.stash[_STALE_KEY] = True
                if entry is None:
                    continue
                try:
                    item.stash[RESUMED_KEY] = entry.example()
                except ValidationError as error:
                    raise pytest.UsageError(
                        f"--synalinks-resume: journal {entry.source}, line {entry.line}: not an "
                        f"example result ({error.error_count()} problem(s), first: "
                        f"{error.errors()[0]['msg']})"
                    ) from None

    def spec_of(self, item: pytest.Item) -> SuiteSpec | None:
        marker = item.get_closest_marker(EVAL_MARKER)
        if marker is None:
            return None
        return self.suites.get(suite_name(item, marker))

    # -- running one example ------------------------------------------------------------------
    def pyfunc_call(self, item: pytest.Function) -> Generator[None, Any, Any]:
        """Run the example ``spec.repeat`` times, score each run, record the example.

        Each run's failure is kept, not raised, until every run is scored; then the
        test fails with the first run's error (a note says how many runs passed), or
        when the suite gates on pass@k/pass^k and the example misses that rule.
        """
        spec = self.spec_of(item) if self.enabled else None
        if spec is None:
            return (yield)
        self._count_run(item)
        runs: list[Run] = []
        original = item.obj
        item.obj = repeating(original, spec.repeat, runs)
        router = item.stash.get(ROUTER_KEY, None)
        recorder = RunRecorder()
        remove = router.use(recorder, name="synatest-eval-runs", first=True) if router else None
        limits = ExampleLimits.from_settings(spec.marker_kwargs)
        # Outermost: a call that crosses a limit is in the transcript, with its usage.
        unlimit = (
            router.use(limits, name="synatest-example-limits", first=True)
            if router is not None and limits is not None
            else None
        )
        try:
            try:
                # Skip, xfail, exit or Ctrl-C raise here: no example result (failures
                # were kept).
                outcome = yield
            finally:
                item.obj = original
            if unlimit is not None:
                unlimit()
                unlimit = None
            # Scored with the recorder still on: a judge's calls join the transcripts.
            result, transcripts = self._record(item, spec, runs)
            self._journal(item, result, transcripts)
        finally:
            if unlimit is not None:
                unlimit()
            if remove is not None:
                remove()
        failure = self._failure(item, spec, runs, result)
        if failure is not None:
            raise failure
        return outcome

    def _score(
        self, spec: SuiteSpec, item: pytest.Item, run: Run
    ) -> tuple[float | None, str | None]:
        """A run's reward, or the error that kept it from having one (a run stopped by
        a per-example limit scores 0, its error naming the limit)."""
        if isinstance(run.error, ExampleLimitExceeded):
            return 0.0, _describe_error(run.error)
        if run.error is not None:
            return None, _describe_error(run.error)
        y_true = item.funcargs.get("y") if hasattr(item, "funcargs") else None
        try:
            with scoring(run):
                value = get_session(self.config).loop.run(spec.resolved_reward(y_true, run.value))
            return float(value), None
        except BaseException as error:
            if isinstance(error, (KeyboardInterrupt, SystemExit)):
                raise
            run.error = error
            return None, f"computing reward {spec.reward_name!r}: {_describe_error(error)}"

    def _record(
        self, item: pytest.Item, spec: SuiteSpec, runs: list[Run]
    ) -> tuple[ExampleResult, list[list[dict[str, Any]]]]:
        """Score and record the example; returns it and every run's whole transcript
        (for the journal, which keeps them all)."""
        from synatest.eval.results import ExampleResult, RunResult, TranscriptCall, Usage

        run_results = []
        for run in runs:
            reward, error = self._score(spec, item, run)
            run_results.append(
                RunResult(
                    index=run.index,
                    reward=reward,
                    passed=None
                    if reward is None
                    else reward >= spec.pass_at - 1e-9 and run.error is None,
                    error=error,
                    traceback=_format_traceback(run.error) if run.error is not None else None,
                    prediction=to_json(run.value),
                    usage=run.usage(),
                    duration_s=run.duration_s,
                    latency_s=run.latency_s,
                    limit=getattr(run.error, "limit", None),
                    shared_recording=run.shared_recording,
                )
            )
            self.models |= run.models
        rewards = [r.reward for r in run_results if r.reward is not None]
        reward = sum(rewards) / len(rewards) if rewards else None
        # The example errored when no run produced a reward: its error is the first run's.
        # One whose runs were all stopped by a limit failed: its error names the limit.
        failed = next((r for r in run_results if r.error and (r.reward is None or r.limit)), None)
        if any(r.reward is not None and not r.limit for r in run_results):
            failed = None
        passed = _passes(spec, run_results, reward) and not (failed and failed.limit)
        identifier = example_id(item)
        human = spec.labels.get(identifier)
        transcripts = [run.transcript() for run in runs]
        if self._keeps_transcripts(spec, passed, reward, human):
            # Validated only for the transcripts kept: most examples pass and keep none.
            for calls, run_result in zip(transcripts, run_results, strict=True):
                run_result.transcript = [TranscriptCall.model_validate(c) for c in calls]
        usage = Usage()
        for run_result in run_results:
            usage = usage + run_result.usage
        funcargs = getattr(item, "funcargs", {})
        result = ExampleResult(
            id=identifier,
            suite=spec.name,
            nodeid=item.nodeid,
            inputs=to_json(funcargs.get("x")),
            expected=to_json(funcargs.get("y")),
            prediction=run_results[0].prediction if run_results else None,
            reward=reward,
            passed=passed,
            error=failed.error if failed else None,
            traceback=failed.traceback if failed else None,
            duration_s=sum(r.duration_s for r in run_results),
            latency_s=sum(r.latency_s for r in run_results) / len(run_results)
            if run_results
            else 0.0,
            limit=failed.limit if failed else None,
            usage=usage,
            runs=run_results,
            human=human,
        )
        self.results.append((self.order.get(item.nodeid, len(self.order)), result))
        return result, transcripts

    def _keeps_transcripts(
        self, spec: SuiteSpec, passed: bool | None, reward: float | None, human: float | None
    ) -> bool:
        """--synalinks-transcripts: does this example keep its runs' transcripts?"""
        keep = options.value(self.config, "transcripts")
        # An example the judge and the person disagree on keeps its transcripts too.
        disputed = (
            human is not None
            and reward is not None
            and (reward >= spec.pass_at - 1e-9) != (human >= spec.pass_at - 1e-9)
        )
        return bool(keep == "all" or (keep == "failed" and (not passed or disputed)))

    # -- the journal and --synalinks-resume ----------------------------------------------------
    def _count_run(self, item: pytest.Item) -> None:
        self.resume_counts["ran"] += 1
        if item.stash.get(_STALE_KEY, False):
            self.resume_counts["stale"] += 1

    def _journal(
        self, item: pytest.Item, result: ExampleResult, transcripts: list[list[dict[str, Any]]]
    ) -> None:
        """Journal the finished example, every run's transcript kept."""
        digest = item.stash.get(_FINGERPRINT_KEY, None)
        if digest is None:
            return
        data = result.model_dump(mode="json")
        for run, calls in zip(data["runs"], transcripts, strict=True):
            run["transcript"] = calls
        try:
            self.journal.append(item.nodeid, self.order.get(item.nodeid, 0), digest, data)
        except OSError as error:
            raise OSError(
                f"synatest: cannot write the eval journal {self.journal.dir} ({error}); "
                "--synalinks-resume needs it"
            ) from error

    def runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
        """An example resumed from the journal: reported as it ended, nothing run.

        No fixture is set up and no LM called: setup and teardown report as passed, the
        call as the journalled result decides (passed, failed with the journalled error,
        or xfailed within --synalinks-max-error-rate).
        """
        journalled = item.stash.get(RESUMED_KEY, None)
        spec = self.spec_of(item) if self.enabled and journalled is not None else None
        if journalled is None or spec is None:
            return None
        result = self._resume(item, spec, journalled)
        failure = self._resumed_failure(item, spec, result)
        ihook = item.ihook
        ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)

        def call() -> None:
            if failure is not None:
                pytest.fail(failure, pytrace=False)

        # What the fixtures of the test before this one left set up for it (pytest tears
        # down, after each test, what the next test does not need) is torn down now.
        setupstate = item.session._setupstate
        for when, func in (
            ("setup", lambda: None),
            ("call", call),
            ("teardown", lambda: setupstate.teardown_exact(nextitem)),
        ):
            info = pytest.CallInfo.from_call(func, when=when)  # type: ignore[arg-type]
            report = ihook.pytest_runtest_makereport(item=item, call=info)
            ihook.pytest_runtest_logreport(report=report)
        ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
        return True

    def _resume(self, item: pytest.Item, spec: SuiteSpec, result: ExampleResult) -> ExampleResult:
        """Record a journalled result as this run's, with the transcripts this run keeps."""
        result = result.model_copy(deep=True)
        result.nodeid = item.nodeid
        for run in result.runs:
            self.models |= {call.model for call in run.transcript or () if call.model}
        if not self._keeps_transcripts(spec, result.passed, result.reward, result.human):
            for run in result.runs:
                run.transcript = None
        self.results.append((self.order.get(item.nodeid, len(self.order)), result))
        self.resume_counts["resumed"] += 1
        return result

    def _resumed_failure(
        self, item: pytest.Item, spec: SuiteSpec, result: ExampleResult
    ) -> str | None:
        """What failed the example before the interruption, as the message to fail with."""
        tally = f"{result.runs_passed}/{len(result.runs)} runs passed"
        item.user_properties.append(("synalinks_runs", tally))
        source = f"(synatest resume: this result is from the journal, {self.journal.dir})"
        failed = [run for run in result.runs if run.error]
        if failed:
            message = failed[0].error or ""
            if spec.repeat > 1:
                message += f"\nsynatest: {tally}; this is the error of run {failed[0].index + 1}"
            if message.startswith(f"{LMCallFailed.__name__}:") and self.policy.max_error_rate > 0:
                item.stash[_TOLERATED_KEY] = failed[0].error or ""
            return f"{message}\n{source}"
        if spec.gate != "mean" and not result.passed:
            need = "at least one run" if spec.gate == "pass_at_k" else f"at least {spec.k} runs"
            return (
                f"{tally}: the suite gates on {_gate_label(spec.gate, spec.k)}, so {need} "
                f"must pass (reward >= {spec.pass_at:g})\n{source}"
            )
        return None

    def _failure(
        self, item: pytest.Item, spec: SuiteSpec, runs: list[Run], result: ExampleResult
    ) -> BaseException | None:
        """What fails the example's test: a run's error, or a missed pass@k/pass^k rule."""
        tally = f"{result.runs_passed}/{len(result.runs)} runs passed"
        item.user_properties.append(("synalinks_runs", tally))
        failed = [run for run in runs if run.error is not None]
        if failed:
            error = failed[0].error
            assert error is not None
            if spec.repeat > 1:
                error.add_note(f"synatest: {tally}; this is the error of run {failed[0].index + 1}")
            message = next(r.error for r in result.runs if r.error)
            if isinstance(error, LMCallFailed) and self.policy.max_error_rate > 0 and message:
                item.stash[_TOLERATED_KEY] = message
            return error
        if spec.gate != "mean" and not result.passed:
            need = "at least one run" if spec.gate == "pass_at_k" else f"at least {spec.k} runs"
            return AssertionError(
                f"{tally}: the suite gates on {_gate_label(spec.gate, spec.k)}, so {need} "
                f"must pass (reward >= {spec.pass_at:g})"
            )
        return None

    def makereport(self, item: pytest.Item, report: pytest.TestReport) -> None:
        """An LM error within --synalinks-max-error-rate reports as xfailed."""
        if report.when != "call" or not report.failed:
            return
        tolerated = item.stash.get(_TOLERATED_KEY, None)
        if tolerated is not None:
            report.outcome = "skipped"
            report.wasxfail = (  # type: ignore[attr-defined]
                f"LM error counted against --synalinks-max-error-rate "
                f"{self.policy.max_error_rate:g}: {tolerated}"
            )

    # -- end of session --------------------------------------------------------------------
    def add_worker_output(self, workeroutput: dict[str, Any]) -> None:
        from synatest.eval.xdist import PAYLOAD_KEY

        payload = workeroutput.get(PAYLOAD_KEY)
        if payload is not None:
            self.worker_payloads.append(payload)
        for key, count in (workeroutput.get(RESUME_OUTPUT_KEY) or {}).items():
            self.resume_counts[key] = self.resume_counts.get(key, 0) + int(count)

    def build_report(self) -> RunReport:
        from synatest.eval.results import JudgeSettings, RunReport, SuiteResult, Usage
        from synatest.eval.scoring import score_suite
        from synatest.eval.xdist import merge_payloads

        results = list(self.results)
        specs = {name: spec.as_payload() for name, spec in self.suites.items()}
        models = set(self.models)
        if self.worker_payloads:
            merged = merge_payloads(self.worker_payloads)
            results = sorted(results + merged.results, key=lambda pair: pair[0])
            for name, spec in merged.suites.items():
                specs.setdefault(name, spec)
            models |= merged.models
        by_suite: dict[str, list[ExampleResult]] = {}
        for _, result in sorted(results, key=lambda pair: pair[0]):
            by_suite.setdefault(result.suite, []).append(result)
        suites: list[SuiteResult] = []
        for name, examples in by_suite.items():
            spec = specs.get(name, {})
            suites.append(
                score_suite(
                    name,
                    examples,
                    policy=self.policy,
                    threshold=spec.get("threshold"),
                    reward=spec.get("reward"),
                    gate=spec.get("gate") or "mean",
                    k=spec.get("k"),
                    model=spec.get("model"),
                    base_name=spec.get("base_name"),
                    judge=JudgeSettings.model_validate(spec["judge"])
                    if spec.get("judge")
                    else None,
                    budgets=spec.get("budgets"),
                )
            )
        usage = Usage()
        for suite in suites:
            usage = usage + suite.usage
        from synatest import __version__
        from synatest.eval.matrix import build_matrix

        shard_info = None
        if self.shard is not None:
            shard_info = self._shard_info(results)
            for suite in suites:
                suite.gates = []
                suite.notes.append(
                    shard.DEFERRED_NOTE.format(index=self.shard.index, count=self.shard.count)
                )
        return RunReport(
            synatest_version=__version__,
            synalinks_version=_synalinks_version(),
            git_commit=_git_commit(self.config.rootpath),
            models=sorted(m for m in models if m),
            suites=suites,
            usage=usage,
            duration_s=time.monotonic() - self.started,
            shard=shard_info,
            matrix=build_matrix(suites),
        )

    def _shard_info(self, results: list[tuple[int, ExampleResult]]) -> ShardInfo:
        """What ``synatest report merge`` needs to rebuild the whole run from shards."""
        from synatest.eval.results import ShardInfo

        assert self.shard is not None
        policy = self.policy
        return ShardInfo(
            index=self.shard.index,
            count=self.shard.count,
            run_id=shard.run_id(),
            order={r.nodeid or f"{r.suite}::{r.id}": order for order, r in results},
            policy={
                "threshold": policy.threshold,
                "fail_regression": policy.fail_regression,
                "alpha": policy.alpha,
                "max_error_rate": policy.max_error_rate,
                "cost_regression": policy.cost_regression,
                "latency_regression": policy.latency_regression,
            },
        )

    def finish(self, session: pytest.Session) -> None:
        if not self.enabled:
            return
        from synatest.eval.io import save_report
        from synatest.eval.xdist import PAYLOAD_KEY, worker_payload

        if self.is_worker:
            workeroutput = self.config.workeroutput  # type: ignore[attr-defined]
            specs = {name: spec.as_payload() for name, spec in self.suites.items()}
            workeroutput[PAYLOAD_KEY] = worker_payload(self.results, specs, self.models)
            workeroutput[RESUME_OUTPUT_KEY] = dict(self.resume_counts)
            self.journal.close()
            return
        self.report = report = self.build_report()
        self.report_path = save_report(report, self.report_dir / REPORT_FILE)
        # A finished run has nothing to resume; an interrupted one (Ctrl-C, -x) keeps
        # its journal for --synalinks-resume.
        interrupted = session.exitstatus in (
            pytest.ExitCode.INTERRUPTED,
            pytest.ExitCode.INTERNAL_ERROR,
        ) or bool(session.shouldstop or session.shouldfail)
        if interrupted:
            self.journal.close()
        else:
            self.journal.remove()
        if self.save_baseline is not None:
            save_report(report, self.save_baseline)
        self.config.hook.pytest_synalinks_eval_report(config=self.config, report=report)
        if not report.passed and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def terminal_summary(self, terminal: Any) -> None:
        if not self.enabled or self.is_worker or self.report is None:
            return
        from synatest.eval.summary import write_summary

        write_summary(
            terminal,
            self.report,
            shard=self.shard,
            report_path=self.report_path,
            save_baseline=self.save_baseline,
        )
        if self.resume:
            terminal.write_line(self.resume_line())

    def resume_line(self) -> str:
        """The summary line of a --synalinks-resume run."""
        counts = self.resume_counts
        where = self._journal_display()
        if not self.journal_found:
            return f"synatest resume: no journal in {where}, so every example ran"
        resumed, ran = counts["resumed"], counts["ran"]
        line = (
            f"synatest resume: {resumed} of {resumed + ran} examples from the journal "
            f"({where}), {ran} run"
        )
        if counts["stale"]:
            line += (
                f"; {counts['stale']} journalled results ignored (their example, dataset row "
                "or suite settings changed since)"
            )
        return line

    def _journal_display(self) -> str:
        try:
            return str(self.journal.dir.relative_to(self.config.invocation_params.dir))
        except ValueError:
            return str(self.journal.dir)


def _gate_label(gate: str, k: int | None) -> str:
    return {"pass_at_k": f"pass@{k}", "pass_hat_k": f"pass^{k}"}.get(gate, "the mean reward")


def _passes(spec: SuiteSpec, runs: list[Any], reward: float | None) -> bool | None:
    """The example's pass rule: its mean reward reaches ``pass_at`` (gate ``mean``); at
    least one run passed (``pass_at_k``); at least k runs passed (``pass_hat_k``: every
    run when k is the repeat count)."""
    if spec.gate == "mean":
        return None if reward is None else reward >= spec.pass_at - 1e-9
    passed = sum(1 for run in runs if run.passed)
    return passed >= (1 if spec.gate == "pass_at_k" else (spec.k or len(runs)))
