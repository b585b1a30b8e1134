"""Record the vcrpy cassettes of ``test_mock_vcrpy.py`` over real HTTP.

Runs the same program calls as the tests against synatest's loopback
OpenAI-compatible server (chat completions, embeddings and a decision provider's
``systemone``) on ``RECORDED_API_BASE``, with vcrpy recording every exchange:

    uv run python tests/compat/mocked/record_vcr.py

The cassettes are committed; the tests replay them with ``record_mode="none"``.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

HERE = Path(__file__).parent
CASSETTES = HERE / "vcr_cassettes"


async def record() -> None:
    import synalinks
    import vcr
    from mocked_programs import (
        DECISION_MODEL,
        DUMMY_KEYS,
        RECORDED_API_BASE,
        Query,
        Ticket,
        embedding_model,
        qa_program,
        triage_program,
    )

    from synatest.testing.server import LoopbackLM

    os.environ.update(DUMMY_KEYS)
    port = int(RECORDED_API_BASE.rsplit(":", 1)[1].split("/")[0])
    recorder = vcr.VCR(record_mode="all", filter_headers=["authorization", "x-api-key"])
    with LoopbackLM(port=port):
        with recorder.use_cassette(str(CASSETTES / "completion.yaml")):
            program = await qa_program(api_base=RECORDED_API_BASE)
            print(await program(Query(query="Capital of France?")))
        with recorder.use_cassette(str(CASSETTES / "embedding.yaml")):
            model = embedding_model(api_base=RECORDED_API_BASE)
            print(await model(synalinks.EmbeddingRequest(texts=["hello"])))
        with recorder.use_cassette(str(CASSETTES / "decision.yaml")):
            decisions = synalinks.DecisionModel(model=DECISION_MODEL, api_base=RECORDED_API_BASE)
            program = await triage_program(decisions)
            print(await program(Ticket(text="I was charged twice, refund me")))


if __name__ == "__main__":
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    sys.path.insert(0, str(HERE))
    asyncio.run(record())
