"""Inert unless used: a test that uses nothing of synatest runs as without the plugin,
except that a call which would open a connection to a model is refused."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

PYTESTER_INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
MOCKED = Path(__file__).parents[1] / "compat" / "mocked"

PROGRAMS = """
import pytest
import synalinks
import synatest

class Query(synalinks.DataModel):
    query: str

class Answer(synalinks.DataModel):
    answer: str

class Ticket(synalinks.DataModel):
    text: str

class Refund(synalinks.DataModel):
    is_refund: bool = synalinks.Field(description="Does `text` ask for a refund?")

async def qa(api_base=None):
    lm = synalinks.LanguageModel(model="openai/gpt-4o-mini", api_base=api_base)
    inputs = synalinks.Input(data_model=Query)
    outputs = await synalinks.Generator(data_model=Answer, language_model=lm)(inputs)
    return synalinks.Program(inputs=inputs, outputs=outputs)
"""


def test_unserved_calls_are_refused_where_the_connection_would_be_made(
    pytester: pytest.Pytester, loopback_lm, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-dummy")
    monkeypatch.setenv("TYPESAFE_API_KEY", "test-dummy")
    pytester.makepyfile(
        PROGRAMS
        + f"""
async def test_to_a_local_server():
    program = await qa("{loopback_lm.api_base}")
    await program(Query(query="What is the capital of France?"))

async def test_to_a_provider():
    program = await qa()
    await program(Query(query="hi"))

async def test_embedding():
    model = synalinks.EmbeddingModel(model="openai/text-embedding-3-small")
    await model(synalinks.EmbeddingRequest(texts=["hello world"]))

async def test_decision():
    decisions = synalinks.DecisionModel(model="typesafe/jev-latest")
    inputs = synalinks.Input(data_model=Ticket)
    outputs = await synalinks.Generator(data_model=Refund, decision_model=decisions)(inputs)
    program = synalinks.Program(inputs=inputs, outputs=outputs)
    await program(Ticket(text="refund me"))
"""
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=4)
    port = loopback_lm.server_address[1]
    result.stdout.fnmatch_lines(
        [
            "*UnservedLMCall: LM call not served by any double or cassette, and live calls "
            "are off*",
            "*request: model='openai/gpt-4o-mini', schema='Answer', last user message: "
            "\"{'query': 'What is the capital of France?'}\"",
            "*test: test_unserved_calls_are_refused_where_the_connection_would_be_made.py"
            "::test_to_a_local_server",
            "*allow real calls for this run: pytest --synalinks-live",
            f"*Refused where it would have connected to 127.0.0.1:{port}: nothing below "
            "litellm (a patched HTTP handler, respx, vcrpy, a mock transport) served it.",
        ]
    )
    output = result.stdout.str()
    assert "Refused where it would have connected to api.openai.com:443" in output
    assert "embedding call not served by any double or cassette" in output
    assert "decision-model call not served by any double or cassette" in output
    assert "Refused where it would have connected to api.typesafe.ai:443" in output
    assert loopback_lm.hits == [], "nothing reached the server"


def test_without_a_key_the_provider_error_is_synalinks_own(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # litellm refuses before connecting; Synalinks swallows that as it always does.
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    pytester.makepyfile(
        PROGRAMS
        + """
async def test_no_key():
    program = await qa()
    with pytest.warns(UserWarning, match="All retries failed"):
        assert await program(Query(query="hi")) is None
"""
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_a_double_installed_by_the_test_makes_it_strict(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        PROGRAMS
        + """
async def test_double_in_the_body():
    synatest.FunctionLM(lambda request: RuntimeError("provider down")).install()
    program = await qa()
    await program(Query(query="hi"))
"""
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*LMCallFailed: LanguageModel 'openai/gpt-4o-mini' failed*"])


def test_only_tests_using_synatest_get_a_fresh_synalinks_session(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(
        """
        import synalinks

        synalinks.set_default_language_model("openai/gpt-4o-mini")
        """
    )
    pytester.makepyfile(
        """
        import synalinks

        def test_project_setup_is_kept():
            assert synalinks.default_language_model() is not None

        def test_synatest_test_starts_fresh(synalinks_session):
            assert synalinks.default_language_model() is None
        """
    )
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["synatest: offline (unserved LM calls fail), *, strict=auto, *"])


def _run_mocked_suite(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # A copy of tests/compat/mocked, imported under its own module names.
    if not (pytester.path / "mocked").exists():
        shutil.copytree(MOCKED, pytester.path / "mocked")
        pytester.makeini(PYTESTER_INI + "pythonpath = mocked\n")
    args = ("--import-mode=importlib", "-p", "no:cacheprovider", *args)
    return pytester.runpytest("mocked", *args)


def test_mocked_suite_passes_and_fails_with_synalinks_strict_on(
    pytester: pytest.Pytester,
) -> None:
    _run_mocked_suite(pytester).assert_outcomes(passed=15)
    strict = _run_mocked_suite(pytester, "-o", "synalinks_strict=on")
    # Only the two tests whose mock replaces litellm.acompletion and answers pass.
    strict.assert_outcomes(passed=2, failed=13)
    output = strict.stdout.str()
    # Counted in the tracebacks: the short summary repeats them, untruncated on CI.
    assert len(re.findall(r"^E +synatest\.errors\.LMCallFailed: LanguageModel", output, re.M)) == 2
    assert "UnservedLMCall: decision-model call not served" in output
    assert "assert waited >= 0.4" in output  # retry waits zeroed
    off = _run_mocked_suite(pytester, "-o", "synalinks_strict=off")
    off.assert_outcomes(passed=15)


def test_bad_strict_values_are_usage_errors(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_ok(): pass")
    result = pytester.runpytest("-o", "synalinks_strict=maybe")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*ini synalinks_strict: invalid value 'maybe'; choose from auto, on, off*"]
    )
    result = pytester.runpytest("--synalinks-strict", "always")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*argument --synalinks-strict: invalid choice: 'always'*"])
