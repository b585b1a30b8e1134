"""Cassette integrity: the seal line, format-1 files, undecodable bytes, lazily parsed items."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synatest.cassettes import fileformat as sealing
from synatest.cassettes.store import Cassette, Interaction, reseal
from synatest.errors import CassetteError


def completion(text: str, answer: str) -> Interaction:
    return Interaction(
        kind="completion",
        request={"model": "m", "messages": [{"role": "user", "content": text}]},
        response_type="ModelResponse",
        response={"choices": [{"index": 0, "message": {"role": "assistant", "content": answer}}]},
        cost=0.25,
    )


def saved(path: Path, count: int = 3) -> Path:
    cassette = Cassette(path)
    for n in range(count):
        cassette.record(completion(f"question {n} ünïcødé ✓\nsecond line", f"answer {n}"))
    cassette.save(environ={})
    return path


def as_format_1(path: Path) -> None:
    """Rewrite a saved cassette as synatest wrote it before seals (format 1)."""
    body = sealing.strip_seal(path.read_text(encoding="utf-8"))
    path.write_text(body.replace("synatest_cassette: 2", "synatest_cassette: 1", 1), "utf-8")


def test_a_saved_cassette_ends_with_its_seal(tmp_path: Path) -> None:
    text = saved(tmp_path / "c.yaml").read_text(encoding="utf-8")
    last = text.splitlines()[-1]
    assert last.startswith("# synatest-seal: sha256=") and last.endswith(" interactions=3")
    loaded = Cassette.load(tmp_path / "c.yaml")
    assert loaded.sealed and loaded.format == 2 and len(loaded) == 3


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_a_cassette_cut_at_any_byte_fails_to_load_naming_the_file(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    path = saved(tmp_path_factory.mktemp("cut") / "c.yaml")
    whole = path.read_bytes()
    cut = data.draw(st.integers(min_value=0, max_value=len(whole) - 1), label="cut")
    path.write_bytes(whole[:cut])
    for lazy in (True, False):
        with pytest.raises(CassetteError) as info:
            Cassette.load(path, lazy=lazy)
        assert str(path) in str(info.value)


@pytest.mark.parametrize("cut_after_item", [1, 2])
def test_a_cassette_cut_at_an_item_boundary_is_truncated_not_shorter(
    tmp_path: Path, cut_after_item: int
) -> None:
    # YAML cut between two items is still valid YAML: only the seal tells.
    path = saved(tmp_path / "c.yaml")
    text = path.read_text(encoding="utf-8")
    starts = [i for i in range(len(text)) if text.startswith("- kind: ", i)]
    path.write_text(text[: starts[cut_after_item]], encoding="utf-8")
    with pytest.raises(CassetteError) as info:
        Cassette.load(path)
    assert str(info.value) == (
        f"{path}: cassette is truncated or damaged: its last line is not the "
        "`# synatest-seal:` line that synatest writes at the end of every cassette "
        "(format 2). Restore it from version control, or delete it and re-record with "
        "--synalinks-record-mode=rewrite."
    )


def test_an_edited_cassette_fails_its_seal_and_says_how_to_reseal(tmp_path: Path) -> None:
    path = saved(tmp_path / "c.yaml")
    path.write_text(path.read_text("utf-8").replace("answer 1", "answer one"), "utf-8")
    with pytest.raises(CassetteError) as info:
        Cassette.load(path)
    message = str(info.value)
    assert message.startswith(f"{path}: cassette does not match its seal (sha256)")
    assert f"`synatest cassettes check --fix {path}`" in message
    assert "--synalinks-record-mode=rewrite" in message
    assert reseal(path, environ={}) is True
    loaded = Cassette.load(path)
    assert loaded.sealed
    played = loaded.play("completion", completion("question 1 ünïcødé ✓\nsecond line", "").request)
    assert played is not None
    assert played.response["choices"][0]["message"]["content"] == "answer one"  # type: ignore[index]
    assert reseal(path, environ={}) is False  # already sealed: left alone


def test_a_merge_conflict_is_caught_by_the_seal(tmp_path: Path) -> None:
    path = saved(tmp_path / "c.yaml")
    text = path.read_text("utf-8").replace(
        "- kind: ", "<<<<<<< HEAD\n=======\n>>>>>>> other\n- kind: ", 1
    )
    path.write_text(text, "utf-8")
    with pytest.raises(CassetteError, match="merged with conflicts"):
        Cassette.load(path)


def test_line_endings_converted_by_a_checkout_keep_the_seal(tmp_path: Path) -> None:
    path = saved(tmp_path / "c.yaml")
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert len(Cassette.load(path)) == 3


def test_format_1_cassettes_load_unsealed_and_reseal_keeps_their_text(tmp_path: Path) -> None:
    path = saved(tmp_path / "c.yaml")
    as_format_1(path)
    old = path.read_text("utf-8")
    loaded = Cassette.load(path)
    assert loaded.format == 1 and not loaded.sealed and len(loaded) == 3
    assert reseal(path, environ={}) is True
    new = path.read_text("utf-8")
    assert sealing.strip_seal(new) == old.replace("synatest_cassette: 1", "synatest_cassette: 2")
    assert Cassette.load(path).sealed


def test_reseal_refuses_a_file_that_is_not_a_cassette(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("synatest_cassette: 2\ninteractions: [3]\n", "utf-8")
    with pytest.raises(CassetteError, match=r"c.yaml: interaction #0: an interaction must be"):
        reseal(path, environ={})
    assert "synatest-seal" not in path.read_text("utf-8")


def test_reseal_refuses_a_secret(tmp_path: Path) -> None:
    path = saved(tmp_path / "c.yaml")
    path.write_text(path.read_text("utf-8").replace("answer 1", "sk-" + "A" * 30), "utf-8")
    with pytest.raises(CassetteError, match=r"refusing to seal cassette .*OpenAI-style key"):
        reseal(path, environ={})


def test_a_cassette_that_is_not_utf8_names_the_byte_offset(tmp_path: Path) -> None:
    path = saved(tmp_path / "c.yaml")
    data = path.read_bytes()
    offset = data.index(b"\xc3\xbc")  # the "ü" of the first question
    path.write_bytes(data[:offset] + b"\xff" + data[offset + 2 :])
    line = data.count(b"\n", 0, offset) + 1
    column = offset - data.rfind(b"\n", 0, offset)
    with pytest.raises(CassetteError) as info:
        Cassette.load(path)
    assert str(info.value).startswith(
        f"cassette {path}: not valid UTF-8 at byte {offset} (line {line}, column {column}): "
        "b'\\xff' (invalid start byte); save the file as UTF-8"
    )


def test_a_broken_item_of_a_lazily_indexed_cassette_names_file_item_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from synatest.cassettes import store

    path = saved(tmp_path / "big.yaml")
    as_format_1(path)  # unsealed: nothing checks the items before they are replayed
    text = path.read_text("utf-8")
    broken = text.replace("content: answer 2", "content: [answer 2", 1)
    path.write_text(broken, "utf-8")
    monkeypatch.setattr(store, "LAZY_MIN_BYTES", 0)
    lazy = Cassette.load(path)
    assert all(i.chunk is not None for i in lazy.interactions)
    lines = broken.splitlines()
    item_line = [n for n, ln in enumerate(lines, 1) if ln.startswith("- kind: ")][2]
    bad_line = next(n for n, ln in enumerate(lines, 1) if "[answer 2" in ln)
    with pytest.raises(CassetteError) as info:
        lazy.play("completion", completion("question 2 ünïcødé ✓\nsecond line", "").request)
    message = str(info.value)
    assert message.startswith(
        f"{path}: interaction #2 (line {item_line}) is not valid YAML at line {bad_line + 1} ("
    ), message
    assert "--synalinks-record-mode=rewrite" in message


def test_a_lazily_indexed_item_that_is_not_a_recording_names_file_and_item(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from synatest.cassettes import store

    path = saved(tmp_path / "big.yaml")
    as_format_1(path)
    text = path.read_text("utf-8")
    path.write_text(text.replace("  cost: 0.25", "  cost: lots", 1), "utf-8")
    monkeypatch.setattr(store, "LAZY_MIN_BYTES", 0)
    lazy = Cassette.load(path)
    with pytest.raises(CassetteError, match=r"big.yaml: interaction #0 \(line \d+\): `cost`"):
        lazy.interactions[0].materialize()


COMMITTED = sorted((Path(__file__).parents[2] / "cassettes").rglob("*.yaml"))


@settings(max_examples=120, deadline=None)
@given(data=st.data())
def test_a_damaged_committed_cassette_replays_exactly_or_fails_naming_the_file(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    from synatest.cassettes import store

    source = data.draw(st.sampled_from(COMMITTED), label="cassette")
    whole = source.read_bytes()
    offset = data.draw(st.integers(min_value=0, max_value=len(whole) - 1), label="offset")
    if data.draw(st.booleans(), label="truncate"):
        damaged = whole[:offset]
    else:
        byte = data.draw(
            st.integers(min_value=0, max_value=255).filter(lambda b: b != whole[offset])
        )
        damaged = whole[:offset] + bytes([byte]) + whole[offset + 1 :]
    path = tmp_path_factory.mktemp("damaged") / source.name
    path.write_bytes(damaged)
    originals = Cassette.load(source, lazy=False).interactions
    lazy = data.draw(st.booleans(), label="lazy")
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(store, "LAZY_MIN_BYTES", 0 if lazy else store.LAZY_MIN_BYTES)
            loaded = Cassette.load(path)
        for original in originals:
            played = loaded.play(original.kind, original.request)
            assert played is not None
            assert played.materialize().to_data() == original.to_data()
    except CassetteError as error:
        assert str(path) in str(error)
