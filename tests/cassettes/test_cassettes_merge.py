"""`synatest cassettes merge`: cassettes recorded apart combined, none lost, none doubled."""

from __future__ import annotations

from pathlib import Path

import pytest

from synatest.cassettes.store import Cassette, Interaction
from synatest.cli.main import main


def completion(text: str, answer: str | None = None) -> Interaction:
    return Interaction(
        kind="completion",
        request={"model": "m", "messages": [{"role": "user", "content": text}]},
        response_type="ModelResponse",
        response={
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer or text}}]
        },
    )


def write(path: Path, *interactions: Interaction) -> Path:
    cassette = Cassette(path)
    for interaction in interactions:
        cassette.record(interaction)
    cassette.save(environ={})
    return path


def answers(path: Path) -> list[str]:
    cassette = Cassette.load(path, missing_ok=False, lazy=False)
    return [i.response["choices"][0]["message"]["content"] for i in cassette.interactions]  # type: ignore[index]


def test_directories_merge_file_by_file_without_loss_or_duplicates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b, out = tmp_path / "a", tmp_path / "b", tmp_path / "out"
    write(a / "test_x/test_one.yaml", completion("q1"), completion("q2"))
    write(b / "test_x/test_one.yaml", completion("q2"), completion("q3"))
    write(a / "only_a.yaml", completion("a"))
    write(b / "sub/only_b.yaml", completion("b"))
    # Self-consistency: one request answered three times; shard B saw a third answer.
    write(a / "sampled.yaml", completion("s", "r1"), completion("s", "r2"))
    write(b / "sampled.yaml", completion("s", "r1"), completion("s", "r2"), completion("s", "r3"))
    assert main(["cassettes", "merge", str(a), str(b), "-o", str(out)]) == 0
    assert capsys.readouterr().out.strip() == (
        f"synatest: 4 cassette file(s) written to {out}: 8 recording(s), 3 duplicate(s) dropped"
    )
    assert answers(out / "test_x/test_one.yaml") == ["q1", "q2", "q3"]
    assert answers(out / "only_a.yaml") == ["a"]
    assert answers(out / "sub/only_b.yaml") == ["b"]
    assert answers(out / "sampled.yaml") == ["r1", "r2", "r3"]
    # The merged file is sealed and replays each recording in order.
    merged = Cassette.load(out / "sampled.yaml")
    assert merged.sealed
    request = completion("s").request
    played = [merged.play("completion", merged.normalize("completion", request)) for _ in "123"]
    assert [p.response["choices"][0]["message"]["content"] for p in played if p] == [  # type: ignore[index]
        "r1",
        "r2",
        "r3",
    ]
    # Merging again (into A itself) changes nothing: idempotent.
    assert main(["cassettes", "merge", str(out), str(a), "-o", str(a)]) == 0
    assert answers(a / "test_x/test_one.yaml") == ["q1", "q2", "q3"]


def test_two_files_merge_into_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = write(tmp_path / "a.yaml", completion("q1"))
    b = write(tmp_path / "b.yaml", completion("q1"), completion("q2"))
    assert main(["cassettes", "merge", str(a), str(b), "-o", str(tmp_path / "m.yaml")]) == 0
    assert answers(tmp_path / "m.yaml") == ["q1", "q2"]
    assert "2 recording(s), 1 duplicate(s) dropped" in capsys.readouterr().out


def test_merge_errors_name_the_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = write(tmp_path / "a" / "c.yaml", completion("q1"))
    out = str(tmp_path / "out")

    def error(*args: str) -> str:
        assert main(["cassettes", "merge", *args, "-o", out]) == 2
        return capsys.readouterr().err.strip()

    assert error(str(a), str(tmp_path / "nope.yaml")) == (
        f"synatest cassettes merge: error: no such file or directory: {tmp_path / 'nope.yaml'}"
    )
    assert error(str(a), str(tmp_path / "a")) == (
        "synatest cassettes merge: error: give only cassette files or only cassette "
        f"directories, not both: {a} (file), {tmp_path / 'a'} (directory)"
    )
    broken = tmp_path / "b" / "c.yaml"
    broken.parent.mkdir()
    broken.write_text(a.read_text().replace("q1", "q9"))  # edited after sealing
    message = error(str(tmp_path / "a"), str(tmp_path / "b"))
    assert message.startswith(f"synatest cassettes merge: error: {broken}")
    assert not (tmp_path / "out" / "c.yaml").exists()
