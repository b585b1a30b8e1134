"""The ``synatest`` command line (see :mod:`synatest.cli.main`)."""

from synatest.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
