"""What a request is matched on: the allowlist, exclusions, ids, scrubbers; idempotence."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synatest.cassettes import normalize as norm
from synatest.cassettes.normalize import Scrubber, as_scrubber, normalize, request_key

MESSAGES = [{"role": "user", "content": "hi"}]


def test_secrets_transport_and_bookkeeping_are_not_part_of_the_request() -> None:
    kwargs = {
        "model": "openai/gpt-4o-mini",
        "messages": MESSAGES,
        "api_key": "sk-should-never-appear",
        "api_base": "http://127.0.0.1:1/v1",
        "timeout": 600,
        "caching": False,
        "extra_headers": {"Authorization": "Bearer x"},
        "temperature": 0.2,
        "stream": False,
        "seed": None,
    }
    assert normalize("completion", kwargs) == {
        "messages": MESSAGES,
        "model": "openai/gpt-4o-mini",
        "temperature": 0.2,
    }


def test_api_base_is_matched_only_when_asked_for() -> None:
    kwargs = {"model": "m", "messages": MESSAGES, "api_base": "http://h/v1/"}
    assert "api_base" not in normalize("completion", kwargs)
    assert normalize("completion", kwargs, match_api_base=True)["api_base"] == "http://h/v1"


def test_cache_control_and_generated_tool_call_ids_are_normalized() -> None:
    def conversation(call_id: str) -> list[dict[str, object]]:
        return [
            {
                "role": "system",
                "content": [{"type": "text", "text": "sys", "cache_control": {"type": "x"}}],
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": call_id, "type": "function", "function": {"name": "f"}}],
            },
            {"role": "tool", "tool_call_id": call_id, "content": "42"},
        ]

    a = normalize("completion", {"model": "m", "messages": conversation("call_abc123")})
    b = normalize("completion", {"model": "m", "messages": conversation("toolu_zz9")})
    assert a == b
    assert a["messages"][1]["tool_calls"][0]["id"] == "call_1"
    assert a["messages"][2]["tool_call_id"] == "call_1"
    assert "cache_control" not in str(a)


def test_embedding_requests_match_on_input_and_dimensions() -> None:
    one = normalize("embedding", {"model": "e", "input": "a", "api_key": "k", "dimensions": 8})
    assert one == {"dimensions": 8, "input": ["a"], "model": "e"}
    assert request_key("embedding", one) == request_key(
        "embedding", normalize("embedding", {"model": "e", "input": ["a"], "dimensions": 8})
    )
    assert request_key("embedding", one) != request_key("completion", one)


def test_builtin_and_custom_scrubbers_replace_volatile_text() -> None:
    text = (
        "run 123e4567-e89b-12d3-a456-426614174000 at 2026-11-21T08:00:01Z "
        f"in {norm.tempfile.gettempdir()}/pytest-of-root/x1/data.csv, order #991"
    )
    scrubbers = [norm.UUID, norm.ISO_TIMESTAMP, norm.TEMP_PATH, Scrubber(r"#\d+", "#<n>")]
    out = normalize(
        "completion",
        {"model": "m", "messages": [{"role": "user", "content": text}]},
        scrubbers=scrubbers,
    )
    assert out["messages"][0]["content"] == ("run <uuid> at <timestamp> in <tmp-path> order #<n>")


def test_as_scrubber_accepts_names_patterns_and_pairs_and_explains_the_rest() -> None:
    assert as_scrubber("uuid") is norm.UUID
    assert as_scrubber((r"\d+", "<n>"))("a1b22") == "a<n>b<n>"
    assert as_scrubber(re.compile("x"))("axb") == "a<scrubbed>b"
    with pytest.raises(TypeError, match="cannot use 42 as a scrubber"):
        as_scrubber(42)


def test_registered_scrubbers_are_kept_once() -> None:
    norm.clear_registered_scrubbers()
    try:
        norm.register_scrubber(r"\d+", "<n>")
        norm.register_scrubber(r"\d+", "<n>")
        assert norm.registered_scrubbers() == [Scrubber(r"\d+", "<n>")]
    finally:
        norm.clear_registered_scrubbers()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
messages = st.lists(
    st.fixed_dictionaries(
        {"role": st.sampled_from(["system", "user", "assistant", "tool"]), "content": st.text()},
        optional={"tool_call_id": st.text(max_size=6), "name": st.text(max_size=6)},
    ),
    max_size=4,
)
completion_kwargs = st.fixed_dictionaries(
    {"model": st.text(min_size=1, max_size=20), "messages": messages},
    optional={
        "temperature": st.floats(0, 2),
        "response_format": json_values,
        "tools": st.lists(json_values, max_size=2),
        "api_key": st.text(),
        "timeout": st.integers(),
        "stream": st.booleans(),
    },
)


@settings(max_examples=150, deadline=None)
@given(completion_kwargs)
def test_normalizing_is_idempotent(kwargs: dict[str, object]) -> None:
    scrubbers = [norm.UUID, Scrubber(r"\d{3,}", "<n>")]
    once = normalize("completion", kwargs, scrubbers=scrubbers)
    assert normalize("completion", once, scrubbers=scrubbers) == once
    assert request_key("completion", once) == request_key(
        "completion", normalize("completion", once, scrubbers=scrubbers)
    )
    assert "api_key" not in once and "timeout" not in once
