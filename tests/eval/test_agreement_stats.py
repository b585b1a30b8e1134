"""synatest.eval.agreement checked against scikit-learn and scipy (tests only).

Plain functions, no pytest machinery: fixtures of binary, ordinal and continuous ratings,
hand-made and random (seeded), each number compared with the independent implementation.
"""

from __future__ import annotations

import random

import pytest

from synatest.eval import agreement

metrics = pytest.importorskip("sklearn.metrics")
stats = pytest.importorskip("scipy.stats")

BINARY = (
    [1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 1, 0],
    [1, 0, 0, 1, 0, 1, 1, 1, 0, 1, 0, 0],
)
ORDINAL = (
    [1, 2, 3, 4, 5, 3, 2, 4, 5, 1, 3, 4, 2, 5],
    [1, 2, 4, 4, 5, 2, 2, 3, 5, 2, 3, 5, 1, 4],
)
CONTINUOUS = (
    [0.1, 0.4, 0.35, 0.8, 0.65, 0.9, 0.2, 0.55, 0.7, 0.05],
    [0.2, 0.5, 0.3, 0.7, 0.7, 0.95, 0.1, 0.4, 0.9, 0.0],
)


def _random_ratings(seed: int, levels: int, n: int) -> tuple[list[int], list[int]]:
    rng = random.Random(seed)
    a = [rng.randrange(levels) for _ in range(n)]
    # The second rater agrees often, is off by one sometimes, else random.
    b = [
        x
        if rng.random() < 0.5
        else min(levels - 1, max(0, x + rng.choice((-1, 1))))
        if rng.random() < 0.6
        else rng.randrange(levels)
        for x in a
    ]
    return a, b


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
@pytest.mark.parametrize("ratings", [BINARY, ORDINAL], ids=["binary", "ordinal"])
def test_kappa_matches_sklearn(ratings: tuple[list[int], list[int]], weights) -> None:
    a, b = ratings
    expected = metrics.cohen_kappa_score(a, b, weights=weights)
    assert agreement.cohen_kappa(a, b, weights=weights) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("weights", [None, "quadratic"])
def test_kappa_matches_sklearn_on_random_ratings(seed: int, weights) -> None:
    a, b = _random_ratings(seed, levels=2 + seed % 5, n=5 + seed * 3)
    if len(set(a) | set(b)) < 2:
        pytest.skip("one label only: kappa undefined")
    expected = metrics.cohen_kappa_score(a, b, weights=weights)
    assert agreement.cohen_kappa(a, b, weights=weights) == pytest.approx(expected, abs=1e-12)


def test_kappa_with_given_labels_matches_sklearn() -> None:
    a, b = [2, 3, 3, 4], [3, 3, 4, 4]  # level 1 and 5 never used by either rater
    labels = [1, 2, 3, 4, 5]
    expected = metrics.cohen_kappa_score(a, b, labels=labels, weights="quadratic")
    got = agreement.cohen_kappa(a, b, labels=labels, weights="quadratic")
    assert got == pytest.approx(expected, abs=1e-12)


def test_kappa_of_string_labels_matches_sklearn() -> None:
    a = ["pass", "fail", "pass", "pass", "fail"]
    b = ["pass", "pass", "pass", "fail", "fail"]
    assert agreement.cohen_kappa(a, b) == pytest.approx(metrics.cohen_kappa_score(a, b))


def test_kappa_is_none_when_undefined() -> None:
    # Both raters always say "pass": chance agreement is total, sklearn gives nan.
    assert agreement.cohen_kappa([1, 1, 1], [1, 1, 1]) is None
    assert agreement.cohen_kappa([], []) is None


def test_kappa_perfect_and_opposite() -> None:
    assert agreement.cohen_kappa([0, 1, 0, 1], [0, 1, 0, 1]) == pytest.approx(1.0)
    assert agreement.cohen_kappa([0, 1, 0, 1], [1, 0, 1, 0]) == pytest.approx(-1.0)


def test_kappa_rejects_bad_weights_and_unpaired() -> None:
    with pytest.raises(ValueError, match="weights must be None, 'linear' or 'quadratic'"):
        agreement.cohen_kappa([1], [1], weights="cubic")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="different numbers of items: 2 and 1"):
        agreement.cohen_kappa([1, 0], [1])


@pytest.mark.parametrize(
    "ratings", [BINARY, ORDINAL, CONTINUOUS], ids=["binary", "ordinal", "continuous"]
)
def test_spearman_matches_scipy(ratings) -> None:
    a, b = ratings
    expected = stats.spearmanr(a, b).statistic
    assert agreement.spearman(a, b) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("seed", range(10))
def test_spearman_matches_scipy_on_random_ties(seed: int) -> None:
    a, b = _random_ratings(seed, levels=4, n=30)
    expected = stats.spearmanr(a, b).statistic
    assert agreement.spearman(a, b) == pytest.approx(expected, abs=1e-12)


def test_ranks_match_scipy() -> None:
    values = [3.0, 1.0, 3.0, 2.0, 3.0, 0.5]
    assert agreement.ranks(values) == list(stats.rankdata(values))


def test_spearman_undefined_for_a_constant_rater() -> None:
    assert agreement.spearman([1, 1, 1], [0.1, 0.5, 0.9]) is None
    assert agreement.spearman([1], [1]) is None


def test_confusion_matrix_matches_sklearn() -> None:
    a, b = ORDINAL
    labels = [1, 2, 3, 4, 5]
    expected = metrics.confusion_matrix(a, b, labels=labels).tolist()
    assert agreement.confusion_matrix(a, b, labels) == expected


def test_agreement_rate() -> None:
    assert agreement.agreement_rate(*BINARY) == pytest.approx(9 / 12)
    assert agreement.agreement_rate([], []) is None


def test_bootstrap_ci_matches_scipy_percentile_interval() -> None:
    """Same resamples through scipy's percentile computation: same interval."""
    import numpy as np

    a, b = ORDINAL
    n = len(a)

    def kappa(indices):
        return agreement.cohen_kappa(
            [a[i] for i in indices], [b[i] for i in indices], weights="quadratic"
        )

    low, high = agreement.bootstrap_ci(n, kappa, resamples=500, seed=7)
    # Rebuild the resamples and compute the percentiles with numpy independently.
    rng = random.Random(7)
    values = []
    for _ in range(500):
        sample = [rng.randrange(n) for _ in range(n)]
        value = kappa(sample)
        if value is not None:
            values.append(value)
    assert low == pytest.approx(float(np.percentile(values, 2.5)))
    assert high == pytest.approx(float(np.percentile(values, 97.5)))
    point = agreement.cohen_kappa(a, b, weights="quadratic")
    assert low is not None and high is not None and point is not None
    assert low < point < high


def test_bootstrap_ci_is_reproducible_and_covers() -> None:
    a, b = CONTINUOUS

    def rho(indices):
        return agreement.spearman([a[i] for i in indices], [b[i] for i in indices])

    first = agreement.bootstrap_ci(len(a), rho, seed=3)
    assert first == agreement.bootstrap_ci(len(a), rho, seed=3)
    assert first[0] is not None and first[1] is not None
    assert first[0] <= agreement.spearman(a, b) <= first[1]  # type: ignore[operator]


def test_bootstrap_ci_undefined_statistic() -> None:
    assert agreement.bootstrap_ci(0, lambda s: 1.0) == (None, None)
    assert agreement.bootstrap_ci(5, lambda s: None) == (None, None)
