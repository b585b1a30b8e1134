"""The compatibility check: a project's own tests give the same outcomes with synatest.

Runs two suites that use nothing of synatest, each twice side by side (at the same
time, on the same files) -- once with ``-p no:synatest``, once with the plugin as it
comes -- and compares the outcome of every test:

- ``shipped``: every ``*_test.py`` file inside the installed Synalinks package (found
  from its spec, not by importing it), copied to a temporary folder;
- ``mocked``: ``tests/compat/mocked``, tests that mock litellm with ``unittest.mock``,
  respx and vcrpy, for completions, embeddings and decisions.

A test whose outcome differs is allowed only when the plugin refused a live call in it
(``UnservedLMCall``); each is listed with its test id. Any other difference fails the
check (exit 1). The wall and CPU time of both runs are printed, with their ratio::

    uv run python tests/compat/run_compat.py [--workers N] [--suite shipped|mocked]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
MOCKED = HERE / "mocked"
REFUSAL = "UnservedLMCall"
INI = """[pytest]
python_files = *_test.py test_*.py
asyncio_default_fixture_loop_scope = function
pythonpath = .
"""


@dataclass
class Outcome:
    """One test's outcome in one run: passed, failed, error or skipped."""

    status: str
    message: str = ""

    @property
    def refused(self) -> bool:
        return REFUSAL in self.message


@dataclass
class Comparison:
    """The per-test comparison of a run without the plugin and one with it."""

    without: dict[str, Outcome]
    with_plugin: dict[str, Outcome]
    refused: list[str] = field(default_factory=list)  # changed: a refused live call
    other: list[str] = field(default_factory=list)  # changed for any other reason
    refused_unchanged: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.other


def read_junit(path: Path) -> dict[str, Outcome]:
    """Every test case of a JUnit XML file, by ``classname::name``."""
    outcomes: dict[str, Outcome] = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        test_id = f"{case.get('classname', '')}::{case.get('name', '')}"
        status, message = "passed", ""
        for tag in ("failure", "error", "skipped"):
            element = case.find(tag)
            if element is not None:
                status = "failed" if tag == "failure" else tag
                message = f"{element.get('message') or ''}\n{element.text or ''}"
                break
        # A test that failed in teardown after passing is reported twice: keep the worse.
        previous = outcomes.get(test_id)
        if previous is None or previous.status in ("passed", "skipped"):
            outcomes[test_id] = Outcome(status, message)
    return outcomes


def compare(without: dict[str, Outcome], with_plugin: dict[str, Outcome]) -> Comparison:
    """Sort every test whose outcome changed: a refused live call, or anything else."""
    result = Comparison(without, with_plugin)
    for test_id in sorted(set(without) | set(with_plugin)):
        before, after = without.get(test_id), with_plugin.get(test_id)
        if before is None or after is None:
            result.other.append(test_id)  # collected on one side only
            continue
        if before.status == after.status:
            if after.refused:
                result.refused_unchanged.append(test_id)
            continue
        (result.refused if after.refused else result.other).append(test_id)
    return result


def counts(outcomes: dict[str, Outcome]) -> str:
    tally: dict[str, int] = {}
    for outcome in outcomes.values():
        tally[outcome.status] = tally.get(outcome.status, 0) + 1
    return ", ".join(f"{n} {status}" for status, n in sorted(tally.items())) or "no tests"


def report(name: str, comparison: Comparison) -> str:
    lines = [
        f"{name}: without synatest: {counts(comparison.without)}",
        f"{name}: with synatest:    {counts(comparison.with_plugin)}",
        f"{name}: {len(comparison.refused)} changed by a refused live call, "
        f"{len(comparison.other)} changed otherwise",
    ]
    for label, ids in (
        ("changed: refused live call", comparison.refused),
        ("same outcome, refused live call", comparison.refused_unchanged),
        ("CHANGED", comparison.other),
    ):
        for test_id in ids:
            before = comparison.without.get(test_id)
            after = comparison.with_plugin.get(test_id)
            change = f"{before.status if before else 'absent'} -> "
            change += after.status if after else "absent"
            lines.append(f"  {label}: {test_id} ({change})")
            if label == "CHANGED" and after is not None and after.message.strip():
                lines.append("    " + after.message.strip().splitlines()[0][:300])
    return "\n".join(lines)


# --- running the suites -------------------------------------------------------------


def shipped_tests(dest: Path) -> int:
    """Copy every ``*_test.py`` of the installed Synalinks to ``dest``; their number."""
    spec = importlib.util.find_spec("synalinks")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("compat: Synalinks is not installed in this environment")
    package = Path(next(iter(spec.submodule_search_locations)))
    files = sorted(package.rglob("*_test.py"))
    for source in files:
        target = dest / "synalinks_tests" / source.relative_to(package)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    return len(files)


@dataclass
class Run:
    label: str
    junit: Path
    process: subprocess.Popen[bytes]
    log: Path
    started: float
    wall: float = 0.0
    cpu: float = 0.0


def network_namespaces() -> bool:
    """Whether each run can have a network namespace of its own (root, util-linux, iproute2).

    Each run then has its own loopback (tests that serve on fixed ports, like Synalinks'
    MCP tests, do not collide) and no route out: a test trying the network fails at once,
    alike on both sides, instead of waiting for a timeout.
    """
    if not (shutil.which("unshare") and shutil.which("ip")):
        return False
    probe = subprocess.run(
        ["unshare", "-n", "ip", "link", "set", "lo", "up"], capture_output=True, check=False
    )
    return probe.returncode == 0


def isolated(args: list[str]) -> list[str]:
    return ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *args]


def start(label: str, folder: Path, plugin: bool, workers: int, out: Path, *, isolate: bool) -> Run:
    junit = out / f"{label}.xml"
    log = out / f"{label}.log"
    args = [sys.executable, "-m", "pytest", str(folder), "-q", "-rN", "--tb=line"]
    args += ["--import-mode=importlib", "-p", "no:cacheprovider", f"--junitxml={junit}"]
    if not plugin:
        args += ["-p", "no:synatest"]
    if workers > 1:
        # By file: a test class that serves on a fixed port stays on one worker.
        args += ["-n", str(workers), "--dist", "loadfile"]
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    env.pop("PYTEST_ADDOPTS", None)
    handle = log.open("wb")
    if isolate:
        args = isolated(args)
    process = subprocess.Popen(args, cwd=folder, stdout=handle, stderr=subprocess.STDOUT, env=env)
    return Run(label, junit, process, log, time.monotonic())


def wait(run: Run) -> None:
    _, status, usage = os.wait4(run.process.pid, 0)
    run.process.returncode = os.waitstatus_to_exitcode(status)
    run.wall = time.monotonic() - run.started
    run.cpu = usage.ru_utime + usage.ru_stime
    if not run.junit.exists():
        tail = run.log.read_text(errors="replace")[-2000:]
        raise SystemExit(
            f"compat: {run.label} wrote no JUnit report (exit {run.process.returncode}):\n{tail}"
        )


def run_suite(
    name: str, folder: Path, workers: int, out: Path
) -> tuple[Comparison, dict[str, float]]:
    """Both runs of one suite: side by side, each in its own network namespace where the
    machine allows it, else one after the other (tests may serve on fixed ports)."""
    (folder / "pytest.ini").write_text(INI)
    isolate = network_namespaces()
    runs = []
    for label, plugin in ((f"{name}-without", False), (f"{name}-with", True)):
        runs.append(start(label, folder, plugin, workers, out, isolate=isolate))
        if not isolate:
            wait(runs[-1])
    if isolate:
        for run in runs:
            wait(run)
    without, with_plugin = (read_junit(run.junit) for run in runs)
    timing = {
        "wall_without": runs[0].wall,
        "wall_with": runs[1].wall,
        "cpu_without": runs[0].cpu,
        "cpu_with": runs[1].cpu,
        "side_by_side": float(isolate),
    }
    return compare(without, with_plugin), timing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=1, help="pytest-xdist workers per run")
    parser.add_argument("--suite", choices=("shipped", "mocked"), action="append")
    parser.add_argument("--out", type=Path, help="keep logs and JUnit files here")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    suites = args.suite or ["mocked", "shipped"]
    work = Path(tempfile.mkdtemp(prefix="synatest-compat-"))
    out = args.out or work / "out"
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, object] = {}
    ok = True
    try:
        for name in suites:
            folder = work / name
            if name == "shipped":
                folder.mkdir()
                print(f"shipped: {shipped_tests(folder)} test files of the installed Synalinks")
            else:
                shutil.copytree(MOCKED, folder)
            comparison, timing = run_suite(name, folder, args.workers, out)
            print(report(name, comparison))
            print(
                f"{name}: wall {timing['wall_without']:.1f} s without, {timing['wall_with']:.1f} s "
                f"with ({timing['wall_with'] / timing['wall_without']:.3f}x); CPU "
                f"{timing['cpu_without']:.1f} s without, {timing['cpu_with']:.1f} s with "
                f"({timing['cpu_with'] / timing['cpu_without']:.3f}x)"
            )
            ok = ok and comparison.ok and bool(comparison.without)
            results[name] = {
                **timing,
                "without": counts(comparison.without),
                "with": counts(comparison.with_plugin),
                "refused": comparison.refused,
                "refused_unchanged": comparison.refused_unchanged,
                "other": comparison.other,
            }
    finally:
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))
        shutil.rmtree(work / "shipped", ignore_errors=True)
    print(
        "compat: OK" if ok else "compat: FAILED (outcomes changed other than by refused live calls)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
