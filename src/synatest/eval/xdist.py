"""pytest-xdist: example results travel from workers to the controller as plain JSON.

Each worker puts :func:`worker_payload` in ``config.workeroutput``; the controller
gathers them (``pytest_testnodedown``) and :func:`merge_payloads` rebuilds one
ordered list of results and one table of suites, on which the gates run once.
Examples are ordered by their collection index, which every worker shares, so a
``-n 2`` run reports exactly what a serial run reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from synatest.eval.results import ExampleResult

PAYLOAD_KEY = "synatest_eval"
PAYLOAD_VERSION = 1


class MergeError(ValueError):
    """Workers disagree about a suite, or sent something this version cannot read."""


def worker_payload(
    results: Iterable[tuple[int, ExampleResult]], suites: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """The JSON-serializable share of one worker: ``(order, result)`` pairs and suites."""
    return {
        "version": PAYLOAD_VERSION,
        "suites": {name: dict(spec) for name, spec in suites.items()},
        "examples": [
            {"order": order, "result": result.model_dump(mode="json")} for order, result in results
        ],
    }


def merge_payloads(
    payloads: Iterable[Mapping[str, Any]],
) -> tuple[list[tuple[int, ExampleResult]], dict[str, dict[str, Any]]]:
    """Merge worker payloads: results sorted by collection order, suites unified."""
    merged: list[tuple[int, ExampleResult]] = []
    suites: dict[str, dict[str, Any]] = {}
    for payload in payloads:
        version = payload.get("version")
        if version != PAYLOAD_VERSION:
            raise MergeError(
                f"a worker sent eval results in format {version!r}, expected {PAYLOAD_VERSION}: "
                "are the controller and workers running the same synatest?"
            )
        for name, spec in payload.get("suites", {}).items():
            known = suites.setdefault(name, dict(spec))
            if known != spec:
                raise MergeError(
                    f"workers disagree about suite {name!r}: {known} vs {dict(spec)}"
                )
        for entry in payload.get("examples", []):
            merged.append((int(entry["order"]), ExampleResult.model_validate(entry["result"])))
    merged.sort(key=lambda pair: pair[0])
    return merged, suites
