"""No test reaches a real LM by accident; --synalinks-live lifts the block."""

from __future__ import annotations

import pytest

# pytester's default ini (tests/conftest.py) plus one key.
PYTESTER_INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"

PROGRAM = """
import pytest
import synalinks
import synatest

class Query(synalinks.DataModel):
    query: str

class Answer(synalinks.DataModel):
    answer: str

async def build(api_base):
    lm = synalinks.LanguageModel(model="openai/gpt-4o-mini", api_base=api_base)
    inputs = synalinks.Input(data_model=Query)
    outputs = await synalinks.Generator(data_model=Answer, language_model=lm)(inputs)
    return synalinks.Program(inputs=inputs, outputs=outputs)
"""


def test_unserved_call_fails_at_once_with_how_to_serve_it(
    pytester: pytest.Pytester, loopback_lm, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-dummy")
    pytester.makepyfile(
        PROGRAM
        + f"""
async def test_unserved(synalinks_router):
    program = await build("{loopback_lm.api_base}")
    await program(Query(query="What is the capital of France?"))
"""
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*synatest.errors.UnservedLMCall: LM call not served by any double or cassette, "
            "and live calls are off*",
            "*request: model='openai/gpt-4o-mini', schema='Answer', last user message: "
            "\"{'query': 'What is the capital of France?'}\"",
            "*test: test_unserved_call_fails_at_once_with_how_to_serve_it.py::test_unserved",
            "*How to serve it:",
            "*script it: request the `scripted_lm` fixture*",
            "*allow real calls for this run: pytest --synalinks-live",
        ]
    )
    assert loopback_lm.hits == [], "nothing reached the network"


def test_unserved_call_is_not_retried(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        PROGRAM
        + """
async def test_once(synalinks_router):
    program = await build(None)
    with pytest.raises(synatest.UnservedLMCall):
        await program(Query(query="hi"))
    assert len(synalinks_router.requests) == 1
"""
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_unserved_embedding_call_names_the_texts(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        import synalinks
        import synatest

        async def test_embed(synalinks_router):
            em = synalinks.EmbeddingModel(model="openai/text-embedding-3-small")
            with pytest.raises(synatest.UnservedLMCall) as info:
                await em(synalinks.EmbeddingRequest(texts=["hello world"]))
            message = str(info.value)
            assert message.startswith("embedding call not served by any double or cassette")
            assert "embedding of 1 text(s), first input: 'hello world'" in message
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_live_flag_lets_the_call_reach_the_provider(
    pytester: pytest.Pytester, loopback_lm, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-dummy")
    pytester.makepyfile(
        PROGRAM
        + f"""
async def test_live():
    program = await build("{loopback_lm.api_base}")
    result = await program(Query(query="hello"))
    assert result.get("answer") == "from the loopback server"
"""
    )
    pytester.runpytest("--synalinks-live").assert_outcomes(passed=1)
    assert len(loopback_lm.hits) == 1
    assert loopback_lm.hits[0]["path"] == "/v1/chat/completions"
    assert loopback_lm.hits[0]["body"]["response_format"]["type"] == "json_schema"


def test_live_ini_key(pytester: pytest.Pytester, loopback_lm, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-dummy")
    pytester.makeini(PYTESTER_INI + "synalinks_live = true\n")
    pytester.makepyfile(
        PROGRAM
        + f"""
async def test_live():
    program = await build("{loopback_lm.api_base}")
    assert (await program(Query(query="hello"))).get("answer")
"""
    )
    pytester.runpytest().assert_outcomes(passed=1)
    assert len(loopback_lm.hits) == 1
