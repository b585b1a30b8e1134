"""How fast an unserved LM call fails: the whole Synalinks call path, no retries.

Without synatest an unreachable model costs Synalinks' full retry schedule (~15 s of
backoff) before the error is swallowed. Runs a one-Generator program whose call nothing
serves, in-process, and prints the median time to `UnservedLMCall`.

    uv run python benchmarks/bench_unserved.py [--calls 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("SYNALINKS_HOME", tempfile.mkdtemp(prefix="synatest-bench-"))


async def run(calls: int) -> list[float]:
    import synalinks

    from synatest import UnservedLMCall, seam

    seam.activate()

    class Query(synalinks.DataModel):
        query: str

    class Answer(synalinks.DataModel):
        answer: str

    lm = synalinks.LanguageModel(model="openai/gpt-4o-mini")
    inputs = synalinks.Input(data_model=Query)
    outputs = await synalinks.Generator(data_model=Answer, language_model=lm)(inputs)
    program = synalinks.Program(inputs=inputs, outputs=outputs)
    times = []
    for i in range(calls):
        start = time.perf_counter()
        try:
            await program(Query(query=f"question {i}"))
        except UnservedLMCall:
            times.append(time.perf_counter() - start)
        else:  # pragma: no cover - would mean the seam is not installed
            raise SystemExit("the call was served: the seam is not installed")
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=50)
    args = parser.parse_args()
    times = asyncio.run(run(args.calls))
    print(
        f"unserved call -> UnservedLMCall: median {statistics.median(times) * 1000:.1f} ms, "
        f"max {max(times) * 1000:.1f} ms over {len(times)} calls (first call included)"
    )


if __name__ == "__main__":
    main()
