"""A project's tests that replay vcrpy cassettes (the pytest-recording way: one YAML
file per test, recorded once over real HTTP by ``record_vcr.py``, replayed with no
network): completions, embeddings and decisions through the real litellm and httpx."""

from __future__ import annotations

from pathlib import Path

import pytest
import vcr
from mocked_programs import (
    DECISION_MODEL,
    RECORDED_API_BASE,
    Query,
    Ticket,
    embedding_model,
    qa_program,
    triage_program,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("dummy_keys")]

CASSETTES = Path(__file__).parent / "vcr_cassettes"
# Matched on the body too, as projects that record LM calls configure vcrpy.
REPLAY = vcr.VCR(
    record_mode="none", match_on=("method", "scheme", "host", "port", "path", "query", "body")
)


async def test_completion_replayed_by_vcrpy() -> None:
    with REPLAY.use_cassette(str(CASSETTES / "completion.yaml")) as cassette:
        program = await qa_program(api_base=RECORDED_API_BASE)
        result = await program(Query(query="Capital of France?"))
    assert result.get("answer") == "answer 5871"
    assert cassette.play_count == 1


async def test_embedding_replayed_by_vcrpy() -> None:
    import synalinks

    with REPLAY.use_cassette(str(CASSETTES / "embedding.yaml")) as cassette:
        model = embedding_model(api_base=RECORDED_API_BASE)
        result = await model(synalinks.EmbeddingRequest(texts=["hello"]))
    assert len(result["embeddings"][0]) == 8
    assert cassette.play_count == 1


async def test_decision_replayed_by_vcrpy() -> None:
    import synalinks

    with REPLAY.use_cassette(str(CASSETTES / "decision.yaml")) as cassette:
        decisions = synalinks.DecisionModel(model=DECISION_MODEL, api_base=RECORDED_API_BASE)
        program = await triage_program(decisions)
        result = await program(Ticket(text="I was charged twice, refund me"))
    assert result.get_json() == {"is_refund": True, "team": "billing"}
    assert cassette.play_count == 1


async def test_request_missing_from_the_cassette_is_vcrpys_error() -> None:
    # vcrpy refuses a request it has no recording for (CannotOverwriteExistingCassette);
    # litellm wraps it, Synalinks swallows it: the program returns None.
    with REPLAY.use_cassette(str(CASSETTES / "completion.yaml")):
        program = await qa_program(api_base=RECORDED_API_BASE, retry=1)
        with pytest.warns(UserWarning, match="All retries"):
            result = await program(Query(query="A question never recorded"))
    assert result is None
