"""Plain statistics of agreement between two raters (an LM judge and a person).

No pytest, numpy or scipy: the same numbers whether a suite is gated in pytest, merged
from shards or calibrated by ``synatest judge calibrate``. The tests check each function
against scikit-learn and scipy on fixtures.

- :func:`confusion_matrix`: counts of (first rater's label, second rater's label);
- :func:`cohen_kappa`: Cohen's kappa, unweighted or linear/quadratic-weighted (the
  weights by the distance between the labels' positions in the sorted label list, as
  scikit-learn's ``cohen_kappa_score``);
- :func:`spearman`: Spearman's rank correlation (ties get their average rank);
- :func:`bootstrap_ci`: a percentile bootstrap interval of any statistic of paired
  observations, seeded so a report is the same from run to run.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Hashable, Sequence
from typing import Literal

Weights = Literal["linear", "quadratic"] | None

DEFAULT_RESAMPLES = 1000
DEFAULT_SEED = 0


def _check_paired(a: Sequence[object], b: Sequence[object]) -> None:
    if len(a) != len(b):
        raise ValueError(f"the two raters rated different numbers of items: {len(a)} and {len(b)}")


def confusion_matrix[T: Hashable](
    a: Sequence[T], b: Sequence[T], labels: Sequence[T]
) -> list[list[int]]:
    """``matrix[i][j]``: items rated ``labels[i]`` by ``a`` and ``labels[j]`` by ``b``.

    Items with a label outside ``labels`` are not counted.
    """
    _check_paired(a, b)
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for x, y in zip(a, b, strict=True):
        i, j = index.get(x), index.get(y)
        if i is not None and j is not None:
            matrix[i][j] += 1
    return matrix


def cohen_kappa[T: Hashable](
    a: Sequence[T],
    b: Sequence[T],
    *,
    labels: Sequence[T] | None = None,
    weights: Weights = None,
) -> float | None:
    """Cohen's kappa of two raters; None when undefined (chance agreement is total).

    Args:
        a, b: each rater's label per item, paired by position.
        labels: the ordered labels (default: every label either rater used, sorted).
        weights: ``None`` (every disagreement counts the same), ``"linear"`` or
            ``"quadratic"`` (a disagreement costs the distance, or its square, between
            the two labels' positions in ``labels``: for ordinal scores).
    """
    _check_paired(a, b)
    if weights not in (None, "linear", "quadratic"):
        raise ValueError(f"weights must be None, 'linear' or 'quadratic', got {weights!r}")
    if labels is None:
        labels = sorted(set(a) | set(b))  # type: ignore[type-var]
    matrix = confusion_matrix(a, b, labels)
    n = sum(map(sum, matrix))
    if n == 0:
        return None
    k = len(labels)
    rows = [sum(row) for row in matrix]
    cols = [sum(matrix[i][j] for i in range(k)) for j in range(k)]

    def weight(i: int, j: int) -> float:
        if weights is None:
            return 0.0 if i == j else 1.0
        distance = abs(i - j)
        return float(distance if weights == "linear" else distance * distance)

    observed = math.fsum(weight(i, j) * matrix[i][j] for i in range(k) for j in range(k))
    expected = math.fsum(weight(i, j) * rows[i] * cols[j] / n for i in range(k) for j in range(k))
    if expected == 0:
        return None
    return 1.0 - observed / expected


def ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks of ``values``, tied values sharing their average rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    result = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        average = (start + end) / 2 + 1
        for position in range(start, end + 1):
            result[order[position]] = average
        start = end + 1
    return result


def pearson(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Pearson's correlation; None with fewer than 2 items or a constant rater."""
    _check_paired(a, b)
    n = len(a)
    if n < 2:
        return None
    mean_a, mean_b = math.fsum(a) / n, math.fsum(b) / n
    cov = math.fsum((x - mean_a) * (y - mean_b) for x, y in zip(a, b, strict=True))
    var_a = math.fsum((x - mean_a) ** 2 for x in a)
    var_b = math.fsum((y - mean_b) ** 2 for y in b)
    if var_a == 0 or var_b == 0:
        return None
    return max(-1.0, min(1.0, cov / math.sqrt(var_a * var_b)))


def spearman(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Spearman's rho: Pearson's correlation of the ranks (None when undefined)."""
    _check_paired(a, b)
    return pearson(ranks(a), ranks(b))


def agreement_rate(a: Sequence[object], b: Sequence[object]) -> float | None:
    """The fraction of items both raters gave the same label (None without items)."""
    _check_paired(a, b)
    if not a:
        return None
    return sum(1 for x, y in zip(a, b, strict=True) if x == y) / len(a)


def bootstrap_ci(
    n: int,
    statistic: Callable[[Sequence[int]], float | None],
    *,
    resamples: int = DEFAULT_RESAMPLES,
    confidence: float = 0.95,
    seed: int = DEFAULT_SEED,
) -> tuple[float | None, float | None]:
    """Percentile bootstrap interval of ``statistic`` over ``n`` paired items.

    ``statistic`` takes the indices of one resample (drawn with replacement) and returns
    its value, or None when undefined on that resample (e.g. kappa when every resampled
    item got the same label from both raters): those resamples are left out. Returns
    (None, None) when fewer than half the resamples had a value.
    """
    if n <= 0:
        return None, None
    rng = random.Random(seed)
    values: list[float] = []
    for _ in range(resamples):
        sample = [rng.randrange(n) for _ in range(n)]
        value = statistic(sample)
        if value is not None and not math.isnan(value):
            values.append(value)
    if len(values) < resamples / 2:
        return None, None
    values.sort()
    tail = (1 - confidence) / 2
    return _quantile(values, tail), _quantile(values, 1 - tail)


def _quantile(ordered: Sequence[float], q: float) -> float:
    """Linear-interpolated quantile of sorted values (numpy's default method)."""
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
