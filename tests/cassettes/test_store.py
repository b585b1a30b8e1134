"""Cassette files: YAML round trip, ordered occurrences, errors, secret scan, atomic writes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synatest._atomic import atomic_write_text
from synatest.cassettes.store import (
    Cassette,
    Interaction,
    dump_yaml,
    load_yaml,
)
from synatest.errors import CassetteError


def completion(text: str, answer: str) -> Interaction:
    return Interaction(
        kind="completion",
        request={"model": "m", "messages": [{"role": "user", "content": text}]},
        response_type="ModelResponse",
        response={"choices": [{"index": 0, "message": {"role": "assistant", "content": answer}}]},
        cost=0.5,
    )


def test_identical_requests_replay_their_occurrences_in_order(tmp_path: Path) -> None:
    cassette = Cassette(tmp_path / "c.yaml")
    for answer in ("first", "second"):
        cassette.add(completion("same", answer))
    request = completion("same", "").request
    played = [cassette.play("completion", request) for _ in range(3)]
    assert [p.response["choices"][0]["message"]["content"] for p in played[:2]] == [  # type: ignore[index]
        "first",
        "second",
    ]
    assert played[2] is None
    assert cassette.occurrences("completion", request) == 2


def test_allow_repeats_replays_the_last_occurrence_again(tmp_path: Path) -> None:
    cassette = Cassette(tmp_path / "c.yaml", allow_repeats=True)
    cassette.add(completion("q", "a"))
    request = completion("q", "").request
    assert cassette.play("completion", request) is cassette.play("completion", request)


def test_save_and_load_round_trip_with_header(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "c.yaml"
    cassette = Cassette(path)
    long_prompt = "line one\nline two\n" + "x" * 200
    cassette.record(completion(long_prompt, "a"))
    cassette.save(environ={})
    text = path.read_text()
    assert text.startswith("synatest_cassette: 2\nrecorded_with:\n")
    assert "synalinks:" in text and "litellm:" in text
    assert "content: |" in text  # long strings as literal blocks
    again = Cassette.load(path)
    assert [i.to_data() for i in again.interactions] == [i.to_data() for i in cassette.interactions]
    assert again.play("completion", completion(long_prompt, "").request) is not None
    assert not list(tmp_path.rglob(".*.tmp"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: [", "is not valid YAML"),
        ("just: a mapping\n", "is not a synatest cassette (no `synatest_cassette:` header)"),
        ("synatest_cassette: 99\n", "cassette format 99 is not supported"),
        ("synatest_cassette: 1\ninteractions: {}\n", "`interactions` must be a list"),
        (
            "synatest_cassette: 1\ninteractions: [3]\n",
            "interaction #0: an interaction must be a mapping",
        ),
        (
            "synatest_cassette: 1\ninteractions:\n- kind: chat\n  request: {}\n",
            "unknown kind 'chat'",
        ),
        (
            "synatest_cassette: 1\ninteractions:\n- request: {}\n",
            "needs exactly one of `response`, `stream`, `error` (found none)",
        ),
        (
            "synatest_cassette: 1\ninteractions:\n- request: {}\n  response: {}\n  cost: x\n",
            "`cost` must be a number",
        ),
        (
            "synatest_cassette: 1\ninteractions:\n- request: []\n  response: {}\n",
            "`request` must be a mapping",
        ),
        (
            "synatest_cassette: 1\ninteractions:\n- request: {}\n  stream: [1]\n",
            "`stream` must be a list of chunk mappings",
        ),
    ],
)
def test_a_bad_cassette_is_refused_with_a_clear_message(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(CassetteError) as info:
        Cassette.load(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_loading_unsafe_yaml_tags_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text("synatest_cassette: 1\nx: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(CassetteError, match="is not valid YAML"):
        Cassette.load(path)


def test_missing_cassette_is_empty_or_an_error_when_required(tmp_path: Path) -> None:
    assert len(Cassette.load(tmp_path / "none.yaml")) == 0
    with pytest.raises(CassetteError, match="does not exist"):
        Cassette.load(tmp_path / "none.yaml", missing_ok=False)


def test_save_refuses_a_secret_from_the_environment_without_printing_it(tmp_path: Path) -> None:
    secret = "not-a-real-key-but-secret-1234"
    cassette = Cassette(tmp_path / "c.yaml")
    cassette.record(completion(f"my key is {secret}", "ok"))
    with pytest.raises(CassetteError) as info:
        cassette.save(environ={"MY_SERVICE_TOKEN": secret, "HOME": "/root"})
    message = str(info.value)
    assert "refusing to write cassette" in message
    assert "the value of $MY_SERVICE_TOKEN" in message and "line " in message
    assert secret not in message
    assert not (tmp_path / "c.yaml").exists()


def test_save_refuses_known_key_prefixes(tmp_path: Path) -> None:
    cassette = Cassette(tmp_path / "c.yaml")
    cassette.record(completion("use sk-proj-ABCDEFGHIJKLMNOPQRSTUVWX123", "ok"))
    with pytest.raises(CassetteError, match=r"looks like a OpenAI-style key \(sk-\.\.\.\)"):
        cassette.save(environ={})


def test_an_existing_cassette_survives_a_refused_save(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    cassette = Cassette(path)
    cassette.record(completion("q", "a"))
    cassette.save(environ={})
    before = path.read_text()
    cassette.record(completion("leak AKIAABCDEFGHIJKLMNOP", "a"))
    with pytest.raises(CassetteError, match="AWS access key id"):
        cassette.save(environ={})
    assert path.read_text() == before


def test_atomic_write_removes_its_temp_file_on_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "c.yaml"
    target.write_text("old")

    def boom(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(target, "new")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]


yaml_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(st.characters(exclude_categories=("Cs",))),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=200, deadline=None)
@given(yaml_values)
def test_yaml_serialization_round_trips_any_json_value(value: object) -> None:
    assert load_yaml(dump_yaml({"v": value})) == {"v": value}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=120), st.text(max_size=120)), min_size=1, max_size=6))
def test_cassette_round_trip_keeps_every_recording_playable(
    tmp_path_factory: pytest.TempPathFactory, pairs: list[tuple[str, str]]
) -> None:
    path = tmp_path_factory.mktemp("rt") / "c.yaml"
    cassette = Cassette(path)
    for question, answer in pairs:
        cassette.record(completion(question, answer))
    cassette.save(environ={})
    loaded = Cassette.load(path)
    for question, _answer in pairs:
        played = loaded.play("completion", completion(question, "").request)
        assert played is not None
    assert [i.to_data() for i in loaded.interactions] == [
        i.to_data() for i in cassette.interactions
    ]


def test_big_cassettes_are_indexed_lazily_and_parsed_on_replay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from synatest.cassettes import store

    path = tmp_path / "big.yaml"
    cassette = Cassette(path)
    for n in range(5):
        cassette.record(completion(f"question {n}\nwith a second line", f"answer {n}"))
    cassette.save(environ={})
    monkeypatch.setattr(store, "LAZY_MIN_BYTES", 0)
    lazy = Cassette.load(path)
    assert all(i.chunk is not None for i in lazy.interactions)
    played = lazy.play("completion", completion("question 3\nwith a second line", "").request)
    assert played is not None and played.reply_loaded
    assert played.response["choices"][0]["message"]["content"] == "answer 3"  # type: ignore[index]
    assert played.cost == 0.5
    # Replay parsed only the reply; the request is parsed when something needs it.
    assert played.request == {} and played.chunk is not None
    assert sum(i.reply_loaded for i in lazy.interactions) == 1
    assert lazy.to_text() == cassette.to_text()
    assert played.request["messages"][0]["content"] == "question 3\nwith a second line"


def test_a_big_cassette_without_key_lines_is_parsed_fully(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from synatest.cassettes import store

    path = tmp_path / "edited.yaml"
    cassette = Cassette(path)
    cassette.record(completion("q", "a"))
    cassette.save(environ={})
    # As a format-1 file (no seal) edited by hand: the key lines removed.
    edited = [ln for ln in path.read_text().splitlines() if "  key: " not in ln]
    edited = [ln for ln in edited if not ln.startswith("# synatest-seal")]
    path.write_text("\n".join(edited).replace("synatest_cassette: 2", "synatest_cassette: 1"))
    monkeypatch.setattr(store, "LAZY_MIN_BYTES", 0)
    loaded = Cassette.load(path)
    assert loaded.interactions[0].chunk is None
    assert loaded.stale_keys == [0]
    assert loaded.play("completion", completion("q", "").request) is not None
