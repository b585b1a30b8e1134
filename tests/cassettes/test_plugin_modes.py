"""Record modes, precedence (CLI > marker > ini), CI refusal, strictness, misses, through pytest."""

from __future__ import annotations

from pathlib import Path

import pytest

from synatest.testing import LoopbackLM

INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"

ONE_CALL = """
import pytest
from helpers import ask

async def test_capital():
    assert (await ask("What is the capital of France?"))["answer"]
"""

CASSETTE = Path("cassettes/test_one/test_capital.yaml")


def run(project: pytest.Pytester, *args: str) -> pytest.RunResult:
    return project.runpytest("-p", "no:cacheprovider", *args)


def test_default_mode_never_calls_and_says_how_to_record(
    project: pytest.Pytester, loopback: LoopbackLM
) -> None:
    project.makepyfile(test_one=ONE_CALL)
    result = run(project)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*UnservedLMCall*",
            "*record it once: pytest --synalinks-record-mode=once test_one.py::test_capital*",
        ]
    )
    assert loopback.requests == []
    assert not (project.path / CASSETTE).exists()


def test_once_records_then_replays_without_the_server(
    project: pytest.Pytester, loopback: LoopbackLM
) -> None:
    project.makepyfile(test_one=ONE_CALL)
    run(project, "--synalinks-record-mode=once").assert_outcomes(passed=1)
    assert len(loopback.requests) == 1
    text = (project.path / CASSETTE).read_text()
    assert "What is the capital of France?" in text
    # once + existing file: replay only.
    run(project, "--synalinks-record-mode=once").assert_outcomes(passed=1)
    run(project).assert_outcomes(passed=1)
    assert len(loopback.requests) == 1


def test_a_failing_test_saves_nothing(project: pytest.Pytester, loopback: LoopbackLM) -> None:
    project.makepyfile(
        test_one="""
from helpers import ask

async def test_capital():
    await ask("What is the capital of France?")
    assert False, "the test failed after its LM call"
"""
    )
    run(project, "--synalinks-record-mode=once").assert_outcomes(failed=1)
    assert len(loopback.requests) == 1
    assert not (project.path / CASSETTE).exists()


def test_a_miss_names_the_nearest_recording_the_diff_and_the_command(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(test_one=ONE_CALL)
    run(project, "--synalinks-record-mode=once").assert_outcomes(passed=1)
    project.makepyfile(test_one=ONE_CALL.replace("France", "Spain"))
    result = run(project)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*CassetteMiss: no recording in the cassette matches this LM call*",
            "*test: test_one.py::test_capital",
            f"*cassette: *{CASSETTE} (1 recording(s); record mode: none)",
            "*nearest recording: #0: model='openai/gpt-4o-mini', schema='Answer'*France*",
            "*fields that differ: messages",
            "*--- recording #0",
            "*+++ this call",
            "*-*What is the capital of France?*",
            "*+*What is the capital of Spain?*",
            "*pytest --synalinks-record-mode=rewrite test_one.py::test_capital",
            "*pytest --synalinks-record-mode=new_episodes test_one.py::test_capital",
        ]
    )


def test_new_episodes_keeps_old_recordings_and_adds_missing_ones(
    project: pytest.Pytester, loopback: LoopbackLM
) -> None:
    project.makepyfile(test_one=ONE_CALL)
    run(project, "--synalinks-record-mode=once").assert_outcomes(passed=1)
    project.makepyfile(
        test_one="""
from helpers import ask

async def test_capital():
    await ask("What is the capital of France?")
    await ask("What is the capital of Spain?")
"""
    )
    run(project, "--synalinks-record-mode=new_episodes").assert_outcomes(passed=1)
    assert len(loopback.requests) == 2  # France was replayed, Spain recorded
    text = (project.path / CASSETTE).read_text()
    assert "France" in text and "Spain" in text
    run(project).assert_outcomes(passed=1)


def test_rewrite_drops_recordings_the_test_no_longer_makes(
    project: pytest.Pytester, loopback: LoopbackLM
) -> None:
    project.makepyfile(test_one=ONE_CALL)
    run(project, "--synalinks-record-mode=once").assert_outcomes(passed=1)
    project.makepyfile(test_one=ONE_CALL.replace("France", "Italy"))
    run(project, "--synalinks-record-mode=rewrite").assert_outcomes(passed=1)
    text = (project.path / CASSETTE).read_text()
    assert "Italy" in text and "France" not in text
    assert len(loopback.requests) == 2


MARKED = """
import pytest
from helpers import ask

@pytest.mark.synalinks_cassette(record_mode="once")
async def test_capital():
    await ask("What is the capital of France?")
"""


def test_precedence_is_cli_then_marker_then_ini(
    project: pytest.Pytester, loopback: LoopbackLM
) -> None:
    project.makepyfile(test_one=MARKED)
    project.makeini(INI + "synalinks_record_mode = none\n")
    # CLI (none) beats the marker (once): nothing is recorded.
    run(project, "--synalinks-record-mode=none").assert_outcomes(failed=1)
    assert loopback.requests == []
    # Marker (once) beats the ini (none): recorded.
    run(project).assert_outcomes(passed=1)
    assert len(loopback.requests) == 1
    # Ini applies when neither CLI nor marker says: rewrite re-records.
    project.makepyfile(test_one=ONE_CALL)
    project.makeini(INI + "synalinks_record_mode = rewrite\n")
    run(project).assert_outcomes(passed=1)
    assert len(loopback.requests) == 2


def test_bad_marker_and_ini_values_are_usage_errors(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_one="""
import pytest

@pytest.mark.synalinks_cassette(record_mode="sometimes")
def test_a():
    pass

@pytest.mark.synalinks_cassette(cassete="typo")
def test_b():
    pass
"""
    )
    result = run(project)
    result.stdout.fnmatch_lines(
        [
            "*record_mode='sometimes'): choose from none, once, new_episodes, rewrite*",
            "*unknown argument(s) cassete; accepted: name, path, record_mode*",
        ]
    )
    project.makeini(INI + "synalinks_record_mode = always\n")
    result = run(project, "-k", "nothing")
    result.stderr.fnmatch_lines(
        ["*ini synalinks_record_mode: invalid value 'always'; choose from none, once*"]
    )


def test_recording_is_refused_in_ci_unless_allowed(
    project: pytest.Pytester, loopback: LoopbackLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.makepyfile(test_one=ONE_CALL)
    monkeypatch.setenv("CI", "true")
    result = run(project, "--synalinks-record-mode=once")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*refusing to record cassette *test_capital.yaml for test_one.py::test_capital: "
            "the CI environment variable is set*--synalinks-allow-recording-in-ci*"
        ]
    )
    assert loopback.requests == []
    run(
        project, "--synalinks-record-mode=once", "--synalinks-allow-recording-in-ci"
    ).assert_outcomes(passed=1)
    # Replaying in CI is what CI is for.
    run(project).assert_outcomes(passed=1)


def test_strict_cassettes_fail_tests_that_leave_recordings_unused(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(
        test_one="""
from helpers import ask

async def test_capital():
    await ask("What is the capital of France?")
    await ask("What is the capital of Spain?")
"""
    )
    run(project, "--synalinks-record-mode=once").assert_outcomes(passed=1)
    project.makepyfile(test_one=ONE_CALL)
    run(project).assert_outcomes(passed=1)
    result = run(project, "--synalinks-strict-cassettes")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*CassetteError: 1 recording(s) of cassette *test_capital.yaml were not replayed by "
            "test_one.py::test_capital (--synalinks-strict-cassettes):",
            "*#1: model='openai/gpt-4o-mini', schema='Answer', last user message: *Spain*",
            "*re-record with --synalinks-record-mode=rewrite*",
        ]
    )


def test_identical_calls_replay_in_recorded_order_and_too_many_is_a_miss(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(
        test_one="""
from helpers import ask

async def test_capital():
    await ask("Same question?")
    await ask("Same question?")
"""
    )
    run(project, "--synalinks-record-mode=once").assert_outcomes(passed=1)
    project.makepyfile(
        test_one="""
import pytest
from helpers import ask

async def test_capital(lm_cassette):
    for _ in range(2):
        await ask("Same question?")
    assert len(lm_cassette.replayed) == 2
    assert lm_cassette.replayed[0] is not lm_cassette.replayed[1]
    await ask("Same question?")

@pytest.mark.synalinks_cassette(name="test_one/test_capital", allow_repeats=True)
async def test_repeats():
    for _ in range(3):
        await ask("Same question?")
"""
    )
    result = run(project)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*this exact request was recorded 2 time(s) and every recording was already replayed*"]
    )


def test_doubles_answer_before_the_cassette(project: pytest.Pytester) -> None:
    project.makepyfile(test_one=ONE_CALL)
    run(project, "--synalinks-record-mode=once").assert_outcomes(passed=1)
    project.makepyfile(
        test_one="""
import synatest
from helpers import ask

async def test_capital(synalinks_router, lm_cassette):
    synalinks_router.use(synatest.FunctionLM(lambda request: {"answer": "from the double"}))
    assert (await ask("What is the capital of France?")) == {"answer": "from the double"}
    assert lm_cassette.replayed == []
"""
    )
    run(project).assert_outcomes(passed=1)


def test_shared_and_extra_cassettes(project: pytest.Pytester, loopback: LoopbackLM) -> None:
    project.makepyfile(
        test_one="""
import pytest
from helpers import ask

@pytest.mark.synalinks_cassette("shared/capitals", record_mode="once")
async def test_record_shared():
    await ask("What is the capital of France?")

@pytest.mark.synalinks_cassette(extra=["shared/capitals"])
async def test_uses_extra(lm_cassette):
    await ask("What is the capital of France?")
    assert lm_cassette.replayed[0].source.name == "capitals.yaml"
    assert lm_cassette.recorded == []

@pytest.mark.synalinks_cassette(extra=["shared/missing"])
async def test_missing_extra():
    pass
"""
    )
    result = run(project)
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*extra cassette *missing.yaml (@pytest.mark.synalinks_cassette(extra=...)) "
            "does not exist*"
        ]
    )
    assert (project.path / "cassettes/shared/capitals.yaml").exists()
    assert not (project.path / "cassettes/test_one/test_uses_extra.yaml").exists()


def test_cassette_dir_option_and_requested_fixture_make_a_missing_file_a_miss(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(
        test_one="""
from helpers import ask

async def test_capital(lm_cassette):
    await ask("What is the capital of France?")
"""
    )
    project.makeini(INI + "synalinks_cassette_dir = recorded\n")
    result = run(project)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*CassetteMiss*",
            "*cassette: *recorded/test_one/test_capital.yaml (0 recording(s)*",
            "*the cassette holds no completion recording at all.*",
        ]
    )
    run(project, "--synalinks-record-mode=once").assert_outcomes(passed=1)
    assert (project.path / "recorded/test_one/test_capital.yaml").exists()


def test_registered_and_marker_scrubbers_make_volatile_prompts_match(
    project: pytest.Pytester,
) -> None:
    project.makeconftest(
        """
from synatest.cassettes import register_scrubber
register_scrubber(r"order #\\d+", "order #<n>")
"""
    )
    test = """
import uuid, pytest
from helpers import ask

@pytest.mark.synalinks_cassette(scrub=["uuid"])
async def test_volatile():
    await ask(f"Status of order #{NUMBER} (request {uuid.uuid4()})?")
"""
    project.makepyfile(test_one=test.replace("NUMBER", "1"))
    run(project, "--synalinks-record-mode=once").assert_outcomes(passed=1)
    text = (project.path / "cassettes/test_one/test_volatile.yaml").read_text()
    assert "order #<n> (request <uuid>)" in text
    project.makepyfile(test_one=test.replace("NUMBER", "2"))
    run(project).assert_outcomes(passed=1)
