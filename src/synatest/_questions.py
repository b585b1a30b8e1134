"""The questions of a decision-model call (``litellm.asystemone``), as a JSON schema.

A ``DecisionModel`` does not send an output schema: it sends ``questions``, one per
field of the program's output DataModel (``{"is_refund": {"type": "noul", ...},
"team": {"type": "choice", "criteria": {"billing": None, ...}}, ...}``). Doubles
answer them with the plain value of each field, so the questions are seen as the
JSON schema of that reply:

- ``noul`` (yes/no) -> ``boolean``;
- ``choice`` -> ``enum`` of its options;
- ``score`` -> ``enum`` of its levels: the numbers of a numeric scale
  (``synalinks.Rating`` -> 1..5), otherwise the level index (0 = lowest).

Plain data only, nothing imported: the seam uses it for matching and messages.
"""

from __future__ import annotations

from typing import Any

TITLE = "DecisionQuestions"


def _number(text: Any) -> float | int | None:
    if isinstance(text, bool):
        return None
    if isinstance(text, (int, float)):
        return text
    try:
        value = float(str(text))
    except ValueError:
        return None
    return int(value) if value.is_integer() else value


def score_levels(question: dict[str, Any]) -> list[Any]:
    """The values a score question is answered with (see the module docstring)."""
    criteria = list(question.get("criteria") or [])
    numbers = [_number(level) for level in criteria]
    if criteria and all(n is not None for n in numbers):
        return numbers
    return list(range(len(criteria)))


def question_schema(question: dict[str, Any]) -> dict[str, Any]:
    """The JSON schema of the plain answer to one question."""
    kind = question.get("type")
    schema: dict[str, Any]
    if kind == "noul":
        schema = {"type": "boolean"}
    elif kind == "choice":
        schema = {"enum": [str(option) for option in (question.get("criteria") or {})]}
    elif kind == "score":
        schema = {"enum": score_levels(question)}
    else:
        schema = {}  # a kind this synatest does not know (e.g. "box"): anything
    instructions = question.get("instructions")
    if isinstance(instructions, str):
        schema["description"] = instructions
    return schema


def questions_schema(questions: Any) -> dict[str, Any] | None:
    """The JSON schema of a whole reply to ``questions`` (None when there are none)."""
    if not isinstance(questions, dict) or not questions:
        return None
    properties = {
        str(key): question_schema(q if isinstance(q, dict) else {}) for key, q in questions.items()
    }
    return {
        "title": TITLE,
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }
