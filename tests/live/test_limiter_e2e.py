"""The adaptive limiter end to end: live evals against the loopback server's rate limit
and faults, through real HTTP (see test_retries_e2e.py for the set-up)."""

from __future__ import annotations

import json
import re

import pytest

from synatest.testing import DUMMY_API_KEY, Fault, LoopbackLM

# The eval suite of test_retries_e2e.py: one Generator call per example.
EVAL = """
import os
import pytest
import synalinks
import synatest


class Question(synalinks.DataModel):
    question: str


class Answer(synalinks.DataModel):
    answer: str


@pytest.fixture
async def program():
    lm = synalinks.LanguageModel(model="openai/gpt-4o-mini", api_base=os.environ["LOOPBACK_URL"])
    x0 = synalinks.Input(data_model=Question)
    x1 = await synalinks.Generator(data_model=Answer, language_model=lm)(x0)
    return synalinks.Program(inputs=x0, outputs=x1)


@synatest.parametrize_dataset("qa.jsonl", x=Question, y=Answer)
@pytest.mark.synalinks_eval(suite="qa", threshold=0.0)
async def test_qa(program, x, y):
    return await program(x)
"""


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> LoopbackLM:
    with LoopbackLM(idle_timeout=60) as server:
        monkeypatch.setenv("OPENAI_API_KEY", DUMMY_API_KEY)
        monkeypatch.setenv("LOOPBACK_URL", server.base_url)
        yield server


def write_dataset(pytester: pytest.Pytester, n: int) -> None:
    rows = [{"id": f"q{i}", "question": f"question {i}?", "answer": "a"} for i in range(n)]
    (pytester.path / "qa.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    pytester.makepyfile(test_suite=EVAL)


def limiter_line(result: pytest.RunResult) -> str:
    match = re.search(r"^synatest limiter: .*$", result.stdout.str(), re.MULTILINE)
    assert match is not None, result.stdout.str()
    return match.group(0)


def test_a_rate_limited_faulty_provider_scores_every_example(
    pytester: pytest.Pytester, server: LoopbackLM
) -> None:
    write_dataset(pytester, 40)
    # Two permanent errors, on the 15th and 30th requests; then 20% transient faults;
    # then the server's own limit: 600 requests a minute (one each 0.1 s), 429 beyond.
    server.inject(Fault.status_code(400), every=15, times=2)
    server.inject(Fault.rate_limited(retry_after=0), probability=0.1, seed=1)
    server.inject(Fault.status_code(500), probability=0.05, seed=2)
    server.inject(Fault.drop(), probability=0.05, seed=3)
    server.limit_rate(600)
    result = pytester.runpytest(
        "-p",
        "no:cacheprovider",
        "--synalinks-live",
        "--synalinks-eval",
        "--synalinks-concurrency=8",
        "--synalinks-retry-backoff=0.01",
    )
    result.assert_outcomes(passed=38, failed=2)
    examples = json.loads((pytester.path / "reports" / "report.json").read_text())["suites"][0][
        "examples"
    ]
    errors = {e["id"]: e["error"] for e in examples if e["error"] is not None}
    assert len(examples) == 40 and len(errors) == 2, errors
    assert all("BadRequestError" in str(error) for error in errors.values()), errors
    # Each example ended with one answer: 38 successes and the two 400s. Every other
    # response (a 429, 500 or drop) was followed by one retry, and the 400s by none:
    # neither synatest nor Synalinks (nor the window, replaying its prefetches) sent
    # those requests again.
    assert server.outcomes["ok"] == 38 and server.outcomes["400"] == 2
    retries = re.search(r"^synatest retries: (\d+) retries, .*$", result.stdout.str(), re.M)
    assert retries is not None
    transient = sum(n for outcome, n in server.outcomes.items() if outcome not in ("ok", "400"))
    assert int(retries.group(1)) == transient
    assert "gave up" not in retries.group(0)
    assert "2 permanent errors not retried" in retries.group(0)
    # The server's rate limit was met, and the limiter acted on it.
    assert server.outcomes["429"] > 0
    line = limiter_line(result)
    assert re.fullmatch(
        r"synatest limiter: openai/gpt-4o-mini: concurrency 8 -> 1\.\.\d "
        r"\(halved \d+x on 429, grew \d+x\), held \d+\.\d s for Retry-After",
        line,
    ), line
    assert "synatest concurrency: window 8" in result.stdout.str()


def test_a_token_limit_paces_the_calls(pytester: pytest.Pytester, server: LoopbackLM) -> None:
    write_dataset(pytester, 12)
    result = pytester.runpytest(
        "-p",
        "no:cacheprovider",
        "--synalinks-live",
        "--synalinks-eval",
        "--synalinks-token-rate-limit=openai/gpt-4o-mini=4200/min",
    )
    result.assert_outcomes(passed=12)
    assert server.outcomes == {"ok": 12}
    line = limiter_line(result)
    match = re.fullmatch(
        r"synatest limiter: openai/gpt-4o-mini: (\d+) tokens at <= 4200/min "
        r"\(paced (\d+\.\d) s\)",
        line,
    )
    assert match is not None, line
    # The responses' usage: about 60 tokens a call, 700 in all; at 70 tokens a second
    # with a burst of 6 s (420 tokens), the last calls waited their turn.
    assert 12 * 30 < int(match.group(1)) < 12 * 200
    assert float(match.group(2)) > 0


def test_a_plain_live_run_says_what_the_limiter_did(
    pytester: pytest.Pytester, server: LoopbackLM
) -> None:
    server.inject(Fault.rate_limited(retry_after=0.5), times=2)
    pytester.makepyfile(
        test_live="""
import asyncio, os
import litellm

async def test_it(synalinks_router):
    replies = await asyncio.gather(*(
        litellm.acompletion(
            model="openai/gpt-4o-mini", api_base=os.environ["LOOPBACK_URL"],
            messages=[{"role": "user", "content": f"hello {i}"}])
        for i in range(3)))
    assert [r.choices[0].message.content for r in replies] == [
        f"Echo: hello {i}" for i in range(3)]
    # Two 429s: neither used one of the 1 retry each call has.
    assert sum(request.retries for request in synalinks_router.requests) == 2
"""
    )
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--synalinks-live", "--synalinks-retries=1"
    )
    result.assert_outcomes(passed=1)
    assert server.outcomes == {"429": 2, "ok": 3}
    # The three calls went together: the two 429s were one signal, one halving, and
    # one hold of the model.
    assert limiter_line(result) == (
        "synatest limiter: openai/gpt-4o-mini: concurrency 8 -> 4..4 "
        "(halved 1x on 429, grew 0x), held 0.5 s for Retry-After"
    )
