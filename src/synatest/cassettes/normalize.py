"""What a recorded request is matched on: a normalized, scrubbed copy of litellm's kwargs.

Only an allowlist of fields takes part (model, messages, tools, tool_choice,
response_format, sampling parameters; for embeddings: model, input, dimensions,
encoding_format); other kinds (decision-model calls) keep every field but those whose
name looks like a credential. Secrets, timeouts, headers, ``api_base`` (unless asked for),
``cache_control`` markers and generated tool-call ids never do. User scrubbers then
replace volatile text (timestamps, uuids, temp paths) in every string value.

Normalizing is idempotent, so a stored request re-normalizes to itself: the lookup
key is recomputed from the file on load and hand-edited cassettes keep matching.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from synatest.cassettes.secrets import secret_name

COMPLETION_FIELDS: tuple[str, ...] = (
    "model",
    "messages",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "functions",
    "function_call",
    "response_format",
    "stream",
    "temperature",
    "top_p",
    "top_k",
    "n",
    "stop",
    "max_tokens",
    "max_completion_tokens",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "seed",
    "reasoning_effort",
    "thinking",
    "modalities",
    "audio",
    "prediction",
    "web_search_options",
)
EMBEDDING_FIELDS: tuple[str, ...] = ("model", "input", "dimensions", "encoding_format")

# Never part of a key, whatever the kind: credentials, transport and bookkeeping.
EXCLUDED_FIELDS: frozenset[str] = frozenset(
    {
        "api_key",
        "api_base",
        "base_url",
        "api_version",
        "organization",
        "timeout",
        "request_timeout",
        "headers",
        "extra_headers",
        "metadata",
        "caching",
        "num_retries",
        "max_retries",
        "user",
        "mock_response",
        "litellm_logging_obj",
        "stream_options",
    }
)


@dataclass(frozen=True)
class Scrubber:
    """Replace every match of ``pattern`` in request strings by ``replacement``.

    ``Scrubber(r"\\d{4}-\\d{2}-\\d{2}", "<date>")``. The replacement should not
    itself match the pattern (scrubbing must be idempotent).
    """

    pattern: str | re.Pattern[str]
    replacement: str

    @property
    def regex(self) -> re.Pattern[str]:
        if isinstance(self.pattern, re.Pattern):
            return self.pattern
        return re.compile(self.pattern)

    def __call__(self, text: str) -> str:
        return self.regex.sub(self.replacement, text)


UUID = Scrubber(
    r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b", "<uuid>"
)
ISO_TIMESTAMP = Scrubber(
    r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?", "<timestamp>"
)
TEMP_PATH = Scrubber(
    re.escape(tempfile.gettempdir().rstrip("/\\")) + r"[/\\][^\s\"'<>]*", "<tmp-path>"
)
BUILTIN_SCRUBBERS: dict[str, Scrubber] = {
    "uuid": UUID,
    "timestamp": ISO_TIMESTAMP,
    "temp_path": TEMP_PATH,
}

# Session-wide scrubbers added from a conftest with :func:`register_scrubber`.
_REGISTERED: list[Scrubber] = []


def register_scrubber(pattern: str | re.Pattern[str] | Scrubber, replacement: str = "") -> Scrubber:
    """Scrub ``pattern`` from the requests of every test (call it from a conftest)."""
    scrubber = as_scrubber(pattern, replacement)
    if scrubber not in _REGISTERED:
        _REGISTERED.append(scrubber)
    return scrubber


def registered_scrubbers() -> list[Scrubber]:
    return list(_REGISTERED)


def clear_registered_scrubbers() -> None:
    _REGISTERED.clear()


def as_scrubber(value: Any, replacement: str | None = None) -> Scrubber:
    """A :class:`Scrubber` from a Scrubber, a builtin name, a pattern or a (pattern, repl) pair."""
    if isinstance(value, Scrubber):
        return value
    if isinstance(value, str) and replacement is None and value in BUILTIN_SCRUBBERS:
        return BUILTIN_SCRUBBERS[value]
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return Scrubber(value[0], str(value[1]))
    if isinstance(value, (str, re.Pattern)):
        return Scrubber(value, "<scrubbed>" if replacement is None else replacement)
    raise TypeError(
        f"cannot use {value!r} as a scrubber: give a synatest.cassettes.Scrubber, one of "
        f"{sorted(BUILTIN_SCRUBBERS)}, a regex, or a (regex, replacement) pair"
    )


def jsonable(value: Any) -> Any:
    """Plain JSON data (dict/list/str/int/float/bool/None) from litellm kwargs."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    model_dump = getattr(value, "model_dump", None)
    if callable(model_dump):
        return jsonable(model_dump(mode="json", exclude_none=True))
    if isinstance(value, type):  # e.g. a pydantic class as response_format
        schema = getattr(value, "model_json_schema", None)
        if callable(schema):
            return {"type": "json_schema", "json_schema": {"schema": jsonable(schema())}}
    return str(value)


def _drop(value: Any, key: str) -> Any:
    """``value`` without any ``key`` entry at any depth (e.g. ``cache_control``)."""
    if isinstance(value, dict):
        return {k: _drop(v, key) for k, v in value.items() if k != key}
    if isinstance(value, list):
        return [_drop(v, key) for v in value]
    return value


def _renumber_tool_call_ids(messages: list[Any]) -> list[Any]:
    """Provider-generated tool-call ids become ``call_1``, ``call_2``... by first appearance."""
    ids: dict[str, str] = {}

    def alias(raw: Any) -> Any:
        if not isinstance(raw, str):
            return raw
        if raw not in ids:
            ids[raw] = f"call_{len(ids) + 1}"
        return ids[raw]

    out = []
    for original in messages:
        if not isinstance(original, dict):
            out.append(original)
            continue
        message = dict(original)
        calls = message.get("tool_calls")
        if isinstance(calls, list):
            message["tool_calls"] = [
                {**call, "id": alias(call["id"])}
                if isinstance(call, dict) and "id" in call
                else call
                for call in calls
            ]
        if "tool_call_id" in message:
            message["tool_call_id"] = alias(message["tool_call_id"])
        out.append(message)
    return out


def _scrub(value: Any, scrubbers: Sequence[Scrubber]) -> Any:
    if isinstance(value, str):
        for scrubber in scrubbers:
            value = scrubber(value)
        return value
    if isinstance(value, dict):
        return {k: _scrub(v, scrubbers) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, scrubbers) for v in value]
    return value


def fields_for(kind: str) -> tuple[str, ...] | None:
    """The allowlist of a request kind (None: every field not excluded)."""
    if kind == "completion":
        return COMPLETION_FIELDS
    if kind == "embedding":
        return EMBEDDING_FIELDS
    return None


def normalize(
    kind: str,
    kwargs: Mapping[str, Any],
    *,
    scrubbers: Iterable[Scrubber] = (),
    match_api_base: bool = False,
    only: Iterable[str] | None = None,
) -> dict[str, Any]:
    """The part of a request that identifies it, as plain sorted JSON data.

    ``only`` narrows the allowlist further: a cassette imported from Synalinks traces
    holds only what the trace recorded (model and messages), so its requests are
    matched on those fields alone.
    """
    allow = fields_for(kind)
    if only is not None:
        kept = set(only)
        allow = tuple(name for name in (allow or kept) if name in kept)
    out: dict[str, Any] = {}
    for name, value in kwargs.items():
        if value is None:
            continue
        if allow is not None and name not in allow:
            if not (match_api_base and name in ("api_base", "base_url")):
                continue
        elif name in EXCLUDED_FIELDS and not (match_api_base and name in ("api_base",)):
            continue
        elif allow is None and secret_name(name):
            continue  # aws_secret_access_key=, vertex_credentials=, azure_ad_token=...
        if name == "stream" and not value:
            continue  # stream=False and no stream are the same request
        out[name] = jsonable(value)
    if kind == "embedding" and isinstance(out.get("input"), str):
        out["input"] = [out["input"]]
    if "base_url" in out:
        out["api_base"] = out.pop("base_url")
    if isinstance(out.get("api_base"), str):
        out["api_base"] = out["api_base"].rstrip("/")
    for name in ("messages", "tools"):
        if isinstance(out.get(name), list):
            out[name] = _drop(out[name], "cache_control")
    if isinstance(out.get("messages"), list):
        out["messages"] = _renumber_tool_call_ids(out["messages"])
    scrubbers = list(scrubbers)
    if scrubbers:
        out = _scrub(out, scrubbers)
    return {k: out[k] for k in sorted(out)}


def canonical(normalized: Mapping[str, Any]) -> str:
    """Canonical JSON text of a normalized request (sorted keys, no spaces)."""
    return json.dumps(normalized, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def request_key(kind: str, normalized: Mapping[str, Any]) -> bytes:
    """The O(1) lookup key of a normalized request."""
    digest = hashlib.blake2b(kind.encode(), digest_size=16)
    digest.update(b"\0")
    digest.update(canonical(normalized).encode("utf-8", "surrogatepass"))
    return digest.digest()
