"""What the plugin adds to ``pytest --collect-only`` of a suite that never uses Synalinks.

Target: < 50 ms. Runs a generated suite of 300 plain tests, collect-only, with the
plugin and with ``-p no:synatest``, interleaved, and prints the medians: once with
Python's bytecode cache (the usual case; one warm-up run first) and once with no
cache at all (as with ``PYTHONDONTWRITEBYTECODE=1`` on a fresh checkout, which this
project's machines set), where every module -- and pytest's assertion rewrite of
every plugin module -- is compiled afresh.

    uv run python benchmarks/bench_collect.py [--repeats 9]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from _timing import table, time_commands


def make_suite(root: Path, modules: int = 30, tests: int = 10) -> None:
    for m in range(modules):
        body = "\n\n".join(f"def test_{t}():\n    assert {t} == {t}" for t in range(tests))
        (root / f"test_mod_{m}.py").write_text(body + "\n")
    (root / "pytest.ini").write_text("[pytest]\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=9)
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
            times = time_commands(variants, repeats=args.repeats, cwd=tmp)
            print(f"\npytest --collect-only of 300 tests that never use Synalinks; {label}")
            print(table(times, baseline="without synatest (-p no:synatest)"))
            added = statistics.median(times["with synatest"]) - statistics.median(
                times["without synatest (-p no:synatest)"]
            )
            print(f"plugin overhead: {added * 1000:.0f} ms (target < 50 ms)")


if __name__ == "__main__":
    main()
