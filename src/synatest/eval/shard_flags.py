"""The ``--synalinks-shard`` flags, their parser and the shard in force.

What the plugin needs when pytest loads it; the assignment of examples to shards is
:mod:`synatest.eval.shard`, loaded at collection by sharded runs only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import pytest

from synatest import options
from synatest._argtypes import BadValue

ENV_VAR = "SYNATEST_SHARD"
SHARD_KEY = pytest.StashKey["Shard | None"]()


class Shard:
    """Shard ``index`` (1-based) of ``count``."""

    # A plain class, not a dataclass: it loads with the plugin (see synatest.options.Option).
    __slots__ = ("count", "index")

    def __init__(self, index: int, count: int) -> None:
        self.index = index
        self.count = count

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Shard) and (other.index, other.count) == (self.index, self.count)

    def __hash__(self) -> int:
        return hash((self.index, self.count))

    def __repr__(self) -> str:
        return f"Shard(index={self.index}, count={self.count})"

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(raw: str) -> Shard:
    """``I/N`` with 1 <= I <= N, e.g. ``2/3``.

    Raises:
        BadValue: with a message saying what is expected.
    """
    text = str(raw).strip()
    index_text, slash, count_text = text.partition("/")
    try:
        if not slash:
            raise ValueError
        index, count = int(index_text), int(count_text)
    except ValueError:
        raise BadValue(
            f"expected a shard as I/N (this machine runs shard I of N, 1-based), such as "
            f"1/4, got {raw!r}"
        ) from None
    if count < 1:
        raise BadValue(f"the shard count N must be at least 1, got {raw!r}")
    if not 1 <= index <= count:
        raise BadValue(
            f"the shard index I must be between 1 and N={count} (shards are 1-based), got {raw!r}"
        )
    return Shard(index, count)


options.group(
    "shard",
    [
        options.Option(
            "shard",
            "run only shard I of N of the evaluation examples (e.g. 2/4; 1-based, a stable "
            "per-suite split, the same on every machine); non-eval tests run in shard 1. "
            f"Also ${ENV_VAR}. Gates are deferred to `synatest report merge`",
            metavar="I/N",
            type=parse_shard,
        ),
        options.Option(
            "shard-all-tests",
            "with --synalinks-shard: run the tests that are not eval examples in every "
            "shard, not only in shard 1",
            flag=True,
        ),
    ],
)


def shard_of(config: pytest.Config, environ: Mapping[str, str] | None = None) -> Shard | None:
    """The shard in force: command line, then ``$SYNATEST_SHARD``, then the ini."""
    cli = config.getoption(options.get("shard").dest, default=None)
    if cli is not None:
        return cli  # type: ignore[no-any-return]
    raw = (os.environ if environ is None else environ).get(ENV_VAR, "").strip()
    if raw:
        try:
            return parse_shard(raw)
        except BadValue as error:
            raise pytest.UsageError(f"${ENV_VAR}: {error}") from None
    value = options.value(config, "shard")
    return value if isinstance(value, Shard) else None
