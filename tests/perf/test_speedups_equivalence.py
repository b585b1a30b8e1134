"""The speedups change nothing a program sends or returns: every example, run twice.

``pytest --synalinks-eval examples`` (every example test and eval suite) and
``synatest train`` on both training suites run in this process once with the session
speedups and once with ``--synalinks-no-speedups``. Each run records:

- every LM request, as the exact JSON of the kwargs Synalinks handed to litellm
  (``messages``, ``response_format``, ``tools``, ``model``, sampling params), per test;
- every real (non-symbolic) Synalinks module call's outputs: JSON value and JSON
  schema, per test, and the schema of every symbolic output (program building);
- every test's outcome, failure text, and captured stdout/stderr;
- the files the runs write (eval reports, examples.jsonl, the trained programs and the
  training reports), minus wall-clock fields.

The two records must be equal, byte for byte. Order inside one test is sorted (items
of a batch arrive in completion order); everything else is compared as is.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import shutil
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from synatest import cli, speedups
from synatest.doubles import replies
from synatest.seam import LMRequest, Router, current_router

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
TRAIN_SUITES = ("suite_doubler.py", "suite_planner.py")
# Wall-clock and run-identity fields of reports: the only things allowed to differ.
VOLATILE = re.compile(
    r"^(duration_s|created_at|started_at|finished_at|elapsed_s|seconds|time_s|git_commit|"
    r"wall_s|cpu_s|timestamp|.*_at|.*duration.*|ttft.*|ttlt.*|latency.*)$"
)


def _opaque(value: Any) -> str:
    # A non-JSON kwarg (none seen today): its type, never its id-bearing repr.
    return f"<{type(value).__module__}.{type(value).__qualname__}>"


def _canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=_opaque)


def _data_model_json(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return [_data_model_json(v) for v in value]
    record: dict[str, Any] = {"type": type(value).__name__}
    get_schema = getattr(value, "get_schema", None)
    if callable(get_schema):
        record["schema"] = get_schema()
    get_json = getattr(value, "get_json", None)
    if callable(get_json):
        try:
            record["json"] = get_json()
        except Exception as error:  # a symbolic data model has no value
            record["json"] = f"<no value: {type(error).__name__}>"
    return record


class Recorder:
    """Everything one run of the examples sends and returns, per test."""

    def __init__(self) -> None:
        self.requests: dict[str, list[str]] = defaultdict(list)
        self.outputs: dict[str, list[str]] = defaultdict(list)
        self.reports: dict[str, list[str]] = defaultdict(list)
        self.current_test = "<outside any test>"
        self.cache_hits = 0

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self) -> None:
        # Before the session's end empties the caches.
        self.cache_hits = speedups.stats().schema_hits + speedups.stats().template_hits

    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        self.current_test = nodeid

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.reports[report.nodeid].append(
            _canonical(
                [
                    report.when,
                    report.outcome,
                    _scrub(report.longreprtext),
                    _scrub(report.capstdout),
                    _scrub(report.capstderr),
                ]
            )
        )

    def sorted(self) -> dict[str, dict[str, list[str]]]:
        return {
            "requests": {k: sorted(v) for k, v in self.requests.items()},
            "outputs": {k: sorted(v) for k, v in self.outputs.items()},
            "reports": dict(self.reports),
        }


_TIMINGS = re.compile(r"\d+(\.\d+)?\s?(s|ms|seconds)\b|\d+:\d\d(:\d\d)?|0x[0-9a-f]+")


def _scrub(text: str) -> str:
    """Drop wall-clock durations, times of day and object addresses from a text (and the
    padding that aligns table columns around them)."""
    return re.sub(r" {2,}", " ", _TIMINGS.sub("<t>", text))


@pytest.fixture
def recording(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Recorder]]:
    """Patches that feed the active Recorder (the last of the list)."""
    from synalinks.src.modules.module import Module

    recorders: list[Recorder] = []
    original_dispatch = Router.dispatch
    original_call = Module.__call__

    async def dispatch(self: Router, request: LMRequest) -> Any:
        if recorders:
            rec = recorders[-1]
            key = request.test_id or self.test_id or rec.current_test
            rec.requests[key].append(_canonical([request.kind, request.kwargs]))
        return await original_dispatch(self, request)

    async def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        outputs = await original_call(self, *args, **kwargs)
        if recorders:
            rec = recorders[-1]
            key = current_router().test_id or rec.current_test
            rec.outputs[key].append(
                _canonical([type(self).__name__, self.name, _data_model_json(outputs)])
            )
        return outputs

    monkeypatch.setattr(Router, "dispatch", dispatch)
    monkeypatch.setattr(Module, "__call__", call)
    yield recorders


def _strip_volatile(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_volatile(v) for k, v in value.items() if not VOLATILE.match(k)}
    if isinstance(value, list):
        return [_strip_volatile(v) for v in value]
    return value


# The JSON islands report.html's script renders: examples rows and their details.
_ISLAND = re.compile(
    r'(<script type="application/json" id="synatest-(\w+)">)(.*?)(</script>)', re.S
)


def _timeless_island(match: re.Match[str]) -> str:
    """An island with its timings blanked: each example row's seconds (column 11), each
    run's seconds (field 5) and each call's milliseconds (field 11)."""
    data = json.loads(match[3])
    if match[2] == "examples":
        for row in data:
            row[11] = None
    elif match[2] == "details":
        for _, runs in data["examples"]:
            for run in runs:
                run[5] = None
                for call in run[7] or ():
                    call[11] = None
    return match[1] + json.dumps(data) + match[4]


def _files(directory: Path) -> dict[str, str]:
    """Every file a run wrote, JSON made canonical and stripped of wall-clock fields."""
    out = {}
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        if "__pycache__" in path.parts:
            continue
        name = str(path.relative_to(directory))
        if path.suffix == ".json":
            out[name] = _canonical(_strip_volatile(json.loads(path.read_text())))
        elif path.suffix == ".jsonl":
            out[name] = "\n".join(
                _canonical(_strip_volatile(json.loads(line)))
                for line in path.read_text().splitlines()
                if line.strip()
            )
        elif path.suffix == ".csv":
            rows = list(csv.DictReader(io.StringIO(path.read_text())))
            out[name] = _canonical([_strip_volatile(row) for row in rows])
        elif path.suffix == ".html":
            out[name] = _scrub(_ISLAND.sub(_timeless_island, path.read_text()))
        elif path.suffix in {".md", ".xml", ".svg", ".txt"}:
            out[name] = _scrub(path.read_text())
        else:  # binary (plots): their size at least
            out[name] = f"<{path.stat().st_size} bytes>"
    # Each run writes under its own directory: the only path that differs.
    return {name: text.replace(str(directory), "<run>") for name, text in out.items()}


def _forget_examples() -> None:
    """Drop the example modules imported by a previous run, so each run defines its own
    classes (Synalinks rewrites a subclassed Program's class when it is first built)."""
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None) or ""
        if path.startswith(str(EXAMPLES)) or "/train/suite_" in path:
            del sys.modules[name]


def _same_hypothesis_inputs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hypothesis mixes constants mined from every module in ``sys.modules`` into what it
    generates (process state: the second run has more modules); with none mined and a
    fixed seed, both runs generate the same inputs."""
    from hypothesis.internal.conjecture import providers

    monkeypatch.setattr(providers, "_get_local_constants", providers.Constants)
    monkeypatch.setattr(providers, "CONSTANTS_CACHE", providers.LRUCache(1024))


def _run_examples(tmp: Path, recorder: Recorder, *flags: str) -> dict[str, Any]:
    _forget_examples()
    replies._ids = itertools.count(1)  # tool-call ids are numbered per process
    reports = tmp / "reports"
    code = pytest.main(
        [
            str(EXAMPLES),
            f"--rootdir={ROOT}",
            "-p",
            "no:cacheprovider",
            "-q",
            "--import-mode=importlib",
            "--hypothesis-seed=0",  # the same generated inputs in both runs
            "--synalinks-eval",
            f"--synalinks-report-dir={reports}",
            *flags,
        ],
        plugins=[recorder],
    )
    trained: dict[str, Any] = {"exit": int(code)}
    work = tmp / "train"
    shutil.copytree(EXAMPLES / "train", work)
    (work / "pytest.ini").write_text("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    for suite in TRAIN_SUITES:
        replies._ids = itertools.count(1)
        pytest_args = ["--import-mode=importlib", "-pno:cacheprovider", *flags]
        trained[suite] = cli.main(
            [
                "train",
                str(work / suite),
                "--output",
                str(tmp / "trained" / suite),
                "--pytest-args=" + " ".join(pytest_args),
            ]
        )
    return trained


def test_examples_send_and_return_the_same_bytes_with_and_without_speedups(
    recording: list[Recorder], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = {}
    hits = {}
    for mode, flags in (("fast", ()), ("plain", ("--synalinks-no-speedups",))):
        run_dir = tmp_path / mode
        run_dir.mkdir()
        monkeypatch.chdir(run_dir)
        recorder = Recorder()
        recording.append(recorder)
        _same_hypothesis_inputs(monkeypatch)
        outcome = _run_examples(run_dir, recorder, *flags)
        recording.pop()
        hits[mode] = recorder.cache_hits
        results[mode] = {"outcome": outcome, **recorder.sorted(), "files": _files(run_dir)}
    fast, plain = results["fast"], results["plain"]
    # The fast run was served from the caches, the other not at all.
    assert hits["fast"] > 1000 and hits["plain"] == 0, hits
    # The runs did real work: tests ran, LM calls were made, reports were written,
    # the doubler suite trained until its gate passed.
    assert fast["outcome"]["exit"] == 0
    assert fast["outcome"]["suite_doubler.py"] == 0
    assert sum(len(v) for v in fast["requests"].values()) > 100
    assert len(fast["reports"]) > 80
    assert any(name.endswith("report.json") for name in fast["files"])
    for part in ("outcome", "requests", "outputs", "reports", "files"):
        assert fast[part].keys() == plain[part].keys(), part
        for key in fast[part]:
            assert fast[part][key] == plain[part][key], f"{part}: {key}"
    assert fast == plain
