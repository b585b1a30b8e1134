"""Concurrent examples: a sliding window of prefetched example runs.

pytest runs tests one after another, and a test's fixtures exist only while it runs,
so examples cannot simply run side by side. Instead, while example *i* runs, the
next examples of its suite are **prefetched**: their test functions start as tasks
on the session's event loop, with their own dataset parameters (``x``, ``y``, ...)
and example *i*'s other fixture values (the program, the language model), each in
its own router copied from example *i*'s (same doubles, live mode, rate limit).
Their LM responses are kept. When example *j*'s turn comes, pytest runs it as
usual -- its own fixtures, hooks, reward, report, JUnit entry -- but its LM calls
are answered from the responses its prefetch received (matched on content); a call
the prefetch did not make goes on to the real LM. Each example therefore keeps its
own pytest outcome, while up to ``window`` examples wait for the LM at once: whenever
a prefetch finishes -- even while the running example still waits for a slow call --
the next example starts, so one slow example does not hold the others back (finished
prefetches wait for their turn, up to ``LOOKAHEAD`` x ``window`` of them).

This core is plain Python (no pytest): the plugin in
``synatest.plugin.concurrency`` decides which items can be prefetched.
"""

from __future__ import annotations

import contextvars
import copy
import json
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio  # imported where used: the plugin loads without it

from synatest.eval.flags import DEFAULT_WINDOW
from synatest.seam import Layer, LMRequest, Router, current_router, snapshot, use_router
from synatest.seam.retry import FINAL

CallNext = Callable[[LMRequest], Awaitable[Any]]

# Finished prefetches kept waiting for their turn: at most LOOKAHEAD x the window.
LOOKAHEAD = 8
# Layers of the example's own router that must not be copied into a prefetch router.
PRIVATE_LAYERS = (
    "synatest-eval-usage",
    "synatest-replay",
    "synatest-rate-limit",
    "synatest-example-limits",
)
# litellm kwargs that do not change the answer (and may hold secrets or objects).
IGNORED_KWARGS = frozenset(
    {"api_key", "api_base", "base_url", "metadata", "timeout", "num_retries"}
)


# -- request identity -----------------------------------------------------------------


def _default(value: Any) -> Any:
    model_dump = getattr(value, "model_dump", None)
    if callable(model_dump):
        return model_dump(mode="json")
    if isinstance(value, type):
        return value.__qualname__
    return type(value).__qualname__


def request_key(request: LMRequest) -> str:
    """The content of a request, as a string: equal for the same call of a program."""
    kwargs = {k: v for k, v in request.kwargs.items() if k not in IGNORED_KWARGS}
    return json.dumps([request.kind, kwargs], sort_keys=True, default=_default)


# -- rate limits ------------------------------------------------------------------------

_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(s|sec|second|m|min|minute|h|hour)\s*$")
_PER = {
    "s": 1.0,
    "sec": 1.0,
    "second": 1.0,
    "m": 60.0,
    "min": 60.0,
    "minute": 60.0,
    "h": 3600.0,
    "hour": 3600.0,
}


def parse_rate_limits(raw: str, what: str = "rate limit") -> dict[str, float]:
    """``"openai/gpt-4o-mini=500/min, 10/s"`` -> {model: per second}; ``*``: any model.

    A bare rate applies to every model without its own. Raises ValueError (with the
    expected form) on a malformed value; ``what`` names the option in it ("rate
    limit": calls, "token limit": tokens).
    """
    limits: dict[str, float] = {}
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        model, _, rate = part.rpartition("=")
        match = _RATE.match(rate)
        if match is None or float(match.group(1)) <= 0:
            if what == "token limit":
                raise ValueError(
                    f"bad token limit {part!r}: write RATE or MODEL=RATE, RATE in tokens like "
                    "90000/min or 1500/s (comma-separated, e.g. "
                    "'openai/gpt-4o=90000/min,ollama/llama3=2000/s')"
                )
            raise ValueError(
                f"bad rate limit {part!r}: write RATE or MODEL=RATE, RATE like 60/min or 5/s "
                "(comma-separated, e.g. 'openai/gpt-4o=500/min,ollama/llama3=2/s')"
            )
        limits[model.strip() or "*"] = float(match.group(1)) / _PER[match.group(2)]
    return limits


class RateLimiter:
    """Spaces the calls of each model at most ``rate`` per second (no burst).

    A router layer; one instance is shared by every prefetch of the session so the
    limit holds across concurrent examples. ``waited`` sums each model's waits.
    """

    def __init__(self, limits: dict[str, float]) -> None:
        self.limits = limits
        self._next: dict[str, float] = {}
        self.waited: dict[str, float] = {}

    @property
    def waited_s(self) -> float:
        return sum(self.waited.values())

    def rate_of(self, model: str) -> float | None:
        return self.limits.get(model, self.limits.get("*"))

    def paced(self) -> dict[str, tuple[float, float]]:
        """{model: (seconds waited, calls per second)} of the models it paced."""
        return {
            model: (seconds, rate)
            for model, seconds in self.waited.items()
            if (rate := self.rate_of(model)) and seconds > 0
        }

    async def __call__(self, request: LMRequest, call_next: CallNext) -> Any:
        import asyncio

        rate = self.rate_of(request.model)
        if rate:
            loop = asyncio.get_running_loop()
            now = loop.time()
            start = max(now, self._next.get(request.model, now))
            self._next[request.model] = start + 1.0 / rate
            if start > now:
                self.waited[request.model] = self.waited.get(request.model, 0.0) + start - now
                await asyncio.sleep(start - now)
        return await call_next(request)


# -- prefetching ------------------------------------------------------------------------


@dataclass
class Raised:
    """A prefetched call that ended in a final error: replayed by raising it again."""

    error: BaseException


@dataclass
class Prefetch:
    """One example started ahead of its turn."""

    nodeid: str
    task: asyncio.Task[Any]
    router: Router
    # request key -> (response, the request as it was answered) of each call, in order
    responses: dict[str, deque[tuple[Any, LMRequest]]] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)
    finished: float | None = None
    error: BaseException | None = None
    result: Any = None  # what the test function returned
    # Every call it made, in order: (request snapshot, response).
    log: list[tuple[LMRequest, Any]] = field(default_factory=list)
    hits: int = 0
    misses: int = 0

    def record(self, request: LMRequest, key: str, response: Any) -> None:
        entry = (response if isinstance(response, Raised) else copy.deepcopy(response), request)
        self.responses.setdefault(key, deque()).append(entry)
        self.log.append((request, response))

    def take(self, key: str) -> tuple[Any, LMRequest] | None:
        """The next response recorded for ``key`` and the request it answered, or None."""
        queue = self.responses.get(key)
        if queue:
            self.hits += 1
            return queue.popleft()
        self.misses += 1
        return None


@dataclass
class Stats:
    prefetched: int = 0
    replayed_calls: int = 0
    live_calls: int = 0  # calls of a prefetched example its prefetch had not made
    cancelled: int = 0
    max_in_flight: int = 0
    fast_path: int = 0  # examples whose prefetched result was used as is


class Prefetcher:
    """The sliding window of one session: starts, serves and cancels prefetches."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        window: int = DEFAULT_WINDOW,
        limiter: RateLimiter | None = None,
        lookahead: int | None = None,
    ) -> None:
        if window < 1:
            raise ValueError("the concurrency window must be at least 1")
        self.loop = loop
        self.window = window
        self.limiter = limiter
        # Finished prefetches wait for their turn; at most this many are kept.
        self.lookahead = max(window, lookahead if lookahead is not None else window * LOOKAHEAD)
        self.pending: dict[str, Prefetch] = {}
        self.stats = Stats()
        # Set while an example runs: starts the next examples when a prefetch finishes,
        # so a slow example does not hold the window back (no head-of-line blocking).
        self.refill: Callable[[], None] | None = None
        self.refill_error: Exception | None = None

    # the window ------------------------------------------------------------------------
    def in_flight(self) -> int:
        return sum(1 for p in self.pending.values() if not p.task.done())

    def room(self) -> int:
        """How many more examples may start now.

        The running example takes one slot of the window and every prefetch still
        waiting for the LM one more; finished prefetches take none, up to the lookahead.
        """
        return max(0, min(self.window - 1 - self.in_flight(), self.lookahead - len(self.pending)))

    def _finished(self, task: asyncio.Task[Any]) -> None:
        """A prefetch finished: its slot is free for the next example."""
        if self.refill is None or task.cancelled():
            return
        try:
            self.refill()
        except Exception as error:  # raised again by the running example (plugin)
            self.refill_error = error
            self.refill = None

    def start(
        self,
        nodeid: str,
        func: Callable[..., Awaitable[Any]],
        kwargs: dict[str, Any],
        template: Router,
        limits: Layer | None = None,
    ) -> Prefetch:
        """Start ``func(**kwargs)`` now, its LM calls routed like ``template``'s, and
        stopped by the example's own ``limits`` (cost, tokens, time) if it has any."""
        import asyncio

        router = Router(
            live=template.live,
            test_id=nodeid,
            allow_lm_errors=template.allow_lm_errors,
            hints=list(template.hints),
        )
        for name, layer in template.layers:
            if name not in PRIVATE_LAYERS:
                router.use(layer, name=name)
        prefetch: Prefetch

        async def recorder(request: LMRequest, call_next: CallNext) -> Any:
            if request.stream:  # a stream is consumed once: never replayed
                return await call_next(request)
            key = request_key(request)
            sent = snapshot(request)
            started = time.perf_counter()
            try:
                response = await call_next(request)
            except Exception as error:
                if getattr(error, FINAL, False):
                    # The provider's last word on this call (a permanent error, or
                    # retries given up): the example gets it again, not a new request.
                    sent.take_provenance(request)
                    prefetch.record(sent, key, Raised(error))
                raise
            sent.take_provenance(request)
            if sent.recorded_latency_s is None:  # made live: its latency is this one
                sent.recorded_latency_s = time.perf_counter() - started - request.retry_wait_s
            prefetch.record(sent, key, response)
            return response

        if self.limiter is not None:
            router.use(self.limiter, name="synatest-rate-limit", first=True)
        router.use(recorder, name="synatest-prefetch-recorder", first=True)
        if limits is not None:  # outermost: the call that crosses a limit is kept
            router.use(limits, name="synatest-example-limits", first=True)

        async def run() -> None:
            try:
                prefetch.result = await func(**kwargs)
            except asyncio.CancelledError:
                raise
            except BaseException as error:  # reproduced (or not) when the example runs
                prefetch.error = error
            finally:
                prefetch.finished = time.perf_counter()

        with use_router(router):  # the task's context routes its calls to ``router``
            context = contextvars.copy_context()
        task = self.loop.create_task(run(), context=context)
        prefetch = Prefetch(nodeid=nodeid, task=task, router=router)
        self.pending[nodeid] = prefetch
        self.stats.prefetched += 1
        self.stats.max_in_flight = max(self.stats.max_in_flight, self.in_flight() + 1)
        task.add_done_callback(self._finished)
        return prefetch

    # serving an example ------------------------------------------------------------------
    def claim(self, nodeid: str) -> Prefetch | None:
        """The prefetch of the example about to run (removed from the window)."""
        return self.pending.pop(nodeid, None)

    def replay_layer(self, prefetch: Prefetch) -> Callable[[LMRequest, CallNext], Awaitable[Any]]:
        """A router layer answering from ``prefetch``'s responses, else the chain."""

        import asyncio

        async def replay(request: LMRequest, call_next: CallNext) -> Any:
            if not prefetch.task.done():
                # Its responses arrive as it runs: wait for all of them.
                await asyncio.shield(prefetch.task)
            if not request.stream:
                taken = prefetch.take(request_key(request))
                if taken is not None:
                    self.stats.replayed_calls += 1
                    response, original = taken
                    request.take_provenance(original)
                    if isinstance(response, Raised):
                        raise response.error
                    return response
            self.stats.live_calls += 1
            return await call_next(request)

        return replay

    def runner(
        self, prefetch: Prefetch, func: Callable[..., Awaitable[Any]]
    ) -> Callable[..., Awaitable[Any]]:
        """What runs as the example's test function once its prefetch was started.

        When the prefetch finished without error, its result is the example's result:
        its LM calls are sent again through the example's own router, where the
        replay layer answers them, so usage, cost and ``router.requests`` are the
        example's own -- without running the program a second time. When it failed
        (or was a stream), the test function runs for real: its calls are answered
        from the prefetch where they can be, and the error is the example's own.
        """

        import asyncio

        async def run_example(*args: Any, **kwargs: Any) -> Any:
            if not prefetch.task.done():
                await asyncio.shield(prefetch.task)
            clean = prefetch.error is None and not prefetch.router.lm_errors
            if clean and prefetch.task.done() and not prefetch.task.cancelled():
                router = current_router()
                for request, _ in prefetch.log:
                    await router.dispatch(
                        LMRequest(kind=request.kind, kwargs=copy.deepcopy(request.kwargs))
                    )
                self.stats.fast_path += 1
                return prefetch.result
            return await func(*args, **kwargs)

        return run_example

    # end ---------------------------------------------------------------------------------
    def cancel_all(self) -> None:
        """Cancel prefetches whose examples will not run (``-x``, Ctrl-C, deselection)."""
        import asyncio

        self.refill = None
        tasks = [p.task for p in self.pending.values() if not p.task.done()]
        for task in tasks:
            task.cancel()
        self.stats.cancelled += len(tasks)
        self.pending.clear()
        if tasks and not self.loop.is_closed() and not self.loop.is_running():
            self.loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
