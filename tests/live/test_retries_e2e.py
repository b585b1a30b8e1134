"""Live calls against the loopback server with injected faults, through real HTTP.

Each test runs an inner pytest session with ``--synalinks-live`` whose test calls
litellm (and Synalinks) against the server; the server's log proves what was sent.
"""

from __future__ import annotations

import re

import pytest

from synatest.testing import DUMMY_API_KEY, Fault, LoopbackLM

CALL = """
import os, time
import litellm, pytest

async def ask(text="hello", **kwargs):
    return await litellm.acompletion(
        model="openai/gpt-4o-mini", api_base=os.environ["LOOPBACK_URL"],
        messages=[{"role": "user", "content": text}], **kwargs)
"""


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> LoopbackLM:
    with LoopbackLM(idle_timeout=30) as server:
        monkeypatch.setenv("OPENAI_API_KEY", DUMMY_API_KEY)
        monkeypatch.setenv("LOOPBACK_URL", server.base_url)
        yield server


def run(pytester: pytest.Pytester, body: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_live=CALL + body)
    return pytester.runpytest("-p", "no:cacheprovider", "--synalinks-live", *args)


def test_a_429_waits_its_retry_after_then_succeeds(
    pytester: pytest.Pytester, server: LoopbackLM
) -> None:
    server.inject(Fault.rate_limited(retry_after=1), times=1)
    result = run(
        pytester,
        """
async def test_it(synalinks_router):
    start = time.monotonic()
    response = await ask()
    assert response.choices[0].message.content == "Echo: hello"
    assert time.monotonic() - start >= 1.0
    (request,) = synalinks_router.requests
    assert (request.retries, request.retry_wait_s) == (1, 1.0)
""",
    )
    result.assert_outcomes(passed=1)
    assert server.outcomes == {"429": 1, "ok": 1}


def test_server_errors_drops_and_timeouts_are_retried(
    pytester: pytest.Pytester, server: LoopbackLM
) -> None:
    server.inject(Fault.status_code(500), times=1)
    server.inject(Fault.status_code(503), times=1)
    server.inject(Fault.drop(), times=1)
    server.inject(Fault.hang(2), times=1)
    result = run(
        pytester,
        """
async def test_it():
    response = await ask(timeout=0.3)
    assert response.choices[0].message.content == "Echo: hello"
""",
        "--synalinks-retry-backoff=0.01",
    )
    result.assert_outcomes(passed=1)
    assert server.outcomes == {"500": 1, "503": 1, "drop": 1, "hang": 1, "ok": 1}


def test_a_cut_stream_is_retried_whole(pytester: pytest.Pytester, server: LoopbackLM) -> None:
    server.inject(Fault.cut(after=1), times=1)
    result = run(
        pytester,
        """
async def test_it():
    stream = await ask("one two three four five six seven", stream=True)
    text = "".join([chunk.choices[0].delta.content or "" async for chunk in stream])
    assert text == "Echo: one two three four five six seven"
""",
        "--synalinks-retry-backoff=0",
    )
    result.assert_outcomes(passed=1)
    assert server.outcomes == {"cut": 1, "ok": 1}


@pytest.mark.parametrize("status", [400, 401, 404])
def test_permanent_errors_are_never_retried(
    pytester: pytest.Pytester, server: LoopbackLM, status: int
) -> None:
    server.inject(Fault.status_code(status), times=1)
    result = run(
        pytester,
        """
async def test_it():
    with pytest.raises(Exception) as info:
        await ask()
    assert getattr(info.value, "status_code", None) == STATUS
""".replace("STATUS", str(status)),
    )
    result.assert_outcomes(passed=1)
    assert server.outcomes == {str(status): 1}


def test_the_retry_count_and_budget_are_honoured(
    pytester: pytest.Pytester, server: LoopbackLM
) -> None:
    server.inject(Fault.status_code(502), times=10)
    result = run(
        pytester,
        """
async def test_count(synalinks_router):
    with pytest.raises(litellm.BadGatewayError):
        await ask()
    assert synalinks_router.requests[0].retries == 2

async def test_budget(synalinks_router):
    # A Retry-After of 5 s is beyond the 1 s budget: no retry at all.
    start = time.monotonic()
    with pytest.raises(litellm.RateLimitError):
        await ask()
    assert time.monotonic() - start < 4
    assert synalinks_router.requests[0].retries == 0
""",
        "--synalinks-retries=2",
        # A budget no call nears, however slow the machine: only the count limits here.
        "--synalinks-retry-budget=60",
        "--synalinks-retry-backoff=0",
        "-k",
        "count",
    )
    result.assert_outcomes(passed=1)
    assert server.outcomes == {"502": 3}
    server.clear_faults()
    server.inject(Fault.rate_limited(retry_after=5), times=1)
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--synalinks-live", "--synalinks-retry-budget=1", "-k", "budget"
    )
    result.assert_outcomes(passed=1)
    assert server.outcomes == {"502": 3, "429": 1}


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


def test_a_live_eval_with_20_percent_transient_faults_scores_every_example(
    pytester: pytest.Pytester, server: LoopbackLM
) -> None:
    import json

    rows = [{"id": f"q{i}", "question": f"question {i}?", "answer": "a"} for i in range(30)]
    (pytester.path / "qa.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    server.inject(Fault.rate_limited(retry_after=0), probability=0.1, seed=1)
    server.inject(Fault.status_code(500), probability=0.05, seed=2)
    server.inject(Fault.drop(), probability=0.05, seed=3)
    pytester.makepyfile(test_suite=EVAL)
    result = pytester.runpytest(
        "-p",
        "no:cacheprovider",
        "--synalinks-live",
        "--synalinks-eval",
        "--synalinks-retry-backoff=0.01",
    )
    result.assert_outcomes(passed=30)
    report = json.loads((pytester.path / "reports" / "report.json").read_text())
    examples = report["suites"][0]["examples"]
    assert len(examples) == 30 and all(e["error"] is None for e in examples)
    faults = sum(n for outcome, n in server.outcomes.items() if outcome != "ok")
    assert faults >= 3 and server.outcomes["ok"] == 30
    # Every fault was retried, or ended a call that gave up (its retries spent: which
    # call draws several faults in a row depends on the order concurrent calls arrive).
    line = re.search(r"synatest retries: (\d+) retries, .*", result.stdout.str())
    assert line is not None
    gave_up = re.search(r"(\d+) calls gave up", line.group(0))
    assert int(line.group(1)) + (int(gave_up.group(1)) if gave_up else 0) == faults


def test_synalinks_does_not_retry_what_synatest_gave_up_on(
    pytester: pytest.Pytester, server: LoopbackLM
) -> None:
    server.inject(Fault.status_code(400), times=1)
    server.inject(Fault.status_code(503), times=3)
    pytester.makepyfile(
        test_lm="""
import os
import pytest
import synalinks


@pytest.mark.synalinks_allow_lm_errors
@pytest.mark.parametrize("attempt", ["permanent", "past the budget"])
async def test_lm(synalinks_router, attempt):
    lm = synalinks.LanguageModel(model="openai/gpt-4o-mini", api_base=os.environ["LOOPBACK_URL"])
    messages = synalinks.ChatMessages(messages=[synalinks.ChatMessage(role="user", content="hi")])
    assert await lm(messages) is None
    (error,) = synalinks_router.lm_errors
    assert error.status_code == (400 if attempt == "permanent" else 503)
"""
    )
    result = pytester.runpytest(
        "-p",
        "no:cacheprovider",
        "--synalinks-live",
        "--synalinks-retries=2",
        "--synalinks-retry-backoff=0",
    )
    result.assert_outcomes(passed=2)
    # One request for the 400; three (one call, two retries) for the 503s; none again
    # from Synalinks' own retries.
    assert server.outcomes == {"400": 1, "503": 3}
