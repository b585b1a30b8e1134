"""Side-by-side timing of commands: interleaved runs, medians, one table."""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import time
from collections.abc import Mapping, Sequence

from tabulate import tabulate


def time_commands(
    variants: Mapping[str, tuple[Sequence[str], Mapping[str, str] | None]],
    *,
    repeats: int,
    cwd: str | None = None,
    cpu: bool = False,
) -> dict[str, list[float]]:
    """Run every variant ``repeats`` times, interleaved (so machine load hits all alike).

    Seconds of wall time, or with ``cpu`` of CPU time (user + system) of the command:
    on a shared machine whose speed drifts, CPU time varies less.
    """
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeats):
        for name, (argv, env) in variants.items():
            full_env = dict(os.environ)
            if env is not None:
                full_env.update(env)
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run(argv, cwd=cwd, env=full_env, check=True, capture_output=True)
            wall = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            used = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
            times[name].append(used if cpu else wall)
    return times


def paired_difference(times: Mapping[str, list[float]], variant: str, baseline: str) -> float:
    """Median over repeats of (variant - baseline) within each interleaved round.

    Each round runs both back to back, so a slow stretch of the machine hits both;
    more robust than the difference of the two medians.
    """
    return statistics.median(a - b for a, b in zip(times[variant], times[baseline], strict=True))


def table(times: Mapping[str, list[float]], baseline: str) -> str:
    base = statistics.median(times[baseline])
    rows = []
    for name, values in times.items():
        med = statistics.median(values)
        rows.append(
            [name, f"{med * 1000:.0f}", f"{min(values) * 1000:.0f}", f"{(med - base) * 1000:+.0f}"]
        )
    return tabulate(rows, headers=["variant", "median ms", "min ms", f"vs {baseline} ms"])
