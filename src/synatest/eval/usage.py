"""A router layer counting LM calls, tokens and cost: of one example, or of a training run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from synatest.seam import CallNext, LMRequest

if TYPE_CHECKING:  # pydantic: imported when a result is built, not with eval mode
    from synatest.eval.results import Usage


def _field(obj: Any, name: str) -> Any:
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def response_usage(response: Any) -> tuple[int, int, float]:
    """(prompt tokens, completion tokens, cost) of a litellm response, as reported:
    its ``usage`` and ``_hidden_params["response_cost"]`` (doubles and cassettes fill
    them in too)."""
    usage = _field(response, "usage")
    prompt = completion = 0
    if usage is not None:
        prompt = int(_field(usage, "prompt_tokens") or 0)
        completion = int(_field(usage, "completion_tokens") or 0)
    hidden = getattr(response, "_hidden_params", None) or {}
    cost = hidden.get("response_cost") if isinstance(hidden, dict) else None
    return prompt, completion, float(cost or 0.0)


class UsageMeter:
    """Counts every call that passes through it (first in the chain: all of them).

    Calls are counted when they start (a budget is about calls made, answered or
    not); tokens and cost when the response arrives, from litellm's ``usage`` and
    ``_hidden_params["response_cost"]`` (what doubles and cassettes fill in too).
    """

    def __init__(self) -> None:
        self.models: set[str] = set()
        self.calls = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.cost = 0.0

    async def __call__(self, request: LMRequest, call_next: CallNext) -> Any:
        self.calls += 1
        self.models.add(request.model)
        response = await call_next(request)
        prompt, completion, cost = response_usage(response)
        self.prompt_tokens += prompt
        self.completion_tokens += completion
        self.cost += cost
        return response

    def usage(self) -> Usage:
        from synatest.eval.results import Usage

        return Usage(
            calls=self.calls,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            cost=self.cost,
        )

    def restore(self, usage: Usage) -> None:
        """Continue counting from a previous run's totals (``--resume``)."""
        self.calls = usage.calls
        self.prompt_tokens = usage.prompt_tokens
        self.completion_tokens = usage.completion_tokens
        self.cost = usage.cost
