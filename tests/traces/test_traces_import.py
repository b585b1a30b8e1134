"""`synatest traces import`: filters, sampling, de-duplication, failed calls, re-import,
secrets, and every bad input (one line naming file:line or the URI, exit code 2,
nothing written). Records are the real Recorder lines of the production fixture,
changed where a test needs another shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from synatest.cli.main import main


def _records(recorder_file: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in recorder_file.read_text().splitlines()]


def _write(path: Path, records: list[Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["traces", "import", *args])
    captured = capsys.readouterr()
    return code, captured.out.strip(), captured.err.strip()


def _ids(out: Path) -> list[str]:
    text = (out / "datasets/arithmetic.jsonl").read_text()
    return [json.loads(line)["id"] for line in text.splitlines()]


def test_filters_sample_dedupe_and_reimport(
    recorder_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = _records(recorder_file)
    out = tmp_path / "out"
    code, line, _ = _run(capsys, str(recorder_file), "-o", str(out), "--program", "other")
    assert code == 0 and not out.exists()
    assert line.endswith(
        "wrote 0 example(s) and 0 recording(s) (0 file(s)); skipped 4: 4 other program"
    )

    code, line, _ = _run(capsys, str(recorder_file), "-o", str(out), "--module", "nope")
    assert line.endswith("skipped 4: 4 other module")

    since = str(records[1]["timestamp"])
    code, line, _ = _run(
        capsys, str(recorder_file), "-o", str(out), "--until", since, "--since", "2000-01-01"
    )
    assert "wrote 2 example(s)" in line and "2 outside the time range" in line
    assert _ids(out) == [records[0]["call_id"], records[1]["call_id"]]

    # Re-import into the same folder: only what is new is added, nothing doubled.
    code, line, _ = _run(capsys, str(recorder_file), "-o", str(out))
    assert code == 0
    assert "wrote 1 example(s) and 1 recording(s)" in line
    assert "2 already imported" in line and "1 duplicate inputs_hash" in line
    assert _ids(out) == [records[0]["call_id"], records[1]["call_id"], records[3]["call_id"]]
    assert (out / "cassettes/arithmetic.yaml").read_text().count("- kind: completion") == 3

    fresh = tmp_path / "all"
    code, line, _ = _run(capsys, str(recorder_file), "-o", str(fresh), "--no-dedupe")
    assert "wrote 4 example(s)" in line

    sampled = tmp_path / "sampled"
    code, line, _ = _run(
        capsys, str(recorder_file), "-o", str(sampled), "--sample", "2", "--seed", "3"
    )
    assert "wrote 2 example(s)" in line and "1 not sampled (--sample)" in line
    again = tmp_path / "sampled-again"
    _run(capsys, str(recorder_file), "-o", str(again), "--sample", "2", "--seed", "3")
    assert _ids(sampled) == _ids(again)


def test_failed_calls_are_dropped_unless_kept(
    recorder_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = _records(recorder_file)[:2]
    failed = records[1]
    failed.update(outputs=None, usage=None, cost=None, exception="RateLimitError: slow down")
    failed["messages"] = failed["messages"][:-1]
    source = _write(tmp_path / "rec/arithmetic/generator/generator_1.jsonl", records)
    code, line, _ = _run(capsys, str(tmp_path / "rec"), "-o", str(tmp_path / "a"))
    assert code == 0
    assert "wrote 1 example(s)" in line and "1 failed (--keep-failed keeps them)" in line
    code, line, _ = _run(capsys, str(source), "-o", str(tmp_path / "b"), "--keep-failed")
    assert code == 0
    assert "wrote 2 example(s) and 2 recording(s)" in line
    row = json.loads((tmp_path / "b/datasets/arithmetic.jsonl").read_text().splitlines()[1])
    assert row["expected"] is None
    assert row["metadata"]["exception"] == "RateLimitError: slow down"
    assert "RateLimitError: slow down" in (tmp_path / "b/cassettes/arithmetic.yaml").read_text()


def test_secrets_are_refused_or_redacted_as_when_recording(
    recorder_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ACME_API_KEY", "acme-secret-value-123")
    records = _records(recorder_file)[:1]
    records[0]["messages"][1]["content"] = "{'question': 'use acme-secret-value-123'}"
    source = _write(tmp_path / "leak.jsonl", records)
    out = tmp_path / "out"
    code, _, err = _run(capsys, str(source), "-o", str(out))
    assert code == 2 and not out.exists()
    assert err.startswith("synatest traces import: error: refusing to write ")
    assert "the value of $ACME_API_KEY" in err and "acme-secret-value-123" not in err
    assert "--redact" in err

    code, _line, _ = _run(capsys, str(source), "-o", str(out), "--redact")
    assert code == 0
    for path in out.rglob("*.*"):
        assert "acme-secret-value-123" not in path.read_text()
    assert "<redacted>" in (out / "datasets/arithmetic.jsonl").read_text()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda lines: [*lines[:-1], lines[-1][:40]], r"{file}:4: not a JSON line \("),
        (lambda lines: [*lines[:1], "not json", *lines[1:]], r"{file}:2: not a JSON line \("),
        (
            lambda lines: [lines[0].replace('"0.10.014"', '"7.1.0"')],
            r"{file}:1: written by Synalinks '7.1.0', whose Recorder format this synatest "
            r"does not know",
        ),
        (
            lambda lines: [lines[0].replace('"inputs_hash"', '"other"')],
            r"{file}:1: not a Synalinks Recorder record: no `inputs_hash` key",
        ),
        (lambda lines: ["[1, 2]"], r"{file}:1: a Recorder record is a JSON object"),
    ],
    ids=["truncated", "not-json", "unknown-version", "missing-key", "not-an-object"],
)
def test_bad_recorder_lines_name_the_file_and_line(
    recorder_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    damage: Any,
    message: str,
) -> None:
    import re

    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(damage(recorder_file.read_text().splitlines())) + "\n")
    out = tmp_path / "out"
    code, stdout, err = _run(capsys, str(bad), "-o", str(out))
    assert code == 2 and not stdout and not out.exists()
    assert len(err.splitlines()) == 1
    assert re.match(
        "synatest traces import: error: " + message.format(file=re.escape(str(bad))), err
    )


def test_bad_sources_and_stores(
    production: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    cases = [
        ([str(tmp_path / "missing")], f"{tmp_path / 'missing'}: no such Recorder file or folder"),
        ([str(tmp_path)], f"{tmp_path}: no Recorder files (*.jsonl) in this folder"),
        (
            [f"sqlite:///{tmp_path / 'none.db'}", "--experiment", "production"],
            f"sqlite:///{tmp_path / 'none.db'}: no MLflow store at {tmp_path / 'none.db'}",
        ),
        (
            [f"sqlite:///{production / 'mlflow.db'}", "--experiment", "nope"],
            f"sqlite:///{production / 'mlflow.db'}: no MLflow experiment named 'nope' "
            "(experiments: Default, production)",
        ),
        (
            [f"sqlite:///{production / 'mlflow.db'}", "--experiment", "Default"],
            f"sqlite:///{production / 'mlflow.db'}: experiment 'Default' holds no traces",
        ),
        (
            [str(production / "recorder"), "--emit-test", "no-colon"],
            "--emit-test 'no-colon': give the program builder as MODULE:FUNCTION",
        ),
    ]
    for args, message in cases:
        code, stdout, err = _run(capsys, *args, "-o", str(out))
        assert (code, stdout) == (2, ""), (args, err)
        assert err.startswith(f"synatest traces import: error: {message}"), err
        assert len(err.splitlines()) == 1
        assert not out.exists()
    assert not (tmp_path / "none.db").exists()  # reading never creates a store


def test_the_example_is_what_importing_its_recorder_trace_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from synatest.traces import ImportOptions, import_traces

    root = Path(__file__).resolve().parents[2]
    monkeypatch.chdir(root)  # the example was imported with paths relative to the repo
    example = Path("examples/traces")
    out = tmp_path / "regression"
    import_traces(
        example / "recorder", out, ImportOptions(emit_test=f"{example / 'triage.py'}:build_program")
    )
    committed = example / "regression"
    assert (out / "datasets/ticket_triage.jsonl").read_text() == (
        committed / "datasets/ticket_triage.jsonl"
    ).read_text()

    def body(path: Path) -> str:  # without the versions header and the seal
        text = path.read_text()
        return text[text.index("imported_from:") : text.index("# synatest-seal")]

    assert body(out / "cassettes/ticket_triage.yaml") == body(
        committed / "cassettes/ticket_triage.yaml"
    )


def test_imported_cassettes_merge_only_with_imported_ones(
    recorder_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from synatest.cassettes.store import Cassette

    records = _records(recorder_file)
    _write(tmp_path / "a.jsonl", records[:2])
    _write(tmp_path / "b.jsonl", records[1:])
    for name in ("a", "b"):
        assert _run(capsys, str(tmp_path / f"{name}.jsonl"), "-o", str(tmp_path / name))[0] == 0
    merged = tmp_path / "merged.yaml"
    sources = [str(tmp_path / name / "cassettes/arithmetic.yaml") for name in ("a", "b")]
    assert main(["cassettes", "merge", *sources, "-o", str(merged)]) == 0
    cassette = Cassette.load(merged)
    assert cassette.match_on == ("messages", "model") and len(cassette) == 4  # 2 + 3, 1 shared

    plain = tmp_path / "plain.yaml"
    Cassette(plain).save([])
    capsys.readouterr()
    assert (
        main(["cassettes", "merge", sources[0], str(plain), "-o", str(tmp_path / "m2.yaml")]) == 2
    )
    assert "are matched on different fields (`match_on:`)" in capsys.readouterr().err
