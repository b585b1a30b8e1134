"""SchemaLM and synatest.strategies against the schemas Synalinks generates."""

from __future__ import annotations

import enum
import json
import math
from typing import Any, Literal, Optional

import jsonschema
import pytest
import synalinks
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import synatest
from synatest.seam import LMRequest, Router
from synatest.strategies import UnsupportedSchema, data_models, from_schema


class Level(enum.StrEnum):
    low = "low"
    high = "high"


class Source(synalinks.DataModel):
    title: str = synalinks.Field(description="The title")
    url: str | None = None
    rank: int = synalinks.Field(ge=1, le=5, description="Rank")


class Report(synalinks.DataModel):
    summary: str = synalinks.Field(description="Summary", min_length=3, max_length=40)
    level: Level
    label: Literal["ok", "bad"]
    score: float = synalinks.Field(ge=0.0, le=1.0, description="Score")
    keywords: list[str] = synalinks.Field(max_length=4, description="Keywords")
    sources: list[Source]
    main_source: Source
    # `Source | None` would call DataModel's `|` operator (a logical OR module).
    backup: Optional[Source] = None  # noqa: UP045
    extra: dict[str, int] = synalinks.Field(default_factory=dict)
    flag: bool = False


class Query(synalinks.DataModel):
    query: str = synalinks.Field(description="The user query")


SCHEMAS = [Report.get_schema(), Source.get_schema(), Query.get_schema()]
FAST = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


def structured_request(schema: dict[str, Any], text: str) -> LMRequest:
    return LMRequest(
        kind="completion",
        kwargs={
            "model": "openai/gpt-4o-mini",
            "messages": [{"role": "user", "content": text}],
            "response_format": {"type": "json_schema", "json_schema": {"schema": schema}},
        },
    )


@FAST
@given(value=from_schema(Report.get_schema()))
def test_from_schema_values_validate_and_build_the_model(value: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(Report.get_schema()).validate(value)
    Report(**value)  # pydantic agrees


@FAST
@given(report=data_models(Report))
def test_data_models_builds_instances(report: Report) -> None:
    assert isinstance(report, Report)
    assert 0.0 <= report.score <= 1.0


@FAST
@given(query=data_models(Query, query=st.sampled_from(["hi", "bye"])))
def test_data_models_fixed_fields(query: Query) -> None:
    assert query.query in ("hi", "bye")


@FAST
@given(seed=st.integers(0, 2**31), which=st.sampled_from(range(len(SCHEMAS))), text=st.text())
def test_schema_lm_replies_always_validate(seed: int, which: int, text: str) -> None:
    schema = SCHEMAS[which]
    double = synatest.SchemaLM(seed=seed)
    reply = double.reply_for(structured_request(schema, text))
    jsonschema.Draft202012Validator(schema).validate(reply)


async def test_schema_lm_validates_for_synalinks_generator_schemas() -> None:
    """The schemas Generators really send: ChainOfThought adds `thinking`, Decision an enum."""
    router = Router()
    double = synatest.SchemaLM(seed=7).install(router)
    from synatest.seam import use_router

    lm = synalinks.LanguageModel(model="openai/gpt-4o-mini")
    inputs = synalinks.Input(data_model=Query)
    report = await synalinks.ChainOfThought(data_model=Report, language_model=lm)(inputs)
    decision = await synalinks.Decision(
        question="Is it urgent?", labels=["urgent", "later"], language_model=lm
    )(inputs)
    program = synalinks.Program(inputs=inputs, outputs=[report, decision])
    with use_router(router):
        outputs = await program(Query(query="Server down"))
    assert len(double.calls) == 2
    for request, reply in double.calls:
        jsonschema.Draft202012Validator(request.schema).validate(reply)
    assert outputs[1].get("choice") in ("urgent", "later")
    assert Report(**{k: v for k, v in outputs[0].get_json().items() if k != "thinking"})


def test_schema_lm_is_deterministic_per_seed_and_content() -> None:
    schema = Report.get_schema()
    a = synatest.SchemaLM(seed=1).reply_for(structured_request(schema, "x"))
    b = synatest.SchemaLM(seed=1).reply_for(structured_request(schema, "x"))
    c = synatest.SchemaLM(seed=2).reply_for(structured_request(schema, "x"))
    assert a == b
    assert a != c


async def test_schema_lm_calls_each_tool_once_then_answers() -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": name,
                "parameters": {
                    "type": "object",
                    "properties": {"expression": {"type": "string"}},
                    "required": ["expression"],
                },
            },
        }
        for name in ("calculate", "search")
    ]
    messages: list[dict[str, Any]] = [{"role": "user", "content": "2+2?"}]
    double = synatest.SchemaLM(seed=3, text="All done.")
    router = Router()
    double.install(router)
    first = await router.dispatch(
        LMRequest("completion", {"model": "openai/x", "messages": messages, "tools": tools})
    )
    calls = first.choices[0].message.tool_calls
    assert [c.function.name for c in calls] == ["calculate", "search"]
    assert all("expression" in json.loads(c.function.arguments) for c in calls)
    messages.append(first.choices[0].message.model_dump())
    second = await router.dispatch(
        LMRequest("completion", {"model": "openai/x", "messages": messages, "tools": tools})
    )
    assert second.choices[0].message.tool_calls is None
    assert second.choices[0].message.content == "All done."


def test_from_schema_errors_name_the_problem() -> None:
    with pytest.raises(UnsupportedSchema, match="only local \\$ref are supported"):
        from_schema({"$ref": "http://example.com/s.json"})
    with pytest.raises(UnsupportedSchema, match="does not resolve in the schema"):
        from_schema({"$ref": "#/$defs/Missing", "$defs": {}})
    with pytest.raises(UnsupportedSchema, match="unknown JSON schema type 'decimal'"):
        from_schema({"type": "decimal"})
    with pytest.raises(TypeError, match="data_models\\(\\) takes a Synalinks DataModel class"):
        data_models(dict)
    with pytest.raises(TypeError, match="Query has no field\\(s\\) \\['nope'\\]"):
        data_models(Query, nope=1)


def test_strategies_module_is_public_both_ways() -> None:
    import synatest.strategies as module

    assert synatest.strategies is module
    assert module.data_models is data_models


def test_hash_embeddings_are_deterministic_unit_vectors() -> None:
    emb = synatest.HashEmbeddings(dim=32)
    a, b = emb.embed("The cat sat on the mat"), emb.embed("the CAT sat on the mat")
    assert a == b
    assert math.isclose(sum(v * v for v in a), 1.0)
    unrelated = emb.embed("quantum chromodynamics lecture")
    related = emb.embed("the cat sat")
    cos = lambda x, y: sum(i * j for i, j in zip(x, y, strict=True))  # noqa: E731
    assert cos(a, related) > cos(a, unrelated)
    assert emb.embed("") == [1.0] + [0.0] * 31
    with pytest.raises(ValueError, match="dim must be at least 2"):
        synatest.HashEmbeddings(dim=1)


async def test_hash_embeddings_serve_an_embedding_model() -> None:
    from synatest.seam import use_router

    router = Router()
    emb = synatest.HashEmbeddings(dim=16).install(router)
    model = synalinks.EmbeddingModel(model="openai/text-embedding-3-small")
    from synalinks.src.backend.pydantic.base import EmbeddingRequest

    with use_router(router):
        result = await model(EmbeddingRequest(texts=["hello world", "bye"]))
    vectors = result.get("embeddings")
    assert len(vectors) == 2 and len(vectors[0]) == 16
    assert vectors[0] == emb.embed("hello world")


async def test_a_streaming_generator_drains_a_scripted_stream() -> None:
    """Synalinks' own streaming path consumes the ModelResponseStream chunks."""
    from synatest.seam import use_router

    router = Router()
    scripted = synatest.ScriptedLM("Paris is the capital of France.").install(router)
    lm = synalinks.LanguageModel(model="openai/gpt-4o-mini")
    inputs = synalinks.Input(data_model=Query)
    outputs = await synalinks.Generator(language_model=lm, streaming=True)(inputs)
    program = synalinks.Program(inputs=inputs, outputs=outputs)
    with use_router(router):
        stream = await program(Query(query="Capital of France?"))
        message = await stream.aconsume()
    assert message.get("content") == "Paris is the capital of France."
    assert scripted.calls[0].request.stream


def test_every_public_name_resolves() -> None:
    for name in synatest.__all__:
        assert getattr(synatest, name) is not None, name
