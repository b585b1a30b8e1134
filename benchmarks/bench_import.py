"""What the hermetic setup saves on the first import of Synalinks.

With no route to the internet, litellm spends ~10 s at import retrying the download
of its model cost map unless ``LITELLM_LOCAL_MODEL_COST_MAP=True`` (which synatest
sets). Measures ``import synalinks`` in fresh processes, both ways, interleaved.

    uv run python benchmarks/bench_import.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

from _timing import table, time_commands


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        # Both variants write Synalinks' and matplotlib's files under a temp dir, so
        # the only difference is the cost-map setting.
        common = {"SYNALINKS_HOME": f"{tmp}/syn", "MPLCONFIGDIR": f"{tmp}/mpl"}
        bare = dict(common)
        hermetic = {**common, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
        os.environ.pop("LITELLM_LOCAL_MODEL_COST_MAP", None)
        argv = [sys.executable, "-c", "import synalinks"]
        times = time_commands(
            {"plain import": (argv, bare), "synatest's hermetic env": (argv, hermetic)},
            repeats=args.repeats,
        )
    print("first `import synalinks` in a fresh process, no network")
    print(table(times, baseline="plain import"))


if __name__ == "__main__":
    main()
