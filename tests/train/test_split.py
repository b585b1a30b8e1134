"""The seeded train / validation / test split (pure, no Synalinks)."""

from __future__ import annotations

import pytest

from synatest.train.split import split_indices


def test_parts_are_disjoint_and_cover_the_dataset() -> None:
    split = split_indices(30, validation=0.2, test=0.2, seed=7)
    parts = [split.train, split.validation, split.test]
    assert sorted(i for part in parts for i in part) == list(range(30))
    assert [len(p) for p in parts] == [18, 6, 6]


def test_same_seed_same_split_other_seed_other_split() -> None:
    assert split_indices(30, seed=1) == split_indices(30, seed=1)
    assert split_indices(30, seed=1).fingerprint() == split_indices(30, seed=1).fingerprint()
    assert split_indices(30, seed=1) != split_indices(30, seed=2)


def test_tiny_dataset_keeps_one_example_per_part() -> None:
    split = split_indices(3, validation=0.2, test=0.2, seed=0)
    assert (len(split.train), len(split.validation), len(split.test)) == (1, 1, 1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 2}, "training needs at least 3 examples"),
        ({"n": 10, "validation": 0.0}, "validation split must be a fraction between 0 and 1"),
        ({"n": 10, "test": 1.5}, "test split must be a fraction between 0 and 1"),
        ({"n": 10, "validation": 0.5, "test": 0.5}, "must leave examples to train on"),
    ],
)
def test_bad_split_settings_say_what_to_change(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        split_indices(**kwargs)
