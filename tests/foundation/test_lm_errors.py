"""LM errors Synalinks would swallow fail the test, with the original error."""

from __future__ import annotations

import pytest

PROGRAM = """
import pytest
import synalinks
import synatest

class Query(synalinks.DataModel):
    query: str

class Answer(synalinks.DataModel):
    answer: str

async def build(fallback=None):
    lm = synalinks.LanguageModel(model="openai/gpt-4o-mini", fallback=fallback)
    inputs = synalinks.Input(data_model=Query)
    outputs = await synalinks.Generator(data_model=Answer, language_model=lm)(inputs)
    return synalinks.Program(inputs=inputs, outputs=outputs)

def failing(message):
    async def layer(request, call_next):
        if request.model == "openai/gpt-4o-mini":
            raise RuntimeError(message)
        return await call_next(request)
    return layer
"""


def test_swallowed_error_fails_the_test_with_the_original_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        PROGRAM
        + """
async def test_provider_down(synalinks_router):
    synalinks_router.use(failing("provider is down"))
    program = await build()
    await program(Query(query="hi"))
"""
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*RuntimeError: provider is down",
            "*The above exception was the direct cause of the following exception:*",
            "*synatest.errors.LMCallFailed: LanguageModel 'openai/gpt-4o-mini' failed after "
            "Synalinks' retries, which would have swallowed the error*",
            "*builtins.RuntimeError: provider is down",
            "*Mark the test @pytest.mark.synalinks_allow_lm_errors if the failure is expected*",
        ]
    )


def test_retries_still_happen_but_without_waiting(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        PROGRAM
        + """
@pytest.mark.synalinks_allow_lm_errors
async def test_allowed(synalinks_router):
    synalinks_router.use(failing("rate limited"))
    program = await build()
    assert await program(Query(query="hi")) is None
    # Synalinks' five attempts all ran (the waits between them were zeroed).
    assert len(synalinks_router.requests) == 5
    assert [str(e) for e in synalinks_router.lm_errors] == ["rate limited"]
"""
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_fallback_model_answering_is_not_a_swallowed_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        PROGRAM
        + """
async def test_fallback(synalinks_router):
    synalinks_router.use(failing("primary down"))
    synalinks_router.use(synatest.FunctionLM(lambda request: {"answer": request.model}))
    program = await build(fallback="ollama/llama3")
    result = await program(Query(query="hi"))
    assert result.get("answer") == "ollama_chat/llama3"
    assert synalinks_router.lm_errors == []
"""
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_harness_errors_are_neither_retried_nor_swallowed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        PROGRAM
        + """
async def test_harness_error(synalinks_router):
    async def layer(request, call_next):
        raise synatest.ScriptExhausted("nothing scripted for " + request.describe())
    synalinks_router.use(layer)
    program = await build()
    with pytest.raises(synatest.ScriptExhausted, match="nothing scripted for model="):
        await program(Query(query="hi"))
    assert len(synalinks_router.requests) == 1
"""
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_live_mode_keeps_synalinks_backoff() -> None:
    import tenacity

    from synatest.seam import Router, use_router
    from synatest.seam import patch as seam

    def original(max_wait: float = 60.0) -> object:
        return tenacity.wait_exponential(max=max_wait)

    patched = seam._patched_wait_factory(original)
    before = seam._ZERO_WAITS
    try:
        with use_router(Router(strict=True)):
            seam.set_zero_waits(False)
            assert isinstance(patched(10), tenacity.wait_exponential)
            seam.set_zero_waits(True)
            assert isinstance(patched(10), tenacity.wait_none)
        # A test that is not strict keeps Synalinks' backoff in every mode.
        with use_router(Router(strict=False)):
            assert isinstance(patched(10), tenacity.wait_exponential)
    finally:
        seam.set_zero_waits(before)
