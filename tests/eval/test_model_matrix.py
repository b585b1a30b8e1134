"""--synalinks-models: every suite once per model, ``suite[model]``, the matrix view."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["pytester"]

SUITE = """
import pytest
import synalinks
import synatest


class Question(synalinks.DataModel):
    question: str


class Answer(synalinks.DataModel):
    answer: str


# Each "model" knows the answers to some questions: small knows 0-1, large knows 0-2.
KNOWS = {"openai/small": 2, "openai/large": 3}


def answer(request):
    number = int(request.last_user_message.split("question ")[1].split("?")[0])
    known = KNOWS[request.model]
    return {"answer": f"a{number}" if number < known else "?"}


@pytest.fixture
def served(synalinks_router):
    synalinks_router.use(synatest.FunctionLM(answer))


@synatest.parametrize_dataset("qa.jsonl", x=Question, y=Answer)
@pytest.mark.synalinks_eval(suite="qa", threshold=THRESHOLD)
async def test_qa(x, y, language_model, served):
    program = synalinks.Program(
        inputs=(inputs := synalinks.Input(data_model=Question)),
        outputs=await synalinks.Generator(data_model=Answer, language_model=language_model)(
            inputs
        ),
    )
    return await program(x)
"""


def write_suite(pytester: pytest.Pytester, threshold: float = 0.5, marker: str = "") -> None:
    rows = [{"id": f"q{i}", "question": f"question {i}?", "answer": f"a{i}"} for i in range(3)]
    (pytester.path / "qa.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    source = SUITE.replace("THRESHOLD", repr(threshold))
    if marker:
        source += f"\npytestmark = pytest.mark.synalinks_models({marker})\n"
    pytester.makepyfile(test_suite=source)


def read(pytester: pytest.Pytester, name: str = "report.json") -> Any:
    text = (pytester.path / "reports" / name).read_text()
    return json.loads(text) if name.endswith(".json") else text


def test_every_suite_runs_once_per_model_named_suite_model(pytester: pytest.Pytester) -> None:
    write_suite(pytester, threshold=0.5)
    result = pytester.runpytest(
        "--synalinks-eval", "--synalinks-models", "openai/small,openai/large", "-v"
    )
    # small scores 2/3 (passes 0.5), large 3/3.
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(
        [
            "*test_qa[[]q0-openai/small[]] PASSED*",
            "*test_qa[[]q0-openai/large[]] PASSED*",
            "qa[[]openai/small[]]*3*0.667*PASS",
            "qa[[]openai/large[]]*3*1.000*PASS",
        ]
    )
    report = read(pytester)
    assert [(s["name"], s["model"], s["base_name"]) for s in report["suites"]] == [
        ("qa[openai/small]", "openai/small", "qa"),
        ("qa[openai/large]", "openai/large", "qa"),
    ]
    # The example ids stay the dataset's: the same examples, one suite per model.
    assert [e["id"] for e in report["suites"][0]["examples"]] == ["q0", "q1", "q2"]
    matrix = report["matrix"]
    assert matrix["columns"] == ["openai/small", "openai/large"]
    (row,) = matrix["rows"]
    assert row["name"] == "qa"
    assert row["best"] == ["openai/large"]
    assert row["cells"]["openai/small"]["pass_rate"] == pytest.approx(2 / 3)
    assert row["cells"]["openai/large"]["best"] is True
    assert row["cells"]["openai/small"]["best"] is False
    assert row["cells"]["openai/large"]["gates"] is True
    result.stdout.fnmatch_lines(
        [
            "model matrix (2 models; * the best mean of each suite):",
            "  qa: openai/small 0.667, openai/large 1.000*",
        ]
    )
    markdown = read(pytester, "report.md")
    assert "### Model matrix" in markdown
    assert "| Suite | openai/small | openai/large |" in markdown
    line = next(line for line in markdown.splitlines() if line.startswith("| qa |"))
    small, large = line.split(" | ")[1:3]
    assert small.startswith("0.667<br>") and "pass 66.7%" in small
    assert large.startswith("**1.000 ★**<br>") and "pass 100.0%" in large
    html = read(pytester, "report.html")
    assert '<td class="num best" title="qa[openai/large]"><b>1.000 ★</b>' in html


def test_gates_apply_per_suite_model(pytester: pytest.Pytester) -> None:
    write_suite(pytester, threshold=0.9)
    result = pytester.runpytest("--synalinks-eval", "--synalinks-models=openai/small,openai/large")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        ["FAILED suite 'qa[[]openai/small[]]' (score 0.667, threshold 0.9)*"]
    )
    assert "FAILED suite 'qa[openai/large]'" not in result.stdout.str()


def test_the_marker_sets_the_matrix_and_the_cli_wins(pytester: pytest.Pytester) -> None:
    write_suite(pytester, marker='"openai/large", "openai/small"')
    result = pytester.runpytest("--synalinks-eval")
    result.assert_outcomes(passed=6)
    assert read(pytester)["matrix"]["columns"] == ["openai/large", "openai/small"]
    # --synalinks-model on the command line: that one model, no matrix.
    result = pytester.runpytest("--synalinks-eval", "--synalinks-model", "openai/large")
    result.assert_outcomes(passed=3)
    report = read(pytester)
    assert [s["name"] for s in report["suites"]] == ["qa"]
    assert report["matrix"] is None


def test_ini_models_and_no_matrix_changes_nothing(pytester: pytest.Pytester) -> None:
    write_suite(pytester)
    result = pytester.runpytest("--synalinks-eval", "--collect-only", "-q")
    assert "test_suite.py::test_qa[q0]" in result.stdout.str()
    pytester.makeini(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
        "synalinks_models = openai/small, openai/large\n"
    )
    result = pytester.runpytest("--synalinks-eval", "--collect-only", "-q")
    result.stdout.fnmatch_lines(["test_suite.py::test_qa[[]q0-openai/small[]]"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--synalinks-models", "openai/a,,openai/b"],
            "ERROR: --synalinks-models: an empty model name in 'openai/a,,openai/b': name "
            "every model",
        ),
        (
            ["--synalinks-models", " , "],
            "ERROR: --synalinks-models: expected model names separated by commas, got ' , '",
        ),
        (
            ["--synalinks-models", "openai/a,openai/b,openai/a"],
            "ERROR: --synalinks-models: openai/a given twice in 'openai/a,openai/b,openai/a': "
            "name each model once",
        ),
        (
            ["--synalinks-models", "openai/a,openai/b", "--synalinks-model", "openai/c"],
            "ERROR: --synalinks-models and --synalinks-model both given: --synalinks-models "
            "M1,M2 runs each test with every model, --synalinks-model M with one; pass one",
        ),
    ],
)
def test_bad_model_lists_are_usage_errors(
    pytester: pytest.Pytester, args: list[str], message: str
) -> None:
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()


def test_a_bad_marker_or_ini_names_where(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.synalinks_models("openai/a", "openai/a")
        def test_x(synalinks_model_name):
            pass
        """
    )
    result = pytester.runpytest()
    result.stdout.fnmatch_lines(
        [
            "*@pytest.mark.synalinks_models on test_a_bad_marker_or_ini_names_where.py::test_x: "
            "openai/a given twice in ('openai/a', 'openai/a'): name each model once*"
        ]
    )
    pytester.makeini("[pytest]\nsynalinks_models = openai/a,\n")
    result = pytester.runpytest()
    assert "ERROR: ini synalinks_models: an empty model name in 'openai/a,'" in (
        result.stderr.str()
    )


def test_own_fixtures_take_each_model(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.fixture
        def client(synalinks_model_name):
            return f"client of {synalinks_model_name}"

        @pytest.mark.synalinks_models("openai/a", "openai/b")
        def test_client(client):
            print(client)

        def test_default(synalinks_model_name):
            assert synalinks_model_name == "openai/gpt-4o-mini"
        """
    )
    result = pytester.runpytest("-v", "-s")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*test_client[[]openai/a[]]*client of openai/a*"])
    assert "client of openai/b" in result.stdout.str()


ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "eval" / "test_model_matrix_eval.py"


def test_the_example_shows_the_matrix_and_merges_from_shards(
    pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    """examples/eval/test_model_matrix_eval.py (run by the main job, `pytest
    --synalinks-eval examples`): its matrix, and the same matrix from two merged shards."""
    from synatest.cli import main
    from synatest.reports.json_report import timeless

    (pytester.path / "datasets").mkdir()
    (pytester.path / "datasets" / "capitals.jsonl").write_text(
        (ROOT / "datasets" / "capitals.jsonl").read_text()
    )
    # (Not the example's module name: pytest may have imported the example itself.)
    pytester.makepyfile(test_matrix_example=EXAMPLE.read_text())
    whole = pytester.runpytest("--synalinks-eval", "--synalinks-report-dir=whole")
    whole.assert_outcomes(passed=40)
    assert whole.ret == 0
    report = json.loads((pytester.path / "whole" / "report.json").read_text())
    small, large = "openai/gpt-4o-mini", "openai/gpt-4o"
    assert [(s["name"], s["mean"]) for s in report["suites"]] == [
        (f"capitals-by-model[{small}]", 0.75),
        (f"capitals-by-model[{large}]", 1.0),
    ]
    assert report["matrix"]["rows"][0]["best"] == [large]
    markdown = (pytester.path / "whole" / "report.md").read_text()
    assert f"| Suite | {small} | {large} |" in markdown
    row = next(line for line in markdown.splitlines() if line.startswith("| capitals-by-model |"))
    assert row.split(" | ")[1].startswith("0.750<br>")
    assert row.split(" | ")[2].startswith("**1.000 ★**<br>")
    # Baselines compare suite[model] with suite[model].
    whole = pytester.runpytest(
        "--synalinks-eval",
        "--synalinks-report-dir=again",
        "--synalinks-baseline=whole/report.json",
        "--synalinks-fail-regression=0",
    )
    assert whole.ret == 0
    again = json.loads((pytester.path / "again" / "report.json").read_text())
    assert all("regression" in {g["name"] for g in s["gates"]} for s in again["suites"])

    for index in (1, 2):
        shard = pytester.runpytest(
            "--synalinks-eval", f"--synalinks-report-dir=s{index}", f"--synalinks-shard={index}/2"
        )
        assert shard.ret == 0
    code = main(["report", "merge", "s1", "s2", "-o", str(pytester.path / "merged")])
    assert code == 0, capsys.readouterr().err
    merged = json.loads((pytester.path / "merged" / "report.json").read_text())
    assert timeless(merged) == timeless(report)


def test_example_ids_leave_the_model_out(pytester: pytest.Pytester) -> None:
    """Ids of a test's own parametrization stay the same across models (pairable)."""
    pytester.makepyfile(
        """
        import pytest
        import synalinks

        class Answer(synalinks.DataModel):
            answer: str

        @pytest.mark.synalinks_models("openai/a", "openai/b")
        @pytest.mark.parametrize("y", [Answer(answer="1"), Answer(answer="2")], ids=["one", "two"])
        @pytest.mark.synalinks_eval(suite="s")
        def test_s(y, synalinks_model_name):
            return y

        @pytest.mark.synalinks_models("openai/a", "openai/b")
        @pytest.mark.synalinks_eval(suite="single", threshold=0.0)
        def test_single(synalinks_model_name):
            return Answer(answer="x")
        """
    )
    result = pytester.runpytest("--synalinks-eval")
    result.assert_outcomes(passed=6)
    suites = {s["name"]: s for s in read(pytester)["suites"]}
    assert [e["id"] for e in suites["s[openai/b]"]["examples"]] == ["one", "two"]
    assert [e["id"] for e in suites["single[openai/a]"]["examples"]] == ["test_single"]
