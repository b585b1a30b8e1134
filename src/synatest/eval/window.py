"""Which examples run ahead, and the session that starts them (``--synalinks-concurrency``).

While one example of a suite runs, the next ones of the same parametrized test are
started early (their LM calls in flight) by the :class:`~synatest.eval.concurrency.Prefetcher`;
each example still runs as its own test and claims its prefetched result. This module
decides which tests may borrow the running test's fixtures, keeps the window full,
and is what the plugin's hooks forward to. See :mod:`synatest.eval.concurrency`.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from synatest import options
from synatest.eval import flags
from synatest.eval.journal import RESUMED_KEY
from synatest.markers import EVAL_MARKER
from synatest.session import ROUTER_KEY, get_session

if TYPE_CHECKING:
    from synatest.eval.concurrency import Prefetcher, RateLimiter


def _explicit(config: pytest.Config, name: str) -> bool:
    opt = options.get(name)
    return config.getoption(opt.dest, default=None) is not None or bool(config.getini(opt.dest))


def _param_dependent(item: pytest.Function, params: set[str]) -> set[str]:
    """Fixtures of ``item`` whose value depends on a parametrized argument."""
    defs = item._fixtureinfo.name2fixturedefs
    tainted = set(params)
    changed = True
    while changed:
        changed = False
        for name, fixturedefs in defs.items():
            if name in tainted or not fixturedefs:
                continue
            if set(fixturedefs[-1].argnames) & tainted:
                tainted.add(name)
                changed = True
    return tainted - params


def _direct_params(item: pytest.Function) -> set[str] | None:
    """The names parametrized directly (``x``, ``y``), or None if any is indirect."""
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return None
    names = set(callspec.params)
    for name in names:
        fixturedefs = item._fixtureinfo.name2fixturedefs.get(name) or ()
        if not fixturedefs or fixturedefs[-1].func.__name__ != "get_direct_param_fixture_func":
            return None
    return names


def _bound_to_its_test(name: str, layer: Any) -> bool:
    """A layer serving one test only: the test's cassette, when it has or makes one.

    A test using one is never the template of another example's prefetch: that would
    replay (or record) the wrong cassette. Cassettes replay instantly anyway. A test
    without a cassette file (its cassette layer passes every call on) is fine.
    """
    if name != "cassette":
        return False
    cassette = getattr(layer, "cassette", None)
    return bool(
        getattr(layer, "records", True)
        or getattr(layer, "explicit", True)
        or cassette is None
        or getattr(cassette, "loaded_from_disk", True)
        or len(cassette)
    )


def _synalinks_global_state() -> Any:
    return sys.modules.get("synalinks.src.backend.common.global_state")


def _limits_of(item: pytest.Item) -> Any:
    """The per-example limits of an eval example (a prefetch is stopped by them too)."""
    from synatest.eval.limits import ExampleLimits

    marker = item.get_closest_marker(EVAL_MARKER)
    return None if marker is None else ExampleLimits.from_settings(marker.kwargs)


def _skipped(item: pytest.Item) -> bool:
    if item.get_closest_marker("skip") is not None:
        return True
    return any(m.args and m.args[0] is True for m in item.iter_markers("skipif"))


@dataclass
class ConcurrencySession:
    config: pytest.Config
    window: int = 1
    limiter: RateLimiter | None = None
    prefetcher: Prefetcher | None = None
    items: list[pytest.Item] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    cursor: int = 0  # items before it were started (or ran) already
    # Synalinks' name-scope stack that in-flight prefetches push to and pop from.
    shared_stack: list[Any] | None = None
    # The session's retry counters when the run began (seam/retry.py).
    retry_baseline: Any = None

    @classmethod
    def from_config(cls, config: pytest.Config) -> ConcurrencySession:
        """The session of a ``--synalinks-eval`` run (the plugin makes none otherwise)."""
        session = cls(config)
        live = get_session(config).live
        window = int(options.value(config, "concurrency"))
        if not live and not _explicit(config, "concurrency"):
            window = 1
        session.window = window
        session.retry_baseline = retry_snapshot()
        limits = options.value(config, "rate-limit")
        if limits:
            from synatest.eval.concurrency import RateLimiter

            session.limiter = RateLimiter(limits)
        return session

    @property
    def active(self) -> bool:
        return self.window > 1

    def collection_finish(self, items: list[pytest.Item]) -> None:
        self.items = list(items)
        self.index = {item.nodeid: i for i, item in enumerate(self.items)}

    def _get_prefetcher(self) -> Prefetcher:
        if self.prefetcher is None:
            from synatest.eval.concurrency import Prefetcher

            loop = get_session(self.config).loop.runner.get_loop()
            self.prefetcher = Prefetcher(loop, self.window, self.limiter)
        return self.prefetcher

    # which items may run ahead -------------------------------------------------------------
    @staticmethod
    def eligible(item: pytest.Item) -> bool:
        from synatest import _asyncio

        return (
            isinstance(item, pytest.Function)
            and (marker := item.get_closest_marker(EVAL_MARKER)) is not None
            # A repeated example runs its runs one after another, none ahead of its turn.
            and flags.repeat_of(item.config, marker) == 1
            and inspect.iscoroutinefunction(item.obj)
            and not _asyncio.claimed_by_other_plugin(item)
            and _direct_params(item) is not None
        )

    @staticmethod
    def same_suite(leader: pytest.Function, other: pytest.Item) -> bool:
        return (
            isinstance(other, pytest.Function)
            and other.parent is leader.parent
            and other.originalname == leader.originalname
            and other.get_closest_marker(EVAL_MARKER) == leader.get_closest_marker(EVAL_MARKER)
            and not _skipped(other)
            and _direct_params(other) is not None
        )

    def top_up(self, leader: pytest.Function) -> None:
        """Start the examples after ``leader`` until the window is full.

        Called when ``leader`` starts, and again each time a prefetch finishes while
        it runs (``Prefetcher.refill``).
        """
        prefetcher = self._get_prefetcher()
        if prefetcher.room() <= 0:
            return
        params = _direct_params(leader) or set()
        if _param_dependent(leader, params) & set(leader._fixtureinfo.argnames):
            return  # a fixture computed from x/y: cannot borrow the leader's value
        router = leader.stash[ROUTER_KEY]
        if any(_bound_to_its_test(name, layer) for name, layer in router.layers):
            return
        start = self.index.get(leader.nodeid)
        if start is None:
            return
        # Examples before the cursor were started already (each run of a suite's
        # examples is prefetched in order), so each is looked at once, not per refill.
        for position in range(max(start + 1, self.cursor), len(self.items)):
            if prefetcher.room() <= 0:
                break
            other = self.items[position]
            if not self.same_suite(leader, other):
                break  # the window slides over one run of a parametrized test
            assert isinstance(other, pytest.Function)
            self.cursor = position + 1
            if other.nodeid in prefetcher.pending or RESUMED_KEY in other.stash:
                continue  # (a resumed example makes no LM call: never prefetched)
            own = other.callspec.params
            kwargs = {
                arg: own[arg] if arg in own else leader.funcargs[arg]
                for arg in leader._fixtureinfo.argnames
            }
            prefetcher.start(other.nodeid, other.obj, kwargs, router, _limits_of(other))

    # hooks -------------------------------------------------------------------------------
    def pyfunc_call(self, item: pytest.Function) -> Generator[None, Any, Any]:
        if not self.active or not self.eligible(item):
            return (yield)
        router = item.stash.get(ROUTER_KEY, None)
        if router is None:
            return (yield)
        prefetcher = self._get_prefetcher()
        # Layers, outermost first: [eval usage meter], replay, rate limit, the test's own.
        # The limit applies to every call really made, not to calls answered from a
        # prefetch.
        removers = []
        if self.limiter is not None:
            removers.append(router.use(self.limiter, name="synatest-rate-limit", first=True))
        prefetch = prefetcher.claim(item.nodeid)
        original = item.obj
        if prefetch is not None:
            removers.append(
                router.use(prefetcher.replay_layer(prefetch), name="synatest-replay", first=True)
            )
            item.obj = functools.wraps(original)(prefetcher.runner(prefetch, original))
        self.top_up(item)
        prefetcher.refill = functools.partial(self.top_up, item)
        if prefetcher.pending:
            state = _synalinks_global_state()
            if state is not None:
                self.shared_stack = state.get_global_attribute(
                    "name_scope_stack", default=[], set_to_default=True
                )
        try:
            return (yield)
        finally:
            prefetcher.refill = None
            item.obj = original
            for remove in removers:
                remove()
            if prefetcher.refill_error is not None:
                error, prefetcher.refill_error = prefetcher.refill_error, None
                raise RuntimeError(
                    f"synatest concurrency: starting the next examples failed: {error!r}"
                ) from error

    def setup(self) -> None:
        """After the per-test Synalinks reset: keep the name-scope stack of prefetches.

        ``clear_session`` (run before each test) gives Synalinks a fresh global
        state. Prefetches still in flight would then pop name scopes they pushed on
        the old stack from the new one, breaking the running test's scopes; while
        any is in flight, every test keeps using the stack they share.
        """
        if self.prefetcher is None or not self.prefetcher.pending or self.shared_stack is None:
            self.shared_stack = None
            return
        state = _synalinks_global_state()
        if state is not None:
            state.set_global_attribute("name_scope_stack", self.shared_stack)

    def finish(self) -> None:
        if self.prefetcher is not None:
            self.prefetcher.cancel_all()

    def summary(self, terminal: Any) -> None:
        retried = retry_stats_since(self.retry_baseline)
        if retried is not None:
            terminal.write_line(f"synatest retries: {retried.describe()}")
        limiter = get_session(self.config).limiter
        paced = self.limiter.paced() if self.limiter is not None else {}
        did = limiter.describe(paced) if limiter is not None else None
        if did is not None:
            terminal.write_line(did)
        if self.prefetcher is None or not self.prefetcher.stats.prefetched:
            return
        s = self.prefetcher.stats
        line = (
            f"synatest concurrency: window {self.window}, {s.prefetched} examples prefetched "
            f"({s.fast_path} results used as is), {s.replayed_calls} LM calls answered from "
            f"prefetches, {s.live_calls} made again"
        )
        if s.cancelled:
            line += f", {s.cancelled} prefetches cancelled"
        if self.limiter is not None:
            line += f", {self.limiter.waited_s:.1f} s waited for rate limits"
        terminal.write_line(line)


def retry_snapshot() -> Any:
    """A copy of the session's retry counters (None while the seam is not loaded)."""
    import copy
    import sys

    retry = sys.modules.get("synatest.seam.retry")
    return None if retry is None else copy.deepcopy(retry.STATS)


def retry_stats_since(baseline: Any) -> Any:
    """The retries made since ``baseline`` (a :func:`retry_snapshot`), or None if none."""
    stats = retry_snapshot()
    if stats is None:
        return None
    if baseline is not None:
        stats.retries -= baseline.retries
        stats.waited_s -= baseline.waited_s
        stats.gave_up -= baseline.gave_up
        stats.permanent -= baseline.permanent
        stats.errors.subtract(baseline.errors)
        stats.errors = +stats.errors
    return stats if (stats.retries or stats.gave_up or stats.permanent) else None
