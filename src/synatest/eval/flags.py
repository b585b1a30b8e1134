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


EVAL_ONLY = ("baseline", "save-baseline", "fail-regression", "resume")

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


def repeat_of(config: pytest.Config, marker: pytest.Mark) -> int:
    """Runs per example of an eval test: its marker's ``repeat=``, else --synalinks-repeat."""
    value = marker.kwargs.get("repeat")
    return int(value) if value is not None else int(options.value(config, "repeat"))
