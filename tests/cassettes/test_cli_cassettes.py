"""`synatest cassettes check|prune|stats`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from synatest import cli
from synatest.cassettes import fileformat as sealing
from synatest.cassettes.store import Cassette, Interaction


def recording(text: str, tokens: int = 10) -> Interaction:
    return Interaction(
        kind="completion",
        request={"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": text}]},
        response_type="ModelResponse",
        response={
            "model": "gpt-4o-mini",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": f"answer to {text}"},
                }
            ],
            "usage": {"prompt_tokens": tokens, "completion_tokens": 2, "total_tokens": tokens + 2},
        },
        cost=0.25,
    )


def write(path: Path, *texts: str) -> None:
    cassette = Cassette(path)
    for text in texts:
        cassette.record(recording(text))
    cassette.save(environ={})


def edit_as_format_1(path: Path, old: str, new: str) -> None:
    """Edit a cassette by hand as if synatest had written it before seals (format 1)."""
    text = sealing.strip_seal(path.read_text(encoding="utf-8")).replace(old, new)
    path.write_text(text.replace("synatest_cassette: 2", "synatest_cassette: 1", 1), "utf-8")


def test_stats_lists_recordings_models_tokens_and_cost(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path / "tests/test_a/test_one.yaml", "q1", "q2")
    write(tmp_path / "shared.yaml", "q3")
    assert cli.main(["cassettes", "stats", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "tests/test_a/test_one.yaml" in out and "completion 2" in out
    assert "openai/gpt-4o-mini" in out
    assert "2 cassette(s), 3 recording(s), 36 tokens, $0.750000" in out


def test_check_passes_a_healthy_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path / "a.yaml", "q1")
    assert cli.main(["cassettes", "check", "--dir", str(tmp_path)]) == 0
    assert "1 cassette(s), 1 recording(s): OK" in capsys.readouterr().out


def test_check_reports_unreadable_cassettes_and_secrets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "good.yaml", "q1")
    (tmp_path / "broken.yaml").write_text("a: [")
    leaked = tmp_path / "leaked.yaml"
    write(leaked, "q2")
    monkeypatch.setenv("ACME_API_KEY", "acme-secret-value-123")
    edit_as_format_1(leaked, "q2", "acme-secret-value-123")
    assert cli.main(["cassettes", "check", "--dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "unreadable: " in out and "broken.yaml is not valid YAML" in out
    assert "secret: " in out and "leaked.yaml: line " in out
    assert "the value of $ACME_API_KEY" in out
    assert "acme-secret-value-123" not in out
    assert "stale key: " in out  # the edit also made its lookup key stale
    assert "3 problem(s)" in out


def test_check_needs_an_existing_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["cassettes", "check", "--dir", str(tmp_path / "nope")]) == 2
    assert "no cassette directory" in capsys.readouterr().err


def test_prune_needs_a_replay_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["cassettes", "prune", "--dir", str(tmp_path)]) == 2
    assert "pass --run" in capsys.readouterr().err


PROJECT_TEST = """
import litellm

async def test_uses_one():
    response = await litellm.acompletion(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "q1"}]
    )
    assert response.choices[0].message.content == "answer to q1"
"""


def test_check_and_prune_with_a_replay_run_find_orphans_and_unused_recordings(
    pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_proj=PROJECT_TEST)
    root = pytester.path / "cassettes"
    write(root / "test_proj/test_uses_one.yaml", "q1", "q-unused")
    write(root / "test_proj/test_deleted.yaml", "q9")
    os.chdir(pytester.path)
    assert cli.main(["cassettes", "check", "--dir", "cassettes", "--run"]) == 1
    out = capsys.readouterr().out
    assert "orphan: cassettes/test_proj/test_deleted.yaml (no test replayed it)" in out
    assert "unused: cassettes/test_proj/test_uses_one.yaml: recording(s) #1 never replayed" in out

    assert cli.main(["cassettes", "prune", "--dir", "cassettes", "--run"]) == 0
    out = capsys.readouterr().out
    assert "deleted orphan cassettes/test_proj/test_deleted.yaml" in out
    assert "dropped 1 unused recording(s) from cassettes/test_proj/test_uses_one.yaml" in out
    assert not (root / "test_proj/test_deleted.yaml").exists()
    assert len(Cassette.load(root / "test_proj/test_uses_one.yaml")) == 1
    assert cli.main(["cassettes", "check", "--dir", "cassettes", "--run"]) == 0


def test_check_reports_stale_keys_and_rekey_fixes_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "a.yaml"
    write(path, "q1")
    edit_as_format_1(path, "content: q1", "content: q1 edited")
    assert cli.main(["cassettes", "check", "--dir", str(tmp_path)]) == 1
    assert "stale key: " in capsys.readouterr().out
    assert cli.main(["cassettes", "check", "--dir", str(tmp_path), "--rekey"]) == 0
    assert "rekeyed " in capsys.readouterr().out
    assert cli.main(["cassettes", "check", "--dir", str(tmp_path)]) == 0


def test_check_reports_every_bad_file_and_keeps_going(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path / "a_good.yaml", "q1")
    write(tmp_path / "b_cut.yaml", "q2", "q3")
    cut = tmp_path / "b_cut.yaml"
    cut.write_text(cut.read_text(encoding="utf-8")[:-120], encoding="utf-8")
    (tmp_path / "c_binary.yaml").write_bytes(b"synatest_cassette: 2\n\xff\xfe")
    (tmp_path / "d_vcr.http.yaml").write_bytes(b"interactions: []\n\xc3")
    write(tmp_path / "e_good.yaml", "q4")
    for action in ("check", "stats"):
        assert cli.main(["cassettes", action, "--dir", str(tmp_path)]) == 1
        out = capsys.readouterr().out
        assert f"unreadable: {tmp_path / 'b_cut.yaml'}: cassette is truncated or damaged" in out
        assert (
            f"unreadable: cassette {tmp_path / 'c_binary.yaml'}: not valid UTF-8 at byte 21" in out
        )
        assert (
            f"unreadable: cassette {tmp_path / 'd_vcr.http.yaml'}: not valid UTF-8 at byte 17"
            in out
        )
    assert "2 cassette(s), 2 recording(s): 3 problem(s)" in out or action == "stats"


def test_check_fix_reseals_a_hand_edited_cassette(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "a.yaml"
    write(path, "q1")
    path.write_text(path.read_text("utf-8").replace("answer to q1", "a better answer"), "utf-8")
    assert cli.main(["cassettes", "check", "--dir", str(tmp_path)]) == 1
    assert "does not match its seal" in capsys.readouterr().out
    assert cli.main(["cassettes", "check", "--dir", str(tmp_path), "--fix"]) == 0
    assert f"sealed {path}" in capsys.readouterr().out
    assert (
        Cassette.load(path)
        .interactions[0]
        .to_data()["response"]["choices"][0]["message"]["content"]
        == "a better answer"
    )
    assert cli.main(["cassettes", "check", "--dir", str(tmp_path)]) == 0


def test_check_fix_seals_format_1_cassettes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "old.yaml"
    write(path, "q1")
    edit_as_format_1(path, "q1", "q1")
    assert cli.main(["cassettes", "check", "--dir", str(tmp_path)]) == 0
    assert f"unsealed: {path} (format 1, written before seals)" in capsys.readouterr().out
    assert cli.main(["cassettes", "check", "--dir", str(tmp_path), "--fix"]) == 0
    assert Cassette.load(path).sealed


def test_an_unreadable_directory_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    forbidden = "/proc/1/root"
    try:
        os.listdir(forbidden)
    except OSError:
        pass
    else:
        pytest.skip(f"{forbidden} is readable here")
    assert cli.main(["cassettes", "stats", "--dir", forbidden]) == 2
    assert capsys.readouterr().err == (
        f"synatest cassettes stats: error: {forbidden}: Permission denied\n"
    )
