"""A pairwise judge's position bias: the same pair judged A/B then B/A.

A pairwise judge is shown two candidates, ``first`` and ``second``; its reward at or above
``pass_at`` prefers the first shown. Asked A/B and then B/A, an unbiased judge prefers the
same candidate both times; a judge that follows the position prefers whichever is shown
first (or second) both times. :func:`measure_position_bias` counts both, with a seeded 95%
bootstrap interval over pairs for the consistency rate (pairs preferring the same
candidate in both orders) and the first-position rate (verdicts for the candidate shown
first, 0.5 for a judge that never follows the position).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from synatest.eval import agreement as stats
from synatest.eval.results import PositionBias

_EPSILON = 1e-9
MAX_SHOWN = 5


@dataclass(frozen=True)
class JudgedPair:
    """One pair's rewards: ``ab`` with A shown first, ``ba`` with B shown first."""

    id: str
    ab: float
    ba: float

    def first_wins(self, pass_at: float) -> tuple[bool, bool]:
        """Whether the candidate shown first won, in the A/B and in the B/A order."""
        return self.ab >= pass_at - _EPSILON, self.ba >= pass_at - _EPSILON

    def prefers_a(self) -> float:
        """The judge's preference for A with the position averaged out (0..1)."""
        return (self.ab + 1.0 - self.ba) / 2


def measure_position_bias(
    pairs: Sequence[JudgedPair],
    pass_at: float = 0.5,
    *,
    resamples: int = stats.DEFAULT_RESAMPLES,
) -> PositionBias:
    """Consistency and first-position rates of ``pairs`` (see the module's docstring)."""
    bias = PositionBias(pairs=len(pairs))
    if not pairs:
        return bias
    wins = [pair.first_wins(pass_at) for pair in pairs]
    # Consistent: A preferred both times (first, then second) or B both times.
    consistent = [ab != ba for ab, ba in wins]
    firsts = [int(ab) + int(ba) for ab, ba in wins]
    bias.consistent = sum(consistent)
    bias.first_wins = sum(1 for ab, ba in wins if ab and ba)
    bias.second_wins = sum(1 for ab, ba in wins if not ab and not ba)
    bias.inconsistent = [p.id for p, ok in zip(pairs, consistent, strict=True) if not ok]

    def consistency(indices: Sequence[int]) -> float:
        return sum(consistent[i] for i in indices) / len(indices)

    def first_position(indices: Sequence[int]) -> float:
        return sum(firsts[i] for i in indices) / (2 * len(indices))

    everyone = range(len(pairs))
    bias.consistency_rate = consistency(everyone)
    bias.consistency_ci_low, bias.consistency_ci_high = stats.bootstrap_ci(
        len(pairs), consistency, resamples=resamples
    )
    bias.first_position_rate = first_position(everyone)
    bias.first_position_ci_low, bias.first_position_ci_high = stats.bootstrap_ci(
        len(pairs), first_position, resamples=resamples
    )
    return bias


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _ci(low: float | None, high: float | None) -> str:
    return "" if low is None or high is None else f" [{_pct(low)}, {_pct(high)}]"


def position_bias_text(bias: PositionBias | None) -> str | None:
    """``position swap (A/B then B/A) on 4 pairs: consistency 25.0% [...] · first
    position 87.5% [...]; the order decided 3: p1, p2, p3``."""
    if bias is None:
        return None
    if not bias.pairs:
        return "position swap (A/B then B/A): no pair was judged in both orders"
    text = (
        f"position swap (A/B then B/A) on {bias.pairs} pairs: consistency "
        f"{_pct(bias.consistency_rate)}{_ci(bias.consistency_ci_low, bias.consistency_ci_high)}"
        f" · first position {_pct(bias.first_position_rate)}"
        f"{_ci(bias.first_position_ci_low, bias.first_position_ci_high)}"
    )
    if bias.inconsistent:
        shown = ", ".join(bias.inconsistent[:MAX_SHOWN])
        extra = len(bias.inconsistent) - MAX_SHOWN
        more = f" and {extra} more" if extra > 0 else ""
        text += (
            f"; the order decided {len(bias.inconsistent)} (first shown won both times in "
            f"{bias.first_wins}, second in {bias.second_wins}): {shown}{more}"
        )
    return text
