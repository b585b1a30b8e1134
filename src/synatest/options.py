"""Every ``--synalinks-*`` option, defined once.

Each option is declared by an :class:`Option` and registered by a group function
taking pytest's parser. The same declarations feed the ``synatest`` CLI (which
forwards them to the pytest session it runs), so names, defaults and help never
drift. Every option is mirrored by an ini key ``synalinks_*``; the value in force
is, in order: the command line, the ini file, the default.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from typing import Any

import pytest

DEFAULT_SEED = 1337
DEFAULT_MODEL = "openai/gpt-4o-mini"
DEFAULT_EMBEDDING_MODEL = "openai/text-embedding-3-small"


class Option:
    """One ``--synalinks-NAME`` flag and its ``synalinks_NAME`` ini key.

    A plain class, not a dataclass: ``@dataclass`` compiles its methods when the module
    is imported, which every pytest run pays (benchmarks/bench_collect.py).
    """

    __slots__ = (
        "choices",
        "const",
        "default",
        "extra",
        "flag",
        "help",
        "ini",
        "metavar",
        "name",
        "nargs",
        "type",
    )

    def __init__(
        self,
        name: str,  # without the prefix, dashes: "record-mode"
        help: str,
        *,
        default: Any = None,
        type: Callable[[str], Any] | None = None,  # converts CLI and ini strings
        choices: tuple[str, ...] | None = None,
        flag: bool = False,  # a boolean switch: present means True
        metavar: str | None = None,
        nargs: str | None = None,  # "?" for an optional value (const = ``const``)
        const: Any = None,
        ini: bool = True,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.help = help
        self.default = default
        self.type = type
        self.choices = choices
        self.flag = flag
        self.metavar = metavar
        self.nargs = nargs
        self.const = const
        self.ini = ini
        self.extra: dict[str, Any] = extra or {}

    def __repr__(self) -> str:
        return f"Option({self.name!r})"

    @property
    def flag_name(self) -> str:
        return f"--synalinks-{self.name}"

    @property
    def dest(self) -> str:
        return "synalinks_" + self.name.replace("-", "_")

    def add_to(self, group: Any) -> None:
        kwargs: dict[str, Any] = {"dest": self.dest, "help": self._help(), "default": None}
        if self.flag:
            kwargs["action"] = "store_true"
        else:
            if self.type is not None:
                kwargs["type"] = self.type
            if self.choices:
                kwargs["choices"] = self.choices
            if self.metavar:
                kwargs["metavar"] = self.metavar
            if self.nargs:
                kwargs["nargs"] = self.nargs
                kwargs["const"] = self.const
        kwargs.update(self.extra)
        group.addoption(self.flag_name, **kwargs)

    def add_ini(self, parser: pytest.Parser) -> None:
        if not self.ini:
            return
        if self.flag:
            parser.addini(self.dest, help=f"default for {self.flag_name}", type="bool")
        else:
            parser.addini(self.dest, help=f"default for {self.flag_name}", type="string")

    def _help(self) -> str:
        default = self.default
        if self.flag:
            return f"{self.help} (ini: {self.dest})" if self.ini else self.help
        suffix = f" (default: {default})" if default not in (None, "") else ""
        ini = f" (ini: {self.dest})" if self.ini else ""
        return f"{self.help}{suffix}{ini}"

    def value(self, config: pytest.Config) -> Any:
        """The value in force: command line, then ini, then default."""
        cli = config.getoption(self.dest, default=None)
        if cli is not None and not (self.flag and cli is False):
            return cli  # (a typed value may be False: `--synalinks-...=false`)
        if self.ini:
            raw = config.getini(self.dest)
            if raw not in (None, "", []):
                if self.flag:
                    return bool(raw)
                return self.convert(str(raw), source=f"ini {self.dest}")
        return self.default if not self.flag else bool(cli)

    def convert(self, raw: str, *, source: str) -> Any:
        if self.choices and raw not in self.choices:
            raise pytest.UsageError(
                f"{source}: invalid value {raw!r}; choose from {', '.join(self.choices)}"
            )
        if self.type is None:
            return raw
        try:
            return self.type(raw)
        except (TypeError, ValueError, argparse.ArgumentTypeError) as error:
            raise pytest.UsageError(f"{source}: invalid value {raw!r}: {error}") from None


GROUPS: dict[str, list[Option]] = {}


def group(name: str, options: Iterable[Option]) -> list[Option]:
    """Declare (or extend) an option group; later issues add their own groups."""
    GROUPS.setdefault(name, []).extend(options)
    return GROUPS[name]


def all_options() -> list[Option]:
    return [opt for opts in GROUPS.values() for opt in opts]


def get(name: str) -> Option:
    for opt in all_options():
        if opt.name == name:
            return opt
    raise KeyError(name)


def value(config: pytest.Config, name: str) -> Any:
    return get(name).value(config)


def register(parser: pytest.Parser, *names: str) -> None:
    """Add the named groups to pytest's parser (from a ``pytest_addoption`` hook).

    Each feature plugin registers its own group(s) from its own ``pytest_addoption``.
    """
    for group_name in names:
        options = GROUPS[group_name]
        pg = parser.getgroup(f"synalinks-{group_name}", f"synatest: {group_name}")
        for opt in options:
            opt.add_to(pg)
            opt.add_ini(parser)


def _non_negative(raw: str, message: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{message}, not {raw!r}")
    return value


def _seed(raw: str) -> int:
    return _non_negative(raw, "the seed must be a non-negative integer")


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, not {raw!r}")


group(
    "session",
    [
        Option(
            "seed",
            "random seed set before every test (random, numpy and Synalinks' own)",
            default=DEFAULT_SEED,
            type=_seed,
            metavar="N",
        ),
        Option(
            "live",
            "allow LM calls that no double or cassette serves to reach the real provider "
            "(off by default: such a call fails at once)",
            flag=True,
        ),
        Option(
            "strict",
            "strict tests (swallowed LM errors fail, no retry waits, fresh Synalinks state "
            "and seed): auto = those using synatest; on = all; off = none. Others run as "
            "without the plugin, but a call that would reach a model is still refused",
            default="auto",
            choices=("auto", "on", "off"),
        ),
        Option(
            "no-speedups",
            "turn off the session's caches of what Synalinks recomputes on every call with "
            "the same result (DataModel JSON schemas, compiled prompt templates); they never "
            "change what a program sends or receives, this is for anyone who suspects them",
            flag=True,
        ),
        Option(
            "model",
            "model of the `language_model` fixture",
            default=DEFAULT_MODEL,
            metavar="MODEL",
        ),
        Option(
            "models",
            "a model matrix: every test using the `language_model` fixture (or the "
            "`synalinks_model_name` one) runs once per model, and eval suites are named "
            "`suite[model]`; the marker synalinks_models(...) sets it per test or module",
            metavar="M1,M2,...",
        ),
        Option(
            "embedding-model",
            "model of the `embedding_model` fixture",
            default=DEFAULT_EMBEDDING_MODEL,
            metavar="MODEL",
        ),
        Option(
            "third-party-warnings",
            "ignore the warnings Synalinks, litellm, pydantic, MLflow and datasets emit as "
            "noise (at import or on every LM call), so `filterwarnings = error` keeps "
            "working; false leaves every warning to your own filters",
            default=True,
            type=_bool,
            metavar="BOOL",
        ),
    ],
)


def _count(raw: str) -> int:
    return _non_negative(raw, "expected a whole number >= 0")


def _seconds(raw: str) -> float:
    try:
        seconds = float(raw.strip().removesuffix("s"))
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:
        raise argparse.ArgumentTypeError(f"expected seconds >= 0 (like 30 or 0.5), not {raw!r}")
    return seconds


group(
    "retries",
    [
        Option(
            "retries",
            "retries of a transient provider error (429, 5xx, timeout, dropped connection, "
            "cut stream) in a call that reaches the provider (live, or recording a "
            "cassette); permanent errors (400, 401, 404, ...) are never retried; 0 leaves "
            "retrying to the OpenAI SDK and Synalinks",
            default=4,
            type=_count,
            metavar="N",
        ),
        Option(
            "retry-budget",
            "most seconds one call waits between its retries (a Retry-After beyond it ends them)",
            default=60.0,
            type=_seconds,
            metavar="SECONDS",
        ),
        Option(
            "retry-backoff",
            "first backoff of a transient error without Retry-After, doubled on each retry "
            "(full jitter, at most 30 s)",
            default=0.5,
            type=_seconds,
            metavar="SECONDS",
        ),
    ],
)
