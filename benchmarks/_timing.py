"""Side-by-side timing of commands: interleaved runs, medians, one table."""

from __future__ import annotations

import os
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
) -> dict[str, list[float]]:
    """Run every variant ``repeats`` times, interleaved (so machine load hits all alike)."""
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeats):
        for name, (argv, env) in variants.items():
            full_env = dict(os.environ)
            if env is not None:
                full_env.update(env)
            start = time.perf_counter()
            subprocess.run(argv, cwd=cwd, env=full_env, check=True, capture_output=True)
            times[name].append(time.perf_counter() - start)
    return times


def table(times: Mapping[str, list[float]], baseline: str) -> str:
    base = statistics.median(times[baseline])
    rows = []
    for name, values in times.items():
        med = statistics.median(values)
        rows.append(
            [name, f"{med * 1000:.0f}", f"{min(values) * 1000:.0f}", f"{(med - base) * 1000:+.0f}"]
        )
    return tabulate(rows, headers=["variant", "median ms", "min ms", f"vs {baseline} ms"])
