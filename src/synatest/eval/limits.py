"""Per-example limits: ``cost_limit``, ``token_limit`` and ``time_limit`` of an eval suite.

A router layer of each example (:class:`ExampleLimits`): it counts the tokens, cost and
time of the run in force, and stops the run with
:class:`~synatest.errors.ExampleLimitExceeded` as soon as one is over its limit -- after
the call that crossed it (that call was paid for), or while a live call is still waiting
when the time runs out. The example is then scored as failed (reward 0) with the limit
named. A replayed call (cassette, prefetch) counts the tokens, cost and latency it had
when it was recorded, so a limit stops the replayed run where the live one stopped.
The judge's calls (the reward scoring the run) count against none of them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from synatest.errors import ExampleLimitExceeded
from synatest.eval.runs import current_run, judging
from synatest.eval.usage import response_usage
from synatest.seam import CallNext, LMRequest, current_router

LIMIT_ARGS = ("cost_limit", "token_limit", "time_limit")


@dataclass
class _Spent:
    """What one run (or one prefetch) used so far."""

    started: float
    tokens: int = 0
    cost: float = 0.0
    calls: int = 0
    replayed_offset_s: float = 0.0  # recorded latency minus replay time of its calls

    def elapsed(self) -> float:
        return time.perf_counter() - self.started + self.replayed_offset_s


@dataclass
class ExampleLimits:
    """The limits of one example's runs; a router layer (outermost but the transcript)."""

    cost: float | None = None
    tokens: int | None = None
    time_s: float | None = None
    _spent: dict[int, _Spent] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> ExampleLimits | None:
        """The marker's ``cost_limit`` / ``token_limit`` / ``time_limit``, or None."""
        if all(settings.get(name) is None for name in LIMIT_ARGS):
            return None
        return cls(
            cost=settings.get("cost_limit"),
            tokens=settings.get("token_limit"),
            time_s=settings.get("time_limit"),
        )

    def _state(self) -> _Spent:
        run = current_run()
        if run is not None:
            key, started = id(run), run.started
        else:  # a prefetch (no run object; a router of its own), from its first call
            key, started = id(current_router()), time.perf_counter()
        spent = self._spent.get(key)
        if spent is None:
            spent = self._spent[key] = _Spent(started)
        return spent

    async def __call__(self, request: LMRequest, call_next: CallNext) -> Any:
        if judging():
            return await call_next(request)
        spent = self._state()
        self._check(spent)
        started = time.perf_counter()
        if self.time_s is not None:
            left = self.time_s - spent.elapsed()
            try:
                response = await asyncio.wait_for(call_next(request), timeout=max(left, 0.0))
            except TimeoutError:
                spent.calls += 1
                raise self._exceeded("time_limit", spent) from None
        else:
            response = await call_next(request)
        if request.recorded_latency_s is not None:
            spent.replayed_offset_s += request.recorded_latency_s - (time.perf_counter() - started)
        prompt, completion, cost = response_usage(response)
        spent.tokens += prompt + completion
        spent.cost += cost
        spent.calls += 1
        self._check(spent)
        return response

    def _check(self, spent: _Spent) -> None:
        if self.cost is not None and spent.cost > self.cost:
            raise self._exceeded("cost_limit", spent)
        if self.tokens is not None and spent.tokens > self.tokens:
            raise self._exceeded("token_limit", spent)
        if self.time_s is not None and spent.elapsed() > self.time_s:
            raise self._exceeded("time_limit", spent)

    def _exceeded(self, limit: str, spent: _Spent) -> ExampleLimitExceeded:
        calls = f"{spent.calls} LM call{'s' if spent.calls != 1 else ''}"
        if limit == "cost_limit":
            what = f"cost_limit ${self.cost:g} exceeded: ${spent.cost:.6f} after {calls}"
        elif limit == "token_limit":
            what = f"token_limit {self.tokens:,} exceeded: {spent.tokens:,} tokens after {calls}"
        else:
            what = (
                f"time_limit {self.time_s:g} s exceeded: stopped at {spent.elapsed():.2f} s "
                f"after {calls}"
            )
        return ExampleLimitExceeded(limit, f"{what}; the example stopped there, scored as failed")
