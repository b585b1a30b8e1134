"""Marker names and example ids shared by datasets, eval mode, training and cassettes.

The lowest module of the eval side: :mod:`synatest.datasets` tags each example with
:data:`EXAMPLE_MARKER`, eval mode and ``synatest train`` read it back. Importing this
module costs nothing (pytest only).
"""

from __future__ import annotations

import pytest

EVAL_MARKER = "synalinks_eval"
EXAMPLE_MARKER = "synalinks_example"
MODELS_MARKER = "synalinks_models"
# The fixture naming a test's model; a model matrix parametrizes it (ids: the models).
MODEL_FIXTURE = "synalinks_model_name"
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
        "pass@k or pass^k instead of the mean reward. Judges: human=, human_scale=, "
        "judge=, min_judge_agreement=, max_judge_flip_rate=. Budgets of the suite: "
        "max_cost= (dollars), max_tokens=, max_latency_p95= (seconds); limits of each "
        "example (it stops and fails when over): cost_limit=, token_limit=, time_limit="
    ),
    EXAMPLE_MARKER: (
        f"{EXAMPLE_MARKER}(id, dataset=None): the dataset example a test parameter comes "
        "from (set by synatest.parametrize_dataset)"
    ),
    MODELS_MARKER: (
        f"{MODELS_MARKER}(*models): a model matrix for this test, class or module: it runs "
        "once per model (its language_model fixture takes each in turn) and its eval suite "
        "is named suite[model]; --synalinks-models or --synalinks-model on the command line "
        "win"
    ),
}


def matrix_model(item: pytest.Item) -> str | None:
    """The model a test runs with in a model matrix; None outside one."""
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return None
    model = callspec.params.get(MODEL_FIXTURE)
    return None if model is None else str(model)


def with_model(suite: str, item: pytest.Item) -> str:
    """``suite[model]`` for a test of a model matrix, else ``suite``."""
    model = matrix_model(item)
    return suite if model is None else f"{suite}[{model}]"


def suite_name(item: pytest.Item, marker: pytest.Mark) -> str:
    """The suite of an evaluation example: ``suite=``, else its test function's name;
    ``suite[model]`` in a model matrix."""
    name = marker.kwargs.get("suite")
    if not name:
        name = getattr(item, "originalname", None) or item.name
    return with_model(str(name), item)


def example_id(item: pytest.Item) -> str:
    """An example's id: its dataset id, else its parametrization id (less a model
    matrix's model), else the test's name."""
    marker = item.get_closest_marker(EXAMPLE_MARKER)
    if marker is not None and marker.args:
        return str(marker.args[0])
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return item.name
    ident, model = str(callspec.id), matrix_model(item)
    # The same example across a model matrix keeps one id (the model's id is last).
    if model is not None and ident == model:
        return str(getattr(item, "originalname", None) or item.name)
    if model is not None and ident.endswith(f"-{model}"):
        return ident[: -len(model) - 1]
    return ident
