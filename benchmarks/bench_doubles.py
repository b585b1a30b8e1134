"""Per-call overhead of synatest's doubles, measured side by side in one run.

The same Synalinks Generator program is called N times per round, served by:

- floor: ``litellm.acompletion`` replaced by a function returning one prebuilt
  ``ModelResponse`` (what any mock costs at least: Synalinks' own per-call work);
- ScriptedLM (rule): the router seam + a content rule + schema validation +
  a fresh ``ModelResponse`` per call;
- ScriptedLM (queue): the same with one queued reply per call;
- FunctionLM and SchemaLM for reference;
- each double again with the session speedups (:mod:`synatest.speedups`), as it runs
  inside a pytest session: the caches stay filled across rounds, as they do across
  the tests of a session.

Rounds alternate between modes so machine noise hits them alike; the table shows
the median per-call time and its ratio to the floor (targets: ScriptedLM <= 1.10x
without the speedups; with them ScriptedLM, FunctionLM <= 0.5x, SchemaLM <= 0.7x).

Run: ``uv run python benchmarks/bench_doubles.py [--calls 200] [--rounds 5]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


async def main(calls: int, rounds: int) -> None:
    from synatest import seam

    seam.activate()
    import litellm
    import synalinks
    from tabulate import tabulate

    from synatest import FunctionLM, SchemaLM, ScriptedLM, speedups
    from synatest.doubles.replies import to_response
    from synatest.seam import LMRequest, Router, use_router

    class Query(synalinks.DataModel):
        query: str = synalinks.Field(description="The user query")

    class Answer(synalinks.DataModel):
        answer: str = synalinks.Field(description="The answer")

    lm = synalinks.LanguageModel(model="openai/gpt-4o-mini")
    inputs = synalinks.Input(data_model=Query)
    outputs = await synalinks.Generator(data_model=Answer, language_model=lm)(inputs)
    program = synalinks.Program(inputs=inputs, outputs=outputs, name="bench")
    query = Query(query="What is the capital of France?")
    reply = {"answer": "Paris"}

    seam = litellm.acompletion
    prebuilt = to_response(reply, LMRequest("completion", {"model": "openai/gpt-4o-mini"}))

    async def floor(**kwargs: Any) -> Any:
        return prebuilt

    def floor_mode() -> tuple[Callable[[], None], Router | None]:
        litellm.acompletion = floor
        return (lambda: setattr(litellm, "acompletion", seam)), None

    def double_mode(
        make: Callable[[], Any], *, fast: bool = False
    ) -> Callable[[], tuple[Callable[[], None], Router]]:
        def setup() -> tuple[Callable[[], None], Router]:
            router = Router()
            make().install(router)
            if not fast:
                return (lambda: None), router
            speedups.install()
            return (lambda: speedups.uninstall(keep_caches=True)), router

        return setup

    def rule() -> ScriptedLM:
        lm = ScriptedLM()
        lm.on(schema=Answer).reply(reply)
        return lm

    modes: dict[str, Callable[[], tuple[Callable[[], None], Router | None]]] = {
        "floor (patched acompletion)": floor_mode,
        "ScriptedLM (rule)": double_mode(rule),
        "ScriptedLM (queue)": double_mode(lambda: ScriptedLM(*([reply] * calls))),
        "FunctionLM": double_mode(lambda: FunctionLM(lambda request: reply)),
        "SchemaLM": double_mode(lambda: SchemaLM(seed=0)),
        "ScriptedLM (rule) + speedups": double_mode(rule, fast=True),
        "ScriptedLM (queue) + speedups": double_mode(
            lambda: ScriptedLM(*([reply] * calls)), fast=True
        ),
        "FunctionLM + speedups": double_mode(lambda: FunctionLM(lambda request: reply), fast=True),
        "SchemaLM + speedups": double_mode(lambda: SchemaLM(seed=0), fast=True),
    }
    samples: dict[str, list[float]] = {name: [] for name in modes}

    async def run(router: Router | None) -> float:
        start = time.perf_counter()
        if router is None:
            for _ in range(calls):
                await program(query)
        else:
            with use_router(router):
                for _ in range(calls):
                    await program(query)
        return (time.perf_counter() - start) / calls

    for setup in modes.values():  # warm-up: schema caches, lazy imports
        restore, router = setup()
        try:
            with use_router(router or Router()):
                await program(query)
        finally:
            restore()
    for _ in range(rounds):
        for name, setup in modes.items():
            restore, router = setup()
            try:
                samples[name].append(await run(router))
            finally:
                restore()

    floor_ms = statistics.median(samples["floor (patched acompletion)"]) * 1000
    rows = []
    for name, values in samples.items():
        ms = statistics.median(values) * 1000
        rows.append([name, f"{ms:.2f}", f"{ms / floor_ms:.3f}x"])
    print(f"Generator program, {calls} calls x {rounds} rounds (median per call)")
    print(tabulate(rows, headers=["served by", "ms / call", "vs floor"], tablefmt="github"))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.calls, args.rounds))
