"""Seeded train / validation / test split of a dataset."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

DEFAULT_VALIDATION_SPLIT = 0.2
DEFAULT_TEST_SPLIT = 0.2


@dataclass(frozen=True)
class Split:
    """Indices of the examples in each part; disjoint, together all examples."""

    train: list[int]
    validation: list[int]
    test: list[int]

    def fingerprint(self) -> str:
        """Identifies the split (a resumed run must use the same one)."""
        text = f"{self.train}|{self.validation}|{self.test}"
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _check_fraction(name: str, value: float) -> None:
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be a fraction between 0 and 1 (exclusive), got {value!r}")


def split_indices(
    n: int,
    *,
    validation: float = DEFAULT_VALIDATION_SPLIT,
    test: float = DEFAULT_TEST_SPLIT,
    seed: int = 0,
) -> Split:
    """Shuffle ``range(n)`` with ``seed`` and cut it into train / validation / test.

    Each part gets ``round(fraction * n)`` examples but at least one, and the
    training part keeps at least one, so a dataset needs 3 examples or more.

    Raises:
        ValueError: a fraction outside (0, 1), fractions leaving nothing to train
            on, or fewer than 3 examples.
    """
    _check_fraction("validation split", validation)
    _check_fraction("test split", test)
    if validation + test >= 1.0:
        raise ValueError(
            f"validation split ({validation}) + test split ({test}) must leave examples "
            "to train on: make them sum to less than 1"
        )
    if n < 3:
        raise ValueError(
            f"training needs at least 3 examples (one each for train, validation and "
            f"test); the dataset has {n}"
        )
    order = list(range(n))
    random.Random(seed).shuffle(order)
    n_val = max(1, round(validation * n))
    n_test = max(1, round(test * n))
    if n - n_val - n_test < 1:
        n_val, n_test = 1, 1
    return Split(
        train=sorted(order[n_val + n_test :]),
        validation=sorted(order[:n_val]),
        test=sorted(order[n_val : n_val + n_test]),
    )
