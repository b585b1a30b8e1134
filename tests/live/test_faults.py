"""The fault schedule, the request-rate bucket, the retry policy, and bad flag values."""

from __future__ import annotations

import pytest

from synatest.seam.retry import RetryPolicy, is_transient, retry_after
from synatest.testing import Fault, FaultRule, RequestRate


def fires(rule: FaultRule, n: int, path: str = "/v1/chat/completions") -> list[int]:
    return [i for i in range(1, n + 1) if rule.decide(path)]


def test_schedules_times_every_probability_and_path() -> None:
    assert fires(FaultRule(Fault.drop(), times=2), 5) == [1, 2]
    assert fires(FaultRule(Fault.drop(), every=3), 10) == [3, 6, 9]
    assert fires(FaultRule(Fault.drop(), every=3, times=2), 10) == [3, 6]
    assert fires(FaultRule(Fault.drop()), 3) == [1, 2, 3]
    seeded = fires(FaultRule(Fault.drop(), probability=0.2, seed=7), 1000)
    assert seeded == fires(FaultRule(Fault.drop(), probability=0.2, seed=7), 1000)
    assert 150 < len(seeded) < 250
    embeddings = FaultRule(Fault.status_code(500), path="/embeddings")
    assert fires(embeddings, 3) == [] and embeddings.seen == 0
    assert fires(embeddings, 2, "/v1/embeddings") == [1, 2]


def test_fault_names_and_what_is_transient() -> None:
    assert [f.name for f in (Fault.rate_limited(1), Fault.slow(1), Fault.cut())] == [
        "429",
        "slow",
        "cut",
    ]
    assert Fault.status_code(503).transient and Fault.hang().transient
    assert not Fault.status_code(401).transient


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Fault.status_code(200), "a fault status is an HTTP error (400-599), not 200"),
        (lambda: FaultRule(Fault.drop(), every=0), "every must be >= 1, not 0"),
        (lambda: FaultRule(Fault.drop(), times=-1), "times must be >= 0, not -1"),
        (lambda: FaultRule(Fault.drop(), probability=2), "within [0, 1], not 2"),
        (lambda: RequestRate(0), "the rate must be > 0 requests per minute, not 0"),
    ],
)
def test_bad_faults_say_what_is_expected(make: object, message: str) -> None:
    with pytest.raises(ValueError) as info:
        make()  # type: ignore[operator]
    assert message in str(info.value)


def test_the_request_rate_is_a_token_bucket() -> None:
    now = [0.0]
    rate = RequestRate(60, burst=2, clock=lambda: now[0])
    assert [rate.take(), rate.take()] == [None, None]
    assert rate.take() == pytest.approx(1.0)
    now[0] = 0.5
    assert rate.take() == pytest.approx(0.5)
    now[0] = 1.0
    assert rate.take() is None
    assert rate.limited == 2


class StatusError(Exception):
    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.status_code = status
        self.litellm_response_headers = headers


def test_transient_permanent_and_retry_after() -> None:
    assert [is_transient(StatusError(s)) for s in (429, 500, 503, 408)] == [True] * 4
    assert [is_transient(StatusError(s)) for s in (400, 401, 403, 404, 422)] == [False] * 5
    assert not is_transient(ValueError("not a provider error"))
    assert retry_after(StatusError(429, {"Retry-After": "2"})) == 2.0
    assert retry_after(StatusError(429, {"retry-after-ms": "250", "retry-after": "1"})) == 0.25
    assert retry_after(StatusError(429, {"retry-after": "Wed, 21 Oct 2015"})) is None


def test_backoff_is_jittered_exponential_and_capped() -> None:
    policy = RetryPolicy(backoff_s=1.0, seed=3)
    waits = [policy.backoff(attempt) for attempt in range(8)]
    assert all(0 <= w <= min(30, 2**i) for i, w in enumerate(waits))
    again = RetryPolicy(backoff_s=1.0, seed=3)
    assert waits == [again.backoff(attempt) for attempt in range(8)]


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        ("--synalinks-retries=-1", "expected a whole number >= 0, not '-1'"),
        ("--synalinks-retry-budget=soon", "expected seconds >= 0 (like 30 or 0.5), not 'soon'"),
        ("--synalinks-retry-backoff=-2", "expected seconds >= 0 (like 30 or 0.5), not '-2'"),
    ],
)
def test_bad_retry_flags_say_what_is_expected(
    pytester: pytest.Pytester, flag: str, message: str
) -> None:
    pytester.makepyfile(test_x="def test_x(synalinks_router):\n    pass\n")
    result = pytester.runpytest(flag)
    assert result.ret != 0
    result.stderr.fnmatch_lines([f"*{message}*"])


def test_a_bad_retry_ini_value_says_where_it_is(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nsynalinks_retries = many\n")
    pytester.makepyfile(test_x="def test_x(synalinks_router):\n    pass\n")
    result = pytester.runpytest()
    assert result.ret != 0
    result.stderr.fnmatch_lines(
        ["*ini synalinks_retries: invalid value 'many': expected a whole number >= 0*"]
    )
