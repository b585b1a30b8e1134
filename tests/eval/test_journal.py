"""The eval journal (plain Python): appends, torn lines, per-process files, fingerprints,
removal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synatest.eval.journal import JOURNAL_DIR, Journal, JournalError, fingerprint
from synatest.eval.results import ExampleResult, RunResult, TranscriptCall
from synatest.eval.shard_flags import Shard


def result(ident: str = "q0") -> dict[str, object]:
    example = ExampleResult(
        id=ident,
        suite="qa",
        reward=1.0,
        passed=True,
        runs=[
            RunResult(
                reward=1.0,
                passed=True,
                transcript=[TranscriptCall(kind="completion", model="openai/m", content="a")],
            )
        ],
    )
    return example.model_dump(mode="json")


def test_entries_round_trip_with_their_transcripts(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "run", "main")
    journal.append("t.py::test[q0]", 0, "fp0", result("q0"))
    journal.append("t.py::test[q1]", 1, "fp1", result("q1"))
    # Written at once (a killed process keeps it); only the fsync is left to a thread.
    assert len(Journal(tmp_path, "run", "main").read()) == 2
    journal.close()
    assert journal.path is not None and journal.path.parent == tmp_path / JOURNAL_DIR / "run"
    contents = Journal(tmp_path, "run", "main").read()
    assert sorted(contents.entries) == ["t.py::test[q0]", "t.py::test[q1]"]
    entry, stale = contents.match("t.py::test[q1]", "fp1")
    assert entry is not None and not stale
    assert (entry.order, entry.fingerprint, entry.line) == (1, "fp1", 2)
    example = entry.example()
    assert example.id == "q1"
    assert example.runs[0].transcript is not None
    assert example.runs[0].transcript[0].model == "openai/m"


def test_each_process_writes_its_own_file_and_a_reader_sees_them_all(tmp_path: Path) -> None:
    workers = [Journal(tmp_path, "run", name) for name in ("gw0", "gw1", "gw0")]
    for number, journal in enumerate(workers):
        journal.append(f"t.py::test[q{number}]", number, "fp", result())
        journal.close()
    paths = {journal.path for journal in workers}
    assert len(paths) == 3  # a later run of the same worker id starts a file of its own
    contents = Journal(tmp_path, "run", "main").read()
    assert len(contents) == 3 and len(contents.files) == 3


def test_a_torn_last_line_is_ignored(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "run", "main")
    journal.append("t.py::test[q0]", 0, "fp", result())
    journal.close()
    assert journal.path is not None
    whole = journal.path.read_bytes()
    with journal.path.open("ab") as handle:  # SIGKILL halfway through the second line
        handle.write(whole[: len(whole) // 2])
    contents = Journal(tmp_path, "run", "main").read()
    assert list(contents.entries) == ["t.py::test[q0]"] and contents.torn == 1


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "line 1: not JSON (Expecting property name"),
        ("[1, 2]", "line 1: expected a JSON object, got list"),
        ('{"v": 99}', "line 1: journal format 99, this synatest reads 1"),
        ('{"v": 1, "nodeid": "a"}', "line 1: missing or bad nodeid, order, fp or result"),
    ],
)
def test_a_bad_line_before_the_last_is_an_error_naming_file_and_line(
    tmp_path: Path, line: str, message: str
) -> None:
    folder = tmp_path / JOURNAL_DIR / "run"
    folder.mkdir(parents=True)
    path = folder / "main-x.jsonl"
    path.write_text(line + "\n" + json.dumps({"v": 1}) + "\n")
    with pytest.raises(JournalError) as info:
        Journal(tmp_path, "run", "main").read()
    assert str(info.value).startswith(f"journal {path}, {message}")


def test_the_fingerprint_changes_with_what_the_result_depends_on() -> None:
    base = {
        "suite": "qa",
        "settings": {"reward": "exact_match", "repeat": 1},
        "nodeid": "t.py::test[q0]",
        "params": {"x": {"question": "q"}, "y": {"answer": "a"}},
        "model": "openai/gpt-4o-mini",
        "human": None,
    }
    same = fingerprint(**base)  # type: ignore[arg-type]
    assert same == fingerprint(**dict(base))  # type: ignore[arg-type]
    changes = [
        {"suite": "other"},
        {"settings": {"reward": "exact_match", "repeat": 3}},
        {"nodeid": "t.py::test[q1]"},
        {"params": {"x": {"question": "q"}, "y": {"answer": "b"}}},
        {"model": "openai/gpt-4o"},
        {"human": 1.0},
    ]
    digests = {fingerprint(**{**base, **change}) for change in changes}  # type: ignore[arg-type]
    assert len(digests) == len(changes) and same not in digests


def test_removal_takes_the_scope_only(tmp_path: Path) -> None:
    run = Journal(tmp_path, Journal.scope_of(None), "main")
    shard = Journal(tmp_path, Journal.scope_of(Shard(2, 3)), "main")
    assert shard.dir.name == "shard-2-of-3"
    run.append("a", 0, "fp", result())
    shard.append("a", 0, "fp", result())
    run.remove()
    assert not run.dir.exists() and run.path is not None and not run.path.exists()
    assert shard.exists()
    shard.remove()
    assert not (tmp_path / JOURNAL_DIR).exists()  # the last scope takes the folder along
    run.remove()  # nothing left: no error


def test_a_node_id_journalled_again_after_a_stale_result_resumes_from_the_matching_one(
    tmp_path: Path,
) -> None:
    for digest in ("new", "old", "new"):
        journal = Journal(tmp_path, "run", "main")
        journal.append("t.py::test[q0]", 0, digest, result())
        journal.close()
    contents = Journal(tmp_path, "run", "main").read()
    entry, stale = contents.match("t.py::test[q0]", "old")
    assert entry is not None and entry.fingerprint == "old" and not stale
    assert contents.match("t.py::test[q0]", "changed") == (None, True)
    assert contents.match("t.py::test[q9]", "old") == (None, False)
