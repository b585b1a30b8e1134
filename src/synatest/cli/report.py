"""``synatest report``: compare two runs, or re-render a run's reports.

``synatest report compare A B [--format md|html|json] [-o PATH]`` puts two runs
(``report.json`` files or report directories) side by side; ``synatest report render
REPORT [-d DIR]`` rewrites every report file from a ``report.json``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from synatest.errors import ReportError


def _fail(command: str, message: str) -> int:
    print(f"synatest report {command}: error: {message}", file=sys.stderr)
    return 2


def run_compare(args: argparse.Namespace) -> int:
    from synatest.reports import compare

    try:
        comparison = compare.compare_paths(
            args.a, args.b, label_a=args.label_a, label_b=args.label_b
        )
    except ReportError as error:
        return _fail("compare", str(error))
    if args.output:
        path = compare.write(comparison, args.output, args.format)
        print(f"synatest: comparison written to {path}", file=sys.stderr)
    else:
        sys.stdout.write(compare.render(comparison, args.format))
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
        help="two runs side by side: metrics with deltas and CIs, flipped examples, cost",
        description=(
            "Compare run A (the baseline) with run B (the candidate): before/after, two "
            "programs or two models. Suites are matched by name, examples by id."
        ),
    )
    comp.add_argument("a", metavar="A", help="report.json of run A, or its report directory")
    comp.add_argument("b", metavar="B", help="report.json of run B, or its report directory")
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
        help="exit 1 when a suite of B is significantly worse (its CI is below 0) or a "
        "gate that passed in A fails in B",
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
