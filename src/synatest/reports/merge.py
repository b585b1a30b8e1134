"""``synatest report merge``: shard reports in, the report of the whole run out.

Each shard (``pytest --synalinks-eval --synalinks-shard I/N``) wrote a report.json of
its share of the examples with its gates deferred. :func:`merge_reports` checks that the
shards belong together (same commit, same run, every shard 1..N exactly once, no example
in two shards), puts every example back at its position in the whole collection, and
scores and gates each suite once, on all its examples: the same code and the same inputs
as an unsharded run, so the same means, CIs, passes, pass@k and gates.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from synatest.errors import ReportError
from synatest.eval.gates import GatePolicy
from synatest.eval.matrix import build_matrix
from synatest.eval.results import ExampleResult, RunReport, SuiteResult, Usage
from synatest.eval.scoring import score_suite
from synatest.reports.json_report import load_report, resolve_report_path

__all__ = ["Shard", "load_shards", "merge_reports"]


@dataclass
class Shard:
    """A shard's report and the file it came from (for messages)."""

    path: Path
    report: RunReport


def load_shards(paths: Sequence[str | os.PathLike[str]]) -> list[Shard]:
    """Read each report.json (or report directory); every one must be a shard's.

    Raises:
        ReportError: a file is missing or unreadable, or is not a shard's report.
    """
    if not paths:
        raise ReportError("no shard reports given: pass each shard's report directory")
    shards = []
    for raw in paths:
        path = resolve_report_path(raw)
        report = load_report(path)
        if report.shard is None:
            raise ReportError(
                f"{path} is not a shard's report (it has no `shard` field): run each shard "
                "with `pytest --synalinks-eval --synalinks-shard I/N`"
            )
        shards.append(Shard(path, report))
    return shards


def _names(shards: Sequence[Shard]) -> str:
    return ", ".join(str(s.path) for s in shards)


def _check_together(shards: Sequence[Shard]) -> int:
    """The shard count, once the shards are known to be one whole run."""
    facts: list[tuple[str, list[object]]] = [
        ("shard counts", [s.report.shard.count for s in shards]),  # type: ignore[union-attr]
        ("git commits", [s.report.git_commit for s in shards]),
        ("CI runs", [s.report.shard.run_id for s in shards]),  # type: ignore[union-attr]
        ("synatest versions", [s.report.synatest_version for s in shards]),
    ]
    for what, values in facts:
        groups: dict[object, list[Shard]] = {}
        for shard, value in zip(shards, values, strict=True):
            groups.setdefault(value, []).append(shard)
        if len(groups) > 1:
            listed = "; ".join(f"{key!r}: {_names(group)}" for key, group in groups.items())
            raise ReportError(
                f"the shards come from different {what} ({listed}); merge the shards of "
                "one run of one commit"
            )
    count = shards[0].report.shard.count  # type: ignore[union-attr]
    by_index: dict[int, list[Shard]] = {}
    for shard in shards:
        by_index.setdefault(shard.report.shard.index, []).append(shard)  # type: ignore[union-attr]
    twice = {index: group for index, group in by_index.items() if len(group) > 1}
    if twice:
        index, group = min(twice.items())
        raise ReportError(f"shard {index}/{count} is given more than once: {_names(group)}")
    missing = [index for index in range(1, count + 1) if index not in by_index]
    if missing:
        have = ", ".join(
            f"{index}/{count} ({by_index[index][0].path})" for index in sorted(by_index)
        )
        raise ReportError(
            f"shard(s) {', '.join(f'{i}/{count}' for i in missing)} missing: have {have}; "
            "every shard's report is needed to gate the whole run"
        )
    policies = {repr(sorted(s.report.shard.policy.items())) for s in shards}  # type: ignore[union-attr]
    if len(policies) > 1:
        raise ReportError(
            f"the shards were run with different gate flags ({_names(shards)}): run every "
            "shard with the same --synalinks-* flags"
        )
    return count


def merge_reports(
    shards: Sequence[Shard],
    *,
    baseline: RunReport | None = None,
    fail_regression: float | None = None,
    alpha: float | None = None,
    max_error_rate: float | None = None,
) -> RunReport:
    """The report of the whole run, gated, from every shard's report.

    Args:
        shards: every shard of one run (:func:`load_shards`).
        baseline: a saved run to compare each suite with (the regression gate).
        fail_regression, alpha, max_error_rate: override the shards' gate flags
            (default: as the shards were run).

    Raises:
        ReportError: naming the files, when the shards are not one whole run or an
            example is in two shards.
    """
    _check_together(shards)
    first = shards[0].report
    assert first.shard is not None
    flags = first.shard.policy
    policy = GatePolicy(
        threshold=flags.get("threshold"),
        baseline=baseline,
        fail_regression=(
            fail_regression if fail_regression is not None else flags.get("fail_regression", 0.0)
        ),
        alpha=alpha if alpha is not None else flags.get("alpha", 0.05),
        max_error_rate=(
            max_error_rate if max_error_rate is not None else flags.get("max_error_rate", 0.0)
        ),
        cost_regression=flags.get("cost_regression"),
        latency_regression=flags.get("latency_regression"),
    )
    placed: list[tuple[int, ExampleResult]] = []
    owner: dict[tuple[str, str], Shard] = {}
    settings: dict[str, SuiteResult] = {}
    for shard in shards:
        assert shard.report.shard is not None
        order = shard.report.shard.order
        for suite in shard.report.suites:
            known = settings.setdefault(suite.name, suite)
            mine = (suite.reward, suite.threshold, suite.gate, suite.k, suite.repeat)
            theirs = (known.reward, known.threshold, known.gate, known.k, known.repeat)
            if mine != theirs:
                raise ReportError(
                    f"suite {suite.name!r} has different settings in {shard.path} and another "
                    f"shard ({mine} vs {theirs}): were the shards run on the same code?"
                )
            for example in suite.examples:
                key = (suite.name, example.id)
                if key in owner:
                    raise ReportError(
                        f"example {example.id!r} of suite {suite.name!r} is in both "
                        f"{owner[key].path} and {shard.path}: shards must not overlap (were "
                        "they run with the same --synalinks-shard count and the same tests?)"
                    )
                owner[key] = shard
                position = order.get(example.nodeid or f"{suite.name}::{example.id}")
                if position is None:
                    raise ReportError(
                        f"{shard.path}: example {example.id!r} of suite {suite.name!r} has no "
                        "collection position in the shard field; was the file edited?"
                    )
                placed.append((position, example))
    placed.sort(key=lambda pair: pair[0])
    by_suite: dict[str, list[ExampleResult]] = {}
    for _, example in placed:
        by_suite.setdefault(example.suite, []).append(example)
    suites = []
    for name, examples in by_suite.items():
        spec = settings[name]
        suites.append(
            score_suite(
                name,
                examples,
                policy=policy,
                threshold=spec.threshold,
                reward=spec.reward,
                gate=spec.gate,
                k=spec.k,
                model=spec.model,
                base_name=spec.base_name,
                judge=spec.judge.settings if spec.judge else None,
                budgets=spec.budgets,
            )
        )
    usage = Usage()
    for suite in suites:
        usage = usage + suite.usage
    models = sorted({m for s in shards for m in s.report.models})
    return RunReport(
        synatest_version=first.synatest_version,
        synalinks_version=first.synalinks_version,
        git_commit=first.git_commit,
        label=first.label,
        models=models,
        suites=suites,
        usage=usage,
        # The wall time of shards run side by side: the slowest one.
        duration_s=max(s.report.duration_s for s in shards),
        matrix=build_matrix(suites),
    )
