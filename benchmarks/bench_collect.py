"""What the plugin adds to ``pytest --collect-only`` of a suite that never uses Synalinks.

Target: < 50 ms. Runs a generated suite of 300 plain tests, collect-only, with the
plugin and with ``-p no:synatest``, interleaved, and prints the medians.

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
        times = time_commands(
            {
                "without synatest (-p no:synatest)": ([*base, "-p", "no:synatest"], None),
                "with synatest": (base, None),
            },
            repeats=args.repeats,
            cwd=tmp,
        )
    print("pytest --collect-only of 300 tests that never use Synalinks")
    print(table(times, baseline="without synatest (-p no:synatest)"))
    added = statistics.median(times["with synatest"]) - statistics.median(
        times["without synatest (-p no:synatest)"]
    )
    print(f"\nplugin overhead: {added * 1000:.0f} ms (target < 50 ms)")


if __name__ == "__main__":
    main()
