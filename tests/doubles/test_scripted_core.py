"""ScriptedLM / FunctionLM as plain router layers, without pytest's fixtures."""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

import pytest

import synatest
from synatest import SchemaMismatch, ScriptedLM, ScriptExhausted, UnusedReplies
from synatest.seam import LMRequest, Router

ANSWER_SCHEMA = {
    "title": "Answer",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "answer": {"type": "string"},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "tags": {"type": "array", "items": {"$ref": "#/$defs/Tag"}},
    },
    "required": ["answer"],
    "$defs": {"Tag": {"type": "string", "enum": ["easy", "hard"]}},
}


def request(
    text: str = "hello",
    *,
    schema: dict[str, Any] | None = ANSWER_SCHEMA,
    model: str = "openai/gpt-4o-mini",
    tools: list[str] = (),  # type: ignore[assignment]
) -> LMRequest:
    kwargs: dict[str, Any] = {
        "model": model,
        "messages": [
            {"role": "system", "content": "You are helpful."},
            {"role": "user", "content": text},
        ],
    }
    if schema is not None:
        kwargs["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "structured_output", "schema": schema},
        }
    if tools:
        kwargs["tools"] = [
            {"type": "function", "function": {"name": n, "parameters": {"type": "object"}}}
            for n in tools
        ]
    return LMRequest(kind="completion", kwargs=kwargs, test_id="t.py::test_x")


def router_with(*layers: Any) -> Router:
    router = Router(test_id="t.py::test_x")
    for layer in layers:
        layer.install(router)
    return router


def content(response: Any) -> Any:
    return json.loads(response.choices[0].message.content)


async def test_queue_answers_in_call_order_and_records_calls() -> None:
    lm = ScriptedLM({"answer": "one"}, {"answer": "two"})
    router = router_with(lm)
    first = await router.dispatch(request("q1"))
    second = await router.dispatch(request("q2"))
    assert content(first) == {"answer": "one"}
    assert content(second) == {"answer": "two"}
    assert [c.last_user_message for c in lm.calls] == ["q1", "q2"]
    assert lm.calls[0].reply == {"answer": "one"}
    assert lm.calls[0].schema == ANSWER_SCHEMA
    assert lm.calls[0].model == "openai/gpt-4o-mini"
    assert lm.calls[0].source == "queue #1"
    assert lm.calls[0].messages[1]["content"] == "q1"
    router.run_checks()  # everything used


async def test_response_is_litellm_model_response_with_usage() -> None:
    from litellm import ModelResponse

    router = router_with(ScriptedLM({"answer": "x"}))
    response = await router.dispatch(request("count my tokens"))
    assert isinstance(response, ModelResponse)
    assert response.usage.prompt_tokens > 0
    assert response.usage.total_tokens == (
        response.usage.prompt_tokens + response.usage.completion_tokens
    )
    assert response._hidden_params["response_cost"] == 0.0


async def test_rules_win_over_queue_and_match_on_content() -> None:
    lm = ScriptedLM({"answer": "queued"})
    lm.on(contains="France").reply({"answer": "Paris"})
    lm.on(contains=["Italy", "capital"]).reply({"answer": "Rome"}, times=1)
    router = router_with(lm)
    assert content(await router.dispatch(request("capital of France?"))) == {"answer": "Paris"}
    assert content(await router.dispatch(request("capital of Italy?"))) == {"answer": "Rome"}
    # The Italy rule is used up: the queue answers.
    assert content(await router.dispatch(request("capital of Italy?"))) == {"answer": "queued"}
    assert content(await router.dispatch(request("France again"))) == {"answer": "Paris"}
    assert lm.calls[0].source == "rule on(contains='France')"
    router.run_checks()


async def test_rule_filters_schema_model_where_and_tools() -> None:
    lm = ScriptedLM()
    lm.on(schema="Other").reply({"x": 1})
    lm.on(model="ollama/*").reply({"answer": "local"})
    lm.on(where=lambda r: r.last_user_message.endswith("?")).reply({"answer": "question"})
    lm.on(tools="search").reply(synatest.tool_call("search", q="x"))
    lm.on(schema="Answer").reply({"answer": "by schema"})
    router = router_with(lm)
    assert content(await router.dispatch(request("hi", model="ollama/llama3"))) == {
        "answer": "local"
    }
    assert content(await router.dispatch(request("why?"))) == {"answer": "question"}
    tool_response = await router.dispatch(request("look", schema=None, tools=["search"]))
    call = tool_response.choices[0].message.tool_calls[0]
    assert (call.function.name, json.loads(call.function.arguments)) == ("search", {"q": "x"})
    assert content(await router.dispatch(request("plain"))) == {"answer": "by schema"}


async def test_schema_rule_accepts_a_datamodel_class_by_its_fields() -> None:
    class Answer:  # duck-typed like a DataModel: get_schema()
        @staticmethod
        def get_schema() -> dict[str, Any]:
            return {"title": "Answer", "properties": {"answer": {"type": "string"}}}

    lm = ScriptedLM()
    lm.on(schema=Answer).reply({"answer": "yes"})
    router = router_with(lm)
    thinking_schema = {
        **ANSWER_SCHEMA,
        "title": "Thinking",
        "properties": {**ANSWER_SCHEMA["properties"], "thinking": {"type": "string"}},
    }
    response = await router.dispatch(request("q", schema=thinking_schema))
    assert content(response) == {"answer": "yes"}


def test_schema_rule_rejects_other_types() -> None:
    with pytest.raises(TypeError, match=r"on\(schema=\.\.\.\) takes a schema title"):
        ScriptedLM().on(schema=42)


async def test_rule_with_several_replies_uses_each_once_in_order() -> None:
    lm = ScriptedLM()
    lm.on(contains="step").reply({"answer": "a"}, {"answer": "b"})
    router = router_with(lm)
    answers = [content(await router.dispatch(request("step")))["answer"] for _ in range(2)]
    assert answers == ["a", "b"]
    with pytest.raises(ScriptExhausted):
        await router.dispatch(request("step"))


def test_reply_argument_errors() -> None:
    with pytest.raises(TypeError, match=r"reply\(\) needs a reply"):
        ScriptedLM().on(contains="x").reply()
    with pytest.raises(ValueError, match="times must be a positive number"):
        ScriptedLM().on(contains="x").reply({"a": 1}, times=0)
    with pytest.raises(ValueError, match="2 replies given with times=3"):
        ScriptedLM().on(contains="x").reply({"a": 1}, {"a": 2}, times=3)


async def test_callable_reply_receives_the_request() -> None:
    lm = ScriptedLM(lambda req: {"answer": req.last_user_message.upper()})
    router = router_with(lm)
    assert content(await router.dispatch(request("shout"))) == {"answer": "SHOUT"}
    assert lm.calls[0].reply == {"answer": "SHOUT"}


async def test_plain_text_and_datamodel_like_replies() -> None:
    class Model:
        def get_json(self) -> dict[str, Any]:
            return {"answer": "from model"}

    router = router_with(ScriptedLM("just text", Model()))
    text = await router.dispatch(request("x", schema=None))
    assert text.choices[0].message.content == "just text"
    assert content(await router.dispatch(request("y"))) == {"answer": "from model"}


async def test_exception_reply_is_raised_as_the_provider_error() -> None:
    boom = ConnectionError("provider down")
    router = router_with(ScriptedLM(boom))
    with pytest.raises(ConnectionError, match="provider down"):
        await router.dispatch(request("x"))


async def test_unusable_reply_type_says_what_to_give() -> None:
    router = router_with(ScriptedLM(object()))
    with pytest.raises(synatest.InvalidReply, match="cannot use object as an LM reply: give a"):
        await router.dispatch(request("x", schema=None))


async def test_embedding_reply_must_be_one_vector_per_text() -> None:
    router = router_with(synatest.FunctionLM(lambda r: [[0.1, 0.2]], kinds=("embedding",)))
    req = LMRequest("embedding", {"model": "openai/e", "input": ["a", "b"]})
    with pytest.raises(synatest.InvalidReply, match=r"returned 1 vector\(s\) for 2 input"):
        await router.dispatch(req)
    router = router_with(synatest.FunctionLM(lambda r: ["nope", "x"], kinds=("embedding",)))
    with pytest.raises(synatest.InvalidReply, match="an embedding reply is a list of vectors"):
        await router.dispatch(req)


async def test_script_exhausted_names_the_request_and_how_to_script_it() -> None:
    lm = ScriptedLM({"answer": "only one"})
    lm.on(contains="never").reply({"answer": "n"})
    router = router_with(lm)
    await router.dispatch(request("first question"))
    with pytest.raises(ScriptExhausted) as info:
        await router.dispatch(request("second question"))
    message = str(info.value)
    assert "ScriptedLM has no reply for LM call #2" in message
    assert "(1 queued reply already used)" in message
    assert (
        "request: model='openai/gpt-4o-mini', schema='Answer', "
        "last user message: 'second question'" in message
    )
    assert "test: t.py::test_x" in message
    assert "rule on(contains='never'): does not match" in message
    assert "1. model='openai/gpt-4o-mini'" in message
    assert "scripted_lm.add(reply)" in message
    assert "passthrough=True" in message


async def test_script_exhausted_explains_a_retried_request() -> None:
    router = router_with(ScriptedLM({"answer": "x"}))
    first = request("q")
    await router.dispatch(first)
    retry = LMRequest(kind="completion", kwargs=dict(first.kwargs))  # same messages list
    with pytest.raises(ScriptExhausted, match=r"This request repeats call #1 \(same messages\)"):
        await router.dispatch(retry)


async def test_passthrough_hands_unscripted_requests_to_the_next_layer() -> None:
    lm = ScriptedLM(passthrough=True)
    fallback = synatest.FunctionLM(lambda req: {"answer": "fallback"})
    router = router_with(lm, fallback)
    assert content(await router.dispatch(request("x"))) == {"answer": "fallback"}
    assert lm.calls == []


async def test_unused_replies_fail_the_end_of_test_check() -> None:
    lm = ScriptedLM({"answer": "used"}, {"answer": "left over"})
    lm.on(contains="never").reply({"answer": "n"}, times=2)
    lm.on(contains="any").reply({"answer": "unlimited rules are not required"})
    router = router_with(lm)
    await router.dispatch(request("q"))
    with pytest.raises(UnusedReplies) as info:
        router.run_checks()
    message = str(info.value)
    assert "ScriptedLM: 2 scripted replies were never used" in message
    assert "the program made 1 LM call(s), fewer than scripted" in message
    assert "queued reply #2: {'answer': 'left over'}" in message
    assert "rule on(contains='never'): 2 of 2 use(s) left" in message
    assert "allow_unused=True" in message
    assert "unlimited" not in message


def test_allow_unused_turns_the_check_off() -> None:
    ScriptedLM({"answer": "never used"}, allow_unused=True).check()


async def test_schema_mismatch_shows_the_failing_path() -> None:
    router = router_with(ScriptedLM({"anwser": "typo", "tags": ["easy", "medium"]}))
    with pytest.raises(SchemaMismatch) as info:
        await router.dispatch(request("what?"))
    message = str(info.value)
    assert "ScriptedLM (queue #1) reply does not match the schema" in message
    assert "(Answer)" in message
    assert "last user message: 'what?'" in message
    assert "$: 'answer' is a required property" in message
    assert "$: Additional properties are not allowed ('anwser' was unexpected)" in message
    assert "$.tags[1]: 'medium' is not one of ['easy', 'hard']" in message
    assert "the schema's fields: answer, confidence, tags" in message
    assert "strict=False" in message


async def test_schema_mismatch_for_a_reply_that_is_not_json() -> None:
    router = router_with(ScriptedLM("not json at all"))
    with pytest.raises(SchemaMismatch, match=r"\$: the reply is not JSON \(Expecting value"):
        await router.dispatch(request("q"))


async def test_strict_false_sends_invalid_replies_unchecked() -> None:
    router = router_with(ScriptedLM({"wrong": 1}, strict=False))
    assert content(await router.dispatch(request("q"))) == {"wrong": 1}


async def test_function_lm_checks_schema_and_can_pass_on() -> None:
    seen: list[str] = []

    def reply(req: LMRequest) -> Any:
        seen.append(req.last_user_message)
        if "skip" in req.last_user_message:
            return NotImplemented
        return {"answer": 3}  # not a string

    router = router_with(synatest.FunctionLM(reply), ScriptedLM({"answer": "next"}))
    assert content(await router.dispatch(request("skip me"))) == {"answer": "next"}
    with pytest.raises(SchemaMismatch, match=r"FunctionLM reply .*\n.*\n  - \$.answer: 3 is not"):
        await router.dispatch(request("go"))
    assert seen == ["skip me", "go"]


async def test_gathered_calls_take_queued_replies_in_call_start_order() -> None:
    """Completion order is shuffled; replies follow the order the calls started."""
    lm = ScriptedLM(*({"answer": str(i)} for i in range(20)))
    router = router_with(lm)
    delays = list(range(20))
    random.Random(4).shuffle(delays)

    async def one(i: int) -> str:
        response = await router.dispatch(request(f"question {i}"))
        await asyncio.sleep(delays[i] / 1000)  # finish in a shuffled order
        return str(content(response)["answer"])

    answers = await asyncio.gather(*(one(i) for i in range(20)))
    assert answers == [str(i) for i in range(20)]


async def test_gathered_calls_get_content_rules_whatever_the_order() -> None:
    lm = ScriptedLM()
    for i in range(10):
        lm.on(contains=f"<{i}>").reply({"answer": f"a{i}"})
    router = router_with(lm)
    order = list(range(10))
    results = {}
    for seed in range(3):
        random.Random(seed).shuffle(order)

        async def one(i: int, seed: int = seed) -> tuple[int, str]:
            await asyncio.sleep(random.Random(i + seed).random() / 200)  # start shuffled
            response = await router.dispatch(request(f"item <{i}>"))
            return i, str(content(response)["answer"])

        results[seed] = dict(await asyncio.gather(*(one(i) for i in order)))
    assert results[0] == results[1] == results[2] == {i: f"a{i}" for i in range(10)}


async def test_fresh_copies_the_script_without_the_calls() -> None:
    lm = ScriptedLM({"answer": "q"})
    lm.on(contains="r").reply({"answer": "rule"}, times=1)
    copy = lm.fresh()
    router = router_with(copy)
    assert content(await router.dispatch(request("r"))) == {"answer": "rule"}
    assert content(await router.dispatch(request("x"))) == {"answer": "q"}
    assert lm.calls == [] and len(copy.calls) == 2
    assert lm.unused()  # the original is untouched


def test_use_lm_installs_into_the_router_in_force() -> None:
    from synatest.seam import use_router

    router = Router()
    with use_router(router):
        lm = synatest.use_lm(ScriptedLM(), synatest.HashEmbeddings(dim=8))
    assert isinstance(lm, ScriptedLM)
    assert [name for name, _ in router.layers] == ["ScriptedLM", "HashEmbeddings"]
    with pytest.raises(TypeError, match=r"use_lm\(\) needs at least one double"):
        synatest.use_lm()
    with pytest.raises(TypeError, match=r"use_lm\(\) takes doubles .* not int"):
        synatest.use_lm(3, router=router)


async def test_streaming_requests_get_a_stream_of_chunks() -> None:
    router = router_with(ScriptedLM("one two three four five"))
    req = request("stream it", schema=None)
    req.kwargs["stream"] = True
    stream = await router.dispatch(req)
    pieces = [chunk.choices[0].delta.content async for chunk in stream]
    assert "".join(p for p in pieces if p) == "one two three four five"
