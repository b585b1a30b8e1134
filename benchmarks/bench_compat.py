"""What installing synatest costs a project's own tests that do not use it.

Runs Synalinks' own LM-facing tests (the 14 files of issue 20: generator, decision,
branch, multi-decision, chain of thought, function-calling agent, language model,
decision model, functional/sequential/program, LM-as-judge and reward tests, recorder
hook), copied from the installed package, with ``-p no:synatest`` and with the plugin,
interleaved, and prints the medians of wall and CPU time and their ratio (target:
with <= 1.05x without). With a bytecode cache, as users have one.

    uv run python benchmarks/bench_compat.py [--repeats 5]

The whole shipped suite (171 files) is compared side by side, outcome by outcome, by
``tests/compat/run_compat.py``, which prints its own timings.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from tabulate import tabulate

from _timing import time_commands

FILES = (
    "modules/core/generator_test.py",
    "modules/core/decision_test.py",
    "modules/core/branch_test.py",
    "modules/core/multi_decision_test.py",
    "modules/ttc/chain_of_thought_test.py",
    "modules/agents/function_calling_agent_test.py",
    "modules/language_models/language_model_test.py",
    "modules/decision_models/decision_model_test.py",
    "programs/functional_test.py",
    "programs/sequential_test.py",
    "programs/program_test.py",
    "rewards/lm_as_judge_test.py",
    "rewards/reward_test.py",
    "hooks/recorder_test.py",
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    import importlib.util

    spec = importlib.util.find_spec("synalinks")
    assert spec is not None and spec.submodule_search_locations
    package = Path(next(iter(spec.submodule_search_locations))) / "src"
    work = Path(tempfile.mkdtemp(prefix="synatest-bench-compat-"))
    for name in FILES:
        target = work / "shipped" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(package / name, target)
    (work / "pytest.ini").write_text(
        "[pytest]\npython_files = *_test.py\nasyncio_default_fixture_loop_scope = function\n"
    )
    env = {
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "PYTHONDONTWRITEBYTECODE": "",
        "PYTHONPYCACHEPREFIX": str(work / "pycache"),
    }
    base = [sys.executable, "-m", "pytest", "shipped", "-q", "-p", "no:cacheprovider"]
    # Two multimodal tests read files from Synalinks' repository, not shipped: they fail
    # both ways, and a failing run would stop the timing.
    base += ["--import-mode=importlib", "-k", "not dataset_ref_is_resolved"]
    variants = {
        "without synatest": ([*base, "-p", "no:synatest"], env),
        "with synatest": (base, env),
    }
    # One warm-up round fills the bytecode cache.
    time_commands(variants, repeats=1, cwd=str(work))
    wall = time_commands(variants, repeats=args.repeats, cwd=str(work))
    cpu = time_commands(variants, repeats=args.repeats, cwd=str(work), cpu=True)
    rows = []
    for name in variants:
        rows.append(
            [
                name,
                f"{statistics.median(wall[name]):.2f} s",
                f"{statistics.median(cpu[name]):.2f} s",
            ]
        )
    ratio_wall = statistics.median(wall["with synatest"]) / statistics.median(
        wall["without synatest"]
    )
    ratio_cpu = statistics.median(cpu["with synatest"]) / statistics.median(cpu["without synatest"])
    rows.append(["with / without", f"{ratio_wall:.3f}x", f"{ratio_cpu:.3f}x"])
    print(f"{len(FILES)} Synalinks test files, {args.repeats} interleaved runs each, medians")
    print(tabulate(rows, headers=["", "wall", "CPU"]))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
