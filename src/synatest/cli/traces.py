"""``synatest traces import SOURCE -o DIR``: production traces as regression tests.

SOURCE is a ``synalinks.record_traces()`` folder or ``.jsonl`` file, or an MLflow
tracking URI (``sqlite:///mlflow.db``, a ``mlruns`` folder, a server) with
``--experiment``. Writes ``DIR/cassettes/<program>.yaml`` (the LM calls) and
``DIR/datasets/<program>.jsonl`` (inputs, the production output as the expected
value, metadata), and with ``--emit-test`` a regression test module. Prints one
summary line; exit code 2 (nothing written) on a bad source or a secret.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime


def _when(raw: str) -> float:
    """Seconds since the epoch, or an ISO 8601 date/time (UTC unless it says otherwise)."""
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{raw!r} is neither an ISO 8601 date/time (2026-12-01T09:00) nor seconds "
            "since the epoch"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _count(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "traces",
        help="import Synalinks traces (Recorder JSONL, MLflow) as cassettes and datasets",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    imp = actions.add_parser(
        "import",
        help="write cassettes, a dataset and (--emit-test) a regression test from traces",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    imp.add_argument("source", metavar="SOURCE", help="Recorder folder/file, or MLflow URI")
    imp.add_argument("--output", "-o", required=True, metavar="DIR", help="where to write")
    imp.add_argument(
        "--experiment", metavar="NAME", help="the MLflow experiment (makes SOURCE an MLflow URI)"
    )
    imp.add_argument(
        "--program",
        action="append",
        default=[],
        metavar="NAME",
        help="keep this program only (repeatable)",
    )
    imp.add_argument(
        "--module",
        action="append",
        default=[],
        metavar="NAME",
        help="keep calls of this module only (MLflow: traces with a span of it; repeatable)",
    )
    imp.add_argument("--since", type=_when, metavar="WHEN", help="keep calls from WHEN on")
    imp.add_argument("--until", type=_when, metavar="WHEN", help="keep calls up to WHEN")
    imp.add_argument("--sample", type=_count, metavar="N", help="keep N examples per program")
    imp.add_argument("--seed", type=int, default=0, help="seed of --sample (default: 0)")
    imp.add_argument(
        "--no-dedupe", action="store_true", help="keep calls whose inputs_hash was already seen"
    )
    imp.add_argument(
        "--keep-failed",
        action="store_true",
        help="keep failed calls (their `exception`); they replay as the provider error",
    )
    imp.add_argument(
        "--redact",
        action="store_true",
        help="replace secrets by <redacted> instead of refusing to write them",
    )
    imp.add_argument(
        "--emit-test",
        metavar="BUILDER",
        help="also write test_<program>_regression.py, "
        "which builds the program with BUILDER (MODULE:FUNCTION or path/to/file.py:FUNCTION, "
        "an async function returning the synalinks.Program)",
    )
    imp.set_defaults(handler=run_import)


def run_import(args: argparse.Namespace) -> int:
    from synatest.errors import TracesError
    from synatest.traces import ImportOptions, import_traces

    opts = ImportOptions(
        programs=tuple(args.program),
        modules=tuple(args.module),
        since=args.since,
        until=args.until,
        sample=args.sample,
        seed=args.seed,
        dedupe=not args.no_dedupe,
        keep_failed=args.keep_failed,
        redact=args.redact,
        emit_test=args.emit_test,
    )
    try:
        summary = import_traces(args.source, args.output, opts, experiment=args.experiment)
    except TracesError as error:
        print(f"synatest traces import: error: {error}", file=sys.stderr)
        return 2
    print(summary.line(args.source))
    return 0
