"""Each report file, rendered from hand-made RunReports."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import jsonlines
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synatest._atomic import atomic_open, atomic_write_text
from synatest.errors import ReportError
from synatest.eval.results import ExampleResult, RunReport, SuiteResult
from synatest.reports import FORMATS, junit, load_report, markdown, parse_formats, write_reports
from synatest.reports import html as html_report

from .conftest import build_report


def test_write_reports_writes_every_format(tmp_path: Path) -> None:
    written = write_reports(build_report(), tmp_path / "out")
    assert {p.name for p in written.values()} == {
        "report.json",
        "examples.jsonl",
        "examples.csv",
        "report.md",
        "report.html",
    }
    assert all(p.stat().st_size > 0 for p in written.values())
    # No temporary file is left behind.
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        p.name for p in written.values()
    )


def test_write_reports_only_the_formats_asked(tmp_path: Path) -> None:
    written = write_reports(build_report(), tmp_path, formats=("json", "md"))
    assert set(written) == {"json", "md"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json", "report.md"]


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"unknown report format 'pdf'; choose from json"):
        write_reports(build_report(), tmp_path, formats=("pdf",))


def test_parse_formats() -> None:
    assert parse_formats("all") == tuple(FORMATS)
    assert parse_formats("md, html,md") == ("md", "html")
    with pytest.raises(ValueError, match=r"unknown report format\(s\) xml; use 'all' or"):
        parse_formats("json,xml")
    with pytest.raises(ValueError, match=r"\(none given\)"):
        parse_formats(" , ")


# -- report.json ------------------------------------------------------------------------


def test_json_round_trips(tmp_path: Path) -> None:
    report = build_report()
    write_reports(report, tmp_path, formats=("json",))
    assert load_report(tmp_path) == report  # a directory
    assert load_report(tmp_path / "report.json") == report  # or the file
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["schema_version"] == 5
    assert data["suites"][0]["examples"][0]["inputs"] == {
        "question": "What is 0?",
        "context": {"n": 0},
    }


def test_json_dumps_data_models_and_odd_values(tmp_path: Path) -> None:
    from pydantic import BaseModel

    class Answer(BaseModel):
        answer: str

    report = RunReport(
        suites=[
            SuiteResult(
                name="s",
                examples=[
                    ExampleResult(
                        id="1",
                        suite="s",
                        prediction=Answer(answer="x"),
                        inputs={"when": {1, 2}.__class__.__name__},
                    )
                ],
            )
        ]
    )
    write_reports(report, tmp_path)
    row = json.loads((tmp_path / "examples.jsonl").read_text().splitlines()[0])
    assert row["prediction"] == {"answer": "x"}
    loaded = json.loads((tmp_path / "report.json").read_text())
    assert loaded["suites"][0]["examples"][0]["prediction"] == {"answer": "x"}


def test_load_report_missing(tmp_path: Path) -> None:
    with pytest.raises(
        ReportError,
        match=r"no report at .*nowhere.*give a report.json file or the "
        r"directory holding one \(written by `pytest --synalinks-eval",
    ):
        load_report(tmp_path / "nowhere")
    with pytest.raises(ReportError, match="no report at"):
        load_report(tmp_path)  # a directory without report.json


def test_load_report_truncated_json(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text('{"suites": [')
    with pytest.raises(
        ReportError,
        match=r"report.json: not valid JSON \(line 1, column 13: "
        r".*was the file cut short\? Re-run the evaluation",
    ):
        load_report(path)


def test_load_report_not_a_report(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"hello": 1}')
    with pytest.raises(ReportError, match=r"x.json: not a synatest report \(no 'suites' key\)"):
        load_report(path)


def test_load_report_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text('{"schema_version": 99, "suites": []}')
    with pytest.raises(
        ReportError,
        match=r"schema version 99, newer than this synatest reads "
        r"\(5\); upgrade synatest",
    ):
        load_report(path)


def test_load_report_schema_mismatch(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text('{"suites": [{"name": "qa", "n": "many"}]}')
    with pytest.raises(ReportError, match=r"does not match the report schema at suites.0.n: "):
        load_report(path)


def test_load_report_binary(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(
        ReportError, match=r"report.json: not valid UTF-8 at byte 0 \(line 1, column 1\)"
    ):
        load_report(path)


# -- examples.jsonl / examples.csv ------------------------------------------------------


def test_jsonl_one_line_per_example(tmp_path: Path) -> None:
    report = build_report(n=25)
    write_reports(report, tmp_path, formats=("jsonl",))
    lines = (tmp_path / "examples.jsonl").read_text().splitlines()
    assert len(lines) == 50
    rows = [json.loads(line) for line in lines]
    first = rows[0]
    assert set(first) >= {"suite", "id", "inputs", "expected", "prediction", "reward", "error"}
    assert (first["suite"], first["id"]) == ("qa", "qa-0")
    errored = [r for r in rows if r["status"] == "error"]
    assert errored and all(
        r["reward"] is None and r["error"].startswith("LMCallFailed") for r in errored
    )


def test_csv_reads_into_pandas_with_spread_columns(tmp_path: Path) -> None:
    import pandas as pd

    report = build_report(n=30)
    write_reports(report, tmp_path, formats=("csv",))
    df = pd.read_csv(tmp_path / "examples.csv")
    assert len(df) == 60
    assert list(df.columns[:6]) == ["suite", "id", "nodeid", "status", "reward", "passed"]
    assert {"inputs.question", "inputs.context", "expected.answer", "prediction.answer"} <= set(
        df.columns
    )
    scored = df[df.status != "error"]
    # The reward is 1 exactly where prediction matches expected.
    assert (
        (scored["prediction.answer"] == scored["expected.answer"]) == (scored.reward == 1)
    ).all()
    assert json.loads(df["inputs.context"].iloc[3]) == {"n": 3}
    assert df.reward.isna().sum() == sum(s.errors for s in report.suites)
    assert df.cost.sum() == pytest.approx(report.usage.cost)


def test_csv_keeps_non_object_values_and_odd_text(tmp_path: Path) -> None:
    report = RunReport(
        suites=[
            SuiteResult(
                name="s",
                examples=[
                    ExampleResult(
                        id="a",
                        suite="s",
                        inputs="plain, with comma\nand newline",
                        prediction=["x", 1],
                        reward=1.0,
                        passed=True,
                    ),
                    ExampleResult(id="b", suite="s", inputs={"q": 'quote " here'}, reward=0.0),
                ],
            )
        ]
    )
    write_reports(report, tmp_path, formats=("csv",))
    with open(tmp_path / "examples.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["inputs"] == "plain, with comma\nand newline"
    assert rows[0]["prediction"] == '["x", 1]'
    assert rows[0]["inputs.q"] == ""
    assert rows[1]["inputs.q"] == 'quote " here'
    assert rows[1]["status"] == "scored"


# -- report.md --------------------------------------------------------------------------


def test_markdown_tables(tmp_path: Path) -> None:
    report = build_report(n=30, p=0.3)
    text = markdown.render_markdown(report)
    assert text.startswith("## synatest evaluation: ❌ FAIL — before\n")
    assert "| Suite " in text and "| qa " in text and "| math " in text
    assert "Commit `0123456789ab`" in text
    assert "### Gates" in text and "< 0.6" in text
    assert "### Not passed in `qa`" in text
    qa = report.suites[0]
    not_passed = sum(1 for e in qa.examples if e.passed is not True)
    assert f"### Not passed in `qa` ({not_passed}, worst 20 shown; all in examples.jsonl)" in text
    # Errors are listed first.
    block = text.split("### Not passed in `qa`")[1]
    first_row = block.split("\n")[4]
    assert "error" in first_row or not any(e.error for e in qa.examples)


def test_markdown_escapes_pipes_and_newlines() -> None:
    assert markdown.cell("a|b\nc") == "a\\|b c"
    assert markdown.cell("x" * 200).endswith("…")
    assert len(markdown.cell("x" * 200)) == 120


def test_markdown_appended_to_github_step_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("previous step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    write_reports(build_report(), tmp_path / "out", formats=("md",))
    text = summary.read_text()
    assert text.startswith("previous step\n## synatest evaluation")
    assert text.count("## synatest evaluation") == 1


def test_markdown_no_suite() -> None:
    assert "No evaluation suite ran." in markdown.render_markdown(RunReport())


# -- report.html ------------------------------------------------------------------------


def test_html_is_self_contained(tmp_path: Path) -> None:
    write_reports(build_report(), tmp_path, formats=("html",))
    text = (tmp_path / "report.html").read_text()
    assert text.startswith("<!DOCTYPE html>")
    for needle in ("http://", "https://", "src=", "<link", "@import", "url("):
        assert needle not in text, needle
    assert text.count("<svg") == 2  # one reward histogram per suite
    assert 'id="synatest-examples"' in text


def test_html_escapes_hostile_text() -> None:
    report = RunReport(
        label="<img onerror=x>",
        suites=[
            SuiteResult(
                name="<b>s</b>",
                examples=[
                    ExampleResult(
                        id="</script><script>alert(1)</script>",
                        suite="s",
                        error="Boom: </script>",
                        inputs={"q": "<!-- x"},
                    )
                ],
            )
        ],
    )
    text = html_report.render_html(report)
    assert "<img onerror" not in text and "&lt;img onerror=x&gt;" in text
    assert "<b>s</b>" not in text
    island = text.split('id="synatest-examples">')[1].split("</script>")[0]
    assert "<" not in island
    assert json.loads(island)[0][1] == "</script><script>alert(1)</script>"


# -- JUnit properties -------------------------------------------------------------------


def test_junit_properties() -> None:
    example = build_report().suites[0].examples[0]
    props = dict(junit.junit_properties(example))
    assert props["synalinks_suite"] == "qa"
    assert props["synalinks_example"] == "qa-0"
    assert props["synalinks_status"] in {"passed", "failed", "error"}
    assert props["synalinks_lm_calls"] == 1
    long = ExampleResult(id="x", suite="s", prediction="y" * 2000, error="E: " + "z" * 900)
    props = dict(junit.junit_properties(long))
    assert props["synalinks_reward"] == ""
    assert len(str(props["synalinks_prediction"])) == junit.MAX_VALUE_CHARS
    assert str(props["synalinks_error"]).endswith("…")


# -- atomic writes ----------------------------------------------------------------------


def test_a_failed_write_keeps_the_previous_file(tmp_path: Path) -> None:
    path = tmp_path / "report.md"
    atomic_write_text(path, "old report\n")
    with pytest.raises(RuntimeError, match="crash"), atomic_open(path) as handle:
        handle.write("half a new rep")
        raise RuntimeError("crash")
    assert path.read_text() == "old report\n"
    assert os.listdir(tmp_path) == ["report.md"]


def test_interrupted_render_keeps_the_previous_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_reports(build_report(n=5), tmp_path, formats=("jsonl",))
    before = (tmp_path / "examples.jsonl").read_text()

    from synatest.reports import _rows

    calls = {"n": 0}
    real = _rows.example_row

    def interrupted(*args: object) -> dict[str, object]:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(_rows, "example_row", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_reports(build_report(n=50), tmp_path, formats=("jsonl",))
    assert (tmp_path / "examples.jsonl").read_text() == before
    assert os.listdir(tmp_path) == ["examples.jsonl"]


# -- round trip of arbitrary reports ----------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
examples = st.builds(
    ExampleResult,
    id=st.text(min_size=1, max_size=10),
    suite=st.just("s"),
    inputs=json_values,
    expected=json_values,
    prediction=json_values,
    reward=st.none() | st.floats(0, 1),
    passed=st.none() | st.booleans(),
    error=st.none() | st.text(max_size=30),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(examples, max_size=6))
def test_every_renderer_accepts_any_report(tmp_path: Path, items: list[ExampleResult]) -> None:
    report = RunReport(suites=[SuiteResult(name="s", n=len(items), examples=items)])
    write_reports(report, tmp_path)
    assert load_report(tmp_path) == report
    with jsonlines.open(tmp_path / "examples.jsonl") as reader:
        assert [row["id"] for row in reader] == [e.id for e in items]
    with open(tmp_path / "examples.csv", newline="", encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == len(items)
    island = (
        (tmp_path / "report.html")
        .read_text(encoding="utf-8")
        .split('id="synatest-examples">')[1]
        .split("</script>")[0]
    )
    assert [row[1] for row in json.loads(island)] == [e.id for e in items]


def test_public_api() -> None:
    import synatest
    from synatest.reports import compare

    assert synatest.write_reports is write_reports
    assert synatest.load_report is load_report
    assert synatest.compare_runs is compare.compare_runs
    assert synatest.ReportError is ReportError
    assert issubclass(ReportError, ValueError)
