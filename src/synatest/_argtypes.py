"""Option value converters whose error messages survive argparse.

argparse replaces a ``ValueError``'s message with "invalid <function> value"; an
``ArgumentTypeError`` keeps it. ``options.Option.convert`` (ini values) catches
``ValueError``. :class:`BadValue` is both, so one converter serves both paths.
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable


class BadValue(argparse.ArgumentTypeError, ValueError):
    """A bad option value; the message says what is expected."""


def argtype[T](convert: Callable[[str], T]) -> Callable[[str], T]:
    """``convert`` with its ValueErrors raised as :class:`BadValue` (same message)."""

    @functools.wraps(convert)
    def wrapper(raw: str) -> T:
        try:
            return convert(raw)
        except BadValue:
            raise
        except ValueError as error:
            raise BadValue(str(error)) from None

    return wrapper
