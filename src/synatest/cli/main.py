"""The ``synatest`` command line: one parser, one subcommand per module of this package.

Each command module (:mod:`~synatest.cli.cassettes`, :mod:`~synatest.cli.report`,
:mod:`~synatest.cli.traces`, :mod:`~synatest.cli.train`, :mod:`~synatest.cli.watch`,
:mod:`~synatest.cli.judge`) defines
``add_parser(subparsers)`` and knows nothing of this one; :data:`COMMANDS` is the only
place that lists them. Command modules are light to import: each imports its heavy
parts (pytest sessions, Synalinks, the report renderers) only when it runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from types import ModuleType

from synatest.cli import cassettes, judge, report, traces, train, watch

# The commands, in the order ``--help`` lists them; each module defines ``add_parser``.
COMMANDS: tuple[ModuleType, ...] = (cassettes, judge, report, traces, train, watch)


def build_parser() -> argparse.ArgumentParser:
    from synatest import __version__

    parser = argparse.ArgumentParser(
        prog="synatest",
        description=(
            "Test, evaluate and train Synalinks programs. Most work happens in pytest "
            "(`pytest --synalinks-eval`); this command holds the tools around it."
        ),
    )
    parser.add_argument("--version", action="version", version=f"synatest {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        # A command that forwards its arguments (``watch``: to pytest) takes the options
        # it does not know; any other command rejects them as parse_args would.
        forwarded = getattr(args, "forward_unknown_to", None)
        if forwarded is None:
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        setattr(args, forwarded, [*unknown, *getattr(args, forwarded)])
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0 if args.command is None else 2
    try:
        return int(handler(args) or 0)
    except OSError as error:
        # A path the user gave cannot be read or written (missing, forbidden, a
        # file where a directory is needed...): one line, not a traceback.
        print(f"synatest {_command_line(args)}: error: {describe_os_error(error)}", file=sys.stderr)
        return 2


def describe_os_error(error: OSError) -> str:
    """``cannot write /proc/x/report.json: No such file or directory`` (errno text)."""
    reason = error.strerror or str(error)
    if error.filename is None:
        return reason
    target = f"{error.filename}" + (f" -> {error.filename2}" if error.filename2 else "")
    return f"{target}: {reason}"


def _command_line(args: argparse.Namespace) -> str:
    action = getattr(args, "action", None) or getattr(args, "report_command", None)
    return f"{args.command} {action}" if action else str(args.command)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
