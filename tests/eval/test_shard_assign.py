"""Shard assignment: deterministic, complete, balanced per suite; bad values explained."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from synatest._argtypes import BadValue
from synatest.eval.shard import Shard, assign, parse_shard, run_id


def test_parse_shard() -> None:
    assert parse_shard(" 2/3 ") == Shard(2, 3)
    assert str(parse_shard("1/1")) == "1/1"


X_MESSAGE = "expected a shard as I/N (this machine runs shard I of N, 1-based), such as 1/4"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("x", f"{X_MESSAGE}, got 'x'"),
        ("2", f"{X_MESSAGE}, got '2'"),
        ("0/2", "the shard index I must be between 1 and N=2 (shards are 1-based), got '0/2'"),
        ("3/2", "the shard index I must be between 1 and N=2 (shards are 1-based), got '3/2'"),
        ("1/0", "the shard count N must be at least 1, got '1/0'"),
    ],
)
def test_bad_shards_say_what_is_expected(raw: str, message: str) -> None:
    with pytest.raises(BadValue) as info:
        parse_shard(raw)
    assert str(info.value) == message


@given(
    ids=st.lists(st.text(min_size=1, max_size=8), min_size=0, max_size=60, unique=True),
    count=st.integers(1, 7),
    suite=st.text(max_size=8),
)
def test_every_example_in_exactly_one_shard_balanced_within_one(
    ids: list[str], count: int, suite: str
) -> None:
    examples = [(i, f"test_x.py::test[{i}]") for i in ids]
    shards = assign(suite, examples, count)
    assert len(shards) == len(ids) and all(1 <= s <= count for s in shards)
    sizes = [shards.count(index) for index in range(1, count + 1)]
    assert max(sizes) - min(sizes) <= 1
    # Deterministic, and independent of the order the examples were collected in.
    assert assign(suite, examples, count) == shards
    reordered = dict(zip(reversed(ids), assign(suite, examples[::-1], count), strict=True))
    assert reordered == dict(zip(ids, shards, strict=True))


def test_the_assignment_is_pinned_across_machines_and_python_versions() -> None:
    # SHA-256 based: these values must never change (CI shards of one run may run on
    # different Python versions); a change here splits a running CI matrix wrongly.
    examples = [(f"q{i}", f"t.py::test_qa[q{i}]") for i in range(8)]
    assert assign("qa", examples, 3) == [2, 2, 1, 1, 3, 3, 2, 1]
    assert assign("other", examples, 3) != assign("qa", examples, 3)


def test_small_suites_do_not_all_land_on_shard_one() -> None:
    starts = {assign(f"suite{n}", [("only", "t.py::t")], 4)[0] for n in range(20)}
    assert starts == {1, 2, 3, 4}


def test_run_id_from_ci_variables() -> None:
    assert run_id({}) is None
    assert run_id({"GITHUB_RUN_ID": "77", "GITHUB_RUN_ATTEMPT": "2"}) == "77-2"
    assert run_id({"SYNATEST_RUN_ID": "mine", "GITHUB_RUN_ID": "77"}) == "mine"
    assert run_id({"CI_PIPELINE_ID": "9"}) == "9"
