"""Cassette replay speed vs. the floor, and the load time / memory of a big cassette.

    uv run python benchmarks/bench_cassettes.py [--calls 300]

Per-call time of a Synalinks ``Generator`` program (one LM call per run):

- floor: ``litellm.acompletion`` replaced by a function returning a prebuilt response;
- lm layer: the same calls answered by synatest's cassette layer (router + O(1)
  lookup + rebuilding the litellm ``ModelResponse``), from cassettes of 100, 1,000
  and 10,000 recordings;
- the same with the session speedups (:mod:`synatest.speedups`: cached DataModel
  schemas and prompt templates), as every replay inside a pytest session runs; the
  caches stay filled across blocks, as across the tests of a session. The HTTP layer
  (vcrpy) is measured both ways too.

Rounds alternate floor and cassette side by side, the median per-call time of each
is compared. Then a 20,000-recording cassette is loaded in a fresh process: wall
time and RSS growth.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("OPENAI_API_KEY", "sk-bench-dummy")  # litellm wants one; never sent
BLOCK = 10
os.environ.setdefault("SYNALINKS_HOME", tempfile.mkdtemp(prefix="bench-synalinks-"))


def build_cassette(path: Path, template: dict[str, Any], size: int) -> None:
    from synatest.cassettes.store import Cassette, Interaction

    cassette = Cassette(path)
    raw = json.dumps(template)
    for i in range(size):
        cassette.record(
            Interaction(
                kind="completion",
                request=json.loads(raw.replace("Q-0?", f"Q-{i}?")),
                response_type="ModelResponse",
                response={
                    "id": f"chatcmpl-{i}",
                    "model": "gpt-4o-mini",
                    "object": "chat.completion",
                    "created": 1_700_000_000,
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "stop",
                            "message": {
                                "role": "assistant",
                                "content": json.dumps({"answer": f"A-{i}"}),
                            },
                        }
                    ],
                    "usage": {"prompt_tokens": 60, "completion_tokens": 8, "total_tokens": 68},
                },
                cost=1.2e-05,
            )
        )
    cassette.save(environ={})


async def build_program(api_base: str | None = None) -> tuple[Any, Any, Any]:
    import synalinks

    class Question(synalinks.DataModel):
        question: str = synalinks.Field(description="the question")

    class Answer(synalinks.DataModel):
        answer: str = synalinks.Field(description="the answer")

    lm = synalinks.LanguageModel(model="openai/gpt-4o-mini", api_base=api_base)
    inputs = synalinks.Input(data_model=Question)
    outputs = await synalinks.Generator(data_model=Answer, language_model=lm)(inputs)
    return synalinks.Program(inputs=inputs, outputs=outputs), Question, lm


async def bench_http(
    tmp: Path, *, program_factory: Any, sizes: tuple[int, ...], calls: int
) -> None:
    """HTTP layer (vcrpy + our index) and plain vcrpy (body matching) vs the floor."""
    import litellm
    import vcr
    import yaml
    from vcr.serializers import yamlserializer

    from synatest import seam, speedups
    from synatest.cassettes.http import HttpCassetteLayer
    from synatest.seam import Router
    from synatest.testing import LoopbackLM

    real_acompletion = litellm.acompletion
    # Record one real HTTP exchange from the loopback server, then replicate it.
    template_path = tmp / "template.http.yaml"
    with LoopbackLM(lambda body: {"answer": "A-0"}) as server:
        base = server.base_url
        program, Question, _ = await program_factory(base)
        router = Router()
        layer = HttpCassetteLayer(template_path, "once", router=router, explicit=True)
        router.use(layer)
        seam.set_session_router(router)
        litellm.acompletion = real_acompletion
        seam.install_litellm(litellm)
        layer.start()
        await program(Question(question="Q-0?"))
        layer.stop()
        layer.save()
        seam.uninstall_litellm()
    template = yaml.safe_load(template_path.read_text())
    one = template["interactions"][0]
    prebuilt = litellm.ModelResponse(
        model="gpt-4o-mini",
        choices=[
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": json.dumps({"answer": "A"})},
            }
        ],
        usage={"prompt_tokens": 60, "completion_tokens": 8, "total_tokens": 68},
    )

    async def floor_call(**kwargs: Any) -> Any:
        return prebuilt

    print(
        f"{'recordings':>10} {'floor ms':>9} {'http layer ms':>14} {'ratio':>6} "
        f"{'+ speedups ms':>14} {'ratio':>6} {'plain vcrpy ms':>15} {'ratio':>6}"
    )
    for size in sizes:
        path = tmp / f"h{size}.http.yaml"
        items = []
        for i in range(size):
            item = json.loads(json.dumps(one).replace("Q-0?", f"Q-{i}?").replace("A-0", f"A-{i}"))
            items.append(item)
        path.write_text(yamlserializer.serialize({**template, "interactions": items}))
        step = max(1, size // calls)
        questions = [f"Q-{i}?" for i in range(0, size, step)][:calls]
        program, Question, _ = await program_factory(base)
        router = Router()
        # allow_repeats: each question is replayed twice (without, then with speedups).
        layer = HttpCassetteLayer(path, "none", router=router, explicit=True, allow_repeats=True)
        router.use(layer)
        seam.set_session_router(router)
        plain = vcr.VCR(record_mode="none", match_on=("method", "uri", "body"))
        floor_t = http_t = fast_t = plain_t = 0.0
        plain_n = 0
        for block in range(0, len(questions), BLOCK):
            chunk = questions[block : block + BLOCK]
            litellm.acompletion = floor_call
            t0 = time.perf_counter()
            for q in chunk:
                await program(Question(question=q))
            floor_t += time.perf_counter() - t0
            litellm.acompletion = real_acompletion
            seam.install_litellm(litellm)
            layer.start()
            t0 = time.perf_counter()
            for q in chunk:
                await program(Question(question=q))
            http_t += time.perf_counter() - t0
            speedups.install()
            t0 = time.perf_counter()
            for q in chunk:
                await program(Question(question=q))
            fast_t += time.perf_counter() - t0
            speedups.uninstall(keep_caches=True)
            layer.stop()
            seam.uninstall_litellm()
            if plain_n < 100:  # plain vcrpy is slow: a sample is enough
                litellm.acompletion = real_acompletion
                with plain.use_cassette(str(path), allow_playback_repeats=True):
                    t0 = time.perf_counter()
                    for q in chunk:
                        await program(Question(question=q))
                    plain_t += time.perf_counter() - t0
                plain_n += len(chunk)
        n = len(questions)
        floor_ms, http_ms = floor_t / n * 1000, http_t / n * 1000
        fast_ms = fast_t / n * 1000
        plain_ms = plain_t / plain_n * 1000
        assert len(layer.vcr_cassette.play_counts) == n, "the HTTP layer did not replay"
        print(
            f"{size:>10} {floor_ms:>9.2f} {http_ms:>14.2f} {http_ms / floor_ms:>6.2f} "
            f"{fast_ms:>14.2f} {fast_ms / floor_ms:>6.2f} "
            f"{plain_ms:>15.2f} {plain_ms / floor_ms:>6.2f}"
        )


async def main(calls: int) -> None:
    import litellm
    import synalinks

    from synatest import seam, speedups
    from synatest.cassettes import Cassette, CassetteLayer
    from synatest.seam import LMRequest, Router

    class Question(synalinks.DataModel):
        question: str = synalinks.Field(description="the question")

    class Answer(synalinks.DataModel):
        answer: str = synalinks.Field(description="the answer")

    lm = synalinks.LanguageModel(model="openai/gpt-4o-mini")
    inputs = synalinks.Input(data_model=Question)
    outputs = await synalinks.Generator(data_model=Answer, language_model=lm)(inputs)
    program = synalinks.Program(inputs=inputs, outputs=outputs)

    real_acompletion = litellm.acompletion
    prebuilt = litellm.ModelResponse(
        model="gpt-4o-mini",
        choices=[
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": json.dumps({"answer": "A"})},
            }
        ],
        usage={"prompt_tokens": 60, "completion_tokens": 8, "total_tokens": 68},
    )
    captured: dict[str, Any] = {}

    async def capture(**kwargs: Any) -> Any:
        captured.update(kwargs)
        return prebuilt

    litellm.acompletion = capture
    await program(Question(question="Q-0?"))
    template = Cassette(Path("x")).normalize("completion", captured)

    async def floor_call(**kwargs: Any) -> Any:
        return prebuilt

    tmp = Path(tempfile.mkdtemp(prefix="bench-cassettes-"))
    print(
        f"{'recordings':>10} {'floor ms/call':>14} {'lm layer ms/call':>17} {'ratio':>6} "
        f"{'+ speedups ms/call':>19} {'ratio':>6}"
    )
    for size in (100, 1_000, 10_000):
        path = tmp / f"c{size}.yaml"
        build_cassette(path, template, size)
        floor_times, layer_times, fast_times = [], [], []
        step = max(1, size // calls)
        questions = [f"Q-{i}?" for i in range(0, size, step)][:calls]
        router = Router()
        # allow_repeats: each question is replayed twice (without, then with speedups).
        cassette = Cassette.load(path, allow_repeats=True)
        layer = CassetteLayer(cassette, "none", router=router, explicit=True)
        router.use(layer)
        seam.set_session_router(router)
        # Alternate blocks of calls (floor, cassette, floor, ...) so that the load of
        # this shared machine weighs on both sides alike.
        for block in range(0, len(questions), BLOCK):
            chunk = questions[block : block + BLOCK]
            litellm.acompletion = floor_call
            t0 = time.perf_counter()
            for q in chunk:
                await program(Question(question=q))
            floor_times.append(time.perf_counter() - t0)
            seam.install_litellm(litellm)
            t0 = time.perf_counter()
            for q in chunk:
                await program(Question(question=q))
            layer_times.append(time.perf_counter() - t0)
            speedups.install()
            t0 = time.perf_counter()
            for q in chunk:
                await program(Question(question=q))
            fast_times.append(time.perf_counter() - t0)
            speedups.uninstall(keep_caches=True)
            seam.uninstall_litellm()
        assert len(layer.replayed) == 2 * len(questions)
        floor = sum(floor_times) / len(questions) * 1000
        layer_ms = sum(layer_times) / len(questions) * 1000
        fast_ms = sum(fast_times) / len(questions) * 1000
        print(
            f"{size:>10} {floor:>14.3f} {layer_ms:>17.3f} {layer_ms / floor:>6.3f} "
            f"{fast_ms:>19.3f} {fast_ms / floor:>6.3f}"
        )

    # The seam alone (no Synalinks around it): the layer's own per-call cost.
    path = tmp / "c1000.yaml"
    router = Router()
    layer = CassetteLayer(Cassette.load(path, allow_repeats=True), "none", router=router)
    router.use(layer)
    request = LMRequest("completion", {**template, "api_key": "x", "timeout": 600})
    n = 2000
    t0 = time.perf_counter()
    for _ in range(n):
        await router.dispatch(request)
    seam_us = (time.perf_counter() - t0) / n * 1e6
    print(f"cassette layer alone (dispatch + lookup + ModelResponse): {seam_us:.1f} us/call")
    litellm.acompletion = real_acompletion

    await bench_http(tmp, program_factory=build_program, sizes=(100, 1_000), calls=calls)

    big = tmp / "c20000.yaml"
    build_cassette(big, template, 20_000)
    # VmHWM (peak RSS) from /proc: ru_maxrss would carry this process's peak over exec.
    probe = (
        "import time, sys\n"
        "def hwm():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmHWM:'):\n"
        "            return int(line.split()[1]) / 1024\n"
        "from synatest.cassettes.store import Cassette\n"
        "before = hwm()\n"
        "t0 = time.perf_counter()\n"
        "c = Cassette.load(sys.argv[1])\n"
        "dt = time.perf_counter() - t0\n"
        "print(len(c), dt, before, hwm())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, str(big)], capture_output=True, text=True, check=True
    ).stdout.split()
    count, seconds, before_mb, after_mb = int(out[0]), float(out[1]), float(out[2]), float(out[3])
    size_mb = big.stat().st_size / 1e6
    print(
        f"load {count} recordings ({size_mb:.1f} MB file): {seconds:.2f} s, "
        f"peak RSS {after_mb:.0f} MB (+{after_mb - before_mb:.0f} MB over the interpreter)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=300, help="calls per round (default 300)")
    asyncio.run(main(parser.parse_args().calls))
