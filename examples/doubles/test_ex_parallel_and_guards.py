"""Examples 3 and 4: parallel branches, self-consistency, and an input guard.

- Self-consistency: several Generators at temperature > 0 run in parallel, merged
  with ``&``, then a critic Generator picks the final answer. Rules keyed on the
  temperature give each sampler its own reply whatever order they run in.
- Guard: a Decision detects off-topic input; ``^`` (XOR) drops the generator's
  input when the guard fires, and ``|`` returns the warning instead.
"""

from __future__ import annotations

import synalinks
from hypothesis import HealthCheck, given, settings

import synatest


class Query(synalinks.DataModel):
    query: str = synalinks.Field(description="The user query")


class Answer(synalinks.DataModel):
    answer: str = synalinks.Field(description="The answer")


class FinalAnswer(synalinks.DataModel):
    final_answer: str = synalinks.Field(description="The most consistent answer")


class Warning(synalinks.DataModel):
    warning: str = synalinks.Field(description="Why the query is refused")


TEMPERATURES = [0.3, 0.7, 1.0]


@synatest.program
async def self_consistency(language_model):
    inputs = synalinks.Input(data_model=Query)
    samples = [
        await synalinks.Generator(
            data_model=Answer,
            language_model=language_model,
            temperature=t,
            name=f"sampler_{i}",
        )(inputs)
        for i, t in enumerate(TEMPERATURES)
    ]
    merged = samples[0] & samples[1] & samples[2]
    outputs = await synalinks.Generator(
        data_model=FinalAnswer,
        language_model=language_model,
        name="critic",
        instructions="Pick the answer most samples agree on.",
    )(inputs & merged)
    return synalinks.Program(inputs=inputs, outputs=outputs, name="self_consistency")


async def test_samplers_run_in_parallel_then_the_critic_decides(
    self_consistency, scripted_lm, synalinks_trace
):
    for t, answer in zip(TEMPERATURES, ["4", "4", "5"], strict=True):
        scripted_lm.on(where=lambda r, t=t: r.kwargs.get("temperature") == t).reply(
            {"answer": answer}
        )
    scripted_lm.on(schema=FinalAnswer).reply(lambda request: {"final_answer": "4"})
    result = await self_consistency(Query(query="2 + 2?"))
    assert result.get("final_answer") == "4"
    critic_prompt = scripted_lm.calls[-1].text
    assert "'answer_2': '5'" in critic_prompt  # the critic saw every sample
    assert synalinks_trace.names(type="Generator") == [
        "sampler_0",
        "sampler_1",
        "sampler_2",
        "critic",
    ]
    assert [len(c.lm_calls) for c in synalinks_trace.find("Generator")] == [1, 1, 1, 1]


@synatest.program
async def guarded(language_model):
    """Answers cooking queries; refuses others without calling the answer generator."""
    inputs = synalinks.Input(data_model=Query)
    verdict = await synalinks.Decision(
        question="Is the query about cooking?",
        labels=["cooking", "off_topic"],
        language_model=language_model,
        name="guard",
    )(inputs)
    warning = await synalinks.Lambda(
        function=lambda x: (
            {"warning": "I only talk about cooking."} if x.get("choice") == "off_topic" else None
        ),
        data_model=Warning,
        name="warning",
    )(verdict)
    # XOR: the generator gets no input (and does not run) when a warning exists.
    answer = await synalinks.Generator(
        data_model=Answer, language_model=language_model, name="answer"
    )(inputs ^ warning)
    return synalinks.Program(inputs=inputs, outputs=warning | answer, name="guarded")


def script_guard(scripted_lm):
    scripted_lm.on(schema="DecisionAnswer", contains="pasta").reply(
        {"thinking": "food", "choice": "cooking"}
    )
    scripted_lm.on(schema="DecisionAnswer").reply({"thinking": "no", "choice": "off_topic"})
    scripted_lm.on(schema=Answer).reply({"answer": "Boil it for 9 minutes."})


async def test_on_topic_query_reaches_the_generator(guarded, scripted_lm, synalinks_trace):
    script_guard(scripted_lm)
    result = await guarded(Query(query="How long do I cook pasta?"))
    assert result.get("answer") == "Boil it for 9 minutes."
    assert synalinks_trace.called("answer")


async def test_the_guard_bypasses_the_generator(guarded, scripted_lm, synalinks_trace):
    script_guard(scripted_lm)
    result = await guarded(Query(query="Who won the match?"))
    assert result.get("warning") == "I only talk about cooking."
    assert not synalinks_trace.called("answer")
    assert [c.schema_title for c in scripted_lm.calls] == ["DecisionAnswer"]


# The program and double are built once for all examples (reset() clears the script).
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=synatest.strategies.data_models(Query))
async def test_any_query_gets_the_warning_or_an_answer_never_none(query, guarded, scripted_lm):
    """Property test: whatever the input, the guarded program answers something."""
    scripted_lm.reset()
    script_guard(scripted_lm)
    result = await guarded(query)
    assert result is not None
    assert (result.get("warning") is None) != (result.get("answer") is None)
