"""The reference pages are generated at build time by ``docs/_hooks.py``: check the hook
covers every flag, subcommand, marker and fixture, without building the site."""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path
from types import ModuleType

import synatest.plugin
from synatest import options
from synatest.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]


def _hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "_hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _subcommands(parser: argparse.ArgumentParser) -> list[str]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found += [sub.prog, *_subcommands(sub)]
    return found


def test_every_flag_is_in_the_options_page() -> None:
    page = _hooks()._flags()
    for name in synatest.plugin.FEATURE_PLUGINS:
        importlib.import_module(name)
    flags = [opt.flag_name for opt in options.all_options()]
    assert len(flags) >= 20
    missing = [flag for flag in flags if f"`{flag}" not in page]
    assert not missing, missing


def test_every_subcommand_is_in_the_cli_page() -> None:
    page = _hooks()._cli()
    progs = _subcommands(build_parser())
    assert "synatest train" in progs and "synatest report compare" in progs
    missing = [prog for prog in progs if f"`{prog}`" not in page]
    assert not missing, missing


def test_markers_and_fixtures_are_listed() -> None:
    page = _hooks()._markers_and_fixtures()
    for name in (
        "synalinks_eval",
        "synalinks_cassette",
        "synalinks_lm",
        "scripted_lm",
        "synalinks_trace",
    ):
        assert name in page


def test_placeholders_are_in_the_pages() -> None:
    hooks = _hooks()
    assert hooks.FLAGS in (ROOT / "docs" / "options.md").read_text()
    assert hooks.PYTEST in (ROOT / "docs" / "options.md").read_text()
    assert hooks.CLI in (ROOT / "docs" / "cli.md").read_text()
