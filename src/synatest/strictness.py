"""Which tests get synatest's strictness: ``--synalinks-strict`` (ini ``synalinks_strict``).

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


def resolve(mode: str, item: pytest.Item | None) -> tuple[bool, bool]:
    """``(strict, strict_on_use)`` of the router of ``item`` (None: outside any test)."""
    if mode == "auto":
        return item is not None and uses_synatest(item), True
    return mode == "on", False
