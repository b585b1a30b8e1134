"""What the plugin adds to ``pytest --collect-only`` of a suite that never uses Synalinks.

Target: < 50 ms. Runs a generated suite of 300 plain tests, collect-only, with the
plugin and with ``-p no:synatest``, interleaved, and prints the medians: once with
Python's bytecode cache (the usual case; one warm-up run first) and once with no
cache at all (as with ``PYTHONDONTWRITEBYTECODE=1`` on a fresh checkout, which this
project's machines set), where every module -- and pytest's assertion rewrite of
every plugin module -- is compiled afresh.

Times are CPU times (user + system) of each pytest process: this machine's speed drifts
from minute to minute, which moves wall times by more than the plugin costs. The overhead
is the median of the paired differences (each round runs both variants back to back).

With ``--instructions`` (needs valgrind), each variant also runs once under callgrind,
which counts the instructions executed -- the same count however busy the machine is.
The plugin's share of them, applied to the measured CPU time, is the steadiest estimate
of what it adds (callgrind runs ~45x slower: about 1 min with a cache, 6 without).

    uv run python benchmarks/bench_collect.py [--repeats 21] [--instructions]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _timing import paired_difference, table, time_commands


def make_suite(root: Path, modules: int = 30, tests: int = 10) -> None:
    for m in range(modules):
        body = "\n\n".join(f"def test_{t}():\n    assert {t} == {t}" for t in range(tests))
        (root / f"test_mod_{m}.py").write_text(body + "\n")
    (root / "pytest.ini").write_text("[pytest]\n")


def instructions(argv: list[str], env: dict[str, str], cwd: str) -> int:
    """Instructions executed by ``argv`` (valgrind's callgrind)."""
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
        cwd=cwd,
        env={**os.environ, **env, "PYTHONHASHSEED": "0"},
        capture_output=True,
        text=True,
        check=True,
    )
    match = re.search(r"Collected : (\d+)", out.stderr)
    if match is None:
        raise SystemExit(f"no instruction count in valgrind's output:\n{out.stderr[-2000:]}")
    return int(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--instructions", action="store_true", help="also count instructions")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        make_suite(Path(tmp))
        base = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
        for label, env in [
            ("bytecode cache on (warm)", {"PYTHONDONTWRITEBYTECODE": ""}),
            (
                "no bytecode cache (every module compiled afresh)",
                # An empty cache prefix hides every .pyc; nothing is written to it.
                {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": f"{tmp}/no-pyc"},
            ),
        ]:
            variants = {
                "without synatest (-p no:synatest)": ([*base, "-p", "no:synatest"], env),
                "with synatest": (base, env),
            }
            time_commands(variants, repeats=1, cwd=tmp)  # warm-up: writes the caches
            times = time_commands(variants, repeats=args.repeats, cwd=tmp, cpu=True)
            print(f"\npytest --collect-only of 300 tests that never use Synalinks; {label}")
            print("CPU time (user + system) of each pytest process:")
            print(table(times, baseline="without synatest (-p no:synatest)"))
            added = paired_difference(times, "with synatest", "without synatest (-p no:synatest)")
            print(
                f"plugin overhead: {added * 1000:.0f} ms (median of {args.repeats} paired "
                "differences; target < 50 ms)"
            )
            if not args.instructions:
                continue
            if shutil.which("valgrind") is None:
                raise SystemExit("--instructions needs valgrind")
            counts = {
                name: instructions(list(argv), env, tmp) for name, (argv, _) in variants.items()
            }
            without, with_ = counts.values()
            share = with_ / without - 1
            cpu = statistics.median(times["without synatest (-p no:synatest)"])
            print(
                f"instructions: {without:,} without, {with_:,} with synatest (+{share:.1%}); "
                f"at {cpu * 1000:.0f} ms of CPU that is +{share * cpu * 1000:.0f} ms "
                "(target < 50 ms)"
            )


if __name__ == "__main__":
    main()
