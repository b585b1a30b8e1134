"""End to end: production traces (Recorder, MLflow) -> imported cassettes and dataset ->
the emitted regression test passes offline, and fails with a cassette diff once the
program's instructions change."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from synatest.cassettes.store import Cassette
from synatest.traces import ImportOptions, import_traces


def _block_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network is blocked during replay")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _replay_and_change(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, n: int) -> None:
    monkeypatch.delenv("TRACES_API_BASE", raising=False)
    _block_network(monkeypatch)
    result = project.runpytest_inprocess("regress", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=n)

    program = project.path / "program.py"
    program.write_text(
        program.read_text().replace("Answer with the number only.", "Answer in words."),
    )
    result = project.runpytest_inprocess("regress", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=n)
    output = result.stdout.str()
    assert "CassetteMiss" in output
    assert "-    Answer with the number only." in output
    assert "+    Answer in words." in output
    assert "--synalinks-record-mode=rewrite" in output


def test_recorder_traces_become_a_regression_test(
    production: Path, program_project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = program_project.path / "regress"
    summary = import_traces(
        production / "recorder",
        out,
        ImportOptions(emit_test=f"{program_project.path / 'program.py'}:build_program"),
    )
    assert summary.line("recorder") == (
        "read 4 calls from recorder; wrote 3 example(s) and 3 recording(s) (3 file(s)); "
        "skipped 1: 1 duplicate inputs_hash"
    )
    rows = [
        json.loads(line) for line in (out / "datasets/arithmetic.jsonl").read_text().splitlines()
    ]
    assert [(r["inputs"], r["expected"]) for r in rows] == [
        ({"question": "What is 2 + 3?"}, {"answer": "5"}),
        ({"question": "What is 7 + 5?"}, {"answer": "12"}),
        ({"question": "What is 9 + 1?"}, {"answer": "10"}),
    ]
    metadata = rows[0]["metadata"]
    assert metadata["source"] == "synalinks-recorder"
    assert metadata["module"] == "generator" and metadata["program"] == "arithmetic"
    assert metadata["model"] == "openai/gpt-4o-mini"
    assert metadata["usage"]["total_tokens"] > 0 and metadata["cost"] > 0
    assert metadata["latency_s"] > 0 and metadata["timestamp"] > 0 and metadata["call_id"]
    cassette = Cassette.load(out / "cassettes/arithmetic.yaml")
    assert cassette.match_on == ("messages", "model") and len(cassette) == 3
    assert "sk-test-dummy" not in (out / "cassettes/arithmetic.yaml").read_text()
    _replay_and_change(program_project, monkeypatch, 3)


def test_mlflow_traces_become_a_regression_test(
    production: Path, program_project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = program_project.path / "regress"
    uri = f"sqlite:///{production / 'mlflow.db'}"
    summary = import_traces(
        uri,
        out,
        ImportOptions(emit_test=f"{program_project.path / 'program.py'}:build_program"),
        experiment="production",
    )
    # The first call's program span is lost by MLflow (its tracer is reset while the
    # Monitor hooks set up), and the program's build is a symbolic trace: both skipped.
    assert summary.examples == 3 and summary.recordings == 3
    assert summary.skipped["a program being built (symbolic call)"] == 1
    rows = [
        json.loads(line) for line in (out / "datasets/arithmetic.jsonl").read_text().splitlines()
    ]
    assert {r["inputs"]["question"] for r in rows} == {
        "What is 7 + 5?",
        "What is 2 + 3?",
        "What is 9 + 1?",
    }
    assert all(r["metadata"]["source"] == "mlflow" for r in rows)
    assert rows[0]["metadata"]["trace_id"].startswith("tr-")
    assert rows[0]["metadata"]["model"] == ["openai/gpt-4o-mini"]
    assert rows[0]["metadata"]["experiment"] == "production"
    _replay_and_change(program_project, monkeypatch, 3)
