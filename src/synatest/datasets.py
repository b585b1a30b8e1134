"""Datasets of examples for tests, evaluation suites and training.

:func:`load_dataset` reads JSON Lines, JSON, CSV, Parquet and Hugging Face datasets
saved with ``save_to_disk``, maps columns onto the fields of the input and output
DataModels, validates every row, and gives each example a stable id. A bad row
raises :class:`~synatest.errors.DatasetError` naming the file, the line or row, the
field and the reason.

Why not Synalinks' own ``JSONLDataset``/``CSVDataset``/...: they stream batches
rendered through Jinja templates, which suits ``fit`` on large sources but loses
where a bad row came from and gives examples no identity. Tests and gates need
both (an example that flipped must be named). :meth:`Dataset.as_arrays` gives the
numpy object arrays that ``program.fit``/``evaluate`` take.

Module import is light: pyarrow, Hugging Face ``datasets`` and numpy are imported
only by the loaders/methods that need them.
"""

from __future__ import annotations

import csv
import hashlib
import importlib
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

from synatest.errors import DatasetError
from synatest.eval.flags import DATASET_ATTR, EXAMPLE_MARKER

__all__ = ["Dataset", "Example", "load_dataset", "parametrize_dataset"]

FORMATS = ("jsonl", "json", "csv", "tsv", "parquet", "hf")
_EXTENSIONS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
}


@dataclass(frozen=True)
class Example:
    """One example: its stable ``id``, input ``x`` and expected output ``y``.

    ``x``/``y`` are instances of the dataset's DataModels (``y`` is None for an
    inputs-only dataset); ``row`` is the raw row as read; ``source`` says where it
    came from (``"qa.jsonl, line 3"``).
    """

    id: str
    x: Any
    y: Any
    row: Mapping[str, Any] = field(repr=False, compare=False)
    source: str = ""


class Dataset(Sequence[Example]):
    """An ordered collection of examples with their DataModels.

    Indexing takes a position or an example id. Built by :func:`load_dataset`, or
    directly from examples.
    """

    def __init__(
        self,
        examples: Iterable[Example],
        *,
        x_model: Any,
        y_model: Any = None,
        path: str | None = None,
        name: str | None = None,
    ) -> None:
        self.examples: list[Example] = list(examples)
        self.x_model = x_model
        self.y_model = y_model
        self.path = path
        self.name = name or (Path(path).stem if path else "dataset")
        self._by_id = {example.id: example for example in self.examples}
        if len(self._by_id) != len(self.examples):
            seen: set[str] = set()
            dupes = [e.id for e in self.examples if e.id in seen or seen.add(e.id)]  # type: ignore[func-returns-value]
            raise DatasetError(f"dataset {self.name!r}: duplicate example ids {dupes[:5]}")

    def __repr__(self) -> str:
        y = getattr(self.y_model, "__name__", None)
        return (
            f"<synatest.Dataset {self.name!r}: {len(self)} examples, "
            f"x={getattr(self.x_model, '__name__', self.x_model)}, y={y}>"
        )

    def __len__(self) -> int:
        return len(self.examples)

    def __iter__(self) -> Iterator[Example]:
        return iter(self.examples)

    @overload
    def __getitem__(self, key: int | str) -> Example: ...

    @overload
    def __getitem__(self, key: slice) -> Dataset: ...

    def __getitem__(self, key: int | str | slice) -> Example | Dataset:
        if isinstance(key, slice):
            return self._derive(self.examples[key], suffix="")
        if isinstance(key, str):
            try:
                return self._by_id[key]
            except KeyError:
                raise KeyError(f"no example with id {key!r} in dataset {self.name!r}") from None
        return self.examples[key]

    @property
    def ids(self) -> list[str]:
        return [example.id for example in self.examples]

    def _derive(self, examples: Iterable[Example], suffix: str) -> Dataset:
        return Dataset(
            examples,
            x_model=self.x_model,
            y_model=self.y_model,
            path=self.path,
            name=self.name + suffix,
        )

    def select(self, ids: Iterable[str]) -> Dataset:
        """The examples with these ids, in the dataset's order."""
        wanted = set(ids)
        unknown = wanted - self._by_id.keys()
        if unknown:
            raise KeyError(f"no example with id(s) {sorted(unknown)[:5]} in dataset {self.name!r}")
        return self._derive((e for e in self.examples if e.id in wanted), suffix="")

    def split(self, *fractions: float, seed: int = 0) -> tuple[Dataset, ...]:
        """Deterministic seeded split: ``train, test = ds.split(0.8, seed=1)``.

        Examples are ranked by a hash of (seed, id), so a split depends only on the
        seed and the example ids -- not on file order or on the process. Fractions
        summing to less than 1 leave the rest as a last part. Parts keep the
        dataset's order.
        """
        if not fractions:
            raise ValueError("split() needs at least one fraction, e.g. ds.split(0.8)")
        if any(not 0 < f < 1 for f in fractions) or sum(fractions) > 1 + 1e-9:
            raise ValueError(
                f"split fractions must each be between 0 and 1 and sum to at most 1, "
                f"got {fractions}"
            )
        parts = list(fractions)
        if sum(parts) < 1 - 1e-9:
            parts.append(1 - sum(parts))
        ranked = sorted(
            self.examples,
            key=lambda e: hashlib.sha256(f"{seed}:{e.id}".encode()).hexdigest(),
        )
        bounds, total = [], 0.0
        for fraction in parts:
            total += fraction
            bounds.append(round(total * len(ranked)))
        bounds[-1] = len(ranked)
        chosen, start = [], 0
        for end in bounds:
            chosen.append({e.id for e in ranked[start:end]})
            start = end
        return tuple(
            self._derive((e for e in self.examples if e.id in ids), suffix=f"[{i}]")
            for i, ids in enumerate(chosen)
        )

    def as_arrays(self) -> tuple[Any, Any]:
        """``(x, y)`` numpy object arrays of DataModels, as ``program.fit`` takes them.

        ``y`` is None for an inputs-only dataset.
        """
        import numpy as np

        x = np.empty(len(self.examples), dtype=object)
        for i, example in enumerate(self.examples):
            x[i] = example.x
        if self.y_model is None:
            return x, None
        y = np.empty(len(self.examples), dtype=object)
        for i, example in enumerate(self.examples):
            y[i] = example.y
        return x, y


# -- reading rows ----------------------------------------------------------------


def _format_of(path: Path, fmt: str | None) -> str:
    if fmt is not None:
        if fmt not in FORMATS:
            raise DatasetError(f"{path}: unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        return fmt
    if path.is_dir():
        return "hf"
    found = _EXTENSIONS.get(path.suffix.lower())
    if found is None:
        raise DatasetError(
            f"{path}: cannot tell the format from the extension {path.suffix!r}; "
            f"pass format= one of {', '.join(FORMATS)}"
        )
    return found


def _rows_jsonl(path: Path, encoding: str) -> Iterator[tuple[str, Any]]:
    with path.open(encoding=encoding) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path}, line {number}"
            try:
                yield where, json.loads(line)
            except json.JSONDecodeError as error:
                raise DatasetError(
                    f"{where}: invalid JSON ({error.msg} at column {error.colno})"
                ) from None


def _rows_json(path: Path, encoding: str) -> Iterator[tuple[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding=encoding))
    except json.JSONDecodeError as error:
        raise DatasetError(
            f"{path}, line {error.lineno}: invalid JSON ({error.msg} at column {error.colno})"
        ) from None
    if isinstance(data, dict):
        # {"examples": [...]} / {"data": [...]}: the one list-valued key.
        lists = [key for key, value in data.items() if isinstance(value, list)]
        if len(lists) != 1:
            raise DatasetError(
                f"{path}: expected a JSON array of objects (or an object holding exactly one "
                f"array), got an object with keys {sorted(data)[:8]}"
            )
        data = data[lists[0]]
    if not isinstance(data, list):
        raise DatasetError(f"{path}: expected a JSON array of objects, got {type(data).__name__}")
    for index, row in enumerate(data):
        yield f"{path}, item {index}", row


def _rows_csv(path: Path, encoding: str, delimiter: str) -> Iterator[tuple[str, Any]]:
    with path.open(encoding=encoding, newline="") as handle:
        reader = csv.DictReader(handle, delimiter=delimiter)
        for row in reader:
            where = f"{path}, line {reader.line_num}"
            if None in row:
                raise DatasetError(
                    f"{where}: more values than header columns ({len(reader.fieldnames or [])})"
                )
            yield where, row


def _rows_parquet(path: Path) -> Iterator[tuple[str, Any]]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as error:
        raise DatasetError(f"{path}: cannot read Parquet: {error}") from None
    for index, row in enumerate(table.to_pylist()):
        yield f"{path}, row {index}", row


def _rows_hf(path: Path, split: str | None) -> Iterator[tuple[str, Any]]:
    # By name: a top-level ``datasets/`` folder of examples must not shadow it for mypy.
    hf: Any = importlib.import_module("datasets")
    try:
        loaded = hf.load_from_disk(str(path))
    except Exception as error:
        raise DatasetError(
            f"{path}: not a Hugging Face dataset saved with save_to_disk ({error})"
        ) from None
    if isinstance(loaded, hf.DatasetDict):
        if split is None:
            raise DatasetError(
                f"{path}: this Hugging Face DatasetDict has splits {sorted(loaded)}; "
                "pass split= to choose one"
            )
        if split not in loaded:
            raise DatasetError(f"{path}: no split {split!r}; splits are {sorted(loaded)}")
        loaded = loaded[split]
    label = f"{path} [{split}]" if split else str(path)
    for index, row in enumerate(loaded):
        yield f"{label}, row {index}", row


def _lookup(row: Mapping[str, Any], column: str) -> tuple[bool, Any]:
    """A column's value; a dotted name reaches into nested objects (``"meta.answer"``)."""
    if column in row:
        return True, row[column]
    value: Any = row
    for part in column.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        else:
            return False, None
    return True, value


def _model_fields(model: Any) -> list[str]:
    fields = getattr(model, "model_fields", None)
    if not isinstance(fields, dict):
        raise TypeError(
            f"expected a DataModel class (a synalinks.DataModel subclass), got {model!r}"
        )
    return list(fields)


def _build(
    model: Any, row: Mapping[str, Any], mapping: Mapping[str, str], where: str, role: str
) -> Any:
    data: dict[str, Any] = {}
    for name in _model_fields(model):
        column = mapping.get(name, name)
        found, value = _lookup(row, column)
        if found:
            data[name] = value
    try:
        return model.model_validate(data)
    except Exception as error:
        errors = getattr(error, "errors", None)
        if not callable(errors):
            raise DatasetError(f"{where}: {role} {model.__name__}: {error}") from None
        first = errors()[0]
        loc = ".".join(str(part) for part in first.get("loc", ())) or "?"
        top = str(first.get("loc", ("?",))[0])
        column = mapping.get(top, top)
        hint = "" if column == top else f" (column {column!r})"
        if first.get("type") == "missing":
            columns = ", ".join(sorted(str(k) for k in row)[:12])
            reason = (
                f"missing{hint}; the row has columns: {columns}. "
                f"Map a column with fields={{{top!r}: 'column'}}"
            )
        else:
            reason = f"{first.get('msg')}{hint}, got {first.get('input')!r}"
        more = len(errors()) - 1
        extra = f" (and {more} more error{'s' if more > 1 else ''})" if more > 0 else ""
        raise DatasetError(
            f"{where}: field {loc!r} of {role} {model.__name__}: {reason}{extra}"
        ) from None


def _json_of(value: Any) -> Any:
    get_json = getattr(value, "get_json", None)
    if callable(get_json):
        return get_json()
    dump = getattr(value, "model_dump", None)
    return dump(mode="json") if callable(dump) else value


def content_id(x: Any, y: Any) -> str:
    """A stable id from an example's content (validated fields, not raw formatting)."""
    text = json.dumps([_json_of(x), _json_of(y)], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def load_dataset(
    path: str | os.PathLike[str],
    x: Any,
    y: Any = None,
    *,
    fields: Mapping[str, str] | None = None,
    id_field: str | None = "id",
    format: str | None = None,
    split: str | None = None,
    limit: int | None = None,
    encoding: str = "utf-8",
    name: str | None = None,
) -> Dataset:
    """Load a dataset file into examples of ``x`` (inputs) and ``y`` (expected outputs).

    Args:
        path: a ``.jsonl``/``.ndjson``, ``.json`` (an array of objects), ``.csv``/
            ``.tsv``, ``.parquet`` file, or a directory written by Hugging Face
            ``Dataset.save_to_disk`` / ``DatasetDict.save_to_disk``.
        x: the input DataModel class.
        y: the expected-output DataModel class (default None: inputs only).
        fields: DataModel field name -> source column, for columns named
            differently (default: same names). A dotted column reaches into nested
            objects: ``{"answer": "label.text"}``.
        id_field: column holding each example's id (default ``"id"``). When the
            column is absent, the id is a hash of the example's validated content,
            stable across file order, formatting and extra columns.
        format: one of ``jsonl json csv tsv parquet hf`` (default: from the path).
        split: the split of a Hugging Face ``DatasetDict`` (required for one).
        limit: keep only the first ``limit`` rows (default: all).
        encoding: text encoding of jsonl/json/csv files (default utf-8).
        name: the dataset's name in reports (default: the file's stem).

    Raises:
        DatasetError: the file is missing or unreadable, or a row does not fit the
            DataModels (the message names file, line/row, field and reason), or two
            rows share an id.
    """
    source = Path(path)
    if not source.exists():
        raise DatasetError(f"{source}: no such dataset file (working directory: {os.getcwd()})")
    fmt = _format_of(source, format)
    mapping = dict(fields or {})
    if fmt == "jsonl":
        rows = _rows_jsonl(source, encoding)
    elif fmt == "json":
        rows = _rows_json(source, encoding)
    elif fmt in ("csv", "tsv"):
        rows = _rows_csv(source, encoding, "\t" if fmt == "tsv" else ",")
    elif fmt == "parquet":
        rows = _rows_parquet(source)
    else:
        rows = _rows_hf(source, split)
    examples: list[Example] = []
    where_of: dict[str, str] = {}
    hashed: dict[str, int] = {}
    for where, row in rows:
        if limit is not None and len(examples) >= limit:
            break
        if not isinstance(row, Mapping):
            raise DatasetError(
                f"{where}: expected an object (a mapping of fields), got {type(row).__name__}"
            )
        x_value = _build(x, row, mapping, where, "input")
        y_value = _build(y, row, mapping, where, "output") if y is not None else None
        if id_field and id_field in row and row[id_field] not in (None, ""):
            example_id = str(row[id_field])
            if example_id in where_of:
                raise DatasetError(
                    f"{where}: duplicate id {example_id!r} (first at {where_of[example_id]}); "
                    f"ids in column {id_field!r} must be unique"
                )
        else:
            # Identical rows are legitimate (a repeated question): number them.
            digest = content_id(x_value, y_value)
            hashed[digest] = hashed.get(digest, 0) + 1
            example_id = digest if hashed[digest] == 1 else f"{digest}~{hashed[digest]}"
        where_of[example_id] = where
        examples.append(Example(id=example_id, x=x_value, y=y_value, row=row, source=where))
    if not examples:
        raise DatasetError(f"{source}: the dataset has no rows")
    return Dataset(examples, x_model=x, y_model=y, path=str(source), name=name)


# -- one test per example -------------------------------------------------------------

_SLUG = re.compile(r"[^0-9A-Za-z]+")


def readable_id(example: Example, has_id_column: bool) -> str:
    """The test id of an example: its id, or its first text field plus a short hash."""
    if has_id_column:
        return example.id
    data = _json_of(example.x)
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
