"""A project's tests that mock the providers' HTTP endpoints with respx (under httpx,
below litellm): completions, embeddings and decisions go through the real litellm."""

from __future__ import annotations

import json

import httpx
import pytest
import respx
from mocked_programs import (
    TRIAGE_ANSWERS,
    Query,
    Ticket,
    embedding_model,
    qa_program,
    triage_program,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("dummy_keys")]

OPENAI = "https://api.openai.com/v1"
SYSTEMONE = "https://api.typesafe.ai/v1/systemone"


def chat_json(content: str) -> dict:
    return {
        "id": "chatcmpl-respx",
        "object": "chat.completion",
        "created": 0,
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": content},
            }
        ],
        "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10},
    }


async def test_completion_served_by_respx() -> None:
    with respx.mock(assert_all_called=True) as router:
        route = router.post(f"{OPENAI}/chat/completions").mock(
            return_value=httpx.Response(200, json=chat_json('{"answer": "Paris"}'))
        )
        program = await qa_program()
        result = await program(Query(query="Capital of France?"))
    assert result.get("answer") == "Paris"
    sent = json.loads(route.calls.last.request.content)
    assert sent["model"] == "gpt-4o-mini"
    assert sent["response_format"]["type"] == "json_schema"


async def test_embedding_served_by_respx() -> None:
    import synalinks

    body = {
        "object": "list",
        "model": "text-embedding-3-small",
        "data": [{"object": "embedding", "index": 0, "embedding": [0.6, 0.8]}],
        "usage": {"prompt_tokens": 1, "total_tokens": 1},
    }
    with respx.mock(assert_all_called=True) as router:
        router.post(f"{OPENAI}/embeddings").mock(return_value=httpx.Response(200, json=body))
        result = await embedding_model()(synalinks.EmbeddingRequest(texts=["hello"]))
    assert result["embeddings"] == [[0.6, 0.8]]


async def test_decision_served_by_respx() -> None:
    body = {
        "model": "jev-1.13.0",
        "answers": TRIAGE_ANSWERS,
        "usage": {"input_tokens": 100, "output_tokens": 10},
    }
    with respx.mock(assert_all_called=True) as router:
        route = router.post(SYSTEMONE).mock(return_value=httpx.Response(200, json=body))
        program = await triage_program()
        result = await program(Ticket(text="I was charged twice, refund me"))
    assert result.get_json() == {"is_refund": True, "team": "billing"}
    assert "questions" in json.loads(route.calls.last.request.content)


async def test_provider_error_from_respx_is_swallowed_by_synalinks() -> None:
    with respx.mock(assert_all_called=True) as router:
        route = router.post(f"{OPENAI}/chat/completions").mock(
            return_value=httpx.Response(400, json={"error": {"message": "bad request"}})
        )
        program = await qa_program(retry=1)
        with pytest.warns(UserWarning, match="All retries"):
            result = await program(Query(query="q"))
    assert result is None
    assert route.call_count >= 1


async def test_server_errors_are_retried_as_the_provider_sdk_does() -> None:
    # A 503 is retried by the OpenAI SDK under litellm (its own max_retries), and each
    # of Synalinks' attempts makes that many requests: no other layer adds any.
    with respx.mock(assert_all_called=True) as router:
        route = router.post(f"{OPENAI}/chat/completions").mock(
            return_value=httpx.Response(503, json={"error": {"message": "overloaded"}})
        )
        program = await qa_program(retry=1)
        with pytest.warns(UserWarning, match="All retries"):
            result = await program(Query(query="q"))
    assert result is None
    assert route.call_count == 3  # the SDK's first try and its 2 retries, nothing more
