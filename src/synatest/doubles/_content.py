"""What a reply says, as text: shared by the LM and decision-model replies."""

from __future__ import annotations

import json
from typing import Any


def approx_tokens(text: str) -> int:
    """A deterministic token estimate (4 characters a token), for usage counters."""
    return max(1, (len(text) + 3) // 4) if text else 0


def reply_content(reply: Any) -> str | None:
    """The content string of a structured or plain reply (None for tool calls)."""
    if isinstance(reply, str):
        return reply
    if isinstance(reply, dict):
        return json.dumps(reply)
    get_json = getattr(reply, "get_json", None)
    if callable(get_json):  # a synalinks DataModel or JsonDataModel
        return json.dumps(get_json())
    model_dump = getattr(reply, "model_dump", None)
    if callable(model_dump):
        return json.dumps(model_dump(mode="json"))
    return None
