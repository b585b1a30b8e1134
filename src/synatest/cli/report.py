"""``synatest report``: compare runs, re-render a run's reports, merge shards.

``synatest report compare A B [C ...] [--format md|html|json] [-o PATH]`` puts runs
(``report.json`` files or report directories) side by side: two in full, more as a
matrix against the first; ``synatest report render
REPORT [-d DIR]`` rewrites every report file from a ``report.json``; ``synatest report
merge DIR... -o OUT`` merges the shards of a run and gates it (exit code 0/1/2).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from synatest.errors import ReportError


def _fail(command: str, message: str) -> int:
    print(f"synatest report {command}: error: {message}", file=sys.stderr)
    return 2


def _emit(renderer: Any, comparison: Any, args: argparse.Namespace) -> None:
    """Write a comparison to ``-o PATH``, else to stdout, in ``--format``."""
    if args.output:
        path = renderer.write(comparison, args.output, args.format)
        print(f"synatest: comparison written to {path}", file=sys.stderr)
    else:
        sys.stdout.write(renderer.render(comparison, args.format))


def run_compare(args: argparse.Namespace) -> int:
    if len(args.runs) != 2:
        return _compare_many(args)
    from synatest.reports import compare

    try:
        comparison = compare.compare_paths(*args.runs, label_a=args.label_a, label_b=args.label_b)
    except ReportError as error:
        return _fail("compare", str(error))
    _emit(compare, comparison, args)
    if args.fail_on_regression and comparison.regressed:
        worse = [
            s.name
            for s in comparison.suites
            if s.verdict == "worse" or (s.gates_a is True and s.gates_b is False)
        ]
        print(
            f"synatest: regression in suite(s) {', '.join(worse)}: "
            f"{comparison.b.label} is worse than {comparison.a.label}",
            file=sys.stderr,
        )
        return 1
    return 0


def _compare_many(args: argparse.Namespace) -> int:
    """Three runs or more: the matrix, each run against the first."""
    from synatest.reports import compare_many

    try:
        comparison = compare_many.compare_many_paths(args.runs, labels=[args.label_a, args.label_b])
    except ReportError as error:
        return _fail("compare", str(error))
    _emit(compare_many, comparison, args)
    if args.fail_on_regression and comparison.regressed:
        print(
            f"synatest: regression against {comparison.runs[0].label}: "
            f"{'; '.join(comparison.regressed)}",
            file=sys.stderr,
        )
        return 1
    return 0


def run_render(args: argparse.Namespace) -> int:
    from synatest.reports import load_report, parse_formats, write_reports

    try:
        formats = parse_formats(args.formats)
        report = load_report(args.report)
    except (ReportError, ValueError) as error:
        return _fail("render", str(error))
    directory = Path(args.dir) if args.dir else Path(args.report)
    if directory.is_file() or directory.suffix == ".json":
        directory = directory.parent
    for path in write_reports(report, directory, formats).values():
        print(path)
    return 0


def run_show(args: argparse.Namespace) -> int:
    from synatest.reports import load_report
    from synatest.reports.show import find_example, render_example

    try:
        report = load_report(args.report)
        suite, example = find_example(report, args.example_id)
        text = render_example(suite, example, args.run)
    except ReportError as error:
        return _fail("show", str(error))
    sys.stdout.write(text)
    return 0


def run_merge(args: argparse.Namespace) -> int:
    """Exit code: 0 every gate passed, 1 a gate failed, 2 a usage error."""
    from synatest.eval.flags import FlagValueError, parse_alpha, parse_fraction
    from synatest.reports import load_report, parse_formats, write_reports
    from synatest.reports.merge import load_shards, merge_reports

    try:
        formats = parse_formats(args.formats)
        fail_regression = None
        if args.fail_regression is not None:
            fail_regression = parse_fraction(args.fail_regression)
        alpha = None if args.regression_alpha is None else parse_alpha(args.regression_alpha)
        max_error_rate = None
        if args.max_error_rate is not None:
            max_error_rate = parse_fraction(args.max_error_rate)
    except (FlagValueError, ValueError) as error:
        return _fail("merge", str(error))
    try:
        baseline = None if args.baseline is None else load_report(args.baseline)
        if baseline is None and fail_regression is not None:
            return _fail(
                "merge", "--fail-regression needs a baseline: pass --baseline PATH as well"
            )
        report = merge_reports(
            load_shards(args.inputs),
            baseline=baseline,
            fail_regression=fail_regression,
            alpha=alpha,
            max_error_rate=max_error_rate,
        )
    except ReportError as error:
        return _fail("merge", str(error))
    written = write_reports(report, args.output, formats)
    for suite in report.suites:
        mean = "n/a" if suite.mean is None else f"{suite.mean:.3f}"
        verdict = "PASS" if suite.passed else "FAIL"
        print(f"{verdict} suite {suite.name!r}: n={suite.n}, mean {mean}, {suite.passes} passed")
        for gate in suite.gates:
            if not gate.passed:
                print(f"  {gate.name} gate: {gate.message}")
    print(f"synatest: merged report written to {Path(args.output)} ({', '.join(written)})")
    if args.mlflow:
        from synatest.reports.mlflow_run import describe, log_run

        uri = None if args.mlflow == "default" else args.mlflow
        try:
            run_id = log_run(
                report,
                tracking_uri=uri,
                experiment=args.mlflow_experiment,
                files=written.values(),
                shards=len(args.inputs),
            )
        except ReportError as error:
            return _fail("merge", str(error))
        print(f"synatest: logged {describe(run_id, uri, args.mlflow_experiment)}")
    if not report.passed:
        print("synatest: suite gates failed (exit code 1)", file=sys.stderr)
        return 1
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    report = sub.add_parser(
        "report",
        help="compare evaluation runs, re-render a run's reports, or show one example",
        description="Work with the reports `pytest --synalinks-eval` writes.",
    )
    actions = report.add_subparsers(dest="report_command", metavar="ACTION")
    report.set_defaults(handler=lambda args: (report.print_help(), 2)[1])

    comp = actions.add_parser(
        "compare",
        help="runs side by side: metrics with deltas and CIs, flipped examples, cost",
        description=(
            "Compare run A (the baseline) with run B (the candidate): before/after, two "
            "programs or two models. Suites are matched by name, examples by id. With "
            "three runs or more (A B C ...): a matrix of suites (rows) by runs (columns), "
            "the best of each row marked, each run against A with paired CIs."
        ),
    )
    comp.add_argument(
        "runs",
        nargs="+",
        metavar="RUN",
        help="report.json of each run, or its report directory (A B [C ...]; A is the reference)",
    )
    comp.add_argument(
        "--format",
        "-f",
        choices=("md", "html", "json"),
        default="md",
        help="output format (default: md)",
    )
    comp.add_argument(
        "--output", "-o", metavar="PATH", help="write to PATH (atomically) instead of stdout"
    )
    comp.add_argument("--label-a", metavar="NAME", help="name of run A (default: its label)")
    comp.add_argument("--label-b", metavar="NAME", help="name of run B (default: its label)")
    comp.add_argument(
        "--fail-on-regression",
        action="store_true",
        help="exit 1 when a suite of B (or of any later run) is significantly worse than "
        "A's (its CI is below 0) or a gate that passed in A fails in it",
    )
    comp.set_defaults(handler=run_compare)

    render = actions.add_parser(
        "render",
        help="rewrite report.md/html/jsonl/csv from a report.json",
        description="Re-render the report files of a run from its report.json.",
    )
    render.add_argument("report", help="a report.json, or the directory holding one")
    render.add_argument(
        "--dir", "-d", metavar="DIR", help="where to write (default: beside the report.json)"
    )
    render.add_argument(
        "--formats",
        default="all",
        help="'all' or a comma-separated list of json,jsonl,csv,md,html (default: all)",
    )
    render.set_defaults(handler=run_render)

    show = actions.add_parser(
        "show",
        help="print one example's runs and LM transcripts",
        description=(
            "Print an example of a run: its inputs, expected output, and each run's "
            "prediction, reward, error and LM transcript (the messages sent, the replies, "
            "what answered them). Plain text, readable in a CI log."
        ),
    )
    show.add_argument("report", help="a report.json, or the directory holding one")
    show.add_argument(
        "example_id", metavar="EXAMPLE_ID", help="the example's id (SUITE/ID if ambiguous)"
    )
    show.add_argument(
        "--run", type=int, metavar="N", help="show run N only (1-based; default: every run)"
    )
    show.set_defaults(handler=run_show)

    merge = actions.add_parser(
        "merge",
        help="merge the reports of a sharded run into one report and gate it",
        description=(
            "Merge the report.json of every shard of one run (pytest --synalinks-eval "
            "--synalinks-shard I/N) into the report of the whole run, identical to an "
            "unsharded run's but for timings, and gate every suite on all its examples. "
            "Exit code: 0 every gate passed, 1 a gate failed, 2 a usage error (shards "
            "missing, duplicated, overlapping, or of different commits or runs)."
        ),
    )
    merge.add_argument(
        "inputs", nargs="+", metavar="DIR_OR_JSON", help="each shard's report dir or report.json"
    )
    merge.add_argument(
        "--output", "-o", required=True, metavar="OUT", help="directory of the merged reports"
    )
    merge.add_argument(
        "--baseline",
        metavar="PATH",
        help="a saved run (baseline or report.json) for the regression gate",
    )
    merge.add_argument(
        "--fail-regression",
        metavar="DELTA",
        help="allowed drop against the baseline (0.05 or 5%%; default: the shards' flag)",
    )
    merge.add_argument(
        "--regression-alpha",
        metavar="ALPHA",
        help="significance level of the regression gate (default: the shards' flag)",
    )
    merge.add_argument(
        "--max-error-rate",
        metavar="RATE",
        help="fraction of a suite's examples allowed to error (default: the shards' flag)",
    )
    merge.add_argument(
        "--formats",
        default="all",
        help="'all' or a comma-separated list of json,jsonl,csv,md,html (default: all)",
    )
    merge.add_argument(
        "--mlflow",
        nargs="?",
        const="default",
        metavar="URI",
        help="log the merged run to MLflow once, as --synalinks-mlflow logs an unsharded "
        "run (without URI: $MLFLOW_TRACKING_URI, else MLflow's default)",
    )
    merge.add_argument(
        "--mlflow-experiment",
        default="synatest",
        metavar="NAME",
        help="the MLflow experiment (default: synatest)",
    )
    merge.set_defaults(handler=run_merge)
