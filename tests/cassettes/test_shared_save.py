"""Merge-safe saves: a cassette saved by one process keeps what others saved meanwhile."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from filelock import FileLock, Timeout

from synatest.cassettes.layer import CassetteLayer
from synatest.cassettes.shared import lock_path, run_started, save_merged
from synatest.cassettes.store import Cassette, Interaction
from synatest.errors import CassetteError


def completion(text: str) -> Interaction:
    return Interaction(
        kind="completion",
        request={"model": "m", "messages": [{"role": "user", "content": text}]},
        response_type="ModelResponse",
        response={"choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]},
    )


def contents(path: Path) -> list[str]:
    cassette = Cassette.load(path, lazy=False)
    return [i.request["messages"][0]["content"] for i in cassette.interactions]


def test_two_writers_that_loaded_the_same_file_both_keep_their_recordings(
    tmp_path: Path,
) -> None:
    path = tmp_path / "shared.yaml"
    first = CassetteLayer(Cassette.load(path), "new_episodes")
    second = CassetteLayer(Cassette.load(path), "new_episodes")
    first._keep(completion("from the first"))
    second._keep(completion("from the second"))
    assert first.save() and second.save()
    assert contents(path) == ["from the first", "from the second"]
    # A later writer that loaded the file before both saved adds its own after theirs.
    third = CassetteLayer(Cassette(path), "new_episodes")
    third._keep(completion("from the third"))
    third.save()
    assert contents(path) == ["from the first", "from the second", "from the third"]


def test_rewrite_replaces_an_old_file_but_adds_to_one_written_during_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SYNATEST_RUN_STARTED", raising=False)
    path = tmp_path / "shared.yaml"
    old = Cassette(path)
    old.record(completion("stale"))
    old.save()
    os.utime(path, (time.time() - 3600, time.time() - 3600))
    started = time.time() - 60
    first = Cassette(path)
    save_merged(first, [first.record(completion("new one"))], rewrite=True, session_started=started)
    assert contents(path) == ["new one"]
    second = Cassette(path)
    save_merged(
        second, [second.record(completion("new two"))], rewrite=True, session_started=started
    )
    assert contents(path) == ["new one", "new two"]


def test_the_environment_sets_the_run_start_for_shards_side_by_side(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert run_started(12.0, environ={"SYNATEST_RUN_STARTED": "5"}) == 5.0
    assert run_started(12.0, environ={}) == 12.0
    with pytest.raises(CassetteError, match=r"SYNATEST_RUN_STARTED='soon' is not a number.*date"):
        run_started(environ={"SYNATEST_RUN_STARTED": "soon"})


def test_a_save_waits_for_the_lock_held_by_another_writer(tmp_path: Path) -> None:
    path = tmp_path / "shared.yaml"
    cassette = Cassette(path)
    cassette.record(completion("q"))
    with FileLock(lock_path(path)), pytest.raises(Timeout):
        # FileLock is reentrant per object, not per file: a second object waits.
        save_merged(cassette, [], timeout=0.2)
    assert not path.exists()
    save_merged(cassette, cassette.own)
    assert contents(path) == ["q"]
