"""Examples 7 and 8: rewards offline, and SchemaLM driving an unscripted program.

- ``ExactMatch`` needs no model; ``CosineSimilarity`` embeds with ``HashEmbeddings``
  (deterministic: a text is similar to itself, less to unrelated texts);
  ``LMAsJudge`` is a program of its own, whose judge LM is scripted here.
- ``SchemaLM`` answers every request with a reply valid for the requested schema
  (and calls each offered tool once): a multi-module program runs end to end with
  no script, which tests its wiring.
"""

from __future__ import annotations

import pytest
import synalinks

import synatest


class Query(synalinks.DataModel):
    query: str = synalinks.Field(description="The user query")


class Answer(synalinks.DataModel):
    answer: str = synalinks.Field(description="The answer")


class Keywords(synalinks.DataModel):
    keywords: list[str] = synalinks.Field(description="Search keywords")


class Summary(synalinks.DataModel):
    summary: str = synalinks.Field(description="A summary")
    confidence: float = synalinks.Field(ge=0.0, le=1.0, description="Confidence")


async def test_exact_match():
    reward = synalinks.ExactMatch()
    assert await reward(Answer(answer="Paris"), Answer(answer="Paris")) == 1.0
    assert await reward(Answer(answer="Paris"), Answer(answer="paris")) == 0.0


@pytest.mark.synalinks_lm(synatest.HashEmbeddings(dim=128))
async def test_cosine_similarity_with_hash_embeddings(embedding_model):
    reward = synalinks.CosineSimilarity(embedding_model=embedding_model)
    same = await reward(
        Answer(answer="The capital of France is Paris"),
        Answer(answer="the capital of france is paris"),
    )
    close = await reward(
        Answer(answer="The capital of France is Paris"),
        Answer(answer="Paris is the capital"),
    )
    unrelated = await reward(
        Answer(answer="The capital of France is Paris"),
        Answer(answer="Bananas grow in tropical climates"),
    )
    assert same == pytest.approx(1.0)
    assert same > close > unrelated


async def test_lm_as_judge_with_a_scripted_judge(language_model, scripted_lm):
    scripted_lm.on(schema="CritiqueWithReward", contains="Lyon").reply(
        {"critique": "Wrong city.", "reward": 0.0}
    )
    scripted_lm.on(schema="CritiqueWithReward").reply(
        {"critique": "Matches the gold answer.", "reward": 1.0}
    )
    judge = synalinks.LMAsJudge(language_model=language_model)
    assert await judge(Answer(answer="Paris"), Answer(answer="Paris")) == 1.0
    assert await judge(Answer(answer="Paris"), Answer(answer="Lyon")) == 0.0
    # The judge saw the gold answer with its "gold_" prefix.
    assert "gold_answer" in scripted_lm.calls[0].text


async def test_judge_reward_outside_its_range_is_caught(language_model, scripted_lm):
    scripted_lm.add({"critique": "Great!", "reward": 7})
    judge = synalinks.LMAsJudge(language_model=language_model)
    with pytest.raises(synatest.SchemaMismatch, match=r"\$.reward: 7 is not one of \[0.0, 0.05"):
        await judge(Answer(answer="Paris"), Answer(answer="Paris"))


async def search(keywords: list[str]):
    """Search a knowledge base.

    Args:
        keywords (list): The keywords to look up.
    """
    return {"results": [f"document about {k}" for k in keywords]}


@synatest.program
async def research(language_model):
    inputs = synalinks.Input(data_model=Query)
    keywords = await synalinks.Generator(
        data_model=Keywords, language_model=language_model, name="keywords"
    )(inputs)
    decision = await synalinks.Decision(
        question="Does the query need a search?",
        labels=["search", "answer"],
        language_model=language_model,
        name="route",
    )(inputs & keywords)
    found = await synalinks.FunctionCallingAgent(
        data_model=Answer,
        tools=[synalinks.Tool(search)],
        language_model=language_model,
        max_iterations=3,
        name="researcher",
    )(inputs & keywords)
    outputs = await synalinks.ChainOfThought(
        data_model=Summary, language_model=language_model, name="summarize"
    )(inputs & decision & found)
    return synalinks.Program(inputs=inputs, outputs=outputs, name="research")


@pytest.mark.synalinks_lm(synatest.SchemaLM(seed=3))
async def test_schema_lm_runs_an_unscripted_program_end_to_end(research, synalinks_trace):
    result = await research(Query(query="What is new in battery research?"))
    assert result is not None
    summary = Summary(**{k: result.get(k) for k in ("summary", "confidence")})
    assert 0.0 <= summary.confidence <= 1.0
    assert synalinks_trace.names(type="Generator")[:2] == ["keywords", "generator_route"]
    # The agent called its tool once (with generated keywords), then answered.
    ((name, arguments),) = synalinks_trace.tool_calls()
    assert name == "search" and isinstance(arguments["keywords"], list)
    assert synalinks_trace.called("summarize")
    assert all(c.exception is None for c in synalinks_trace)


@pytest.mark.synalinks_lm(synatest.SchemaLM(seed=3))
async def test_schema_lm_is_reproducible(research, synalinks_router):
    first = await research(Query(query="Same query"))
    second = await research(Query(query="Same query"))
    assert first.get_json() == second.get_json()
