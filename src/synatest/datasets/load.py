"""Reading datasets from files: :func:`load_dataset` and one row reader per format."""

from __future__ import annotations

import csv
import hashlib
import importlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from synatest.datasets.dataset import Dataset, Example
from synatest.errors import DatasetError, decode_error_message

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


def _named_decode_errors(
    rows: Iterator[tuple[str, Any]], path: Path, encoding: str
) -> Iterator[tuple[str, Any]]:
    """``rows``, with a decoding error turned into a DatasetError naming file and byte."""
    try:
        yield from rows
    except UnicodeDecodeError as streamed:
        # The reader decodes in chunks: decode the whole file for the byte offset.
        data = path.read_bytes()
        try:
            data.decode(encoding)
        except UnicodeDecodeError as error:
            raise DatasetError(
                decode_error_message(
                    path,
                    data,
                    error,
                    fix=f"save it as {encoding}, or pass load_dataset(..., encoding=...)",
                )
            ) from None
        raise DatasetError(f"{path}: cannot decode as {encoding}: {streamed}") from None


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


def json_of(value: Any) -> Any:
    get_json = getattr(value, "get_json", None)
    if callable(get_json):
        return get_json()
    dump = getattr(value, "model_dump", None)
    return dump(mode="json") if callable(dump) else value


def content_id(x: Any, y: Any) -> str:
    """A stable id from an example's content (validated fields, not raw formatting)."""
    text = json.dumps([json_of(x), json_of(y)], sort_keys=True, ensure_ascii=False, default=str)
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
    if fmt in ("jsonl", "json", "csv", "tsv"):
        rows = _named_decode_errors(rows, source, encoding)
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
