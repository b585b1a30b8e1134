"""Result objects of an evaluation run: one schema for every renderer.

The terminal table, ``report.json``, ``report.md``, ``report.html``, ``examples.jsonl``
and ``synatest report compare`` are all rendered from a :class:`RunReport`. The
schema is versioned (``schema_version``); a change that breaks readers bumps it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

SCHEMA_VERSION = 1


class Usage(BaseModel):
    """LM usage of an example, a suite or a run."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            calls=self.calls + other.calls,
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            cost=self.cost + other.cost,
        )


class ExampleResult(BaseModel):
    """One example of a suite: what went in, what came out, and its reward."""

    id: str
    suite: str
    nodeid: str | None = None
    inputs: Any = None
    expected: Any = None
    prediction: Any = None
    reward: float | None = None  # None when the example errored
    passed: bool | None = None  # reward >= the per-example pass mark
    error: str | None = None  # "Type: message" of an LM failure or exception (every line)
    traceback: str | None = None  # where it was raised (test-runner frames left out)
    duration_s: float = 0.0
    usage: Usage = Field(default_factory=Usage)


class GateResult(BaseModel):
    """One gate of a suite (threshold, regression, max error rate, ...)."""

    name: str
    passed: bool
    message: str | None = None  # why it failed, in a sentence a reviewer can read
    details: dict[str, Any] = Field(default_factory=dict)


class SuiteResult(BaseModel):
    """A whole suite: aggregate statistics, its gates and every example."""

    name: str
    reward: str | None = None
    threshold: float | None = None
    n: int = 0
    mean: float | None = None  # per-example mean over examples that did not error
    ci_low: float | None = None  # 95% confidence interval of the mean
    ci_high: float | None = None
    passes: int = 0
    errors: int = 0
    gates: list[GateResult] = Field(default_factory=list)
    examples: list[ExampleResult] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)

    @property
    def passed(self) -> bool:
        return all(g.passed for g in self.gates)


class RunReport(BaseModel):
    """One ``pytest --synalinks-eval`` run (or one side of a training run)."""

    schema_version: int = SCHEMA_VERSION
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    synatest_version: str | None = None
    synalinks_version: str | None = None
    git_commit: str | None = None
    label: str | None = None  # e.g. "before" / "after", a model name
    models: list[str] = Field(default_factory=list)
    suites: list[SuiteResult] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    duration_s: float = 0.0

    @property
    def passed(self) -> bool:
        return all(s.passed for s in self.suites)
