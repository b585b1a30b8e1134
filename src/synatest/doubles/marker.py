"""The doubles a test's ``@pytest.mark.synalinks_lm(...)`` markers name, made for the test.

Loaded by :mod:`synatest.plugin.doubles` when a test carrying the marker is set up.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from synatest.doubles.base import Double
from synatest.markers import LM_MARKER


def marker_doubles(item: pytest.Item) -> list[Any]:
    """A fresh copy of each double the test's ``synalinks_lm`` markers name, closest first."""
    doubles: list[Any] = []
    # Closest first: a test's own marker before its class's and module's.
    for marker in item.iter_markers(LM_MARKER):
        if marker.kwargs:
            raise pytest.UsageError(
                f"{item.nodeid}: @pytest.mark.{LM_MARKER} takes doubles as positional "
                f"arguments, not keywords {sorted(marker.kwargs)}; e.g. "
                f"@pytest.mark.{LM_MARKER}(synatest.SchemaLM(seed=1))"
            )
        if not marker.args:
            raise pytest.UsageError(
                f"{item.nodeid}: @pytest.mark.{LM_MARKER}() needs at least one double, e.g. "
                f"@pytest.mark.{LM_MARKER}(synatest.SchemaLM(seed=1))"
            )
        for arg in marker.args:
            if isinstance(arg, Double):
                doubles.append(arg.fresh())
            elif isinstance(arg, type) and issubclass(arg, Double):
                doubles.append(arg())
            elif callable(arg) and takes_no_arguments(arg):
                made = arg()
                if not isinstance(made, Double):
                    raise pytest.UsageError(
                        f"{item.nodeid}: the factory {arg!r} given to "
                        f"@pytest.mark.{LM_MARKER} returned {type(made).__name__}, not a "
                        "synatest double"
                    )
                doubles.append(made)
            else:
                raise pytest.UsageError(
                    f"{item.nodeid}: @pytest.mark.{LM_MARKER} got {arg!r}; give synatest "
                    "doubles (ScriptedLM, FunctionLM, SchemaLM, HashEmbeddings), their "
                    "classes, or zero-argument factories returning one"
                )
    return doubles


def takes_no_arguments(obj: Any) -> bool:
    try:
        parameters = inspect.signature(obj).parameters.values()
    except (TypeError, ValueError):
        return False
    return all(
        p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in parameters
    )
