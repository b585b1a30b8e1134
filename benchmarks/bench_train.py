"""Overhead of `synatest train` over a raw `program.fit`, side by side in one run.

Same program, same simulated LM (synatest.FunctionLM, prompt-sensitive), same
data split, same epochs and batch sizes. Two ratios:

- fit loop: `train_program`'s fit (its callback, usage meter, per-epoch checkpoint
  and best-program saves) vs. `program.fit` with the same arguments;
- whole run: `train_program` + `write_report` (untrained evaluation, final test
  evaluation, report.json/md, history.csv, curve.png) vs. `program.fit` plus the
  same evaluations done by hand with `program.evaluate`.

Runs alternate (raw, synatest, raw, ...) so machine load hits both alike; the
median of each is reported. Usage: `python benchmarks/bench_train.py [repeats]`.
"""

from __future__ import annotations

import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from synatest import _env, seam

ENV = _env.enter()
seam.activate()

EPOCHS = 2
SIZE = 30


def simulated(request: Any) -> dict[str, str]:
    number = int(re.findall(r"What is (\d+) doubled", request.last_user_message)[-1])
    if "<examples>" in request.text or number % 5 < 2:
        return {"answer": str(2 * number)}
    return {"answer": f"{number} doubled is {2 * number}"}


async def main(repeats: int) -> None:
    import numpy as np
    import synalinks

    from synatest.doubles.function import FunctionLM
    from synatest.seam import Router, use_router
    from synatest.train.config import TrainConfig
    from synatest.train.core import train_program
    from synatest.train.report import write_report
    from synatest.train.split import split_indices

    class Question(synalinks.DataModel):
        question: str

    class Answer(synalinks.DataModel):
        answer: str

    numbers = [7 * i + 3 for i in range(1, SIZE + 1)]
    x = [Question(question=f"What is {n} doubled?") for n in numbers]
    y = [Answer(answer=str(2 * n)) for n in numbers]
    split = split_indices(SIZE, seed=1337)

    def take(values: list[Any], idx: list[int]) -> Any:
        return np.array([values[i] for i in idx], dtype="object")

    async def build() -> Any:
        synalinks.clear_session()
        lm = synalinks.LanguageModel(model="openai/gpt-4o-mini")
        inputs = synalinks.Input(data_model=Question)
        outputs = await synalinks.Generator(data_model=Answer, language_model=lm)(inputs)
        return synalinks.Program(inputs=inputs, outputs=outputs, name="doubler")

    async def raw(router: Router) -> tuple[float, float]:
        program = await build()
        program.compile(
            reward=synalinks.rewards.ExactMatch(), optimizer=synalinks.optimizers.RandomFewShot()
        )
        xt, yt = take(x, split.train), take(y, split.train)
        xv, yv = take(x, split.validation), take(y, split.validation)
        xs, ys = take(x, split.test), take(y, split.test)
        began = time.perf_counter()
        await program.evaluate(x=xv, y=yv, verbose=0)
        await program.evaluate(x=xs, y=ys, verbose=0)
        fit_began = time.perf_counter()
        await program.fit(
            x=xt,
            y=yt,
            validation_data=(xv, yv),
            validation_batch_size=len(xv),
            epochs=EPOCHS,
            verbose=0,
        )
        fit_s = time.perf_counter() - fit_began
        await program.evaluate(x=xs, y=ys, verbose=0)
        return fit_s, time.perf_counter() - began

    async def ours(router: Router, out: Path) -> tuple[float, float]:
        program = await build()
        config = TrainConfig(
            suite="doubler", threshold=0.9, until_pass=False, epochs=EPOCHS, output=out
        )
        began = time.perf_counter()
        result = await train_program(
            program, x, y, reward=synalinks.rewards.ExactMatch(), config=config
        )
        write_report(result)
        return result.fit_s, time.perf_counter() - began

    timings: dict[str, list[tuple[float, float]]] = {"raw": [], "synatest": []}
    calls: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(repeats):
            for name in ("raw", "synatest"):
                router = Router()
                router.use(FunctionLM(simulated))
                with use_router(router):
                    if name == "raw":
                        timings[name].append(await raw(router))
                    else:
                        timings[name].append(await ours(router, Path(tmp) / str(i)))
                calls[name] = len(router.requests)

    def median(name: str, index: int) -> float:
        return statistics.median(t[index] for t in timings[name])

    print(
        f"synatest train vs raw program.fit: {SIZE} examples, {EPOCHS} epochs, "
        f"RandomFewShot, FunctionLM; median of {repeats} alternating runs"
    )
    print(f"  LM calls per run: raw {calls['raw']}, synatest {calls['synatest']}")
    for label, index in (("fit loop", 0), ("whole run", 1)):
        a, b = median("raw", index), median("synatest", index)
        print(f"  {label:9}: raw {a:6.2f} s  synatest {b:6.2f} s  ratio {b / a:.3f}x")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3))
    ENV.restore()
