"""The ``synatest`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from synatest import __version__

# Subcommand name -> function adding its parser; later features register here.
SUBCOMMANDS: dict[str, Callable[[argparse._SubParsersAction], None]] = {}  # type: ignore[type-arg]

# Subcommands register themselves in SUBCOMMANDS on import (one line each).
from synatest import cli_cassettes, cli_report, cli_train  # noqa: E402, F401


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="synatest",
        description=(
            "Test, evaluate and train Synalinks programs. Most work happens in pytest "
            "(`pytest --synalinks-eval`); this command holds the tools around it."
        ),
    )
    parser.add_argument("--version", action="version", version=f"synatest {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in SUBCOMMANDS.values():
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0 if args.command is None else 2
    return int(handler(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    # Run as `python -m synatest.cli`: use the imported module, where the
    # subcommands registered themselves, not this `__main__` copy.
    from synatest.cli import main as _main

    sys.exit(_main())
