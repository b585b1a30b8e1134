"""Judge suites in eval mode (pytester, in-process): the agreement block and its gates
with Synalinks' LMAsJudge served by a FunctionLM, repeats, and every user error."""

from __future__ import annotations

import json
from typing import Any

import pytest

INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"

# Six questions; the program answers "Paris" to all. The people said the answers to
# q1-q3 are right and q4-q6 wrong. The judge's mood sets what it says.
SUITE = """
import pytest
import synalinks
import synatest


class Question(synalinks.DataModel):
    question: str


class Answer(synalinks.DataModel):
    answer: str


AGREES = {{"q1", "q2", "q3"}}


def judge_says(request):
    text = request.last_user_message
    right = any(f"'{{q}}'" in text for q in AGREES)
    mood = {mood!r}
    if mood == "contrarian":
        right = not right
    if mood == "moody" and request.repeat == 1:
        right = not right
    return {{"critique": "...", "reward": 1.0 if right else 0.0}}


def models(request):
    if request.schema_title == "CritiqueWithReward":
        return judge_says(request)
    return {{"answer": request.last_user_message.split("'")[-2]}}


judge = synalinks.rewards.LMAsJudge(
    language_model=synalinks.LanguageModel(model="openai/gpt-4o"), name="judge"
)


@pytest.fixture
async def program():
    synatest.use_lm(synatest.FunctionLM(models))
    lm = synalinks.LanguageModel(model="openai/gpt-4o-mini")
    inputs = synalinks.Input(data_model=Question)
    outputs = await synalinks.Generator(data_model=Answer, language_model=lm)(inputs)
    return synalinks.Program(inputs=inputs, outputs=outputs)


@synatest.parametrize_dataset("qa.jsonl", x=Question, y=Answer)
@pytest.mark.synalinks_eval(suite="qa", reward=judge, pass_at=0.5, {marker})
async def test_qa(program, x, y):
    return await program(x)
"""


def rows(labels: list[Any] | None = None, field: str = "human") -> str:
    labels = labels if labels is not None else [True, True, True, False, False, False]
    lines = []
    for i, label in enumerate(labels, start=1):
        row: dict[str, Any] = {"id": f"q{i}", "question": f"q{i}", "answer": f"q{i}"}
        if label is not None:
            row[field] = label
        lines.append(json.dumps(row))
    return "\n".join(lines) + "\n"


def run_suite(
    pytester: pytest.Pytester,
    *args: str,
    mood: str = "agrees",
    marker: str = "min_judge_agreement=0.6",
    dataset: str | None = None,
) -> Any:
    pytester.makeini(INI)
    pytester.makepyfile(test_suite=SUITE.format(mood=mood, marker=marker))
    (pytester.path / "qa.jsonl").write_text(dataset if dataset is not None else rows())
    return pytester.runpytest("--synalinks-eval", *args)


def report(pytester: pytest.Pytester) -> Any:
    return json.loads((pytester.path / "reports" / "report.json").read_text())


def test_an_agreeing_judge_passes_and_shows_its_block(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester)
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "judge of suite 'qa' vs human labels (field 'human', binary, 6 labelled examples)",
            "  agreement 100.0%* · kappa 1.000*",
        ]
    )
    block = report(pytester)["suites"][0]["judge"]
    assert block["kappa"] == 1.0 and block["confusion"] == [[3, 0], [0, 3]]
    assert block["settings"]["min_agreement"] == 0.6
    assert "### Judge agreement in `qa`" in (pytester.path / "reports" / "report.md").read_text()
    assert 'id="judge-qa"' in (pytester.path / "reports" / "report.html").read_text()


def test_a_judge_made_to_disagree_fails_min_judge_agreement(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, mood="contrarian")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "FAILED suite 'qa' (score 0.500, threshold -) judge_agreement gate: judge not "
            "calibrated: kappa -1.000 with the human labels (95% CI *, agreement 0.0% on 6 "
            "labelled examples) is under min_judge_agreement 0.6*",
        ]
    )
    data = report(pytester)["suites"][0]
    assert [d["id"] for d in data["judge"]["disagreements"]] == ["q1", "q2", "q3", "q4", "q5"]
    # Disputed examples keep their transcripts, the judge's calls marked as such.
    q1 = next(e for e in data["examples"] if e["id"] == "q1")
    assert [call["judge"] for call in q1["runs"][0]["transcript"]] == [False, True]


def test_repeats_measure_the_judges_own_flips(pytester: pytest.Pytester) -> None:
    result = run_suite(
        pytester, "--synalinks-repeat", "2", mood="moody", marker="max_judge_flip_rate=0.5"
    )
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "  stability over 2 runs: the verdict flipped on the same output in 6/6 examples*",
            "*judge_stability gate: judge unstable: its verdict flipped on the same output in "
            "6/6 examples (100.0% > max_judge_flip_rate 0.5, 2 runs each)*",
        ]
    )
    stability = report(pytester)["suites"][0]["judge"]["stability"]
    assert stability["flip_rate"] == 1.0 and stability["runs"] == 2


def test_labels_on_a_human_scale_are_ordinal(pytester: pytest.Pytester) -> None:
    result = run_suite(
        pytester,
        marker='human="grade", human_scale=(1, 5)',
        dataset=rows([5, 4, 5, 1, 2, 1], field="grade"),
    )
    assert result.ret == 0, result.stdout.str()
    block = report(pytester)["suites"][0]["judge"]
    assert block["settings"]["kind"] == "ordinal"
    assert block["kappa_weights"] == "quadratic"
    assert block["labels"] == ["0", "0.25", "0.5", "0.75", "1"]
    assert block["spearman"] is not None


def test_a_bad_label_names_the_file_line_and_field(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, dataset=rows([True, "maybe", True, False, False, False]))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: suite 'qa' (test_suite.py::test_qa[[]q1[]]): qa.jsonl, line 2: human label "
            "in field 'human': 'maybe' is not a verdict or a score: use true/false, pass/fail, "
            "yes/no, or a score from 0 to 1*",
        ]
    )


def test_gates_without_labels_say_how_to_add_them(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, dataset=rows([None] * 6))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: suite 'qa' (*): min_judge_agreement= needs human labels, and no example of "
            "dataset '*qa.jsonl' has a 'human' field; add a person's verdict*",
        ]
    )


def test_a_judge_without_labels_gets_no_block(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, marker="threshold=0.0", dataset=rows([None] * 6))
    assert result.ret == 0, result.stdout.str()
    assert report(pytester)["suites"][0]["judge"] is None


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        (
            "min_judge_agreement=2",
            "min_judge_agreement= must be a kappa between -1 and 1 (*), got 2",
        ),
        ('min_judge_agreement="high"', "min_judge_agreement= must be a kappa between -1 and 1*"),
        ("max_judge_flip_rate=1.5", "max_judge_flip_rate= must be a fraction between 0 and 1*"),
        ("human=''", "human= must name the dataset field of the labels, got ''"),
        ("human_scale=(5, 1)", "*human_scale= must be (low, high) with low < high*"),
    ],
)
def test_bad_judge_settings(pytester: pytest.Pytester, marker: str, message: str) -> None:
    result = run_suite(pytester, marker=marker)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: *{message}"])
