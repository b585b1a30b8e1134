"""``synatest train TARGET``: train a suite's program until its gate passes."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

from synatest import options

EXIT_PASSED = 0
EXIT_GATE_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {raw!r}")
    return value


def _positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {raw!r}")
    return value


def _fraction(raw: str) -> float:
    value = float(raw)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction between 0 and 1, got {raw!r}")
    return value


def _threshold(raw: str) -> float:
    value = float(raw)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a reward between 0 and 1, got {raw!r}")
    return value


class _ArgparseGroup:
    """Lets an ``options.Option`` (written for pytest's parser) add itself to argparse."""

    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self.parser = parser

    def addoption(self, *names: str, **kwargs: Any) -> None:
        self.parser.add_argument(*names, **kwargs)


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from synatest.train.config import DEFAULT_EPOCHS, OPTIMIZERS
    from synatest.train.split import DEFAULT_TEST_SPLIT, DEFAULT_VALIDATION_SPLIT

    parser = sub.add_parser(
        "train",
        help="train a suite's program with a Synalinks optimizer until its gate passes",
        description=(
            "Run the evaluation suite selected by TARGET inside a pytest session (same "
            "fixtures, doubles and cassettes), split its dataset (seeded) into train / "
            "validation / test, train the suite's program until the suite's gate passes "
            "on validation or a budget runs out, then save the best program and a "
            "before/after report. Exit code: 0 when the trained program passes the gate "
            "on the test split, 1 when not, 2 on a usage error, 130 when interrupted."
        ),
    )
    parser.add_argument(
        "target", metavar="TARGET", help="test file, directory or node id selecting the suite"
    )
    parser.add_argument("--suite", help="the suite to train when TARGET selects several")
    parser.add_argument(
        "-k", dest="keyword", metavar="EXPRESSION", help="select tests like pytest -k"
    )
    parser.add_argument(
        "--optimizer",
        choices=OPTIMIZERS,
        default="random_few_shot",
        help="Synalinks optimizer; omega needs the `embedding_model` fixture served "
        "(default: random_few_shot)",
    )
    parser.add_argument(
        "--epochs",
        type=_positive_int,
        default=DEFAULT_EPOCHS,
        help=f"at most this many epochs (default: {DEFAULT_EPOCHS})",
    )
    parser.add_argument(
        "--repeat",
        type=_positive_int,
        metavar="K",
        help="run every example K times when scoring a split: the gate and the report use "
        "the mean over runs (default: the suite marker's repeat=, else 1)",
    )
    until = parser.add_mutually_exclusive_group()
    until.add_argument(
        "--until-pass",
        dest="until_pass",
        action="store_true",
        default=True,
        help="stop as soon as the gate passes on validation (default)",
    )
    until.add_argument(
        "--no-until-pass",
        dest="until_pass",
        action="store_false",
        help="train for every epoch, keeping the best program",
    )
    parser.add_argument(
        "--max-calls",
        type=_positive_int,
        metavar="N",
        help="stop once N LM/embedding calls were made (default: no limit)",
    )
    parser.add_argument(
        "--max-cost",
        type=_positive_float,
        metavar="USD",
        help="stop once this many dollars were spent (default: no limit)",
    )
    parser.add_argument(
        "--threshold",
        type=_threshold,
        help="gate to train towards (default: the suite's threshold=)",
    )
    parser.add_argument(
        "--validation-split",
        type=_fraction,
        default=DEFAULT_VALIDATION_SPLIT,
        help=f"fraction of the examples held out for validation (default: "
        f"{DEFAULT_VALIDATION_SPLIT})",
    )
    parser.add_argument(
        "--test-split",
        type=_fraction,
        default=DEFAULT_TEST_SPLIT,
        help=f"fraction held out for the final test (default: {DEFAULT_TEST_SPLIT})",
    )
    parser.add_argument(
        "--output",
        type=Path,
        metavar="DIR",
        help="where to write program.json, checkpoint.json and the report "
        "(default: reports/train/<suite>/)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted run from DIR's checkpoint.json",
    )
    parser.add_argument(
        "--progress",
        action="store_true",
        help="show Synalinks' progress bars while training",
    )
    session_options = _ArgparseGroup(parser)
    for opt in options.GROUPS.get("session", []):
        opt.add_to(session_options)
    parser.add_argument(
        "--pytest-args",
        default="",
        metavar="ARGS",
        help="more arguments for the pytest session, one shell-quoted string "
        "(e.g. --pytest-args='--synalinks-record-mode=once -x')",
    )
    parser.set_defaults(handler=run)


def pytest_args(args: argparse.Namespace) -> list[str]:
    argv = [
        args.target,
        "-p",
        "no:cacheprovider",
        # This process imported synatest (the CLI) before pytest could rewrite the
        # plugin's asserts; it has none that matter.
        "-W",
        "ignore:Module already imported so cannot be rewritten:pytest.PytestAssertRewriteWarning",
    ]
    if args.keyword:
        argv += ["-k", args.keyword]
    if args.progress:
        argv.append("-s")
    for opt in options.GROUPS.get("session", []):
        value = getattr(args, opt.dest, None)
        if value is None or value is False:
            continue
        argv.append(opt.flag_name if opt.flag else f"{opt.flag_name}={value}")
    return argv + shlex.split(args.pytest_args or "")


def run(args: argparse.Namespace) -> int:
    import pytest

    from synatest.train.session import TrainPlugin, TrainSettings

    settings = TrainSettings(
        suite=args.suite,
        threshold=args.threshold,
        optimizer=args.optimizer,
        epochs=args.epochs,
        repeat=args.repeat,
        until_pass=args.until_pass,
        max_calls=args.max_calls,
        max_cost=args.max_cost,
        validation_split=args.validation_split,
        test_split=args.test_split,
        output=args.output,
        resume=args.resume,
        progress=args.progress,
    )
    plugin = TrainPlugin(settings)
    code = pytest.main(pytest_args(args), plugins=[plugin])
    if plugin.interrupted:
        print(
            "synatest train: interrupted; the best program so far and the checkpoint are "
            "kept; continue with the same command plus --resume",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    if plugin.error is not None:
        print(f"synatest train: {plugin.error}", file=sys.stderr)
        return EXIT_USAGE
    if plugin.result is None:
        print(
            f"synatest train: the training run did not complete (pytest exit code "
            f"{int(code)}); see the failure above",
            file=sys.stderr,
        )
        return EXIT_USAGE if code == pytest.ExitCode.USAGE_ERROR else EXIT_GATE_FAILED
    return EXIT_PASSED if plugin.result.passed else EXIT_GATE_FAILED
