"""One test per example: :func:`parametrize_dataset` and readable example ids."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from synatest.datasets.dataset import Dataset, Example
from synatest.datasets.load import json_of, load_dataset
from synatest.errors import DatasetError
from synatest.markers import DATASET_ATTR, EXAMPLE_MARKER

_SLUG = re.compile(r"[^0-9A-Za-z]+")


def readable_id(example: Example, has_id_column: bool) -> str:
    """The test id of an example: its id, or its first text field plus a short hash."""
    if has_id_column:
        return example.id
    data = json_of(example.x)
    text = (
        next((v for v in data.values() if isinstance(v, str)), "") if isinstance(data, dict) else ""
    )
    slug = _SLUG.sub("-", text).strip("-")[:40].strip("-")
    return f"{slug}-{example.id[:6]}" if slug else example.id


def _resolve_path(path: str | os.PathLike[str], func: Callable[..., Any]) -> Path:
    candidate = Path(path)
    if candidate.is_absolute() or candidate.exists():
        return candidate
    module_file = getattr(sys.modules.get(func.__module__), "__file__", None)
    if module_file:
        # Beside the test module, or in a folder above it (the project's datasets/).
        for folder in Path(module_file).resolve().parents:
            if (folder / candidate).exists():
                return folder / candidate
    return candidate


def parametrize_dataset(
    path_or_dataset: str | os.PathLike[str] | Dataset,
    x: Any = None,
    y: Any = None,
    *,
    ids: Callable[[Example], str] | str | None = None,
    **load_options: Any,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Run the decorated test once per example, with parameters ``x`` and ``y``.

    Args:
        path_or_dataset: a :class:`Dataset`, or a path given to :func:`load_dataset`
            (a relative path is looked up in the working directory, then beside the
            test module and in each folder above it, so ``"datasets/qa.jsonl"``
            finds the project's ``datasets/`` from any test directory).
        x, y: the DataModels (required with a path).
        ids: test ids: a function of the :class:`Example`, or the name of a row
            column (default: the example id, or for datasets without an id column
            the first text field and a short hash).
        **load_options: passed to :func:`load_dataset` (``fields=``, ``split=``, ...).

    The loaded dataset is attached to the test function as ``__synatest_dataset__``.
    """
    import pytest

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        if isinstance(path_or_dataset, Dataset):
            if load_options:
                raise TypeError(
                    f"parametrize_dataset: options {sorted(load_options)} apply when loading "
                    "a path, not to an already loaded Dataset"
                )
            dataset = path_or_dataset
        else:
            if x is None:
                raise TypeError(
                    "parametrize_dataset: pass the input DataModel, e.g. "
                    "parametrize_dataset('qa.jsonl', x=Question, y=Answer)"
                )
            dataset = load_dataset(_resolve_path(path_or_dataset, func), x, y, **load_options)
        id_column = load_options.get("id_field", "id")
        has_id_column = bool(id_column) and all(id_column in e.row for e in dataset)

        def test_id(example: Example) -> str:
            if callable(ids):
                return str(ids(example))
            if isinstance(ids, str):
                if ids not in example.row:
                    raise DatasetError(
                        f"{example.source}: no column {ids!r} for the test id (ids=)"
                    )
                return str(example.row[ids])
            return readable_id(example, has_id_column)

        params = [
            pytest.param(
                example.x,
                example.y,
                id=test_id(example),
                marks=getattr(pytest.mark, EXAMPLE_MARKER)(example.id, dataset=dataset.name),
            )
            for example in dataset
        ]
        marked: Callable[..., Any] = pytest.mark.parametrize(("x", "y"), params)(func)
        setattr(marked, DATASET_ATTR, dataset)
        return marked

    return decorate
