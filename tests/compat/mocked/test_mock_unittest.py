"""A project's tests that patch litellm with ``unittest.mock``: completions, embeddings,
decisions, and the failures Synalinks retries and swallows (which these tests assert on).
"""

from __future__ import annotations

import time
from unittest import mock

import httpx
import litellm
import pytest
from mocked_programs import (
    DECISION_MODEL,
    DUMMY_KEYS,
    TRIAGE_ANSWERS,
    Query,
    Ticket,
    embedding_model,
    qa_program,
    triage_program,
)
from synalinks.src.testing.test_utils import mock_decision_model

# Run by pytest-asyncio, as a project without synatest runs its async tests.
pytestmark = pytest.mark.asyncio


def chat_response(content: str, finish_reason: str = "stop") -> litellm.ModelResponse:
    return litellm.ModelResponse(
        choices=[
            {
                "index": 0,
                "finish_reason": finish_reason,
                "message": {"role": "assistant", "content": content},
            }
        ],
        usage={"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10},
    )


async def test_completion_served_by_a_patched_acompletion() -> None:
    fake = mock.AsyncMock(return_value=chat_response('{"answer": "Paris"}'))
    with mock.patch("litellm.acompletion", fake):
        program = await qa_program()
        result = await program(Query(query="Capital of France?"))
    assert result.get("answer") == "Paris"
    assert fake.await_count == 1
    assert fake.await_args.kwargs["model"] == "openai/gpt-4o-mini"


async def test_embedding_served_by_a_patched_aembedding() -> None:
    import synalinks

    fake = mock.AsyncMock(
        return_value=litellm.EmbeddingResponse(
            data=[{"object": "embedding", "index": 0, "embedding": [0.5, 0.25, 0.25]}]
        )
    )
    with mock.patch("litellm.aembedding", fake):
        result = await embedding_model()(synalinks.EmbeddingRequest(texts=["hello"]))
    assert result["embeddings"] == [[0.5, 0.25, 0.25]]
    assert fake.await_args.kwargs["input"] == ["hello"]


@mock.patch.dict("os.environ", DUMMY_KEYS)
async def test_decision_served_by_synalinks_http_handler_mock() -> None:
    import synalinks

    decision_model = synalinks.DecisionModel(model=DECISION_MODEL)
    payloads = mock_decision_model(decision_model, TRIAGE_ANSWERS)
    program = await triage_program(decision_model)
    result = await program(Ticket(text="I was charged twice, refund me"))
    assert result.get_json() == {"is_refund": True, "team": "billing"}
    assert len(payloads) == 1


async def test_truncated_reply_is_swallowed_by_synalinks() -> None:
    # finish_reason "length" with no content: Synalinks raises it straight through
    # its retries, then its caller warns and returns None.
    fake = mock.AsyncMock(return_value=chat_response("", finish_reason="length"))
    with mock.patch("litellm.acompletion", fake), pytest.warns(UserWarning, match="All retries"):
        program = await qa_program()
        result = await program(Query(query="A long question"))
    assert result is None
    assert fake.await_count == 1


async def test_exhausted_side_effect_is_retried_then_swallowed() -> None:
    fake = mock.AsyncMock(side_effect=[chat_response('{"answer": "one"}')])
    with mock.patch("litellm.acompletion", fake):
        program = await qa_program(retry=2)
        first = await program(Query(query="q1"))
        with pytest.warns(UserWarning, match="All retries"):
            second = await program(Query(query="q2"))
    assert first.get("answer") == "one"
    assert second is None
    assert fake.await_count == 3  # one answer, then Synalinks' two attempts


async def test_rate_limit_is_retried_after_the_providers_delay() -> None:
    response = httpx.Response(
        429, headers={"retry-after": "0.2"}, request=httpx.Request("POST", "https://x")
    )
    error = litellm.RateLimitError(
        "slow down", llm_provider="openai", model="gpt-4o-mini", response=response
    )
    fake = mock.AsyncMock(side_effect=[error, error, chat_response('{"answer": "ok"}')])
    with mock.patch("litellm.acompletion", fake):
        program = await qa_program(retry=3)
        started = time.monotonic()
        result = await program(Query(query="q"))
        waited = time.monotonic() - started
    assert result.get("answer") == "ok"
    assert fake.await_count == 3
    # Synalinks honoured Retry-After twice: its waits are untouched.
    assert waited >= 0.4
