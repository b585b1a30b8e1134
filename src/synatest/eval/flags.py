"""Eval mode's flags and their parsers: what the plugin needs when pytest loads it.

The eval core (:mod:`synatest.eval.session`, datasets, gates, statistics) is imported
only when a session has evaluation examples or runs with ``--synalinks-eval``, so a
suite that never uses Synalinks pays for none of it (``benchmarks/bench_collect.py``).
"""

from __future__ import annotations

import math

import pytest

from synatest import options
from synatest._argtypes import BadValue

DEFAULT_REPORT_DIR = "reports"
DEFAULT_BASELINE = "synatest-baseline.json"
REPORT_FILE = "report.json"
DEFAULT_ALPHA = 0.05
DEFAULT_WINDOW = 8  # examples in flight at once (--synalinks-concurrency)
# What a suite's threshold applies to (the marker's gate=), and which examples keep
# their LM transcripts in report.json (--synalinks-transcripts).
GATES = ("mean", "pass_at_k", "pass_hat_k")
TRANSCRIPTS = ("none", "failed", "all")


class FlagValueError(BadValue):
    """A bad flag or ini value: argparse shows the message; ini parsing catches ValueError."""


def parse_fraction(raw: str) -> float:
    """A number in [0, 1], written ``0.05`` or ``5%``."""
    text = str(raw).strip()
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise FlagValueError(f"expected a number such as 0.05 or 5%, got {raw!r}") from None
    if math.isnan(value) or not 0.0 <= value <= 1.0:
        raise FlagValueError(f"expected a value between 0 and 1 (or 0% and 100%), got {raw!r}")
    return value


def parse_repeat(raw: str) -> int:
    """A number of runs per example: a whole number >= 1."""
    try:
        value = int(str(raw).strip())
    except ValueError:
        value = 0
    if value < 1:
        raise FlagValueError(f"the repeat count must be a whole number >= 1, got {raw!r}")
    return value


def parse_alpha(raw: str) -> float:
    value = parse_fraction(raw)
    if not 0.0 < value < 1.0:
        raise FlagValueError(f"the significance level must be between 0 and 1, got {raw!r}")
    return value


def parse_rise(raw: str) -> float:
    """An allowed rise against the baseline: ``+20%``, ``20%`` or ``0.2`` (any size)."""
    text = str(raw).strip().removeprefix("+")
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        value = math.nan
    if math.isnan(value) or value < 0:
        raise FlagValueError(f"expected an allowed rise such as +20% or 0.2, got {raw!r}")
    return value


def _positive(raw: str, unit: str, whole: bool = False) -> float:
    text = str(raw).strip().removeprefix("$").removesuffix("s" if unit == "seconds" else "")
    try:
        value = float(int(text)) if whole else float(text)
    except ValueError:
        value = math.nan
    if math.isnan(value) or value <= 0:
        raise FlagValueError(f"expected {unit} > 0, got {raw!r}")
    return value


def parse_dollars(raw: str) -> float:
    return _positive(raw, "dollars (like 0.50)")


def parse_tokens(raw: str) -> float:
    return _positive(raw, "a whole number of tokens", whole=True)


def parse_seconds(raw: str) -> float:
    return _positive(raw, "seconds")


EVAL_ONLY = (
    "baseline",
    "save-baseline",
    "fail-regression",
    "fail-cost-regression",
    "fail-latency-regression",
    "resume",
)
# The budgets every suite gets from the command line or ini (a suite's marker wins).
BUDGET_FLAGS = {
    "max-cost": "max_cost",
    "max-tokens": "max_tokens",
    "max-latency-p95": "max_latency_p95",
}

options.group(
    "eval",
    [
        options.Option(
            "eval",
            "run the evaluation suites (tests marked synalinks_eval): record each example's "
            "reward and gate every suite",
            flag=True,
        ),
        options.Option(
            "report-dir",
            "directory of the eval reports (report.json, ...)",
            default=DEFAULT_REPORT_DIR,
            metavar="DIR",
        ),
        options.Option(
            "baseline",
            "a saved run (baseline or report.json) to compare each suite with, example by "
            "example; a significant drop fails the suite",
            metavar="PATH",
        ),
        options.Option(
            "save-baseline",
            f"save this run as a baseline (default path: {DEFAULT_BASELINE}; write "
            "--synalinks-save-baseline=PATH)",
            metavar="PATH",
            nargs="?",
            const="",
            ini=False,
        ),
        options.Option(
            "fail-regression",
            "allowed drop of a suite's mean reward against the baseline (0.05 or 5%%); "
            "a larger drop fails only when significant",
            metavar="DELTA",
            type=parse_fraction,
        ),
        options.Option(
            "max-error-rate",
            "fraction of a suite's examples allowed to fail with an LM error (those "
            "examples then report as xfailed and the suite gate decides)",
            default=0.0,
            metavar="RATE",
            type=parse_fraction,
        ),
        options.Option(
            "repeat",
            "run every evaluation example K times (each run its own program call, LM calls "
            "and reward); suites report pass@k, pass^k and flaky examples. The marker's "
            "repeat= wins",
            default=1,
            metavar="K",
            type=parse_repeat,
        ),
        options.Option(
            "transcripts",
            "which examples keep the transcript of their LM calls in report.json: none, "
            "failed (examples that did not pass) or all",
            default="failed",
            choices=TRANSCRIPTS,
        ),
        options.Option(
            "max-cost",
            "budget of every suite in dollars (all its LM calls, the judge's included; "
            "replayed calls at their recorded cost); the marker's max_cost= wins",
            metavar="USD",
            type=parse_dollars,
        ),
        options.Option(
            "max-tokens",
            "budget of every suite in tokens (prompt + completion); the marker's max_tokens= wins",
            metavar="TOKENS",
            type=parse_tokens,
        ),
        options.Option(
            "max-latency-p95",
            "most seconds for the 95th percentile of a suite's example latency (replayed "
            "LM calls at their recorded latency); the marker's max_latency_p95= wins",
            metavar="SECONDS",
            type=parse_seconds,
        ),
        options.Option(
            "fail-cost-regression",
            "fail a suite whose cost per example rose by more than this against the "
            "baseline, on paired examples (+20%%, 0.2), when the rise is significant",
            metavar="RISE",
            type=parse_rise,
        ),
        options.Option(
            "fail-latency-regression",
            "fail a suite whose latency per example rose by more than this against the "
            "baseline, on paired examples (+20%%, 0.2), when the rise is significant",
            metavar="RISE",
            type=parse_rise,
        ),
        options.Option(
            "regression-alpha",
            "significance level of the regression gate's one-sided exact sign test",
            default=DEFAULT_ALPHA,
            metavar="ALPHA",
            type=parse_alpha,
        ),
        options.Option(
            "resume",
            "resume an interrupted eval run: examples it finished (journalled under "
            "REPORT_DIR/.journal) are recorded from the journal, not run again; the rest run",
            flag=True,
            ini=False,
        ),
    ],
)


def enabled(config: pytest.Config) -> bool:
    """Whether this session runs with ``--synalinks-eval``."""
    return bool(options.value(config, "eval"))


def check_eval_only_flags(config: pytest.Config) -> None:
    """Flags that mean nothing without ``--synalinks-eval`` are a usage error."""
    given = [
        opt.flag_name
        for opt in options.GROUPS["eval"]
        if opt.name in EVAL_ONLY and config.getoption(opt.dest, default=None) is not None
    ]
    if given:
        raise pytest.UsageError(
            f"{', '.join(given)} only apply to evaluation runs: add --synalinks-eval"
        )


def budgets(config: pytest.Config) -> dict[str, float]:
    """The budgets given on the command line or in the ini file, by marker name."""
    given = {key: options.value(config, flag) for flag, key in BUDGET_FLAGS.items()}
    return {key: float(value) for key, value in given.items() if value is not None}


def repeat_of(config: pytest.Config, marker: pytest.Mark) -> int:
    """Runs per example of an eval test: its marker's ``repeat=``, else --synalinks-repeat."""
    value = marker.kwargs.get("repeat")
    return int(value) if value is not None else int(options.value(config, "repeat"))
