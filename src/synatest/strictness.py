"""Which tests are strict (``--synalinks-strict``, ini ``synalinks_strict``), and their reset.

A strict test fails on an LM error Synalinks would swallow, runs Synalinks' retries
without waiting, starts from a fresh Synalinks session and the seed, and has an
unserved call refused at litellm's entry. Any other test runs as it would without the
plugin: its own mocks, at any layer, serve its calls, and Synalinks' retries, waits and
swallowing are untouched; only a call that would open a connection to a model is
refused (:mod:`synatest.seam.guard`).

- ``auto`` (default): the tests that use synatest, i.e. one of its markers or fixtures
  (directly or through other fixtures, ``@synatest.program`` ones included), and any
  test from the moment a double or a cassette of its own is added to its router;
- ``on``: every test (synatest before 0.2 behaved so);
- ``off``: no test.
"""

from __future__ import annotations

import random
import sys

import pytest

MODES = ("auto", "on", "off")


def uses_synatest(item: pytest.Item) -> bool:
    """Whether ``item`` has one of synatest's markers or fixtures."""
    for marker in item.iter_markers():
        if marker.name.startswith("synalinks_"):
            return True
    info = getattr(item, "_fixtureinfo", None)
    for fixturedefs in getattr(info, "name2fixturedefs", {}).values():
        for fixturedef in fixturedefs:
            func = getattr(fixturedef, "func", None)
            module = getattr(func, "__module__", None) or ""
            if module.startswith("synatest.") or getattr(func, "__synatest_fixture__", False):
                return True
    return False


def resolve(mode: str, item: pytest.Item) -> tuple[bool, bool]:
    """``(strict, strict_on_use)`` of the router of ``item``."""
    if mode == "auto":
        return uses_synatest(item), True
    return mode == "on", False


def reset_synalinks(seed: int) -> None:
    """Per-test reset: fresh Synalinks global state, no default models, a fixed seed.

    Does nothing to Synalinks when it has not been imported (a test that never uses
    it pays nothing). Defaults are reset in memory only: ``synalinks.json`` is
    never rewritten.
    """
    random.seed(seed)
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed(seed)
    config = sys.modules.get("synalinks.src.backend.config")
    if config is None:
        return
    from synalinks.src.backend.common.global_state import clear_session

    clear_session(free_memory=False)
    for kind in ("LANGUAGE_MODEL", "EMBEDDING_MODEL", "DECISION_MODEL", "KNOWLEDGE_BASE"):
        setattr(config, f"_DEFAULT_{kind}", None)
        setattr(config, f"_DEFAULT_{kind}_IDENTIFIER", None)
    config.set_seed(seed)
