from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from synatest.eval.results import ExampleResult, GateResult, RunReport, SuiteResult, Usage


def build_report(
    *,
    n: int = 40,
    seed: int = 0,
    p: float = 0.7,
    error_rate: float = 0.05,
    label: str | None = "before",
    suites: tuple[str, ...] = ("qa", "math"),
    threshold: float = 0.6,
    cost: float = 0.0001,
) -> RunReport:
    """A hand-made run: per suite ``n`` examples passing with probability ``p``."""
    rnd = random.Random(seed)
    results = []
    for name in suites:
        examples = []
        for i in range(n):
            error = rnd.random() < error_rate
            reward = None if error else float(rnd.random() < p)
            examples.append(
                ExampleResult(
                    id=f"{name}-{i}",
                    suite=name,
                    nodeid=f"tests/test_eval.py::test_{name}[{name}-{i}]",
                    inputs={"question": f"What is {i}?", "context": {"n": i}},
                    expected={"answer": str(i)},
                    prediction=None if error else {"answer": str(i if reward else i + 1)},
                    reward=reward,
                    passed=None if error else bool(reward),
                    error="LMCallFailed: RateLimitError: slow down" if error else None,
                    duration_s=0.25,
                    usage=Usage(calls=1, prompt_tokens=30, completion_tokens=6, cost=cost),
                )
            )
        scored = [e.reward for e in examples if e.reward is not None]
        mean = sum(scored) / len(scored)
        results.append(
            SuiteResult(
                name=name,
                reward="ExactMatch",
                threshold=threshold,
                n=n,
                mean=mean,
                ci_low=max(0.0, mean - 0.1),
                ci_high=min(1.0, mean + 0.1),
                passes=sum(1 for e in examples if e.passed),
                errors=sum(1 for e in examples if e.error),
                gates=[
                    GateResult(
                        name="threshold",
                        passed=mean >= threshold,
                        message=None if mean >= threshold else f"mean {mean:.3f} < {threshold}",
                    )
                ],
                examples=examples,
                usage=Usage(calls=n, prompt_tokens=30 * n, completion_tokens=6 * n, cost=cost * n),
            )
        )
    total = Usage()
    for suite in results:
        total = total + suite.usage
    return RunReport(
        label=label,
        synatest_version="0.1.0",
        synalinks_version="0.10.14",
        git_commit="0123456789abcdef0123",
        models=["openai/gpt-4o-mini"],
        suites=results,
        usage=total,
        duration_s=12.5,
    )


@pytest.fixture
def make_report() -> Callable[..., RunReport]:
    """Build a hand-made RunReport (see ``build_report`` for the knobs)."""
    return build_report


@pytest.fixture(scope="session")
def preimport_synalinks() -> None:
    """Import Synalinks in this process before in-process pytester runs.

    pytester restores ``sys.modules`` after each run; numpy (under Synalinks) cannot
    be imported twice in one process, so it must be imported outside those runs.
    """
    import synalinks  # noqa: F401


def build_repeated_report() -> RunReport:
    """One example, three runs (the second wrong), each with a one-call transcript whose
    user message holds HTML that must show as text."""
    from synatest.eval.results import RunResult, TranscriptCall
    from synatest.eval.scoring import score_suite

    hostile = "<img src=x onerror=\"document.title='pwned'\">"

    def run(index: int, answer: str) -> RunResult:
        call = TranscriptCall(
            kind="completion",
            model="openai/gpt-4o-mini",
            source="cassette",
            messages=[
                {"role": "system", "content": "Answer with JSON."},
                {"role": "user", "content": f"What is the capital of France? {hostile}"},
            ],
            schema_title="Answer",
            content=f'{{"answer": "{answer}"}}',
            usage=Usage(calls=1, prompt_tokens=20, completion_tokens=5),
            latency_s=0.012,
        )
        reward = float(answer == "Paris")
        return RunResult(
            index=index,
            reward=reward,
            passed=bool(reward),
            prediction={"answer": answer},
            transcript=[call],
        )

    runs = [run(0, "Paris"), run(1, "Lyon"), run(2, "Paris")]
    example = ExampleResult(
        id="france",
        suite="capitals",
        inputs={"country": "France"},
        expected={"answer": "Paris"},
        prediction={"answer": "Paris"},
        reward=2 / 3,
        passed=False,
        runs=runs,
    )
    return RunReport(suites=[score_suite("capitals", [example])])
