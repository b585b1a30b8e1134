"""The before/after report of a training run.

Written under the run's output directory, every file atomically:

- ``report.json``: a :class:`TrainReport` (pydantic): the untrained and trained
  programs' test-split results as :class:`~synatest.eval.results.RunReport` objects
  (``label`` "before" / "after", the same schema as eval reports), the history, the
  flipped examples and the diff of the trained variables;
- ``report.md``: the same for a reviewer;
- ``history.csv``: one row per epoch (epoch 0 is the untrained program);
- ``curve.png``: validation (and training) reward per epoch, with the gate;
- ``compare.md`` / ``compare.html``: before vs. after, side by side, by the eval
  reports' ``synatest report compare`` renderer (paired bootstrap CIs, flips);
- ``before/`` and ``after/``: each side as an eval run (report.json/.md/.html,
  examples.jsonl/.csv), readable by ``synatest report`` tools.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from synatest.eval.results import SCHEMA_VERSION, RunReport, SuiteResult, Usage
from synatest.train import _io
from synatest.train.config import TrainResult

# Fields of a trainable variable that are optimizer bookkeeping, not learned content.
_BOOKKEEPING = {
    "current_predictions",
    "predictions",
    "seed_candidates",
    "candidates",
    "best_candidates",
    "history",
    "nb_visit",
    "cumulative_reward",
}


class FlippedExample(BaseModel):
    id: str
    direction: str  # "fixed" (failed before, passes after) or "broken"
    inputs: Any = None
    expected: Any = None
    before: Any = None
    after: Any = None
    reward_before: float | None = None
    reward_after: float | None = None


class VariableChange(BaseModel):
    """One learned field of one trainable variable that training changed."""

    variable: str
    field: str
    before: Any = None
    after: Any = None


class TrainReport(BaseModel):
    schema_version: int = SCHEMA_VERSION
    suite: str
    passed: bool
    stop_reason: str
    best_epoch: int
    epochs_run: int
    optimizer: str
    seed: int
    threshold: float
    split_sizes: dict[str, int]
    before: RunReport
    after: RunReport
    validation_before: SuiteResult
    history: list[dict[str, Any]]
    flipped: list[FlippedExample] = Field(default_factory=list)
    changes: list[VariableChange] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    program_path: str
    duration_s: float = 0.0


def _flatten_variables(tree: dict[str, Any], prefix: str = "") -> dict[str, dict[str, Any]]:
    """``{variable path: its fields}`` from a nested state tree."""
    out: dict[str, dict[str, Any]] = {}
    for key, value in tree.items():
        path = f"{prefix}/{key}" if prefix else key
        if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            out.update(_flatten_variables(value, path))
        elif isinstance(value, dict):
            out[path] = value
    return out


def diff_variables(before: dict[str, Any], after: dict[str, Any]) -> list[VariableChange]:
    """The learned fields (instructions, examples, plans, ...) that differ."""
    old, new = _flatten_variables(before), _flatten_variables(after)
    changes = []
    for path in sorted(set(old) | set(new)):
        fields_old, fields_new = old.get(path, {}), new.get(path, {})
        for name in sorted((set(fields_old) | set(fields_new)) - _BOOKKEEPING):
            if fields_old.get(name) != fields_new.get(name):
                changes.append(
                    VariableChange(
                        variable=path,
                        field=name,
                        before=fields_old.get(name),
                        after=fields_new.get(name),
                    )
                )
    return changes


def flipped_examples(before: SuiteResult, after: SuiteResult) -> list[FlippedExample]:
    old = {e.id: e for e in before.examples}
    flipped = []
    for example in after.examples:
        prior = old.get(example.id)
        if prior is None or bool(prior.passed) == bool(example.passed):
            continue
        flipped.append(
            FlippedExample(
                id=example.id,
                direction="fixed" if example.passed else "broken",
                inputs=example.inputs,
                expected=example.expected,
                before=prior.prediction,
                after=example.prediction,
                reward_before=prior.reward,
                reward_after=example.reward,
            )
        )
    return flipped


def _versions() -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    found: dict[str, str | None] = {}
    for name in ("synatest", "synalinks"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:  # pragma: no cover
            found[name] = None
    return found


def build_report(result: TrainResult) -> TrainReport:
    versions = _versions()

    def run_report(label: str, suite: SuiteResult) -> RunReport:
        return RunReport(
            label=label,
            synatest_version=versions["synatest"],
            synalinks_version=versions["synalinks"],
            suites=[suite],
            usage=suite.usage,
        )

    return TrainReport(
        suite=result.suite,
        passed=result.passed,
        stop_reason=result.stop_reason,
        best_epoch=result.best_epoch,
        epochs_run=max((row.epoch for row in result.history), default=0),
        optimizer=result.config.optimizer,
        seed=result.config.seed,
        threshold=result.config.threshold,
        split_sizes={
            "train": len(result.split.train),
            "validation": len(result.split.validation),
            "test": len(result.split.test),
        },
        before=run_report("before", result.before),
        after=run_report("after", result.after),
        validation_before=result.validation_before,
        history=[row.as_dict() for row in result.history],
        flipped=flipped_examples(result.before, result.after),
        changes=diff_variables(result.variables_before, result.variables_after),
        usage=result.usage,
        program_path=str(result.program_path),
        duration_s=result.duration_s,
    )


HISTORY_FIELDS = [
    "epoch",
    "train_reward",
    "val_reward",
    "best_val_reward",
    "calls",
    "cost",
    "elapsed_s",
]


def history_csv(history: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=HISTORY_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in history:
        writer.writerow({key: row.get(key) for key in HISTORY_FIELDS})
    return buffer.getvalue()


def plot_curve(report: TrainReport, path: Path) -> None:
    """Validation reward per epoch (and training reward), with the gate as a line."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    # A Figure, not pyplot: no global state, nothing left open.
    figure = Figure(figsize=(6, 3.5), dpi=100)
    axes = figure.subplots()
    epochs = [row["epoch"] for row in report.history]
    val = [row["val_reward"] for row in report.history]
    train = [row["train_reward"] for row in report.history]
    axes.plot(epochs, val, marker="o", label="validation reward")
    if any(v is not None for v in train):
        axes.plot(
            [e for e, t in zip(epochs, train, strict=True) if t is not None],
            [t for t in train if t is not None],
            marker=".",
            linestyle="--",
            label="training reward",
        )
    axes.axhline(report.threshold, color="grey", linestyle=":", label="gate")
    axes.set_xlabel("epoch (0 = untrained)")
    axes.set_ylabel("mean reward")
    axes.set_ylim(-0.02, 1.02)
    axes.set_title(f"synatest train: {report.suite}")
    axes.legend(loc="lower right")
    figure.tight_layout()
    _io.write_with(path, lambda tmp: figure.savefig(tmp, format="png"), suffix=".png")


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _ci(suite: SuiteResult) -> str:
    if suite.ci_low is None or suite.ci_high is None:
        return "-"
    return f"[{suite.ci_low:.3f}, {suite.ci_high:.3f}]"


def _short_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def render_markdown(report: TrainReport) -> str:
    from synatest.reports.markdown import code, escape, fence

    before, after = report.before.suites[0], report.after.suites[0]
    verdict = "PASSED" if report.passed else "FAILED"
    lines = [
        f"# synatest train: {code(report.suite)} — gate {verdict}",
        "",
        f"Stopped: {report.stop_reason} (best epoch {report.best_epoch} of "
        f"{report.epochs_run}); optimizer {code(report.optimizer)}, seed {report.seed}, "
        f"threshold {report.threshold}.",
        f"Split: {report.split_sizes['train']} train / "
        f"{report.split_sizes['validation']} validation / {report.split_sizes['test']} test. "
        f"LM calls: {report.usage.calls}, cost: ${report.usage.cost:.4f}.",
        f"Trained program: {code(str(report.program_path))}",
        "",
        "## Test split, before and after",
        "",
        "| | mean reward | 95% CI | passes | errors | gate |",
        "|---|---|---|---|---|---|",
    ]
    for label, suite in (("before", before), ("after", after)):
        gate = "pass" if suite.passed else "fail"
        lines.append(
            f"| {label} | {_fmt(suite.mean)} | {_ci(suite)} | {suite.passes}/{suite.n} "
            f"| {suite.errors} | {gate} |"
        )
    lines += ["", "## Training history", "", "| epoch | train | validation | best | calls |"]
    lines.append("|---|---|---|---|---|")
    for row in report.history:
        lines.append(
            f"| {row['epoch']} | {_fmt(row['train_reward'])} | {_fmt(row['val_reward'])} "
            f"| {_fmt(row['best_val_reward'])} | {row['calls']} |"
        )
    lines += [
        "",
        "![training curve](curve.png)",
        "",
        "Side by side with paired confidence intervals: [compare.md](compare.md), "
        "[compare.html](compare.html).",
        "",
        "## Examples that flipped",
        "",
    ]
    if not report.flipped:
        lines.append("None.")
    for flip in report.flipped:
        lines.append(
            f"- **{escape(flip.id)}** {flip.direction}: {escape(_short_json(flip.inputs))} — "
            f"expected {escape(_short_json(flip.expected))}; before "
            f"{escape(_short_json(flip.before))} "
            f"({_fmt(flip.reward_before)}), after {escape(_short_json(flip.after))} "
            f"({_fmt(flip.reward_after)})"
        )
    lines += ["", "## Trained variables", ""]
    if not report.changes:
        lines.append("Training changed no variable.")
    for change in report.changes:
        old = json.dumps(change.before, indent=2, sort_keys=True, default=str).splitlines()
        new = json.dumps(change.after, indent=2, sort_keys=True, default=str).splitlines()
        diff = difflib.unified_diff(old, new, "before", "after", lineterm="")
        heading = f"### {code(change.variable)} — {escape(str(change.field))}"
        lines += [heading, "", *fence(list(diff), "diff"), ""]
    return "\n".join(lines).rstrip() + "\n"


def write_report(result: TrainResult) -> TrainReport:
    """Write the training report files (see the module docstring); return the report."""
    from synatest.reports import compare as compare_module
    from synatest.reports import write_reports

    report = build_report(result)
    out = result.output_dir
    _io.write_text(out / "report.json", report.model_dump_json(indent=2) + "\n")
    _io.write_text(out / "history.csv", history_csv(report.history))
    plot_curve(report, out / "curve.png")
    _io.write_text(out / "report.md", render_markdown(report))
    # The eval reports' own renderers: each side as an eval run, and side by side.
    write_reports(report.before, out / "before")
    write_reports(report.after, out / "after")
    comparison = compare_module.compare_runs(
        report.before, report.after, label_a="before", label_b="after"
    )
    for fmt in ("md", "html"):
        compare_module.write(comparison, out / f"compare.{fmt}", fmt)
    return report
