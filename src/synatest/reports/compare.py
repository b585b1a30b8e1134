"""Two runs side by side: ``synatest report compare A B``.

Works for before/after, two programs or two models: suites are matched by name and
examples by id. For each suite: both means, their difference with a 95% bootstrap
confidence interval (paired on the examples both runs scored, so per-example noise
cancels; unpaired when the runs share no examples), pass rates, gates, the examples
that flipped each way, and LM usage and cost deltas.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, computed_field

from synatest._atomic import atomic_write_text
from synatest.eval.results import ExampleResult, RunReport, SuiteResult, Usage
from synatest.reports import _rows, _templates

COMPARISON_SCHEMA_VERSION = 1
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0
# Examples listed per suite and direction in Markdown/HTML (JSON lists them all).
MAX_LISTED = 50


class RunInfo(BaseModel):
    """Identity of one side of the comparison."""

    label: str
    source: str | None = None  # the path it was read from
    created_at: datetime | None = None
    git_commit: str | None = None
    models: list[str] = Field(default_factory=list)
    synatest_version: str | None = None
    synalinks_version: str | None = None
    passed: bool = True
    duration_s: float = 0.0


class FlippedExample(BaseModel):
    """An example whose outcome differs between the runs."""

    id: str
    status_a: str
    status_b: str
    reward_a: float | None = None
    reward_b: float | None = None
    inputs: Any = None
    expected: Any = None
    prediction_a: Any = None
    prediction_b: Any = None
    error_a: str | None = None
    error_b: str | None = None


class UsageDelta(BaseModel):
    a: Usage = Field(default_factory=Usage)
    b: Usage = Field(default_factory=Usage)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def calls(self) -> int:
        return self.b.calls - self.a.calls

    @computed_field  # type: ignore[prop-decorator]
    @property
    def tokens_a(self) -> int:
        return self.a.prompt_tokens + self.a.completion_tokens

    @computed_field  # type: ignore[prop-decorator]
    @property
    def tokens_b(self) -> int:
        return self.b.prompt_tokens + self.b.completion_tokens

    @computed_field  # type: ignore[prop-decorator]
    @property
    def tokens(self) -> int:
        return self.tokens_b - self.tokens_a

    @computed_field  # type: ignore[prop-decorator]
    @property
    def cost(self) -> float:
        return self.b.cost - self.a.cost


class SuiteComparison(BaseModel):
    name: str
    in_a: bool
    in_b: bool
    n_a: int = 0
    n_b: int = 0
    n_paired: int = 0  # examples scored (no error) in both runs
    mean_a: float | None = None
    mean_b: float | None = None
    delta: float | None = None  # mean_b - mean_a
    ci_low: float | None = None  # 95% CI of delta
    ci_high: float | None = None
    ci_method: Literal["paired bootstrap", "unpaired bootstrap"] | None = None
    pass_rate_a: float | None = None
    pass_rate_b: float | None = None
    errors_a: int = 0
    errors_b: int = 0
    gates_a: bool | None = None  # None: the suite has no gate in that run
    gates_b: bool | None = None
    broken: list[FlippedExample] = Field(default_factory=list)  # passed in A, not in B
    fixed: list[FlippedExample] = Field(default_factory=list)  # not passed in A, passed in B
    only_a: list[str] = Field(default_factory=list)
    only_b: list[str] = Field(default_factory=list)
    usage: UsageDelta = Field(default_factory=UsageDelta)
    # Repeats (each side its own K): pass@1 and pass@K, pass^K, the flaky examples.
    repeat_a: int = 1
    repeat_b: int = 1
    pass_at_k_a: dict[str, float] = Field(default_factory=dict)
    pass_at_k_b: dict[str, float] = Field(default_factory=dict)
    pass_hat_k_a: float | None = None
    pass_hat_k_b: float | None = None
    flaky_a: list[str] = Field(default_factory=list)
    flaky_b: list[str] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def verdict(self) -> str:
        """``better`` / ``worse`` when the CI excludes 0, else ``same`` (or ``n/a``)."""
        if self.ci_low is None or self.ci_high is None:
            return "n/a"
        if self.ci_low > 0:
            return "better"
        if self.ci_high < 0:
            return "worse"
        return "same"


class Comparison(BaseModel):
    """The result of comparing run A (baseline) with run B (candidate)."""

    schema_version: int = COMPARISON_SCHEMA_VERSION
    a: RunInfo
    b: RunInfo
    suites: list[SuiteComparison] = Field(default_factory=list)
    usage: UsageDelta = Field(default_factory=UsageDelta)
    confidence: float = 0.95
    resamples: int = BOOTSTRAP_RESAMPLES

    @computed_field  # type: ignore[prop-decorator]
    @property
    def regressed(self) -> bool:
        """Any suite significantly worse, or a gate that passed in A and fails in B."""
        return any(
            s.verdict == "worse" or (s.gates_a is True and s.gates_b is False) for s in self.suites
        )


def _outcome(example: ExampleResult) -> bool:
    """Did the example pass? A reward with no pass mark counts as passed when >= 1."""
    if example.errored or example.reward is None:
        return False
    if example.passed is not None:
        return example.passed
    return example.reward >= 1.0


def _scored(example: ExampleResult | None) -> float | None:
    if example is None or example.errored:
        return None
    return example.reward


def bootstrap_ci(
    a: Sequence[float],
    b: Sequence[float],
    *,
    paired: bool,
    resamples: int = BOOTSTRAP_RESAMPLES,
    confidence: float = 0.95,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[float, float]:
    """Percentile bootstrap CI of ``mean(b) - mean(a)`` (deterministic: fixed seed).

    ``paired``: ``a[i]`` and ``b[i]`` are the same example, resampled together.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    xa = np.asarray(a, dtype=float)
    xb = np.asarray(b, dtype=float)
    # Chunks keep memory flat: at most ~4M indices (32 MB) at a time.
    chunk = max(1, min(resamples, 4_000_000 // max(1, len(xa), len(xb))))
    deltas = []
    done = 0
    while done < resamples:
        k = min(chunk, resamples - done)
        if paired:
            diff = xb - xa
            idx = rng.integers(0, len(diff), size=(k, len(diff)))
            deltas.append(diff[idx].mean(axis=1))
        else:
            ia = rng.integers(0, len(xa), size=(k, len(xa)))
            ib = rng.integers(0, len(xb), size=(k, len(xb)))
            deltas.append(xb[ib].mean(axis=1) - xa[ia].mean(axis=1))
        done += k
    alpha = (1 - confidence) / 2
    low, high = np.quantile(np.concatenate(deltas), [alpha, 1 - alpha])
    return float(low), float(high)


def _flip(ex_a: ExampleResult, ex_b: ExampleResult) -> FlippedExample:
    return FlippedExample(
        id=ex_a.id,
        status_a=_rows.status(ex_a),
        status_b=_rows.status(ex_b),
        reward_a=ex_a.reward,
        reward_b=ex_b.reward,
        inputs=_rows.to_json(ex_b.inputs if ex_b.inputs is not None else ex_a.inputs),
        expected=_rows.to_json(ex_b.expected if ex_b.expected is not None else ex_a.expected),
        prediction_a=_rows.to_json(ex_a.prediction),
        prediction_b=_rows.to_json(ex_b.prediction),
        error_a=ex_a.error,
        error_b=ex_b.error,
    )


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def compare_suites(a: SuiteResult | None, b: SuiteResult | None) -> SuiteComparison:
    name = (a or b).name if (a or b) is not None else ""  # type: ignore[union-attr]
    result = SuiteComparison(name=name, in_a=a is not None, in_b=b is not None)
    ex_a = {e.id: e for e in a.examples} if a else {}
    ex_b = {e.id: e for e in b.examples} if b else {}
    scored_a = [r for e in ex_a.values() if (r := _scored(e)) is not None]
    scored_b = [r for e in ex_b.values() if (r := _scored(e)) is not None]
    if a is not None:
        result.n_a = a.n or len(a.examples)
        result.mean_a = a.mean if a.mean is not None else _mean(scored_a)
        result.errors_a = a.errors
        result.gates_a = a.passed if a.gates else None
        result.usage.a = a.usage
        result.repeat_a, result.pass_at_k_a = a.repeat, a.pass_at_k
        result.pass_hat_k_a, result.flaky_a = a.pass_hat_k, a.flaky
        if ex_a:
            result.pass_rate_a = sum(map(_outcome, ex_a.values())) / len(ex_a)
    if b is not None:
        result.n_b = b.n or len(b.examples)
        result.mean_b = b.mean if b.mean is not None else _mean(scored_b)
        result.errors_b = b.errors
        result.gates_b = b.passed if b.gates else None
        result.usage.b = b.usage
        result.repeat_b, result.pass_at_k_b = b.repeat, b.pass_at_k
        result.pass_hat_k_b, result.flaky_b = b.pass_hat_k, b.flaky
        if ex_b:
            result.pass_rate_b = sum(map(_outcome, ex_b.values())) / len(ex_b)
    if result.mean_a is not None and result.mean_b is not None:
        result.delta = result.mean_b - result.mean_a
    common = [i for i in ex_a if i in ex_b]
    result.only_a = [i for i in ex_a if i not in ex_b]
    result.only_b = [i for i in ex_b if i not in ex_a]
    pairs = [
        (ra, rb)
        for i in common
        if (ra := _scored(ex_a[i])) is not None and (rb := _scored(ex_b[i])) is not None
    ]
    result.n_paired = len(pairs)
    if len(pairs) >= 2:
        low, high = bootstrap_ci([p[0] for p in pairs], [p[1] for p in pairs], paired=True)
        # Center the paired interval on the reported delta when the runs were scored on
        # different example sets (errors, additions): the spread is the paired one.
        shift = 0.0
        if result.delta is not None:
            shift = result.delta - (_mean([p[1] - p[0] for p in pairs]) or 0.0)
        result.ci_low, result.ci_high = low + shift, high + shift
        result.ci_method = "paired bootstrap"
    elif len(scored_a) >= 2 and len(scored_b) >= 2:
        result.ci_low, result.ci_high = bootstrap_ci(scored_a, scored_b, paired=False)
        result.ci_method = "unpaired bootstrap"
    for i in common:
        before, after = _outcome(ex_a[i]), _outcome(ex_b[i])
        if before and not after:
            result.broken.append(_flip(ex_a[i], ex_b[i]))
        elif after and not before:
            result.fixed.append(_flip(ex_a[i], ex_b[i]))
    return result


def run_info(report: RunReport, label: str | None, source: str | None) -> RunInfo:
    return RunInfo(
        label=label or report.label or (Path(source).stem if source else "run"),
        source=source,
        created_at=report.created_at,
        git_commit=report.git_commit,
        models=report.models,
        synatest_version=report.synatest_version,
        synalinks_version=report.synalinks_version,
        passed=report.passed,
        duration_s=report.duration_s,
    )


def compare_runs(
    a: RunReport,
    b: RunReport,
    *,
    label_a: str | None = None,
    label_b: str | None = None,
    source_a: str | None = None,
    source_b: str | None = None,
) -> Comparison:
    """Compare run ``a`` (the baseline) with run ``b`` (the candidate)."""
    info_a = run_info(a, label_a, source_a)
    info_b = run_info(b, label_b, source_b)
    if info_a.label == info_b.label:
        info_a.label, info_b.label = f"A: {info_a.label}", f"B: {info_b.label}"
    suites_a = {s.name: s for s in a.suites}
    suites_b = {s.name: s for s in b.suites}
    names = list(suites_a) + [n for n in suites_b if n not in suites_a]
    return Comparison(
        a=info_a,
        b=info_b,
        suites=[compare_suites(suites_a.get(n), suites_b.get(n)) for n in names],
        usage=UsageDelta(a=a.usage, b=b.usage),
    )


def run_label(source: str | os.PathLike[str]) -> str:
    path = Path(source)
    return path.name if path.is_dir() else path.parent.name or path.stem


def compare_paths(
    a: str | os.PathLike[str],
    b: str | os.PathLike[str],
    *,
    label_a: str | None = None,
    label_b: str | None = None,
) -> Comparison:
    """Load two ``report.json`` files (or report directories) and compare them."""
    from synatest.reports.json_report import load_report

    run_a, run_b = load_report(a), load_report(b)
    return compare_runs(
        run_a,
        run_b,
        label_a=label_a or run_a.label or run_label(a),
        label_b=label_b or run_b.label or run_label(b),
        source_a=os.fspath(a),
        source_b=os.fspath(b),
    )


# -- rendering ------------------------------------------------------------------------


def _signed(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:+.{digits}f}"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _gate(value: bool | None) -> str:
    return "–" if value is None else ("PASS" if value else "FAIL")


def render_json(comparison: Comparison) -> str:
    return comparison.model_dump_json(indent=2, fallback=_rows.to_json) + "\n"


def _flip_rows(flips: list[FlippedExample]) -> list[list[Any]]:
    return [
        [
            f.id,
            f"{f.status_a} → {f.status_b}",
            f"{_rows.fmt_float(f.reward_a)} → {_rows.fmt_float(f.reward_b)}",
            f.error_a or f.prediction_a,
            f.error_b or f.prediction_b,
            f.expected,
        ]
        for f in flips[:MAX_LISTED]
    ]


def render_markdown(comparison: Comparison) -> str:
    from synatest.reports.markdown import code, table

    c = comparison
    suites_table = table(
        [
            "Suite",
            f"{c.a.label} mean",
            f"{c.b.label} mean",
            "Δ",
            "95% CI of Δ",
            "Verdict",
            "Paired",
            "Pass rate",
            "Gates",
            "Broken",
            "Fixed",
        ],
        [
            [
                s.name,
                _rows.fmt_float(s.mean_a),
                _rows.fmt_float(s.mean_b),
                _signed(s.delta),
                _rows.fmt_ci(s.ci_low, s.ci_high),
                s.verdict,
                s.n_paired,
                f"{_pct(s.pass_rate_a)} → {_pct(s.pass_rate_b)}",
                f"{_gate(s.gates_a)} → {_gate(s.gates_b)}",
                len(s.broken),
                len(s.fixed),
            ]
            for s in c.suites
        ],
    )
    repeat_table = ""
    if any(max(s.repeat_a, s.repeat_b) > 1 for s in c.suites):
        repeat_table = table(
            ["Suite", "Runs", "pass@1", "pass@K", "pass^K", "Flaky"],
            [
                [
                    s.name,
                    f"{s.repeat_a} → {s.repeat_b}",
                    f"{_pct(s.pass_at_k_a.get('1'))} → {_pct(s.pass_at_k_b.get('1'))}",
                    f"{_pct(s.pass_at_k_a.get(str(s.repeat_a)))} → "
                    f"{_pct(s.pass_at_k_b.get(str(s.repeat_b)))}",
                    f"{_pct(s.pass_hat_k_a)} → {_pct(s.pass_hat_k_b)}",
                    f"{len(s.flaky_a)} → {len(s.flaky_b)}",
                ]
                for s in c.suites
            ],
        )
    usage_rows = [
        [
            name,
            f"{u.a.calls} → {u.b.calls} ({u.calls:+d})",
            f"{u.tokens_a} → {u.tokens_b} ({u.tokens:+d})",
            f"{_rows.fmt_cost(u.a.cost)} → {_rows.fmt_cost(u.b.cost)} ({u.cost:+.4f})",
        ]
        for name, u in [*((s.name, s.usage) for s in c.suites), ("(run)", c.usage)]
    ]
    usage_table = table(["Suite", "LM calls", "Tokens", "Cost"], usage_rows)
    flips = []
    for s in c.suites:
        for title, items in (
            ("Broken (passed → not passed)", s.broken),
            ("Fixed (not passed → passed)", s.fixed),
        ):
            if items:
                flips.append(
                    {
                        "title": f"{title} in {code(s.name)}: {len(items)}"
                        + (f", first {MAX_LISTED} shown" if len(items) > MAX_LISTED else ""),
                        "table": table(
                            ["Example", "Status", "Reward", c.a.label, c.b.label, "Expected"],
                            _flip_rows(items),
                        ),
                    }
                )
    return _templates.render(
        "compare.md.j2",
        c=comparison,
        suites_table=suites_table,
        repeat_table=repeat_table,
        usage_table=usage_table,
        flips=flips,
    )


def render_html(comparison: Comparison) -> str:
    return _templates.render(
        "compare.html.j2",
        c=comparison,
        signed=_signed,
        pct=_pct,
        gate=_gate,
        limit=MAX_LISTED,
    )


RENDERERS = {"md": render_markdown, "html": render_html, "json": render_json}


def render(comparison: Comparison, fmt: str) -> str:
    return _templates.render_as(RENDERERS, comparison, fmt)


def write(comparison: Comparison, path: str | os.PathLike[str], fmt: str) -> Path:
    return atomic_write_text(path, render(comparison, fmt))
