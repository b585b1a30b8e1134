"""The judge core without pytest machinery: labels, the agreement block, its gates,
and their renderings; the block's figures checked against scikit-learn and scipy."""

from __future__ import annotations

import json

import pytest

from synatest.eval import judge_agreement
from synatest.eval.gates import GatePolicy, JudgeAgreementGate, JudgeStabilityGate
from synatest.eval.judge_labels import LabelError, Scale, detect_kind, parse_label, snap
from synatest.eval.results import ExampleResult, JudgeSettings, RunReport, RunResult
from synatest.eval.scoring import score_suite

metrics = pytest.importorskip("sklearn.metrics")
stats = pytest.importorskip("scipy.stats")


def examples(human: list[float | None], judge: list[float | None]) -> list[ExampleResult]:
    return [
        ExampleResult(id=f"e{i:02d}", suite="s", reward=j, human=h, nodeid=f"t.py::t[e{i:02d}]")
        for i, (h, j) in enumerate(zip(human, judge, strict=True))
    ]


# -- labels -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, 1.0),
        (False, 0.0),
        ("PASS", 1.0),
        ("fail", 0.0),
        ("yes", 1.0),
        ("Incorrect", 0.0),
        (1, 1.0),
        (0, 0.0),
        (0.25, 0.25),
        ("0.75", 0.75),
        (None, None),
        ("", None),
    ],
)
def test_parse_label(value: object, expected: float | None) -> None:
    assert parse_label(value) == expected


def test_parse_label_on_a_human_scale() -> None:
    scale = Scale(1, 5)
    assert [parse_label(v, scale) for v in (1, 2, 3, 4, "5")] == [0.0, 0.25, 0.5, 0.75, 1.0]


@pytest.mark.parametrize(
    ("value", "scale", "message"),
    [
        ("maybe", None, "'maybe' is not a verdict or a score: use true/false, pass/fail"),
        (
            4,
            None,
            "4 is outside the scale 0 to 1: use true/false, pass/fail, yes/no, or a score "
            "from 0 to 1 (or set human_scale=(low, high)",
        ),
        (
            7,
            Scale(1, 5),
            "7 is outside the scale 1 to 5: use true/false, pass/fail, yes/no, or a "
            "grade from 1 to 5 (the suite's human_scale)",
        ),
        (float("nan"), None, "nan is not a verdict or a score"),
        ([1], None, "[1] is not a verdict or a score"),
    ],
)
def test_bad_labels_say_what_is_accepted(value: object, scale: Scale | None, message: str) -> None:
    with pytest.raises(LabelError) as caught:
        parse_label(value, scale)
    assert message in str(caught.value)


def test_bad_human_scale() -> None:
    with pytest.raises(LabelError, match=r"human_scale= must be \(low, high\) with low < high"):
        Scale.parse((5, 1), "marker")
    assert Scale.parse(None, "marker") is None


def test_detect_kind() -> None:
    assert detect_kind([0.0, 1.0, 1.0]) == ("binary", [])
    assert detect_kind([0.0, 0.5, 1.0]) == ("ordinal", [0.0, 0.5, 1.0])
    assert detect_kind([0.0, 1.0], Scale(1, 5)) == ("ordinal", [0.0, 0.25, 0.5, 0.75, 1.0])
    assert detect_kind([0.13, 0.5, 0.77]) == ("continuous", [])
    assert snap(0.62, [0.0, 0.5, 1.0]) == 0.5
    assert snap(0.75, [0.0, 0.5, 1.0]) == 0.5  # a tie goes to the lower level


# -- the block, against the independent implementations -------------------------------


def test_binary_block_matches_sklearn() -> None:
    human = [1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0]
    judge = [0.9, 0.7, 0.2, 0.4, 0.0, 0.8, 1.0, 0.6, 0.1, 1.0]
    settings = JudgeSettings(kind="binary", pass_at=0.6)
    block = judge_agreement.measure_judge(examples(human, judge), settings)
    h = [int(v >= 0.6) for v in human]
    j = [int(v >= 0.6) for v in judge]
    assert block.n == 10
    assert block.kappa == pytest.approx(metrics.cohen_kappa_score(h, j))
    assert block.kappa_weights is None
    assert block.agreement == pytest.approx(metrics.accuracy_score(h, j))
    assert block.confusion == metrics.confusion_matrix(h, j, labels=[0, 1]).tolist()
    assert block.labels == ["fail", "pass"]
    assert block.spearman is None
    assert block.kappa_ci_low is not None and block.kappa_ci_high is not None
    assert block.kappa_ci_low <= block.kappa <= block.kappa_ci_high
    # The disagreements: e03 (human pass, judge 0.4) and e05 (human fail, judge 0.8).
    assert [(d.id, d.gap) for d in block.disagreements] == [
        ("e03", pytest.approx(0.6)),
        ("e05", pytest.approx(0.8)),
    ][::-1]
    assert block.disagreements[0].nodeid == "t.py::t[e05]"


def test_ordinal_block_matches_sklearn_weighted_kappa_and_scipy() -> None:
    scale = Scale(1, 5)
    grades = [1, 2, 3, 4, 5, 3, 2, 4, 5, 1, 3, 4]
    human = [parse_label(g, scale) for g in grades]
    # The judge's 0..1 rewards, some between levels: snapped to the nearest one.
    judge = [0.0, 0.3, 0.75, 0.7, 1.0, 0.2, 0.25, 0.5, 0.95, 0.25, 0.5, 1.0]
    kind, levels = detect_kind([h for h in human if h is not None], scale)
    settings = JudgeSettings(kind=kind, levels=levels)
    block = judge_agreement.measure_judge(examples(human, judge), settings)
    to_grade = {level: i + 1 for i, level in enumerate(levels)}
    judge_grades = [to_grade[snap(v, levels)] for v in judge]
    expected = metrics.cohen_kappa_score(
        grades, judge_grades, labels=[1, 2, 3, 4, 5], weights="quadratic"
    )
    assert block.kappa_weights == "quadratic"
    assert block.kappa == pytest.approx(expected)
    assert block.spearman == pytest.approx(stats.spearmanr(human, judge).statistic)
    assert block.agreement == pytest.approx(
        metrics.accuracy_score(grades, judge_grades)  # same level
    )
    assert block.labels == ["0", "0.25", "0.5", "0.75", "1"]
    assert block.confusion == (
        metrics.confusion_matrix(grades, judge_grades, labels=[1, 2, 3, 4, 5]).tolist()
    )


def test_continuous_block_matches_scipy() -> None:
    human = [0.1, 0.42, 0.35, 0.83, 0.66, 0.91, 0.2, 0.57, 0.71, 0.03]
    judge = [0.2, 0.5, 0.3, 0.7, 0.7, 0.95, 0.1, 0.4, 0.9, 0.0]
    settings = JudgeSettings(kind="continuous", pass_at=0.5)
    block = judge_agreement.measure_judge(examples(human, judge), settings)
    assert block.spearman == pytest.approx(stats.spearmanr(human, judge).statistic)
    h = [v >= 0.5 for v in human]
    j = [v >= 0.5 for v in judge]
    assert block.kappa == pytest.approx(metrics.cohen_kappa_score(h, j))
    assert block.disagreements[0].id == "e08"  # 0.71 vs 0.9 is the widest gap
    assert len(block.disagreements) == judge_agreement.MAX_DISAGREEMENTS


def test_unlabelled_and_errored_examples_are_left_out() -> None:
    block = judge_agreement.measure_judge(
        examples([1.0, None, 0.0, 1.0], [1.0, 1.0, None, 0.0]), JudgeSettings()
    )
    assert (block.n, block.unlabelled) == (2, 2)


def test_block_is_the_same_from_run_to_run() -> None:
    def block() -> str:
        ex = examples([1.0, 0.0, 1.0, 0.0, 1.0], [1.0, 0.0, 0.0, 0.0, 1.0])
        return judge_agreement.measure_judge(ex, JudgeSettings()).model_dump_json()

    assert block() == block()


def _repeated(rewards_by_run: list[list[float]], predictions: list[list[str]]) -> ExampleResult:
    return ExampleResult(
        id="x",
        suite="s",
        reward=sum(rewards_by_run[0]) / len(rewards_by_run[0]),
        runs=[
            RunResult(index=i, reward=r, prediction={"answer": p})
            for i, (r, p) in enumerate(zip(rewards_by_run[0], predictions[0], strict=True))
        ],
    )


def test_stability_counts_flips_on_the_same_output_only() -> None:
    flipping = _repeated([[1.0, 0.0, 1.0]], [["Paris", "Paris", "Paris"]])
    flipping = flipping.model_copy(update={"id": "flips"})
    steady = _repeated([[1.0, 1.0, 1.0]], [["Paris", "Paris", "Paris"]])
    steady = steady.model_copy(update={"id": "steady"})
    # The program answered differently each run: the judge's spread is not its own.
    varied = _repeated([[1.0, 0.0, 1.0]], [["Paris", "Lyon", "Nice"]])
    varied = varied.model_copy(update={"id": "varied"})
    block = judge_agreement.measure_judge([flipping, steady, varied], JudgeSettings())
    stability = block.stability
    assert stability is not None
    assert (stability.runs, stability.examples, stability.flipped) == (3, 2, ["flips"])
    assert stability.flip_rate == pytest.approx(0.5)
    assert stability.mean_spread == pytest.approx(0.5)
    text = judge_agreement.stability_text(block)
    assert text is not None and "flipped on the same output in 1/2 examples (50.0%" in text


def test_no_stability_without_repeats() -> None:
    block = judge_agreement.measure_judge(examples([1.0], [1.0]), JudgeSettings())
    assert block.stability is None


# -- gates -----------------------------------------------------------------------------------


def _suite(human: list[float | None], judge: list[float | None], **settings: object):
    return score_suite(
        "qa",
        examples(human, judge),
        policy=GatePolicy(),
        threshold=0.0,
        judge=JudgeSettings(**settings),  # type: ignore[arg-type]
    )


def test_agreement_gate_fails_a_judge_that_disagrees_whatever_the_score() -> None:
    human, judge = [1.0, 0.0, 1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0, 1.0, 1.0]
    suite = _suite(human, judge, min_agreement=0.6)
    gate = next(g for g in suite.gates if g.name == "judge_agreement")
    assert not gate.passed and not suite.passed
    assert gate.message is not None
    expected = metrics.cohen_kappa_score([1, 0, 1, 0, 1, 0], [0, 1, 0, 1, 1, 1])
    assert gate.message.startswith(
        f"judge not calibrated: kappa {expected:.3f} with the human labels (95% CI ["
    )
    assert "is under min_judge_agreement 0.6" in gate.message
    assert gate.details["kappa"] == pytest.approx(expected)
    # The threshold gate alone would have passed.
    assert next(g for g in suite.gates if g.name == "threshold").passed


def test_agreement_gate_passes_an_agreeing_judge() -> None:
    suite = _suite([1.0, 0.0, 1.0, 0.0], [1.0, 0.0, 1.0, 0.0], min_agreement=0.6)
    assert suite.passed


def test_agreement_gate_messages_when_it_cannot_measure() -> None:
    gate = JudgeAgreementGate(0.6)
    none = _suite([None, None], [1.0, 0.0])
    assert "no labelled example has a judge reward" in (gate.fails(none) or "")
    one_verdict = _suite([1.0, 1.0], [1.0, 1.0])
    assert "kappa is undefined on 2 labelled examples" in (gate.fails(one_verdict) or "")


def test_stability_gate() -> None:
    gate = JudgeStabilityGate(0.0)
    flipping = _repeated([[1.0, 0.0]], [["Paris", "Paris"]])
    suite = score_suite("qa", [flipping], judge=JudgeSettings(max_flip_rate=0.0))
    result = next(g for g in suite.gates if g.name == "judge_stability")
    assert not result.passed
    assert result.message == (
        "judge unstable: its verdict flipped on the same output in 1/1 examples (100.0% > "
        "max_judge_flip_rate 0, 2 runs each): x"
    )
    no_repeats = _suite([1.0], [1.0])
    assert "needs every example run at least twice" in (gate.fails(no_repeats) or "")


# -- renderings and the schema ---------------------------------------------------------------


def _report() -> RunReport:
    suite = _suite([1.0, 0.0, 1.0, 0.0, 1.0], [1.0, 0.0, 0.0, 0.0, 1.0], min_agreement=0.2)
    return RunReport(suites=[suite])


def test_block_in_every_renderer() -> None:
    from synatest.reports.html import render_html
    from synatest.reports.json_report import render_json
    from synatest.reports.markdown import render_markdown

    report = _report()
    data = json.loads(render_json(report))
    assert data["schema_version"] == 5
    assert data["suites"][0]["judge"]["kappa"] == pytest.approx(report.suites[0].judge.kappa)  # type: ignore[union-attr]
    md = render_markdown(report)
    assert "### Judge agreement in `qa`" in md
    assert "agreement 80.0%" in md and "kappa 0.615" in md
    assert "`synatest report show REPORT qa/e02`" in md
    html = render_html(report)
    assert 'id="judge-qa"' in html and "kappa 0.615" in html
    assert 'href="#suite=qa&amp;q=e02"' in html
    lines = judge_agreement.summary_lines("qa", report.suites[0].judge)  # type: ignore[arg-type]
    assert lines[0] == (
        "judge of suite 'qa' vs human labels (field 'human', binary, 5 labelled examples)"
    )
    assert "disagree most: e02 (human 1, judge 0)" in lines[-1]


def test_reports_of_older_schemas_still_load(tmp_path) -> None:
    from synatest.reports.json_report import load_report

    data = json.loads(_report().model_dump_json())
    data["schema_version"] = 3
    for suite in data["suites"]:
        del suite["judge"]
        for example in suite["examples"]:
            del example["human"]
    path = tmp_path / "report.json"
    path.write_text(json.dumps(data))
    loaded = load_report(path)
    assert loaded.suites[0].judge is None
    assert loaded.suites[0].examples[0].human is None
