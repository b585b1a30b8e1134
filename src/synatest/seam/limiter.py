"""Adaptive concurrency (AIMD) and tokens-per-minute limits, per model.

Every attempt of a call that reaches the provider (:mod:`synatest.seam.retry`) first
takes a slot from the :class:`Limiter` and gives it back with its outcome:

- **concurrency**: each model has a limit of attempts in flight, starting at the
  ceiling (``--synalinks-concurrency``) and never above it. A rate-limit signal (a
  ``429``) halves it -- once per burst: a ``429`` of an attempt sent before the last
  halving reflects the old limit and does not halve it again -- and every ``limit``
  successes in a row add one (additive increase, multiplicative decrease);
- **one shared cooldown**: a ``429`` holds every attempt of its model until its
  ``Retry-After`` (or the backoff of a ``429`` without one) has passed, so the callers
  wait once, together, instead of each hammering the provider;
- **tokens per minute** (``--synalinks-token-rate-limit``): each attempt reserves its
  estimated tokens (``litellm.token_counter`` on its messages plus its ``max_tokens``)
  and is corrected by the response's ``usage``; a model may spend ``BURST_S`` seconds'
  worth of tokens at once, then its attempts are paced at the rate.

Plain Python with an injectable clock and sleep, so the logic is unit-tested without a
provider (tests/live/test_limiter.py). The limits are per process: under ``-n N`` each
worker has its own.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from synatest.seam.request import LMRequest

# A token limit lets a model spend this many seconds' worth of its tokens at once.
BURST_S = 6.0


def per_minute(rate_per_s: float) -> str:
    """``1.0`` -> ``"60/min"``."""
    return f"{rate_per_s * 60:g}/min"


@dataclass
class ModelState:
    """One model's limit, and what the limiter did to its calls."""

    ceiling: int
    limit: int
    token_rate: float | None = None  # tokens per second, or None: no token limit
    in_flight: int = 0
    successes: int = 0  # in a row, since the limit last changed
    decreased_at: float = -math.inf
    held_until: float = -math.inf
    tat: float = -math.inf  # the token pacing's "theoretical arrival time" (GCRA)
    waiters: deque[asyncio.Future[None]] = field(default_factory=deque)
    # what it did
    attempts: int = 0
    lowest: int = 0
    highest_after: int = 0  # the highest limit since it was first halved
    halved: int = 0
    grew: int = 0
    held_s: float = 0.0
    tokens: int = 0
    token_wait_s: float = 0.0

    def __post_init__(self) -> None:
        self.lowest = self.limit

    @property
    def acted(self) -> bool:
        return bool(self.halved or self.held_s or self.token_rate)

    def describe(self, model: str, paced: tuple[float, float] | None = None) -> str:
        """``openai/gpt-4o-mini: concurrency 8 -> 1..8 (halved 3x on 429, grew 14x), ...``

        ``paced``: (seconds waited, calls per second) of the static rate limit, if any.
        """
        parts = []
        if self.halved:
            parts.append(
                f"concurrency {self.ceiling} -> {self.lowest}..{self.highest_after} "
                f"(halved {self.halved}x on 429, grew {self.grew}x)"
            )
        if self.held_s:
            parts.append(f"held {self.held_s:.1f} s for Retry-After")
        if paced is not None and paced[0] > 0:
            parts.append(f"paced {paced[0]:.1f} s for {per_minute(paced[1])}")
        if self.token_rate:
            tokens = f"{self.tokens} tokens at <= {per_minute(self.token_rate)}"
            if self.token_wait_s:
                tokens += f" (paced {self.token_wait_s:.1f} s)"
            parts.append(tokens)
        return f"{model}: " + ", ".join(parts)


@dataclass
class Ticket:
    """One attempt admitted by the limiter (given back with :meth:`Limiter.release`)."""

    model: str
    started: float
    tokens: int = 0  # reserved (estimated) tokens


def estimate_tokens(request: LMRequest) -> int:
    """Prompt tokens (``litellm.token_counter``) plus the completion's ``max_tokens``."""
    kwargs = request.kwargs
    try:
        import litellm

        if request.kind == "embedding":
            given = kwargs.get("input") or []
            texts = [given] if isinstance(given, str) else [str(text) for text in given]
            prompt = sum(litellm.token_counter(model=request.model, text=t) for t in texts)
        else:
            messages = request.messages
            prompt = 0
            if messages:
                prompt = litellm.token_counter(model=request.model, messages=messages)
    except Exception:  # an unknown model or message shape: about 4 characters a token
        prompt = len(json.dumps(kwargs.get("messages") or kwargs.get("input"), default=str)) // 4
    completion = kwargs.get("max_completion_tokens") or kwargs.get("max_tokens") or 0
    return int(prompt) + (int(completion) if isinstance(completion, int | float) else 0)


def used_tokens(response: Any) -> int | None:
    """``response.usage.total_tokens`` (or prompt + completion), if the response says."""
    usage = getattr(response, "usage", None)
    if usage is None and isinstance(response, dict):
        usage = response.get("usage")
    if usage is None:
        return None

    def get(name: str) -> Any:
        return usage.get(name) if isinstance(usage, dict) else getattr(usage, name, None)

    total = get("total_tokens")
    if isinstance(total, int) and total > 0:
        return total
    parts = [get("prompt_tokens"), get("completion_tokens")]
    counted = [n for n in parts if isinstance(n, int)]
    return sum(counted) if counted else None


class Limiter:
    """The per-model limits of one session (see the module docstring).

    ``ceiling``: most attempts of one model in flight (the window); ``token_limits``:
    {model or ``"*"``: tokens per second}.
    """

    def __init__(
        self,
        ceiling: int = 8,
        token_limits: dict[str, float] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        estimate: Callable[[LMRequest], int] = estimate_tokens,
    ) -> None:
        if ceiling < 1:
            raise ValueError("the concurrency ceiling must be at least 1")
        self.ceiling = ceiling
        self.token_limits = dict(token_limits or {})
        self.clock = clock
        self.sleep = sleep
        self.estimate = estimate
        self.models: dict[str, ModelState] = {}

    @classmethod
    def from_config(cls, config: Any) -> Limiter:
        """The limiter of a pytest session: ``--synalinks-concurrency`` (its ceiling) and
        ``--synalinks-token-rate-limit``, or the defaults when their plugin is not loaded."""
        from synatest import options

        def value(name: str, default: Any) -> Any:
            try:
                return options.value(config, name)
            except (KeyError, ValueError):
                return default

        return cls(int(value("concurrency", 8)), value("token-rate-limit", None))

    def state(self, model: str) -> ModelState:
        if model not in self.models:
            rate = self.token_limits.get(model, self.token_limits.get("*"))
            self.models[model] = ModelState(self.ceiling, self.ceiling, token_rate=rate)
        return self.models[model]

    async def acquire(self, request: LMRequest) -> Ticket:
        """Wait until an attempt of ``request``'s model may be sent; returns its ticket."""
        model = request.model
        state = self.state(model)
        tokens = self.estimate(request) if state.token_rate else 0
        while True:
            now = self.clock()
            if state.held_until > now:  # the model's shared cooldown after a 429
                await self.sleep(state.held_until - now)
                continue
            if state.in_flight >= state.limit:
                waiter = asyncio.get_running_loop().create_future()
                state.waiters.append(waiter)
                try:
                    await waiter
                finally:
                    if waiter in state.waiters:
                        state.waiters.remove(waiter)
                continue
            if state.token_rate:
                # GCRA: admitted when the tokens already reserved are within BURST_S
                # seconds of the rate ahead of now.
                wait = state.tat - (now + BURST_S)
                if wait > 0:
                    state.token_wait_s += wait
                    await self.sleep(wait)
                    continue
                state.tat = max(state.tat, now) + tokens / state.token_rate
            break
        state.in_flight += 1
        state.attempts += 1
        return Ticket(model, now, tokens)

    def release(
        self,
        ticket: Ticket,
        *,
        response: Any = None,
        error: BaseException | None = None,
        rate_limited: bool = False,
        hold_s: float = 0.0,
    ) -> None:
        """The attempt ended: with ``response``, or with ``error`` (``rate_limited``: a
        429, holding the model ``hold_s`` seconds)."""
        state = self.state(ticket.model)
        state.in_flight -= 1
        now = self.clock()
        if rate_limited:
            # Sent after the last halving: a new signal (a burst of 429s halves once).
            if ticket.started > state.decreased_at:
                if state.limit > 1:
                    state.limit //= 2
                    state.halved += 1
                    state.lowest = min(state.lowest, state.limit)
                    state.highest_after = max(state.highest_after, state.limit)
                state.decreased_at = now
            state.successes = 0
            until = now + hold_s
            if hold_s > 0 and until > state.held_until:
                state.held_s += until - max(state.held_until, now)
                state.held_until = until
        elif error is None:
            state.successes += 1
            if state.successes >= state.limit and state.limit < state.ceiling:
                state.limit += 1
                state.successes = 0
                if state.halved:
                    state.grew += 1
                    state.highest_after = max(state.highest_after, state.limit)
        if state.token_rate:
            used = used_tokens(response) if error is None else 0
            if used is None:
                used = ticket.tokens
            state.tokens += used
            state.tat += (used - ticket.tokens) / state.token_rate
        # Every waiter looks again (the limit may have grown, a hold may have begun).
        while state.waiters:
            waiter = state.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)

    def describe(self, paced: dict[str, tuple[float, float]] | None = None) -> str | None:
        """``synatest limiter: ...``, one part per model it acted on; None if none."""
        paced = paced or {}
        lines = [
            state.describe(model, paced.get(model))
            for model, state in sorted(self.models.items())
            if state.acted or paced.get(model, (0.0, 0.0))[0] > 0
        ]
        lines += [
            f"{model}: paced {seconds:.1f} s for {per_minute(rate)}"
            for model, (seconds, rate) in sorted(paced.items())
            if model not in self.models and seconds > 0
        ]
        return "synatest limiter: " + "; ".join(lines) if lines else None


LIMITER: Limiter | None = None


def set_limiter(limiter: Limiter | None) -> None:
    """The limiter in force for calls that reach the provider (None: no limits)."""
    global LIMITER
    LIMITER = limiter
