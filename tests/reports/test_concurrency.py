"""Concurrent examples: the prefetching core, and the plugin in eval runs."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from synatest.eval.concurrency import (
    Prefetcher,
    RateLimiter,
    parse_rate_limits,
    request_key,
)
from synatest.seam import LMRequest, Router

from ._suite import CONFTEST, lm_state, make_project

# -- the core, without pytest -----------------------------------------------------------


def test_parse_rate_limits() -> None:
    assert parse_rate_limits("openai/gpt-4o=600/min, 2/s") == {"openai/gpt-4o": 10.0, "*": 2.0}
    assert parse_rate_limits("ollama/llama3=7200/hour") == {"ollama/llama3": 2.0}
    for bad in ("fast", "openai/gpt-4o=10", "0/s", "5/day"):
        with pytest.raises(
            ValueError,
            match=r"bad rate limit .*write RATE or MODEL=RATE, RATE "
            r"like 60/min or 5/s",
        ):
            parse_rate_limits(bad)


def test_request_key_ignores_secrets_and_transport() -> None:
    base = {"model": "openai/x", "messages": [{"role": "user", "content": "hi"}]}
    a = LMRequest("completion", {**base, "api_key": "sk-1", "timeout": 3})
    b = LMRequest("completion", {**base, "api_key": "sk-2"})
    c = LMRequest("completion", {**base, "temperature": 0.5})
    assert request_key(a) == request_key(b) != request_key(c)
    assert "sk-1" not in request_key(a)


def test_rate_limiter_spaces_calls_per_model() -> None:
    limiter = RateLimiter({"m/a": 20.0})  # one call each 50 ms for m/a, none for others

    async def served(request: LMRequest) -> str:
        return request.model

    async def main() -> list[str]:
        requests = [LMRequest("completion", {"model": m}) for m in ("m/a",) * 4 + ("m/b",) * 4]
        return await asyncio.gather(*(limiter(r, served) for r in requests))

    assert asyncio.run(main()) == ["m/a"] * 4 + ["m/b"] * 4
    # m/a's calls started at 0, 50, 100 and 150 ms: 300 ms of waiting in all; m/b none.
    assert limiter.waited_s == pytest.approx(0.3, abs=0.03)


def test_prefetch_then_replay_with_a_real_router() -> None:
    calls: list[str] = []

    async def slow_lm(request: LMRequest, call_next: object) -> str:
        calls.append(request.last_user_message)
        await asyncio.sleep(0.01)
        return f"answer to {request.last_user_message}"

    template = Router(live=False, test_id="leader")
    template.use(slow_lm, name="slow")
    template.use(slow_lm, name="synatest-eval-usage")  # never copied into a prefetch

    async def example(question: str) -> str:
        from synatest.seam import current_router

        request = LMRequest(
            "completion", {"model": "m", "messages": [{"role": "user", "content": question}]}
        )
        return str(await current_router().dispatch(request))

    loop = asyncio.new_event_loop()
    try:
        prefetcher = Prefetcher(loop, window=3)
        assert prefetcher.room() == 2
        first = prefetcher.start("t[1]", example, {"question": "q1"}, template)
        prefetcher.start("t[2]", example, {"question": "q2"}, template)
        assert prefetcher.room() == 0
        assert [name for name, _ in first.router.layers] == ["synatest-prefetch-recorder", "slow"]

        claimed = prefetcher.claim("t[1]")
        assert claimed is first and prefetcher.room() == 1
        own = Router(live=False, test_id="t[1]")
        own.use(prefetcher.replay_layer(first), name="synatest-replay")
        own.use(slow_lm, name="slow")

        async def run_example() -> str:
            from synatest.seam import use_router

            with use_router(own):
                return await example("q1")

        assert loop.run_until_complete(run_example()) == "answer to q1"
        # q1 was asked once (by the prefetch); the example's own call was replayed.
        assert calls.count("q1") == 1
        assert (first.hits, first.misses, prefetcher.stats.replayed_calls) == (1, 0, 1)
        prefetcher.cancel_all()
        assert prefetcher.pending == {}
    finally:
        loop.close()


def test_finished_prefetches_free_their_slot_and_refill_the_window() -> None:
    gates: dict[str, asyncio.Event] = {}

    async def example(name: str) -> str:
        await gates[name].wait()
        return name

    loop = asyncio.new_event_loop()
    try:
        gates.update({f"t{i}": asyncio.Event() for i in range(6)})
        prefetcher = Prefetcher(loop, window=3, lookahead=4)
        started: list[str] = []

        def start(name: str) -> None:
            started.append(name)
            prefetcher.start(name, example, {"name": name}, Router(live=False))

        def refill() -> None:
            while prefetcher.room() > 0 and len(started) < 6:
                start(f"t{len(started)}")

        refill()
        assert started == ["t0", "t1"]  # the running example takes the third slot
        prefetcher.refill = refill
        gates["t0"].set()
        loop.run_until_complete(prefetcher.pending["t0"].task)
        loop.run_until_complete(asyncio.sleep(0))  # done callbacks run
        # t0 finished but is not claimed: its slot went to t2 all the same.
        assert started == ["t0", "t1", "t2"] and prefetcher.in_flight() == 2
        for name in ("t1", "t2"):
            gates[name].set()
        loop.run_until_complete(asyncio.sleep(0.01))
        # At most `lookahead` prefetches are kept, finished or not.
        assert started == ["t0", "t1", "t2", "t3"] and prefetcher.room() == 0
        assert prefetcher.claim("t0") is not None and prefetcher.room() == 1
        prefetcher.cancel_all()
        assert prefetcher.refill is None
    finally:
        loop.close()


def test_an_error_while_refilling_is_kept_for_the_running_example() -> None:
    async def example() -> None:
        return None

    loop = asyncio.new_event_loop()
    try:
        prefetcher = Prefetcher(loop, window=2)

        def broken() -> None:
            raise KeyError("leader.funcargs")

        prefetcher.refill = broken
        prefetcher.start("t1", example, {}, Router(live=False))
        loop.run_until_complete(asyncio.sleep(0.01))
        assert isinstance(prefetcher.refill_error, KeyError)
        assert prefetcher.refill is None  # no more refills after an error
    finally:
        loop.close()


def test_window_must_be_positive() -> None:
    loop = asyncio.new_event_loop()
    try:
        with pytest.raises(ValueError, match="at least 1"):
            Prefetcher(loop, window=0)
    finally:
        loop.close()


# -- the plugin, in pytest runs ---------------------------------------------------------

pytestmark = pytest.mark.usefixtures("preimport_synalinks")


def _examples(pytester: pytest.Pytester) -> dict[str, dict[str, object]]:
    report = json.loads((pytester.path / "reports" / "report.json").read_text())
    return {e["id"]: e for s in report["suites"] for e in s["examples"]}


def test_examples_run_concurrently_and_each_reports_alone(pytester: pytest.Pytester) -> None:
    make_project(pytester, n=12, wrong=(5,))
    result = pytester.runpytest("--synalinks-eval", "--synalinks-concurrency", "4", "-v")
    result.assert_outcomes(passed=12)
    result.stdout.fnmatch_lines(["*test_sums[[]s00[]] PASSED*", "*test_sums[[]s11[]] PASSED*"])
    state = lm_state(result)
    # Up to 4 examples waited for the LM at once, and no LM call was made twice.
    assert 2 <= state["max_in_flight"] <= 4
    assert state["calls"] == 12
    result.stdout.fnmatch_lines(
        [
            "synatest concurrency: window 4, 11 examples prefetched (11 results used as is), "
            "11 LM calls answered from prefetches, 0 made again"
        ]
    )
    examples = _examples(pytester)
    assert examples["s05"]["reward"] == 0.0
    assert all(e["reward"] == 1.0 for i, e in examples.items() if i != "s05")
    # Usage still counts each example's own call (answered from its prefetch).
    assert all(e["usage"]["calls"] == 1 for e in examples.values())


def test_a_slow_example_does_not_hold_the_window_back(pytester: pytest.Pytester) -> None:
    # Example s00's LM call takes 1 s, the others 50 ms. While s00 waits, each finished
    # prefetch frees its slot for the next example: all 11 others call the LM meanwhile.
    make_project(pytester, n=12)
    pytester.makeconftest(
        CONFTEST.replace(
            "        await asyncio.sleep(LATENCY)\n",
            "        first = '0 + 0' in request.last_user_message\n"
            "        await asyncio.sleep(1.0 if first else LATENCY)\n"
            "        if first:\n"
            "            STATE['calls_when_slow_ended'] = STATE['calls']\n",
        )
    )
    result = pytester.runpytest("--synalinks-eval", "--synalinks-concurrency", "4")
    result.assert_outcomes(passed=12)
    state = lm_state(result)
    assert state["calls"] == 12
    # Without refilling, only the 3 examples prefetched when s00 started would have.
    assert state["calls_when_slow_ended"] == 12
    assert 2 <= state["max_in_flight"] <= 4  # the window still bounds the LM calls
    result.stdout.fnmatch_lines(["*11 examples prefetched (11 results used as is)*"])


def test_same_report_as_a_serial_run(pytester: pytest.Pytester) -> None:
    make_project(pytester, n=8, wrong=(2, 3))
    pytester.runpytest("--synalinks-eval", "--synalinks-concurrency", "1").assert_outcomes(passed=8)
    serial = _examples(pytester)
    pytester.runpytest("--synalinks-eval", "--synalinks-concurrency", "8").assert_outcomes(passed=8)
    concurrent = _examples(pytester)
    keys = ("reward", "passed", "prediction", "inputs", "expected", "error")
    assert {i: [e[k] for k in keys] for i, e in serial.items()} == {
        i: [e[k] for k in keys] for i, e in concurrent.items()
    }
    assert [serial[i]["usage"] for i in serial] == [concurrent[i]["usage"] for i in serial]


def test_off_by_default_offline(pytester: pytest.Pytester) -> None:
    make_project(pytester, n=4)
    result = pytester.runpytest("--synalinks-eval")
    result.assert_outcomes(passed=4)
    assert lm_state(result)["max_in_flight"] == 1
    assert "synatest concurrency" not in result.stdout.str()


def test_an_lm_error_stays_with_its_example(pytester: pytest.Pytester) -> None:
    make_project(pytester, n=5, broken=(2,))
    result = pytester.runpytest("--synalinks-eval", "--synalinks-concurrency", "5")
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines(
        ["test_sums.py ..F..*", "*_ test_sums[[]s02[]] _*", "E * synatest.errors.LMCallFailed: *"]
    )
    examples = _examples(pytester)
    assert str(examples["s02"]["error"]).startswith("LMCallFailed")
    assert all(examples[f"s0{i}"]["reward"] == 1.0 for i in (0, 1, 3, 4))
    # Failed calls are not replayed: the example makes them again itself (Synalinks
    # tries 5 times: 4 good calls + 5 failed in the prefetch + 5 failed again).
    assert lm_state(result)["calls"] == 14
    result.stdout.fnmatch_lines(
        [
            "*4 examples prefetched (3 results used as is), 3 LM calls answered from "
            "prefetches, * made again"
        ]
    )


def test_fixture_computed_from_x_turns_prefetching_off(pytester: pytest.Pytester) -> None:
    make_project(pytester, n=4)
    pytester.makepyfile(
        test_sums="""
        import pytest
        import synatest
        from conftest import Answer, Question

        @pytest.fixture
        def question(x):
            return x

        @synatest.parametrize_dataset("sums.jsonl", x=Question, y=Answer)
        @pytest.mark.synalinks_eval(suite="sums")
        async def test_sums(program, question, x, y):
            return await program(question)
    """
    )
    result = pytester.runpytest("--synalinks-eval", "--synalinks-concurrency", "4")
    result.assert_outcomes(passed=4)
    assert lm_state(result)["max_in_flight"] == 1
    assert "synatest concurrency" not in result.stdout.str()


def test_rate_limit_applies_to_calls_really_made(pytester: pytest.Pytester) -> None:
    make_project(pytester, n=6)
    result = pytester.runpytest(
        "--synalinks-eval",
        "--synalinks-concurrency",
        "6",
        "--synalinks-rate-limit",
        "openai/gpt-4o-mini=4/s",
    )
    result.assert_outcomes(passed=6)
    assert lm_state(result)["calls"] == 6
    # Calls spaced 250 ms apart: the prefetched ones queued up behind each other.
    line = next(x for x in result.outlines if x.startswith("synatest concurrency"))
    waited = float(line.rsplit(", ", 1)[1].split(" s waited")[0])
    assert waited > 0.5


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--synalinks-concurrency", "0"],
            "*--synalinks-concurrency: the concurrency must be a whole number >= 1 "
            "(1 turns it off)*",
        ),
        (["--synalinks-concurrency", "many"], "*the concurrency must be a whole number >= 1*"),
        (
            ["--synalinks-rate-limit", "fast"],
            "*--synalinks-rate-limit: bad rate limit 'fast': write RATE or MODEL=RATE*",
        ),
    ],
)
def test_bad_values(pytester: pytest.Pytester, args: list[str], message: str) -> None:
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_a_test_with_its_own_cassette_is_never_a_prefetch_template(tmp_path: Path) -> None:
    from synatest.cassettes.layer import CassetteLayer
    from synatest.cassettes.store import Cassette
    from synatest.eval.window import _bound_to_its_test

    missing = tmp_path / "test_x.yaml"
    # No cassette file, replay mode: the layer passes every call on -- harmless.
    assert not _bound_to_its_test("cassette", CassetteLayer(Cassette.load(missing)))
    # Recording, or a cassette the test asked for: bound to that test.
    assert _bound_to_its_test("cassette", CassetteLayer(Cassette.load(missing), "once"))
    assert _bound_to_its_test("cassette", CassetteLayer(Cassette.load(missing), explicit=True))
    assert not _bound_to_its_test("slow-adder", object())
