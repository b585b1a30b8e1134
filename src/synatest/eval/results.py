"""Result objects of an evaluation run: one schema for every renderer.

The terminal table, ``report.json``, ``report.md``, ``report.html``, ``examples.jsonl``
and ``synatest report compare`` are all rendered from a :class:`RunReport`. The
schema is versioned (``schema_version``); a change that breaks readers bumps it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

# 2: examples hold their runs (with transcripts), suites the repeat statistics.
# 3: a model matrix (--synalinks-models): suites hold their `model` and `base_name`, the
#    run its `matrix` view.
# 4: judges: examples hold their `human` label, suites a `judge` block (agreement with
#    human labels, stability), transcript calls say whether the `judge` made them.
# 5: live runs: usage holds `retries` and `retry_wait_s`; runs and examples their
#    `latency_s` (replayed calls at their recorded latency) and the `limit` that stopped
#    them; suites their latency p50/p95.
# Readers accept every version up to this one (older reports lack the new fields).
SCHEMA_VERSION = 5


class Usage(BaseModel):
    """LM usage of an example, a suite or a run."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    # Transient provider errors retried (live calls), and the seconds waited for them.
    retries: int = 0
    retry_wait_s: float = 0.0

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            calls=self.calls + other.calls,
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            cost=self.cost + other.cost,
            retries=self.retries + other.retries,
            retry_wait_s=self.retry_wait_s + other.retry_wait_s,
        )


class TranscriptCall(BaseModel):
    """One LM call of a run, as sent and as answered (embedding vectors are not kept)."""

    kind: str  # completion | embedding | decision
    model: str = ""
    source: str | None = None  # double | cassette | live
    messages: list[dict[str, Any]] = Field(default_factory=list)
    tools: list[str] = Field(default_factory=list)  # names of the tools offered
    schema_title: str | None = None  # the structured output asked for
    inputs: int | None = None  # embedding: how many texts
    content: Any = None  # the reply's text (or a decision model's answer)
    tool_calls: list[dict[str, Any]] = Field(default_factory=list)
    error: str | None = None  # the provider's error, when the call failed
    usage: Usage = Field(default_factory=Usage)  # calls is 1; tokens and cost as reported
    latency_s: float = 0.0  # a replayed call's: as recorded
    recorded_repeat: int | None = None  # a cassette's recording of this run index
    judge: bool = False  # made by the suite's judge reward while scoring the run


class RunResult(BaseModel):
    """One run of an example (``--synalinks-repeat K`` runs each example K times)."""

    index: int = 0  # 0-based
    reward: float | None = None  # None when the run errored
    passed: bool | None = None
    error: str | None = None  # "Type: the whole message"
    traceback: str | None = None  # where it was raised (test-runner frames left out)
    prediction: Any = None
    usage: Usage = Field(default_factory=Usage)
    duration_s: float = 0.0
    # The program call's latency: its wall time, with LM calls answered by a recording (a
    # cassette, a prefetch) counted at the time they took when made.
    latency_s: float = 0.0
    # The per-example limit that stopped the run (cost_limit, token_limit, time_limit):
    # it scores 0 and fails, and `error` says by how much.
    limit: str | None = None
    # The run's LM calls in order; None when not kept (--synalinks-transcripts).
    transcript: list[TranscriptCall] | None = None
    # It replayed a cassette recording made for another run (recorded without repeats).
    shared_recording: bool = False


class ExampleResult(BaseModel):
    """One example of a suite: what went in, what came out, and its reward.

    With repeats, ``runs`` holds every run and the fields above it summarise them:
    ``reward`` is the mean over the runs that produced one, ``passed`` applies the
    suite's pass rule, ``error`` is set when no run produced a reward, ``prediction`` is
    the first run's, ``usage`` and ``duration_s`` add up.
    """

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
    latency_s: float = 0.0  # the mean of its runs'
    limit: str | None = None  # the first run stopped by a per-example limit
    usage: Usage = Field(default_factory=Usage)
    runs: list[RunResult] = Field(default_factory=list)
    # A person's verdict or score of this example's output (the dataset's label field),
    # on the reward's 0..1 scale; None when the example has no label.
    human: float | None = None

    @property
    def errored(self) -> bool:
        """No run produced a reward (stopped by a per-example limit is failed, not errored)."""
        return self.error is not None and self.limit is None

    @property
    def runs_passed(self) -> int:
        return sum(1 for run in self.runs if run.passed)

    @property
    def tally(self) -> tuple[int, int]:
        """(runs, passing runs); an example recorded without runs counts as one run."""
        if self.runs:
            return len(self.runs), self.runs_passed
        return 1, int(bool(self.passed))

    @property
    def flaky(self) -> bool:
        """Some runs passed and some did not."""
        return 0 < self.runs_passed < len(self.runs)


def run_latencies(examples: list[ExampleResult]) -> list[float]:
    """The latency of every run of ``examples`` (an example recorded without runs counts
    as one run; a report older than schema 5 has only durations)."""
    return [
        latency
        for example in examples
        for latency in (
            [run.latency_s or run.duration_s for run in example.runs]
            or [example.latency_s or example.duration_s]
        )
    ]


class GateResult(BaseModel):
    """One gate of a suite (threshold, regression, max error rate, ...)."""

    name: str
    passed: bool
    message: str | None = None  # why it failed, in a sentence a reviewer can read
    details: dict[str, Any] = Field(default_factory=dict)


class JudgeSettings(BaseModel):
    """How a judge suite's human labels are read and gated (from its marker)."""

    field: str = "human"  # the dataset field holding the labels
    kind: str = "binary"  # binary | ordinal | continuous
    levels: list[float] = Field(default_factory=list)  # an ordinal scale's levels (0..1)
    pass_at: float = 1.0  # a verdict passes at this reward (binary and continuous)
    min_agreement: float | None = None  # the min_judge_agreement gate (on kappa)
    max_flip_rate: float | None = None  # the max_judge_flip_rate gate


class JudgeDisagreement(BaseModel):
    """An example the judge and the person scored far apart."""

    id: str
    human: float
    judge: float
    gap: float  # |judge - human| on the 0..1 scale
    nodeid: str | None = None


class JudgeStability(BaseModel):
    """How often the judge changed its verdict on the same output across repeats."""

    runs: int  # runs per example
    examples: int = 0  # examples with at least two runs that produced the same output
    flip_rate: float | None = None  # of those, the fraction whose verdict changed
    flipped: list[str] = Field(default_factory=list)
    mean_spread: float | None = None  # mean (max - min) reward on the same output


class PositionBias(BaseModel):
    """A pairwise judge asked A/B then B/A: how often its preference followed the position
    rather than the content (each rate with a 95% bootstrap CI over pairs)."""

    pairs: int = 0  # pairs judged in both orders
    consistent: int = 0  # the same candidate preferred in both orders
    first_wins: int = 0  # inconsistent: the candidate shown first preferred both times
    second_wins: int = 0  # inconsistent: the candidate shown second preferred both times
    consistency_rate: float | None = None  # consistent / pairs
    consistency_ci_low: float | None = None
    consistency_ci_high: float | None = None
    first_position_rate: float | None = None  # verdicts for the first shown / 2 * pairs
    first_position_ci_low: float | None = None
    first_position_ci_high: float | None = None
    inconsistent: list[str] = Field(default_factory=list)  # ids of the pairs


class JudgeAgreement(BaseModel):
    """A judge suite's rewards against human labels: agreement, kappa, Spearman (each with
    a 95% bootstrap CI), the confusion matrix (rows: human, columns: judge), the examples
    they disagree on most, and the judge's stability across repeats."""

    settings: JudgeSettings = Field(default_factory=JudgeSettings)
    n: int = 0  # labelled examples the judge scored
    unlabelled: int = 0  # examples with no label (or no reward): left out
    agreement: float | None = None  # same verdict (binary/continuous) or level (ordinal)
    agreement_ci_low: float | None = None
    agreement_ci_high: float | None = None
    kappa: float | None = None
    kappa_weights: str | None = None  # None (Cohen's kappa) or "quadratic"
    kappa_ci_low: float | None = None
    kappa_ci_high: float | None = None
    spearman: float | None = None  # ordinal and continuous labels
    spearman_ci_low: float | None = None
    spearman_ci_high: float | None = None
    labels: list[str] = Field(default_factory=list)  # of the confusion matrix
    confusion: list[list[int]] = Field(default_factory=list)
    disagreements: list[JudgeDisagreement] = Field(default_factory=list)
    stability: JudgeStability | None = None
    position_bias: PositionBias | None = None


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
    errors: int = 0  # examples that errored (one stopped by a per-example limit failed)
    # Latency of its runs' program calls (replayed LM calls at their recorded latency).
    latency_p50_s: float | None = None
    latency_p95_s: float | None = None
    # Its budgets in force (max_cost, max_tokens, max_latency_p95: its marker's, else the
    # run's flags), kept so that merged shards gate the same way.
    budgets: dict[str, float] = Field(default_factory=dict)
    # Repeats: runs per example; pass@k for k = 1..repeat (unbiased estimator of Chen
    # et al. 2021, averaged over examples); pass^k: fraction of examples whose runs all
    # passed; the ids of examples with passing and failing runs.
    repeat: int = 1
    pass_at_k: dict[str, float] = Field(default_factory=dict)
    pass_hat_k: float | None = None
    flaky: list[str] = Field(default_factory=list)
    gate: str = "mean"  # what the threshold applies to: mean | pass_at_k | pass_hat_k
    k: int | None = None  # the k of a pass_at_k / pass_hat_k gate
    notes: list[str] = Field(default_factory=list)  # caveats a reader must know
    # A model matrix's suite ``base_name[model]``; both None outside a matrix.
    model: str | None = None
    base_name: str | None = None
    gates: list[GateResult] = Field(default_factory=list)
    examples: list[ExampleResult] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    # A judge suite with human labels: how far its reward can be trusted.
    judge: JudgeAgreement | None = None

    @property
    def passed(self) -> bool:
        return all(g.passed for g in self.gates)


class MatrixCell(BaseModel):
    """One suite run with one model (or, in ``report compare``, one run's suite)."""

    suite: str  # the suite's full name: ``suite[model]`` in a run's matrix
    n: int = 0
    mean: float | None = None
    ci_low: float | None = None  # 95% CI of the mean
    ci_high: float | None = None
    pass_rate: float | None = None  # examples passed / n
    errors: int = 0
    calls: int = 0
    tokens: int = 0  # prompt + completion
    cost: float = 0.0
    latency_p50_s: float | None = None  # of the runs' program calls
    latency_p95_s: float | None = None
    gates: bool | None = None  # the suite's gates; None when it has none (or deferred)
    best: bool = False
    # ``report compare`` of several runs: against the first run, on shared example ids.
    delta: float | None = None
    delta_ci_low: float | None = None  # 95% paired bootstrap CI of delta
    delta_ci_high: float | None = None
    n_paired: int | None = None
    verdict: str | None = None  # better | worse | same | n/a


class MatrixRow(BaseModel):
    """A suite across the models (or runs): one cell per column that ran it."""

    name: str
    cells: dict[str, MatrixCell] = Field(default_factory=dict)  # by column
    best: list[str] = Field(default_factory=list)  # columns with the highest mean


class Matrix(BaseModel):
    """Suites as rows, models (or runs) as columns; the best of each row marked."""

    columns: list[str] = Field(default_factory=list)
    rows: list[MatrixRow] = Field(default_factory=list)


class ShardInfo(BaseModel):
    """The shard a run was (``--synalinks-shard I/N``), and what a merge needs."""

    index: int  # 1-based
    count: int
    run_id: str | None = None  # the CI run (None locally): shards of one run merge
    # Each example's position in the whole collection (by node id): the merge's order.
    order: dict[str, int] = Field(default_factory=dict)
    # The run's gating flags (threshold, fail_regression, alpha, max_error_rate).
    policy: dict[str, Any] = Field(default_factory=dict)


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
    # Set on a shard's report (gates deferred); None on a whole or merged run.
    shard: ShardInfo | None = None
    # The model matrix of a --synalinks-models run (built from `suites`); None without.
    matrix: Matrix | None = None

    @property
    def passed(self) -> bool:
        return all(s.passed for s in self.suites)
