"""The adaptive limiter (seam/limiter.py) on a fake clock, its use by the retries, and
the --synalinks-token-rate-limit option's messages."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from synatest.eval.concurrency import parse_rate_limits
from synatest.seam import LMRequest, RetryPolicy
from synatest.seam import limiter as limiter_module
from synatest.seam import retry as retry_module
from synatest.seam.limiter import Limiter, estimate_tokens, used_tokens

MODEL = "openai/gpt-4o-mini"


class FakeClock:
    """A clock that moves only when a coroutine sleeps on it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def request(text: str = "hi", model: str = MODEL, **kwargs: Any) -> LMRequest:
    messages = [{"role": "user", "content": text}]
    return LMRequest("completion", {"model": model, "messages": messages, **kwargs})


def limiter(ceiling: int = 8, tokens: dict[str, float] | None = None) -> tuple[Limiter, FakeClock]:
    clock = FakeClock()
    return Limiter(ceiling, tokens, clock=clock, sleep=clock.sleep, estimate=lambda r: 100), clock


class Status(Exception):
    def __init__(self, status: int, retry_after: float | None = None) -> None:
        self.status_code = status
        self.litellm_response_headers = {"retry-after": str(retry_after)} if retry_after else {}


def test_a_429_halves_once_per_burst_and_successes_grow_it_back() -> None:
    lim, clock = limiter(ceiling=8)

    async def main() -> None:
        burst = [await lim.acquire(request()) for _ in range(8)]
        state = lim.state(MODEL)
        assert state.in_flight == 8
        # Eight calls sent together all get a 429: one signal, one halving.
        for ticket in burst:
            lim.release(ticket, error=Status(429), rate_limited=True)
        assert (state.limit, state.halved) == (4, 1)
        # A 429 of a call sent after the halving halves again.
        clock.now += 1
        lim.release(await lim.acquire(request()), error=Status(429), rate_limited=True)
        assert (state.limit, state.halved, state.lowest) == (2, 2, 2)
        # Additive increase: `limit` successes in a row add one, up to the ceiling.
        for _ in range(40):
            lim.release(await lim.acquire(request()), response={"usage": None})
        assert (state.limit, state.grew, state.highest_after) == (8, 6, 8)
        # A server error is not a rate-limit signal.
        lim.release(await lim.acquire(request()), error=Status(500))
        assert state.limit == 8

    asyncio.run(main())
    line = lim.describe()
    assert line == (
        "synatest limiter: openai/gpt-4o-mini: concurrency 8 -> 2..8 (halved 2x on 429, grew 6x)"
    )


def test_the_limit_caps_calls_in_flight_and_waiters_go_in_turn() -> None:
    lim, _ = limiter(ceiling=2)
    order: list[int] = []

    async def call(i: int) -> None:
        ticket = await lim.acquire(request())
        order.append(i)
        assert lim.state(MODEL).in_flight <= 2
        await asyncio.sleep(0)
        lim.release(ticket, response=None)

    async def main() -> None:
        await asyncio.gather(*(call(i) for i in range(6)))

    asyncio.run(main())
    assert order == list(range(6))
    assert lim.describe() is None  # it did nothing worth a line


def test_a_retry_after_holds_every_call_of_the_model_once() -> None:
    lim, clock = limiter()

    async def main() -> list[float]:
        first = await lim.acquire(request())
        other = await lim.acquire(request(model="ollama/llama3"))
        lim.release(first, error=Status(429), rate_limited=True, hold_s=3.0)
        # Two more 429s inside the hold do not lengthen it (or count it twice).
        for _ in range(2):
            lim.state(MODEL).in_flight += 1
            lim.release(first, error=Status(429), rate_limited=True, hold_s=2.0)
        starts = []
        for _ in range(3):
            ticket = await lim.acquire(request())
            starts.append(ticket.started)
            lim.release(ticket, response=None)
        lim.release(other, response=None)  # another model is not held
        return starts

    assert asyncio.run(main()) == [3.0, 3.0, 3.0]
    assert lim.state(MODEL).held_s == 3.0 and lim.state("ollama/llama3").held_s == 0
    assert clock.slept == [3.0]
    assert "held 3.0 s for Retry-After" in (lim.describe() or "")


def test_tokens_are_paced_after_the_burst_and_corrected_by_usage() -> None:
    lim, _ = limiter(tokens={MODEL: 10.0})  # 600/min: a burst of 60 tokens, then 10/s

    async def main() -> list[float]:
        starts = []
        for _ in range(3):
            ticket = await lim.acquire(request())  # each estimated at 100 tokens
            starts.append(ticket.started)
            # The response says 50 tokens were used: the other 50 are given back.
            lim.release(ticket, response={"usage": {"total_tokens": 50}})
        return starts

    # 0: admitted (nothing reserved); then 5 s of usage is ahead, within the 6 s
    # burst; the third waits until 10 s of tokens are within 6 s of now.
    assert asyncio.run(main()) == [0.0, 0.0, 4.0]
    state = lim.state(MODEL)
    assert (state.tokens, state.token_wait_s) == (150, 4.0)
    assert lim.describe() == (
        "synatest limiter: openai/gpt-4o-mini: 150 tokens at <= 600/min (paced 4.0 s)"
    )


def test_the_summary_names_the_static_rate_limit_too() -> None:
    lim, _ = limiter()
    line = lim.describe({MODEL: (3.14, 1.0)})
    assert line == "synatest limiter: openai/gpt-4o-mini: paced 3.1 s for 60/min"


def test_token_estimates_and_usage() -> None:
    plain = estimate_tokens(request("one two three four"))
    assert 5 < plain < 30
    assert estimate_tokens(request("one two three four", max_tokens=200)) == plain + 200
    embedding = LMRequest("embedding", {"model": "openai/x", "input": ["a b c", "d e"]})
    assert 0 < estimate_tokens(embedding) < 20
    assert used_tokens({"usage": {"prompt_tokens": 7, "completion_tokens": 3}}) == 10
    assert used_tokens(object()) is None


# -- with the retries -------------------------------------------------------------------


def run_with_retries(
    outcomes: list[Any], lim: Limiter | None, clock: FakeClock, retries: int = 2
) -> tuple[Any, LMRequest]:
    sent = list(outcomes)

    async def send(kwargs: dict[str, Any]) -> Any:
        outcome = sent.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    old_policy, old_limiter = retry_module.POLICY, limiter_module.LIMITER
    retry_module.set_policy(RetryPolicy(retries=retries, backoff_s=0, sleep=clock.sleep))
    limiter_module.set_limiter(lim)
    req = request()
    try:
        return asyncio.run(retry_module.call_with_retries(req, send)), req
    finally:
        retry_module.set_policy(old_policy)
        limiter_module.set_limiter(old_limiter)


def test_429s_under_the_limiter_do_not_use_up_the_retries() -> None:
    lim, clock = limiter()
    # Five 429s, then a 500 and a success: with 2 retries, only the 500 counts.
    outcomes: list[Any] = [Status(429, retry_after=1)] * 5 + [Status(500), "ok"]
    result, req = run_with_retries(outcomes, lim, clock)
    assert result == "ok" and (req.retries, req.retry_wait_s) == (6, 5.0)
    # Each attempt was sent after the last halving (the hold moved the clock on):
    # 8 -> 4 -> 2 -> 1, then it stays at 1, and the success at the end adds one; the
    # model was held 5 s in all.
    state = lim.state(MODEL)
    assert (state.halved, state.limit, state.held_s, state.in_flight) == (3, 2, 5.0, 0)


def test_without_the_limiter_429s_count_as_retries() -> None:
    _, clock = limiter()
    with pytest.raises(Status):
        run_with_retries([Status(429)] * 5 + ["ok"], None, clock)


def test_a_permanent_error_frees_its_slot_and_is_not_retried() -> None:
    lim, clock = limiter()
    with pytest.raises(Status) as info:
        run_with_retries([Status(400), "never sent"], lim, clock)
    assert info.value.status_code == 400
    assert lim.state(MODEL).in_flight == 0 and lim.state(MODEL).limit == 8


# -- the option -------------------------------------------------------------------------


def test_parse_token_limits() -> None:
    assert parse_rate_limits("openai/gpt-4o=90000/min, 100/s", "token limit") == {
        "openai/gpt-4o": 1500.0,
        "*": 100.0,
    }
    with pytest.raises(ValueError, match="bad token limit 'lots': write RATE or MODEL=RATE"):
        parse_rate_limits("lots", "token limit")


def test_bad_token_limits_say_what_is_expected(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_x="def test_x(synalinks_router):\n    pass\n")
    result = pytester.runpytest("--synalinks-token-rate-limit=openai/gpt-4o=many")
    assert result.ret != 0
    result.stderr.fnmatch_lines(
        ["*bad token limit 'openai/gpt-4o=many': write RATE or MODEL=RATE, RATE in tokens*"]
    )
    pytester.makeini("[pytest]\nsynalinks_token_rate_limit = 0/min\n")
    result = pytester.runpytest("--synalinks-live")
    assert result.ret != 0
    result.stderr.fnmatch_lines(
        ["*ini synalinks_token_rate_limit: invalid value '0/min': bad token limit '0/min'*"]
    )
