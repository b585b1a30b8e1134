"""synatest's exception types.

Harness failures derive from :class:`SynatestError`, a ``BaseException``: Synalinks
catches ``Exception`` around every LM call (and returns ``None``), so an error that
must fail the test -- a request nothing serves, a cassette miss, a reply that breaks
its schema -- has to pass through those handlers untouched. pytest reports any
``BaseException`` that is not ``KeyboardInterrupt``/``Exit`` as an ordinary failure.

Errors about a user's *inputs* (a bad dataset row, a bad flag) are ordinary
``Exception`` subclasses: they happen outside LM calls and should be catchable.
"""

from __future__ import annotations

__all__ = [
    "CassetteError",
    "CassetteMiss",
    "DatasetError",
    "ExampleLimitExceeded",
    "InvalidReply",
    "LMCallFailed",
    "ReportError",
    "SchemaMismatch",
    "ScriptExhausted",
    "SynatestError",
    "UnservedLMCall",
    "UnusedReplies",
]


class SynatestError(BaseException):
    """Base of every harness failure. Not an ``Exception``: Synalinks cannot swallow it."""


class UnservedLMCall(SynatestError):
    """An LM or embedding call that no double or cassette serves, with live calls off."""


class LMCallFailed(SynatestError):
    """An LM call failed (after Synalinks' retries) and Synalinks would have swallowed it.

    The original provider error is chained as ``__cause__``.
    """


class ExampleLimitExceeded(SynatestError):
    """An eval example went over its ``cost_limit``, ``token_limit`` or ``time_limit``:
    it stops at once and is scored as failed (``limit`` names the limit)."""

    def __init__(self, limit: str, message: str) -> None:
        super().__init__(message)
        self.limit = limit


class ScriptExhausted(SynatestError):
    """A scripted LM received a request that no rule and no queued reply answers."""


class SchemaMismatch(SynatestError):
    """A structured reply that does not validate against the requested JSON schema."""


class InvalidReply(SynatestError):
    """A double was given a reply it cannot turn into an LM response (wrong type,
    wrong number of embedding vectors). Not retried: a retry would silently take the
    next scripted reply instead."""


class UnusedReplies(SynatestError):
    """Queued replies were left unused when the test ended."""


class CassetteMiss(SynatestError):
    """A request with no recording in the cassette, while recording is off."""


class CassetteError(Exception):
    """A cassette file that cannot be read or written (corrupt, secret found, ...)."""


class DatasetError(ValueError):
    """A dataset row that cannot be turned into the requested DataModels."""


class ReportError(ValueError):
    """A report file that cannot be read (missing, not JSON, not a synatest report)."""


class TracesError(ValueError):
    """Synalinks traces that cannot be imported (bad line, unknown version, empty store)."""


def decode_error_message(
    path: object, data: bytes, error: UnicodeDecodeError, *, fix: str = "save the file as UTF-8"
) -> str:
    """``PATH: not valid UTF-8 at byte N (line L, column C): ...`` for a failed decode.

    Line and column count from 1 and are those of the text that did decode, so an
    editor jumps straight to the bad bytes.
    """
    offset = error.start
    line = data.count(b"\n", 0, offset) + 1
    column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
    bad = data[offset : min(error.end, offset + 8)]
    encoding = "UTF-8" if error.encoding.replace("-", "").lower() == "utf8" else error.encoding
    return (
        f"{path}: not valid {encoding} at byte {offset} (line {line}, column {column}): "
        f"{bad!r} ({error.reason}); {fix}"
    )
