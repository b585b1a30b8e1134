"""Replies to decision-model calls (``DecisionModel`` -> ``litellm.asystemone``).

A double answers a decision call with the plain value of each question, keyed by
question id (the fields of the program's output DataModel): ``True``/``False`` for
a yes/no (``noul``) question, an option for a choice, a level for a score (the
number of a numeric scale such as ``synalinks.Rating``, else the level index). A
DataModel instance with those fields works as well. :func:`decision_response`
turns that into the ``litellm`` ``DecisionsResponse`` the provider would send:
full answers with a probability of 1 for the chosen value, usage and cost.
"""

from __future__ import annotations

import json
from typing import Any

from synatest._questions import score_levels
from synatest.doubles._content import approx_tokens, reply_content
from synatest.errors import InvalidReply
from synatest.seam import LMRequest


def _answer(question_id: str, question: dict[str, Any], value: Any, request: LMRequest) -> Any:
    kind = question.get("type")
    if kind == "noul":
        if not isinstance(value, bool):
            raise _invalid(request, f"{question_id!r} is a yes/no question: answer True or False")
        return {"type": "noul", "noul": 1.0 if value else 0.0}
    if kind == "choice":
        options = [str(option) for option in (question.get("criteria") or {})]
        if str(value) not in options:
            raise _invalid(request, f"{question_id!r} is a choice among {options}: got {value!r}")
        return {
            "type": "choice",
            "choice": str(value),
            "probabilities": {o: 1.0 if o == str(value) else 0.0 for o in options},
            "confidence": 1.0,
        }
    if kind == "score":
        levels = score_levels(question)
        if value not in levels or isinstance(value, bool):
            raise _invalid(request, f"{question_id!r} is a score over {levels}: got {value!r}")
        index = levels.index(value)
        keys = [str(i) for i in range(len(levels))]
        criteria = list(question.get("criteria") or [])
        return {
            "type": "score",
            "score": float(index),
            "legend": dict(zip(keys, criteria, strict=True)),
            "probabilities": {k: 1.0 if k == str(index) else 0.0 for k in keys},
            "confidence": 1.0,
        }
    if isinstance(value, dict) and value.get("type") == kind:
        return value  # a full answer of a question kind synatest does not model
    raise _invalid(request, f"{question_id!r} is a {kind!r} question: give its full answer")


def _invalid(request: LMRequest, why: str) -> InvalidReply:
    return InvalidReply(
        f"cannot answer a decision-model call with this reply: {why}\n"
        f"  request: {request.describe()}"
    )


def decision_response(reply: Any, request: LMRequest) -> Any:
    """The ``DecisionsResponse`` answering ``request`` with ``reply`` (plain values)."""
    from litellm.types.decisions import DecisionsResponse, DecisionsUsage

    content = reply_content(reply)
    try:
        values = json.loads(content) if content is not None else None
    except json.JSONDecodeError:
        values = None
    if not isinstance(values, dict):
        raise _invalid(
            request,
            f"give a dict (or DataModel) of one value per question, not {type(reply).__name__}",
        )
    questions = request.kwargs.get("questions") or {}
    missing = [key for key in questions if key not in values]
    unknown = [key for key in values if key not in questions]
    if missing or unknown:
        raise _invalid(request, f"missing answers {missing}, unknown questions {unknown}")
    answers = {key: _answer(key, questions[key], values[key], request) for key in questions}
    response = DecisionsResponse(
        model=request.model.partition("/")[2] or request.model,
        answers=answers,
        usage=DecisionsUsage(input_tokens=approx_tokens(request.text), output_tokens=len(answers)),
    )
    response.set_hidden_params({"response_cost": 0.0})
    return response
