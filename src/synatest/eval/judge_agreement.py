"""A judge suite's rewards against its human labels: the agreement block of a report.

:func:`measure_judge` turns the examples of a suite (each with its judge reward and its
``human`` label, both on the 0..1 scale) into a
:class:`~synatest.eval.results.JudgeAgreement`:

- *binary* labels: the judge's verdict is its reward >= the suite's ``pass_at``;
  agreement rate and Cohen's kappa of the verdicts;
- *ordinal* labels: the judge's reward snapped to the nearest level of the human
  scale; agreement rate, quadratic-weighted kappa and Spearman;
- *continuous* labels: Spearman of the scores; agreement and kappa of the pass/fail
  verdicts of both at ``pass_at``.

Each figure has a 95% percentile bootstrap interval over examples (seeded: the same
report from run to run). With repeats, the judge's stability: how often its verdict
changed on the same output. Used by :func:`synatest.eval.scoring.score_suite` and by
``synatest judge calibrate``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from synatest.eval import agreement as stats
from synatest.eval.judge_labels import snap
from synatest.eval.position_bias import position_bias_text
from synatest.eval.results import (
    ExampleResult,
    JudgeAgreement,
    JudgeDisagreement,
    JudgeSettings,
    JudgeStability,
)

MAX_DISAGREEMENTS = 5
_EPSILON = 1e-9


def _fmt_level(value: float) -> str:
    return f"{value:g}"


def verdicts(
    values: Sequence[float], settings: JudgeSettings
) -> tuple[list[Any], list[str], list[Any]]:
    """The categories kappa and the confusion matrix count: ``(categories, names,
    order)`` for each value of ``values`` (pass/fail, or the ordinal level)."""
    if settings.kind == "ordinal":
        levels = settings.levels
        return [snap(v, levels) for v in values], [_fmt_level(v) for v in levels], list(levels)
    passed = [v >= settings.pass_at - _EPSILON for v in values]
    return passed, ["fail", "pass"], [False, True]


def measure_judge(
    examples: Sequence[ExampleResult],
    settings: JudgeSettings,
    *,
    resamples: int = stats.DEFAULT_RESAMPLES,
) -> JudgeAgreement:
    """The agreement block of a judge suite (see the module's docstring)."""
    scored = [e for e in examples if e.human is not None and e.reward is not None]
    block = JudgeAgreement(settings=settings, n=len(scored), unlabelled=len(examples) - len(scored))
    block.stability = _stability(examples, settings)
    if not scored:
        return block
    human = [float(e.human) for e in scored]  # type: ignore[arg-type]
    judge = [float(e.reward) for e in scored]  # type: ignore[arg-type]
    human_cat, names, order = verdicts(human, settings)
    judge_cat, _, _ = verdicts(judge, settings)
    weights: stats.Weights = "quadratic" if settings.kind == "ordinal" else None
    block.kappa_weights = weights
    block.labels = names
    block.confusion = stats.confusion_matrix(human_cat, judge_cat, order)

    def on(
        indices: Sequence[int], fn: Callable[..., float | None], a: list[Any], b: list[Any]
    ) -> float | None:
        return fn([a[i] for i in indices], [b[i] for i in indices])

    def kappa(a: Sequence[Any], b: Sequence[Any]) -> float | None:
        return stats.cohen_kappa(a, b, labels=order, weights=weights)

    n = len(scored)
    everyone = range(n)
    block.agreement = stats.agreement_rate(human_cat, judge_cat)
    block.agreement_ci_low, block.agreement_ci_high = stats.bootstrap_ci(
        n, lambda s: on(s, stats.agreement_rate, human_cat, judge_cat), resamples=resamples
    )
    block.kappa = on(everyone, kappa, human_cat, judge_cat)
    block.kappa_ci_low, block.kappa_ci_high = stats.bootstrap_ci(
        n, lambda s: on(s, kappa, human_cat, judge_cat), resamples=resamples
    )
    if settings.kind != "binary":
        block.spearman = stats.spearman(human, judge)
        block.spearman_ci_low, block.spearman_ci_high = stats.bootstrap_ci(
            n, lambda s: on(s, stats.spearman, human, judge), resamples=resamples
        )
    block.disagreements = _disagreements(scored, human_cat, judge_cat, settings)
    return block


def _disagreements(
    scored: Sequence[ExampleResult],
    human_cat: Sequence[Any],
    judge_cat: Sequence[Any],
    settings: JudgeSettings,
) -> list[JudgeDisagreement]:
    """The examples scored furthest apart: a different verdict or level first (for
    continuous labels, any gap), the largest gap first."""
    found = []
    for example, h, j in zip(scored, human_cat, judge_cat, strict=True):
        assert example.human is not None and example.reward is not None
        gap = abs(example.reward - example.human)
        differs = h != j if settings.kind != "continuous" else gap > _EPSILON
        if differs:
            found.append(
                JudgeDisagreement(
                    id=example.id,
                    human=example.human,
                    judge=example.reward,
                    gap=gap,
                    nodeid=example.nodeid,
                )
            )
    found.sort(key=lambda d: (-d.gap, d.id))
    return found[:MAX_DISAGREEMENTS]


def _stability(examples: Sequence[ExampleResult], settings: JudgeSettings) -> JudgeStability | None:
    """How often the judge's verdict changed between runs that produced the same output
    (the program's own variation left out); None without repeats."""
    runs = max((len(e.runs) for e in examples), default=0)
    if runs < 2:
        return None
    stability = JudgeStability(runs=runs)
    spreads: list[float] = []
    for example in examples:
        groups: dict[str, list[float]] = {}
        for run in example.runs:
            if run.reward is not None:
                key = json.dumps(run.prediction, sort_keys=True, default=str)
                groups.setdefault(key, []).append(run.reward)
        same = [rewards for rewards in groups.values() if len(rewards) > 1]
        if not same:
            continue
        stability.examples += 1
        spreads.append(max(max(r) - min(r) for r in same))
        if any(len(set(verdicts(r, settings)[0])) > 1 for r in same):
            stability.flipped.append(example.id)
    if stability.examples:
        stability.flip_rate = len(stability.flipped) / stability.examples
        stability.mean_spread = sum(spreads) / len(spreads)
    return stability


# -- the block as text (terminal summary, ``synatest judge calibrate``, report.md) ------


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _interval(low: float | None, high: float | None, fmt: Callable[[float | None], str]) -> str:
    return "" if low is None or high is None else f" [{fmt(low)}, {fmt(high)}]"


def figures(block: JudgeAgreement) -> str:
    """``agreement 83.3% [66.7%, 100.0%] · kappa 0.667 [0.2, 1.0] · Spearman ...``."""
    kappa = "weighted kappa" if block.kappa_weights else "kappa"
    parts = [
        f"agreement {_pct(block.agreement)}"
        + _interval(block.agreement_ci_low, block.agreement_ci_high, _pct),
        f"{kappa} {_num(block.kappa)}" + _interval(block.kappa_ci_low, block.kappa_ci_high, _num),
    ]
    if block.settings.kind != "binary":
        parts.append(
            f"Spearman {_num(block.spearman)}"
            + _interval(block.spearman_ci_low, block.spearman_ci_high, _num)
        )
    return " · ".join(parts)


def headline(name: str, block: JudgeAgreement) -> str:
    settings = block.settings
    unlabelled = f", {block.unlabelled} without a label or reward" if block.unlabelled else ""
    return (
        f"judge of suite {name!r} vs human labels (field {settings.field!r}, {settings.kind}, "
        f"{block.n} labelled examples{unlabelled})"
    )


def confusion_rows(block: JudgeAgreement) -> tuple[list[str], list[list[str]]]:
    """The confusion matrix as a table: headers, and a row per human label."""
    headers = ["human \\ judge", *block.labels]
    pairs = zip(block.labels, block.confusion, strict=True)
    rows = [[label, *map(str, counts)] for label, counts in pairs]
    return headers, rows


def disagreement_text(block: JudgeAgreement) -> str:
    return ", ".join(f"{d.id} (human {d.human:g}, judge {d.judge:g})" for d in block.disagreements)


def stability_text(block: JudgeAgreement) -> str | None:
    stability = block.stability
    if stability is None:
        return None
    if stability.flip_rate is None:
        return (
            f"stability over {stability.runs} runs: no example produced the same output "
            "twice, so the judge's own spread cannot be told from the program's"
        )
    flipped = f": {', '.join(stability.flipped[:MAX_DISAGREEMENTS])}" if stability.flipped else ""
    return (
        f"stability over {stability.runs} runs: the verdict flipped on the same output in "
        f"{len(stability.flipped)}/{stability.examples} examples ({_pct(stability.flip_rate)}; "
        f"mean spread {_num(stability.mean_spread)}){flipped}"
    )


def summary_lines(name: str, block: JudgeAgreement) -> list[str]:
    """The block as plain text lines (the terminal and ``synatest judge calibrate``)."""
    from tabulate import tabulate

    lines = [headline(name, block)]
    if block.n == 0:
        lines.append("  no labelled example has a judge reward")
    else:
        lines.append("  " + figures(block))
        headers, rows = confusion_rows(block)
        lines.append("  confusion (rows: human, columns: judge):")
        table = tabulate(rows, headers=headers, disable_numparse=True)
        lines += ["    " + line for line in table.splitlines()]
        if block.disagreements:
            lines.append("  disagree most: " + disagreement_text(block))
    stability = stability_text(block)
    if stability:
        lines.append("  " + stability)
    swap = position_bias_text(block.position_bias)
    if swap:
        lines.append("  " + swap)
    return lines
