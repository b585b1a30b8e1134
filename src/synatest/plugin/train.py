"""pytest side of training: load a trained program into its suite (``--synalinks-program``).

``synatest train`` saves the trained program with ``program.save``;
``pytest --synalinks-eval --synalinks-program SUITE=PATH`` evaluates it: the program
fixture of every test of SUITE is built as usual (same architecture, same models),
then its trainable variables are replaced by the saved ones. Light to import.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from synatest import options

PROGRAMS_KEY = pytest.StashKey[dict[str, Path]]()


def _program_spec(raw: str) -> tuple[str, Path]:
    suite, sep, path = raw.partition("=")
    if not sep or not suite.strip() or not path.strip():
        raise argparse.ArgumentTypeError(
            f"expected SUITE=PATH (a suite name and a program saved by synatest train), got {raw!r}"
        )
    return suite.strip(), Path(path.strip())


options.group(
    "train",
    [
        options.Option(
            "program",
            "evaluate a trained program: load PATH (saved by `synatest train`) into the "
            "program fixture of suite SUITE; repeat for several suites",
            metavar="SUITE=PATH",
            type=_program_spec,
            ini=False,
            extra={"action": "append"},
        ),
    ],
)


def pytest_addoption(parser: pytest.Parser) -> None:
    options.register(parser, "train")


def pytest_configure(config: pytest.Config) -> None:
    programs: dict[str, Path] = {}
    for suite, path in options.value(config, "program") or []:
        if not path.is_file():
            raise pytest.UsageError(
                f"--synalinks-program {suite}={path}: no such file; pass the program.json "
                "that `synatest train` wrote (default reports/train/<suite>/program.json)"
            )
        programs[suite] = path
    config.stash[PROGRAMS_KEY] = programs


def trained_variables(path: Path) -> dict[str, Any]:
    """The trainable variables saved in a ``program.save`` file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        variables = data["variables"]["trainable_variables"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise pytest.UsageError(
            f"--synalinks-program: {path} is not a program saved by `synatest train` "
            f"(program.save): {type(error).__name__}: {error}"
        ) from None
    if not isinstance(variables, dict):
        raise pytest.UsageError(f"--synalinks-program: {path} holds no trainable variables")
    return variables


def load_trained(program: Any, path: Path, suite: str) -> None:
    try:
        program.set_state_tree({"trainable_variables": trained_variables(path)})
    except ValueError as error:
        raise pytest.UsageError(
            f"--synalinks-program {suite}={path}: the saved program does not fit the "
            f"suite's program {program.name!r} (was it trained from another program?): "
            f"{error}"
        ) from None


def _suite_of(request: pytest.FixtureRequest) -> str | None:
    item = getattr(request, "_pyfuncitem", None)
    if item is None:
        return None
    marker = item.get_closest_marker("synalinks_eval")
    if marker is None:
        return None
    name = marker.kwargs.get("suite") or getattr(item, "originalname", None) or item.name
    return str(name)


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(
    fixturedef: Any, request: pytest.FixtureRequest
) -> Generator[None, Any, Any]:
    value = yield
    programs = request.config.stash.get(PROGRAMS_KEY, {})
    if programs:
        suite = _suite_of(request)
        if suite in programs:
            from synalinks.src.programs.program import Program

            if isinstance(value, Program):
                load_trained(value, programs[suite], suite)
    return value
