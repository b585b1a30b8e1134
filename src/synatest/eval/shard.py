"""Shards: one CI machine runs a deterministic share of the evaluation examples.

``--synalinks-shard I/N`` (1-based; ini ``synalinks_shard``, environment variable
``SYNATEST_SHARD``) keeps the eval examples of shard I out of N and deselects the rest.

How examples are assigned (:func:`assign`): within each suite, the examples are sorted
by a stable hash (SHA-256 of ``suite``, a NUL, and the example id, the test's node id
breaking ties), and dealt round-robin to the shards, starting at a shard picked by the
suite name's hash. So the assignment is the same on every machine and Python version
(no ``hash()``, no randomization), every example is in exactly one shard, each suite is
balanced within one example, and small suites do not all land on shard 1. Adding an
example to a suite may move others (the deal is of the suite's current examples):
shards of one run must collect the same tests, which the merge checks.

Tests that are not eval examples run in shard 1 only, unless
``--synalinks-shard-all-tests``. A shard's report.json carries a ``shard`` field and no
gate results: a shard sees part of each suite, so ``synatest report merge`` gates.

Light to import (no pydantic); the plugin loads it at collection when a shard is set
(:mod:`synatest.eval.shard_flags` holds the flags).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence

import pytest

from synatest import options
from synatest.eval.shard_flags import ENV_VAR, SHARD_KEY, Shard, parse_shard, shard_of
from synatest.markers import EVAL_MARKER, example_id, suite_name

# The flags, their parser and the shard in force live in shard_flags (loaded with the
# plugin); re-exported here, the module sharded runs use.
__all__ = [
    "DEFERRED_NOTE",
    "ENV_VAR",
    "ORDER_KEY",
    "RUN_ID_VARS",
    "SHARD_KEY",
    "Shard",
    "assign",
    "parse_shard",
    "run_id",
    "select",
    "shard_of",
    "split",
]

# Environment variables that identify one CI run (so shards of different runs are not
# merged): ours first, then GitHub Actions, GitLab CI, Buildkite, CircleCI, Jenkins.
RUN_ID_VARS = (
    "SYNATEST_RUN_ID",
    "GITHUB_RUN_ID",
    "CI_PIPELINE_ID",
    "BUILDKITE_BUILD_ID",
    "CIRCLE_WORKFLOW_ID",
    "BUILD_TAG",
)
# nodeid -> position in the whole collection (before the shard's deselection), so
# examples of every shard sort into the order of an unsharded run.
ORDER_KEY = pytest.StashKey[dict[str, int]]()
DEFERRED_NOTE = (
    "shard {index}/{count}: gates deferred, this shard saw part of the suite; "
    "`synatest report merge` of every shard's report gates the whole"
)


def run_id(environ: Mapping[str, str] | None = None) -> str | None:
    """This CI run's id (the first of :data:`RUN_ID_VARS` that is set), or None locally."""
    env = os.environ if environ is None else environ
    for name in RUN_ID_VARS:
        value = env.get(name, "").strip()
        if value:
            attempt = env.get("GITHUB_RUN_ATTEMPT", "").strip()
            if name == "GITHUB_RUN_ID" and attempt:
                return f"{value}-{attempt}"
            return value
    return None


def _digest(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("\0".join(parts).encode()).digest()[:8], "big")


def assign(suite: str, examples: Sequence[tuple[str, str]], count: int) -> list[int]:
    """The shard (1-based) of each of a suite's ``(example id, node id)``, in their order.

    Sorted by stable hash and dealt round-robin from a suite-dependent start: balanced
    within one example, and the same wherever it runs.
    """
    ranked = sorted(range(len(examples)), key=lambda i: (_digest(suite, *examples[i]), i))
    start = _digest(suite) % count
    shards = [0] * len(examples)
    for rank, position in enumerate(ranked):
        shards[position] = (start + rank) % count + 1
    return shards


def split(
    items: Sequence[pytest.Item], shard: Shard, *, all_tests: bool = False
) -> tuple[list[pytest.Item], list[pytest.Item]]:
    """``(kept, deselected)`` items of ``shard``, each list in collection order."""
    by_suite: dict[str, list[int]] = {}
    keep = [False] * len(items)
    for position, item in enumerate(items):
        marker = item.get_closest_marker(EVAL_MARKER)
        if marker is None:
            keep[position] = all_tests or shard.index == 1
        else:
            by_suite.setdefault(suite_name(item, marker), []).append(position)
    for suite, positions in by_suite.items():
        examples = [(example_id(items[p]), items[p].nodeid) for p in positions]
        for position, index in zip(positions, assign(suite, examples, shard.count), strict=True):
            keep[position] = index == shard.index
    kept = [item for item, k in zip(items, keep, strict=True) if k]
    dropped = [item for item, k in zip(items, keep, strict=True) if not k]
    return kept, dropped


def select(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep this shard's items (in place), deselecting the rest through pytest's hook."""
    shard = config.stash.get(SHARD_KEY, None)
    if shard is None:
        return
    config.stash[ORDER_KEY] = {item.nodeid: position for position, item in enumerate(items)}
    kept, dropped = split(items, shard, all_tests=bool(options.value(config, "shard-all-tests")))
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
