"""load_dataset: formats, field mapping, ids, splits, and every DatasetError message."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from synatest import DatasetError
from synatest.datasets import Dataset, load_dataset

ROWS = [
    {"id": "q1", "question": "What is 2+2?", "answer": "4"},
    {"id": "q2", "question": "Capital of France?", "answer": "Paris"},
    {"id": "q3", "question": "Color of the sky?", "answer": "blue"},
]


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def check(ds: Dataset, models: Any) -> None:
    assert ds.ids == ["q1", "q2", "q3"]
    assert ds["q2"].x == models.Question(question="Capital of France?")
    assert ds[2].y == models.Answer(answer="blue")
    assert len(ds) == 3


def test_jsonl(tmp_path: Path, models: Any) -> None:
    path = write_jsonl(tmp_path / "qa.jsonl", ROWS)
    ds = load_dataset(path, x=models.Question, y=models.Answer)
    check(ds, models)
    assert ds.name == "qa"
    assert ds["q1"].source == f"{path}, line 1"


def test_json_array_and_wrapped(tmp_path: Path, models: Any) -> None:
    (tmp_path / "a.json").write_text(json.dumps(ROWS))
    check(load_dataset(tmp_path / "a.json", x=models.Question, y=models.Answer), models)
    (tmp_path / "b.json").write_text(json.dumps({"version": 2, "examples": ROWS}))
    check(load_dataset(tmp_path / "b.json", x=models.Question, y=models.Answer), models)


def test_csv_and_tsv(tmp_path: Path, models: Any) -> None:
    lines = ["id,question,answer"] + [f'{r["id"]},"{r["question"]}",{r["answer"]}' for r in ROWS]
    (tmp_path / "qa.csv").write_text("\n".join(lines) + "\n")
    check(load_dataset(tmp_path / "qa.csv", x=models.Question, y=models.Answer), models)
    tsv = ["id\tquestion\tanswer"] + ["\t".join(r.values()) for r in ROWS]
    (tmp_path / "qa.tsv").write_text("\n".join(tsv) + "\n")
    check(load_dataset(tmp_path / "qa.tsv", x=models.Question, y=models.Answer), models)


def test_parquet(tmp_path: Path, models: Any) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(ROWS), tmp_path / "qa.parquet")
    check(load_dataset(tmp_path / "qa.parquet", x=models.Question, y=models.Answer), models)


def test_huggingface_save_to_disk(tmp_path: Path, models: Any) -> None:
    import datasets as hf

    hf.Dataset.from_list(ROWS).save_to_disk(str(tmp_path / "single"))
    check(load_dataset(tmp_path / "single", x=models.Question, y=models.Answer), models)
    hf.DatasetDict({"test": hf.Dataset.from_list(ROWS)}).save_to_disk(str(tmp_path / "dict"))
    ds = load_dataset(tmp_path / "dict", x=models.Question, y=models.Answer, split="test")
    check(ds, models)
    assert ds["q1"].source == f"{tmp_path / 'dict'} [test], row 0"
    with pytest.raises(DatasetError) as info:
        load_dataset(tmp_path / "dict", x=models.Question, y=models.Answer)
    assert str(info.value) == (
        f"{tmp_path / 'dict'}: this Hugging Face DatasetDict has splits ['test']; "
        "pass split= to choose one"
    )
    with pytest.raises(DatasetError, match=r"no split 'train'; splits are \['test'\]"):
        load_dataset(tmp_path / "dict", x=models.Question, split="train")


def test_field_mapping_with_nested_columns(tmp_path: Path, models: Any) -> None:
    rows = [{"prompt": "Hi?", "label": {"text": "Hello"}}]
    path = write_jsonl(tmp_path / "m.jsonl", rows)
    ds = load_dataset(
        path,
        x=models.Question,
        y=models.Answer,
        fields={"question": "prompt", "answer": "label.text"},
    )
    assert ds[0].x.question == "Hi?" and ds[0].y.answer == "Hello"


def test_inputs_only_and_limit(tmp_path: Path, models: Any) -> None:
    ds = load_dataset(write_jsonl(tmp_path / "qa.jsonl", ROWS), x=models.Question, limit=2)
    assert ds.ids == ["q1", "q2"] and ds[0].y is None and ds.y_model is None
    x, y = ds.as_arrays()
    assert y is None and list(x) == [e.x for e in ds]


def test_content_ids_are_stable(tmp_path: Path, models: Any) -> None:
    rows = [{"question": r["question"], "answer": r["answer"]} for r in ROWS]
    a = load_dataset(write_jsonl(tmp_path / "a.jsonl", rows), x=models.Question, y=models.Answer)
    # Extra columns, key order and formatting do not change an example's id.
    shuffled = [
        {"extra": 1, "answer": r["answer"], "question": r["question"]} for r in reversed(rows)
    ]
    b = load_dataset(
        write_jsonl(tmp_path / "b.jsonl", shuffled), x=models.Question, y=models.Answer
    )
    assert sorted(a.ids) == sorted(b.ids)
    assert all(len(i) == 12 for i in a.ids)
    # Identical rows are numbered, not rejected.
    c = load_dataset(
        write_jsonl(tmp_path / "c.jsonl", rows[:1] * 2), x=models.Question, y=models.Answer
    )
    assert c.ids == [a.ids[0], a.ids[0] + "~2"]


def test_splits_are_seeded_and_deterministic(tmp_path: Path, models: Any) -> None:
    rows = [{"id": f"e{i}", "question": f"q{i}", "answer": "a"} for i in range(100)]
    ds = load_dataset(write_jsonl(tmp_path / "big.jsonl", rows), x=models.Question, y=models.Answer)
    train, test = ds.split(0.8, seed=1)
    assert (len(train), len(test)) == (80, 20)
    assert set(train.ids).isdisjoint(test.ids)
    assert train.ids == [i for i in ds.ids if i in set(train.ids)]  # dataset order kept
    again, _ = ds.split(0.8, seed=1)
    assert again.ids == train.ids
    other, _ = ds.split(0.8, seed=2)
    assert other.ids != train.ids
    # Independent of file order.
    rev = load_dataset(
        write_jsonl(tmp_path / "rev.jsonl", rows[::-1]), x=models.Question, y=models.Answer
    )
    assert sorted(rev.split(0.8, seed=1)[0].ids) == sorted(train.ids)
    a, b, c = ds.split(0.5, 0.3, seed=0)
    assert (len(a), len(b), len(c)) == (50, 30, 20)
    with pytest.raises(ValueError, match="sum to at most 1"):
        ds.split(0.8, 0.5)
    with pytest.raises(ValueError, match="at least one fraction"):
        ds.split()


def test_as_arrays_and_select(tmp_path: Path, models: Any) -> None:
    ds = load_dataset(write_jsonl(tmp_path / "qa.jsonl", ROWS), x=models.Question, y=models.Answer)
    x, y = ds.as_arrays()
    assert x.dtype == object and x.shape == (3,) and y.shape == (3,)
    assert x[1] == ds[1].x and y[2] == ds[2].y
    assert ds.select(["q3", "q1"]).ids == ["q1", "q3"]
    assert ds[1:].ids == ["q2", "q3"]
    with pytest.raises(KeyError, match="no example with id 'nope'"):
        ds["nope"]
    with pytest.raises(KeyError, match=r"no example with id\(s\) \['zz'\]"):
        ds.select(["zz"])


# -- every error a user can hit, with its message ---------------------------------


def test_missing_file(tmp_path: Path, models: Any) -> None:
    with pytest.raises(
        DatasetError, match=r"nope.jsonl: no such dataset file \(working directory: "
    ):
        load_dataset(tmp_path / "nope.jsonl", x=models.Question)


def test_unknown_extension_and_format(tmp_path: Path, models: Any) -> None:
    (tmp_path / "qa.txt").write_text("x")
    with pytest.raises(DatasetError) as info:
        load_dataset(tmp_path / "qa.txt", x=models.Question)
    assert str(info.value) == (
        f"{tmp_path / 'qa.txt'}: cannot tell the format from the extension '.txt'; "
        "pass format= one of jsonl, json, csv, tsv, parquet, hf"
    )
    with pytest.raises(DatasetError, match="unknown format 'xml'"):
        load_dataset(tmp_path / "qa.txt", x=models.Question, format="xml")
    ds = load_dataset(write_jsonl(tmp_path / "rows.txt", ROWS), x=models.Question, format="jsonl")
    assert len(ds) == 3


def test_bad_json_line(tmp_path: Path, models: Any) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"question": "ok"}\n\n{"question": oops}\n')
    with pytest.raises(DatasetError) as info:
        load_dataset(path, x=models.Question)
    assert str(info.value) == f"{path}, line 3: invalid JSON (Expecting value at column 14)"


def test_bad_json_file(tmp_path: Path, models: Any) -> None:
    path = tmp_path / "bad.json"
    path.write_text('[\n  {"question": "a"},\n  {"question": }\n]')
    with pytest.raises(DatasetError, match=r"bad.json, line 3: invalid JSON \(Expecting value"):
        load_dataset(path, x=models.Question)
    path.write_text('"just a string"')
    with pytest.raises(DatasetError, match="expected a JSON array of objects, got str"):
        load_dataset(path, x=models.Question)
    path.write_text('{"a": [], "b": []}')
    with pytest.raises(
        DatasetError,
        match=r"or an object holding exactly one array\), got an object with keys \['a', 'b'\]",
    ):
        load_dataset(path, x=models.Question)


def test_row_not_an_object(tmp_path: Path, models: Any) -> None:
    path = write_jsonl(tmp_path / "rows.jsonl", [{"question": "a"}, ["not", "a", "row"]])
    with pytest.raises(DatasetError) as info:
        load_dataset(path, x=models.Question)
    assert str(info.value) == f"{path}, line 2: expected an object (a mapping of fields), got list"


def test_missing_field_names_file_line_and_field(tmp_path: Path, models: Any) -> None:
    path = write_jsonl(
        tmp_path / "qa.jsonl", [ROWS[0], {"id": "q2", "prompt": "hi", "answer": "x"}]
    )
    with pytest.raises(DatasetError) as info:
        load_dataset(path, x=models.Question, y=models.Answer)
    assert str(info.value) == (
        f"{path}, line 2: field 'question' of input Question: missing; the row has columns: "
        "answer, id, prompt. Map a column with fields={'question': 'column'}"
    )


def test_wrong_type_names_the_mapped_column(tmp_path: Path, models: Any) -> None:
    path = tmp_path / "n.csv"
    path.write_text("n\n1\ntwelve\n")
    with pytest.raises(DatasetError) as info:
        load_dataset(path, x=models.Number, fields={"value": "n"})
    assert str(info.value) == (
        f"{path}, line 3: field 'value' of input Number: Input should be a valid integer, "
        "unable to parse string as an integer (column 'n'), got 'twelve'"
    )


def test_ragged_csv_row(tmp_path: Path, models: Any) -> None:
    path = tmp_path / "r.csv"
    path.write_text("question\nfine\na,b\n")
    with pytest.raises(DatasetError, match=r"r.csv, line 3: more values than header columns \(1\)"):
        load_dataset(path, x=models.Question)


def test_duplicate_ids(tmp_path: Path, models: Any) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", [ROWS[0], ROWS[1], ROWS[0]])
    with pytest.raises(DatasetError) as info:
        load_dataset(path, x=models.Question, y=models.Answer)
    assert str(info.value) == (
        f"{path}, line 3: duplicate id 'q1' (first at {path}, line 1); "
        "ids in column 'id' must be unique"
    )


def test_empty_dataset(tmp_path: Path, models: Any) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text("\n")
    with pytest.raises(DatasetError, match=r"e\.jsonl: the dataset has no rows"):
        load_dataset(path, x=models.Question)


def test_not_a_data_model(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="expected a DataModel class"):
        load_dataset(write_jsonl(tmp_path / "qa.jsonl", ROWS), x=dict)


def test_not_a_saved_hf_dataset(tmp_path: Path, models: Any) -> None:
    (tmp_path / "dir").mkdir()
    with pytest.raises(DatasetError, match="not a Hugging Face dataset saved with save_to_disk"):
        load_dataset(tmp_path / "dir", x=models.Question)


@pytest.mark.parametrize("suffix", ["jsonl", "json", "csv"])
def test_a_file_that_is_not_utf8_names_file_and_byte(
    tmp_path: Path, models: Any, suffix: str
) -> None:
    path = tmp_path / f"qa.{suffix}"
    if suffix == "jsonl":
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ROWS)
    elif suffix == "json":
        text = json.dumps(ROWS, ensure_ascii=False, indent=1)
    else:
        text = "id,question,answer\n" + "".join(
            f"{r['id']},{r['question']},{r['answer']}\n" for r in ROWS
        )
    data = text.replace("Paris", "Par\u00efs").encode("utf-8")
    offset = data.index("\u00ef".encode()) + 1  # a lone continuation byte
    data = data[: offset - 1] + data[offset:]
    path.write_bytes(data)
    line = data.count(b"\n", 0, offset - 1) + 1
    with pytest.raises(DatasetError) as info:
        load_dataset(path, x=models.Question, y=models.Answer)
    assert str(info.value).startswith(
        f"{path}: not valid UTF-8 at byte {offset - 1} (line {line}, column "
    )
    assert "pass load_dataset(..., encoding=...)" in str(info.value)
