"""Marker names and example ids shared by datasets, eval mode, training and cassettes.

The lowest module of the eval side: :mod:`synatest.datasets` tags each example with
:data:`EXAMPLE_MARKER`, eval mode and ``synatest train`` read it back. Importing this
module costs nothing (pytest only).
"""

from __future__ import annotations

import pytest

EVAL_MARKER = "synalinks_eval"
EXAMPLE_MARKER = "synalinks_example"
CASSETTE_MARKER = "synalinks_cassette"  # declared by the cassettes plugin
LM_MARKER = "synalinks_lm"  # declared by the doubles plugin
# Attribute a parametrized test function carries: the Dataset it was made from.
DATASET_ATTR = "__synatest_dataset__"

MARKERS = {
    EVAL_MARKER: (
        f"{EVAL_MARKER}(suite=None, reward='exact_match', threshold=None, pass_at=1.0, "
        "repeat=None, gate='mean', k=None): an evaluation example; the test returns the "
        "program's prediction. Skipped unless pytest runs with --synalinks-eval. repeat=K "
        "runs it K times; gate= 'pass_at_k' or 'pass_hat_k' applies the threshold to "
        "pass@k or pass^k instead of the mean reward"
    ),
    EXAMPLE_MARKER: (
        f"{EXAMPLE_MARKER}(id, dataset=None): the dataset example a test parameter comes "
        "from (set by synatest.parametrize_dataset)"
    ),
}


def suite_name(item: pytest.Item, marker: pytest.Mark) -> str:
    """The suite of an evaluation example: ``suite=``, else its test function's name."""
    name = marker.kwargs.get("suite")
    if name:
        return str(name)
    return str(getattr(item, "originalname", None) or item.name)


def example_id(item: pytest.Item) -> str:
    """An example's id: its dataset id, else its parametrization id, else the test's name."""
    marker = item.get_closest_marker(EXAMPLE_MARKER)
    if marker is not None and marker.args:
        return str(marker.args[0])
    callspec = getattr(item, "callspec", None)
    return str(callspec.id) if callspec is not None else item.name
