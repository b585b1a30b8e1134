"""Retrying the transient errors of calls that reach the real provider.

Every call synatest sends to a provider (live mode, or a cassette recording) goes
through :func:`call_with_retries`. A transient error -- ``429`` (waiting what its
``Retry-After`` says), ``5xx``, a timeout, a dropped connection, a stream cut
mid-way -- is retried with exponential backoff and full jitter, at most
``retries`` times and ``budget_s`` seconds of waiting per call; a permanent one
(``400``, ``401``, ``403``, ``404``, ``422``, a content-policy refusal) never is.

Which layer retries what (no double counting):

- the OpenAI SDK's own retries (litellm's ``max_retries``, 2 by default) are turned
  off for these calls, unless the program set ``max_retries`` itself;
- synatest retries the provider's transient errors, here;
- an error synatest is done with (permanent, or transient past the budget) is
  marked final, and Synalinks' own retries (``LanguageModel(retry=...)``) pass it on
  at once; they still retry what only Synalinks can judge (a reply it cannot parse).

``retries=0`` turns this layer off: the SDK and Synalinks retry as they would alone
(and the limiter of :mod:`synatest.seam.limiter`, which admits each attempt here).
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from synatest.seam import limiter as limiter_module
from synatest.seam.request import LMRequest

FINAL = "__synatest_final__"  # set on an error no layer above should retry
MAX_BACKOFF_S = 30.0
_PERMANENT = frozenset({400, 401, 403, 404, 422})
_TRANSIENT = frozenset({408, 409, 425, 429})
# Under the limiter, a call may wait out this many 429s per retry it is allowed.
RATE_LIMITED_PER_RETRY = 10


@dataclass
class RetryPolicy:
    """How calls to the provider are retried (see the module docstring)."""

    retries: int = 4
    budget_s: float = 60.0
    backoff_s: float = 0.5  # the first backoff; doubles after each retry
    seed: int = 0
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    _random: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    @property
    def enabled(self) -> bool:
        return self.retries > 0

    def backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, backoff_s x 2^attempt], capped at 30 s."""
        return self._random.uniform(0, min(MAX_BACKOFF_S, self.backoff_s * 2**attempt))


@dataclass
class RetryStats:
    """What the retries did: ``retries`` made, ``waited_s`` slept, calls that
    ``gave_up`` (transient, past the budget), ``permanent`` errors passed on at once,
    and the retried errors by status (``"429"``, ``"500"``, ``"timeout"``, ...)."""

    retries: int = 0
    waited_s: float = 0.0
    gave_up: int = 0
    permanent: int = 0
    errors: Counter[str] = field(default_factory=Counter)

    def add(self, other: RetryStats) -> None:
        self.retries += other.retries
        self.waited_s += other.waited_s
        self.gave_up += other.gave_up
        self.permanent += other.permanent
        self.errors.update(other.errors)

    def describe(self) -> str:
        line = f"{self.retries} retries, {self.waited_s:.1f} s waited"
        if self.errors:
            line += " (" + ", ".join(f"{n} x {k}" for k, n in sorted(self.errors.items())) + ")"
        if self.gave_up:
            line += f", {self.gave_up} calls gave up"
        if self.permanent:
            line += f", {self.permanent} permanent errors not retried"
        return line


POLICY = RetryPolicy(retries=0)
STATS = RetryStats()


def set_policy(policy: RetryPolicy) -> None:
    global POLICY
    POLICY = policy


def status_of(error: BaseException) -> str:
    """The error's HTTP status as a string, or ``"timeout"`` / ``"connection"``."""
    name = type(error).__name__
    if "Timeout" in name:
        return "timeout"
    status = getattr(error, "status_code", None)
    if name in ("APIConnectionError", "MidStreamFallbackError"):
        return "connection"
    return str(status) if isinstance(status, int) else name


def is_transient(error: BaseException) -> bool:
    """Whether retrying ``error`` may succeed: a rate limit, a server error, a timeout,
    a connection dropped or a stream cut; never a request the provider refused."""
    names = {cls.__name__ for cls in type(error).__mro__}
    if names & {"BadRequestError", "AuthenticationError", "PermissionDeniedError"}:
        return False
    if names & {"NotFoundError", "UnprocessableEntityError", "ContentPolicyViolationError"}:
        return False
    if names & {"Timeout", "APITimeoutError", "APIConnectionError", "RateLimitError"}:
        return True
    status = getattr(error, "status_code", None)
    if not isinstance(status, int) or status in _PERMANENT:
        return False
    return status in _TRANSIENT or status >= 500


def retry_after(error: BaseException) -> float | None:
    """The seconds the provider asked to wait (``retry-after-ms`` or ``Retry-After``)."""
    for source in (
        getattr(error, "litellm_response_headers", None),
        getattr(getattr(error, "response", None), "headers", None),
    ):
        if not source:
            continue
        try:
            headers = {str(k).lower(): v for k, v in dict(source).items()}
        except (TypeError, ValueError):
            continue
        for key, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
            try:
                return max(0.0, float(headers[key]) / scale)
            except (KeyError, TypeError, ValueError):
                continue
    return None


def _final(error: BaseException) -> None:
    try:
        setattr(error, FINAL, True)
    except (AttributeError, TypeError):  # pragma: no cover - slotted exceptions
        pass


class BufferedStream:
    """A stream read to its end before it is handed on (so a cut can be retried)."""

    def __init__(self, chunks: list[Any], source: Any) -> None:
        self._chunks = iter(chunks)
        self._hidden_params = dict(getattr(source, "_hidden_params", None) or {})

    def __aiter__(self) -> AsyncIterator[Any]:
        return self

    async def __anext__(self) -> Any:
        try:
            return next(self._chunks)
        except StopIteration:
            raise StopAsyncIteration from None


async def _attempt(request: LMRequest, send: Callable[[], Awaitable[Any]]) -> Any:
    response = await send()
    if request.stream and hasattr(response, "__aiter__"):
        return BufferedStream([chunk async for chunk in response], response)
    return response


def is_rate_limit(error: BaseException) -> bool:
    """A ``429``: the provider asks us to slow down (a signal for the limiter)."""
    names = {cls.__name__ for cls in type(error).__mro__}
    return "RateLimitError" in names or getattr(error, "status_code", None) == 429


async def call_with_retries(
    request: LMRequest, send: Callable[[dict[str, Any]], Awaitable[Any]]
) -> Any:
    """``send(kwargs)`` under the policy in force; counts into ``STATS`` and onto the
    request (``request.retries``, ``request.retry_wait_s``).

    Each attempt is admitted by the limiter in force (:mod:`synatest.seam.limiter`),
    if any, and tells it how it ended. A ``429`` under the limiter is a signal rather
    than an error of the call: the limiter halves the model's concurrency and holds
    all its calls until the ``Retry-After``; the call then tries again without using
    one of its ``retries`` (at most ``RATE_LIMITED_PER_RETRY`` x ``retries`` such
    tries, and its waits still count against the budget).
    """
    policy = POLICY
    if not policy.enabled:
        return await send(request.kwargs)
    limiter = limiter_module.LIMITER

    def release(ticket: limiter_module.Ticket | None, **outcome: Any) -> None:
        if ticket is not None and limiter is not None:
            limiter.release(ticket, **outcome)

    kwargs = request.kwargs
    if request.kind == "completion" and "max_retries" not in kwargs:
        kwargs = {**kwargs, "max_retries": 0}  # the SDK's retries: synatest's instead
    waited = 0.0  # the budget counts this call's own waits, not its turn in the limiter
    attempt = 0  # retries counted against policy.retries
    limited = 0  # 429s waited out under the limiter
    while True:
        ticket = await limiter.acquire(request) if limiter is not None else None
        try:
            response = await _attempt(request, lambda: send(kwargs))
        except Exception as error:
            if not is_transient(error):
                release(ticket, error=error)
                STATS.permanent += 1
                _final(error)
                raise
            asked = retry_after(error)
            signal = limiter is not None and is_rate_limit(error)
            if signal:
                tries, most = limited, policy.retries * RATE_LIMITED_PER_RETRY
            else:
                tries, most = attempt, policy.retries
            wait = asked if asked is not None else policy.backoff(tries)
            release(ticket, error=error, rate_limited=signal, hold_s=wait if signal else 0.0)
            if tries >= most or waited + wait > policy.budget_s:
                STATS.gave_up += 1
                _final(error)
                raise
            if signal:
                limited += 1
            else:
                attempt += 1
            waited += wait
            STATS.retries += 1
            STATS.waited_s += wait
            STATS.errors[status_of(error)] += 1
            request.retries += 1
            request.retry_wait_s += wait
            if not signal:  # a 429's wait is the model's hold, in limiter.acquire
                await policy.sleep(wait)
        except BaseException as error:  # cancelled (a time limit, Ctrl-C): free its slot
            release(ticket, error=error)
            raise
        else:
            release(ticket, response=response)
            return response
