"""Faults the loopback server injects, and when: :class:`Fault`, :class:`FaultRule`,
:class:`RequestRate`.

A :class:`Fault` is what goes wrong with one request: an error status (``429`` with
``Retry-After``, ``500``/``502``/``503``, or a permanent ``400``/``401``/``404``), a
slow reply, no reply at all until the client gives up (``hang``), a connection closed
without a response (``drop``), or a reply cut mid-way (``cut``: a stream stops after
some chunks, a JSON body after half of it). A :class:`FaultRule` says which requests
get it: a path, the next ``times`` requests, every ``every``-th one, or a seeded
``probability``. :class:`RequestRate` is a requests-per-minute token bucket answering
``429`` with ``Retry-After`` when it is empty. All of it is deterministic in the order
requests arrive, and thread-safe (the server holds its lock while deciding).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from typing import Literal

FaultKind = Literal["status", "slow", "hang", "drop", "cut"]

TRANSIENT_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})

_ERRORS = {
    400: ("invalid_request_error", "Bad request (loopback fault)"),
    401: ("authentication_error", "Incorrect API key (loopback fault)"),
    403: ("permission_error", "Forbidden (loopback fault)"),
    404: ("not_found_error", "Model not found (loopback fault)"),
    429: ("rate_limit_error", "Rate limit reached (loopback fault)"),
}


class Fault:
    """One thing that goes wrong with a request. Build with the class methods."""

    __slots__ = ("after", "kind", "retry_after", "seconds", "status")

    def __init__(
        self,
        kind: FaultKind,
        *,
        status: int = 0,
        retry_after: float | None = None,
        seconds: float = 0.0,
        after: int = 1,
    ) -> None:
        self.kind = kind
        self.status = status
        self.retry_after = retry_after
        self.seconds = seconds
        self.after = after

    @classmethod
    def status_code(cls, status: int, *, retry_after: float | None = None) -> Fault:
        """Answer with HTTP ``status`` (and a ``Retry-After`` header when given)."""
        if not 400 <= status <= 599:
            raise ValueError(f"a fault status is an HTTP error (400-599), not {status}")
        return cls("status", status=status, retry_after=retry_after)

    @classmethod
    def rate_limited(cls, retry_after: float | None = 0) -> Fault:
        """``429`` with ``Retry-After: retry_after`` (None: no header)."""
        return cls.status_code(429, retry_after=retry_after)

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        """Wait ``seconds``, then answer normally."""
        return cls("slow", seconds=seconds)

    @classmethod
    def hang(cls, seconds: float = 30.0) -> Fault:
        """Send nothing for ``seconds`` (the client times out first), then close."""
        return cls("hang", seconds=seconds)

    @classmethod
    def drop(cls) -> Fault:
        """Close the connection without sending a response."""
        return cls("drop")

    @classmethod
    def cut(cls, after: int = 1) -> Fault:
        """Send the reply's headers and its first ``after`` stream chunks (half the JSON
        body for a request that is not streamed), then close the connection."""
        return cls("cut", after=after)

    @property
    def name(self) -> str:
        """``"429"``, ``"500"``, ``"slow"``, ``"hang"``, ``"drop"``, ``"cut"``."""
        return str(self.status) if self.kind == "status" else self.kind

    @property
    def transient(self) -> bool:
        """Whether a client should retry it (everything but a permanent status)."""
        return self.kind != "status" or self.status in TRANSIENT_STATUSES

    def error_body(self) -> dict[str, object]:
        kind, message = _ERRORS.get(self.status, ("server_error", "Server error (loopback fault)"))
        return {"error": {"message": message, "type": kind, "code": str(self.status)}}

    def __repr__(self) -> str:
        return f"Fault({self.name})"


class FaultRule:
    """Which requests get ``fault``: matching ``path`` (a suffix such as
    ``"/chat/completions"``; None: any), then by schedule:

    - ``times=K``: the next K matching requests (with ``every``/``probability``: at
      most K times);
    - ``every=N``: the N-th, 2N-th, ... matching request;
    - ``probability=p``: each matching request with probability ``p``, drawn from
      ``random.Random(seed)`` (the same draws in every run).

    With no schedule at all, every matching request. ``injected`` counts the faults
    given; ``seen`` the matching requests.
    """

    def __init__(
        self,
        fault: Fault,
        *,
        path: str | None = None,
        times: int | None = None,
        every: int | None = None,
        probability: float | None = None,
        seed: int = 0,
    ) -> None:
        if times is not None and times < 0:
            raise ValueError(f"times must be >= 0, not {times}")
        if every is not None and every < 1:
            raise ValueError(f"every must be >= 1, not {every}")
        if probability is not None and not 0.0 <= probability <= 1.0:
            raise ValueError(f"probability must be within [0, 1], not {probability}")
        self.fault = fault
        self.path = path.rstrip("/") if path else None
        self.times = times
        self.every = every
        self.probability = probability
        self._random = random.Random(seed)
        self.seen = 0
        self.injected = 0

    def matches(self, path: str) -> bool:
        return self.path is None or path.rstrip("/").endswith(self.path)

    def decide(self, path: str) -> bool:
        """Whether this request gets the fault (call with the server's lock held)."""
        if not self.matches(path):
            return False
        self.seen += 1
        fires = True
        if self.every is not None:
            fires = self.seen % self.every == 0
        if self.probability is not None:
            # Drawn for every matching request, so the draws do not depend on `every`.
            fires = self._random.random() < self.probability and fires
        if fires and self.times is not None and self.injected >= self.times:
            fires = False
        if fires:
            self.injected += 1
        return fires

    @property
    def spent(self) -> bool:
        return self.times is not None and self.injected >= self.times


class RequestRate:
    """A requests-per-minute token bucket: ``burst`` requests at once, then one every
    ``60 / per_minute`` seconds. :meth:`take` returns None (served) or the seconds to
    wait (the ``Retry-After`` of a ``429``)."""

    def __init__(
        self, per_minute: float, *, burst: int = 1, clock: Callable[[], float] | None = None
    ) -> None:
        if per_minute <= 0:
            raise ValueError(f"the rate must be > 0 requests per minute, not {per_minute}")
        if burst < 1:
            raise ValueError(f"the burst must be >= 1, not {burst}")
        self.per_second = per_minute / 60.0
        self.burst = burst
        self._clock = clock or time.monotonic
        self._tokens = float(burst)
        self._at = self._clock()
        self.limited = 0

    def take(self) -> float | None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.per_second)
        self._at = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return None
        self.limited += 1
        return (1.0 - self._tokens) / self.per_second


def retry_after_header(seconds: float) -> dict[str, str]:
    """``Retry-After`` (whole seconds, rounded up, as HTTP says) and ``retry-after-ms``."""
    return {"Retry-After": str(math.ceil(seconds)), "retry-after-ms": str(round(seconds * 1000))}
