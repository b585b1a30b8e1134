"""Pairwise judges: each pair judged A/B then B/A, and the judge's position bias.

The measure on its own, its gate and renderings; then ``synatest judge calibrate
--pairwise`` in-process with two FunctionLM judges behind a real Synalinks LMAsJudge: one
that always prefers the candidate shown first (biased), one that prefers by content.
"""

from __future__ import annotations

import ast
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from synatest.cli.main import main
from synatest.eval.gates import JudgePositionBiasGate
from synatest.eval.position_bias import JudgedPair, measure_position_bias, position_bias_text
from synatest.eval.results import JudgeAgreement, RunReport, SuiteResult


def test_a_judge_that_follows_the_position_is_never_consistent() -> None:
    bias = measure_position_bias([JudgedPair(f"p{i}", ab=1.0, ba=1.0) for i in range(4)])
    assert (bias.pairs, bias.consistent, bias.first_wins, bias.second_wins) == (4, 0, 4, 0)
    assert bias.consistency_rate == 0.0 and bias.first_position_rate == 1.0
    assert (bias.consistency_ci_low, bias.consistency_ci_high) == (0.0, 0.0)
    assert (bias.first_position_ci_low, bias.first_position_ci_high) == (1.0, 1.0)
    assert bias.inconsistent == ["p0", "p1", "p2", "p3"]


def test_a_judge_that_follows_the_content_is_consistent_and_half_first() -> None:
    pairs = [JudgedPair("p0", ab=1.0, ba=0.0), JudgedPair("p1", ab=0.0, ba=1.0)]
    bias = measure_position_bias(pairs)
    assert bias.consistency_rate == 1.0 and bias.first_position_rate == 0.5
    assert bias.inconsistent == [] and pairs[0].prefers_a() == 1.0 and pairs[1].prefers_a() == 0


def test_mixed_pairs_and_the_text() -> None:
    pairs = [
        JudgedPair("p0", ab=1.0, ba=0.0),  # A both times
        JudgedPair("p1", ab=0.9, ba=0.6),  # the first shown both times
        JudgedPair("p2", ab=0.2, ba=0.1),  # the second shown both times
        JudgedPair("p3", ab=0.0, ba=1.0),  # B both times
    ]
    bias = measure_position_bias(pairs)
    assert (bias.consistent, bias.first_wins, bias.second_wins) == (2, 1, 1)
    assert bias.consistency_rate == 0.5 and bias.first_position_rate == 0.5
    low, high = bias.consistency_ci_low, bias.consistency_ci_high
    assert low is not None and high is not None and 0.0 <= low < 0.5 < high <= 1.0
    assert position_bias_text(bias) == (
        f"position swap (A/B then B/A) on 4 pairs: consistency 50.0% [{low:.1%}, {high:.1%}] · "
        f"first position 50.0% [{bias.first_position_ci_low:.1%}, "
        f"{bias.first_position_ci_high:.1%}]; the order decided 2 (first shown won both times "
        "in 1, second in 1): p1, p2"
    )
    assert measure_position_bias(pairs) == bias  # seeded: the same from run to run


def _suite(pairs: list[JudgedPair]) -> SuiteResult:
    block = JudgeAgreement(position_bias=measure_position_bias(pairs))
    return SuiteResult(name="pairs", judge=block)


def test_gate() -> None:
    biased = _suite([JudgedPair(f"p{i}", ab=1.0, ba=1.0) for i in range(3)])
    assert JudgePositionBiasGate(0.2).fails(biased) == (
        "judge position-biased: its preference changed when A and B were swapped in 3/3 pairs "
        "(100.0% > max position bias 0.2; the first shown won 100.0% of the verdicts): "
        "p0, p1, p2"
    )
    fair = _suite([JudgedPair("p0", ab=1.0, ba=0.0)])
    assert JudgePositionBiasGate(0.2).fails(fair) is None
    assert JudgePositionBiasGate(0.2).check(fair).passed
    unmeasured = SuiteResult(name="pairs", judge=JudgeAgreement())
    assert "no pair was judged in both orders" in str(JudgePositionBiasGate(0.2).fails(unmeasured))


def test_in_every_renderer() -> None:
    from synatest.reports.html import render_html
    from synatest.reports.json_report import render_json
    from synatest.reports.markdown import render_markdown

    report = RunReport(suites=[_suite([JudgedPair(f"p{i}", ab=1.0, ba=1.0) for i in range(3)])])
    data = json.loads(render_json(report))["suites"][0]["judge"]["position_bias"]
    assert (data["consistency_rate"], data["first_position_rate"]) == (0.0, 1.0)
    text = "position swap (A/B then B/A) on 3 pairs: consistency 0.0%"
    assert text in render_markdown(report)
    assert text in render_html(report)


# -- synatest judge calibrate --pairwise ------------------------------------------------

ROWS = [
    {"id": "p1", "expected": "Paris", "a": "Paris", "b": "Lyon", "human": "a"},
    {"id": "p2", "expected": "Rome", "a": "Milan", "b": "Rome", "human": "b"},
    {"id": "p3", "expected": "Bern", "a": "Bern", "b": "Zurich", "human": "a"},
    {"id": "p4", "expected": "Oslo", "a": "Bergen", "b": "Oslo", "human": "B"},
]

JUDGES = '''
import ast

import synalinks
import synatest

judge = synalinks.rewards.LMAsJudge(
    language_model=synalinks.LanguageModel(model="openai/gpt-4o"), name="pair_judge"
)


def first_always(request):
    """Prefers whichever candidate is shown first."""
    return {"critique": "The first reads better.", "reward": 1.0}


def by_content(request):
    """Prefers the candidate that is the gold answer, wherever it is shown."""
    seen = ast.literal_eval(request.last_user_message)
    first = seen["first"] == seen["gold_answer"]
    return {"critique": "Compared with the gold answer.", "reward": 1.0 if first else 0.0}


biased = synatest.FunctionLM(first_always)
fair = synatest.FunctionLM(by_content)
'''

MODULE = "pair_judges"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "pairs.jsonl").write_text("".join(json.dumps(row) + "\n" for row in ROWS))
    (tmp_path / f"{MODULE}.py").write_text(JUDGES)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop(MODULE, None)


def calibrate(
    *args: str, capsys: pytest.CaptureFixture[str], dataset: str = "pairs.jsonl"
) -> tuple[int, str, str]:
    try:
        code = main(["judge", "calibrate", dataset, "--pairwise", *args])
    except SystemExit as exit:  # argparse errors
        code = int(exit.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_calibrate_shows_a_biased_judge_and_fails_its_gate(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = calibrate(
        *("--judge", f"{MODULE}:judge", "--lm", f"{MODULE}:biased", "--max-position-bias", "0.2"),
        capsys=capsys,
    )
    assert code == 1
    assert out.splitlines()[-1] == (
        "  position swap (A/B then B/A) on 4 pairs: consistency 0.0% [0.0%, 0.0%] · first "
        "position 100.0% [100.0%, 100.0%]; the order decided 4 (first shown won both times in "
        "4, second in 0): p1, p2, p3, p4"
    )
    assert err == (
        "synatest judge calibrate: judge position-biased: its preference changed when A and B "
        "were swapped in 4/4 pairs (100.0% > max position bias 0.2; the first shown won "
        "100.0% of the verdicts): p1, p2, p3, p4\n"
    )


def test_calibrate_passes_a_judge_that_prefers_by_content(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = calibrate(
        *("--judge", f"{MODULE}:judge", "--lm", f"{MODULE}:fair", "--max-position-bias", "0.2"),
        *("--min-agreement", "0.6", "--format", "json"),
        capsys=capsys,
    )
    assert (code, err) == (0, "")
    block = json.loads(out)
    assert (block["n"], block["agreement"], block["kappa"]) == (4, 1.0, 1.0)
    bias = block["position_bias"]
    assert (bias["pairs"], bias["consistency_rate"], bias["first_position_rate"]) == (4, 1.0, 0.5)


@pytest.mark.parametrize(
    ("rows", "args", "message"),
    [
        (
            [{"a": "x", "human": "a"}],
            [],
            "pairs.jsonl, line 1: no 'b' field (--pairwise compares two candidates for the "
            "same input: each row needs 'a' and 'b')",
        ),
        (
            [{"a": "x", "b": "y", "human": True}],
            [],
            "pairs.jsonl, line 1: human label in field 'human': True is not a preference: use "
            '"a" or "b" (the candidate a person prefers), or leave it out',
        ),
        ([], [], "pairs.jsonl: no rows (--pairwise: each row has 'a' and 'b')"),
        (None, ["--repeat", "2"], "--repeat with --pairwise is not supported"),
        (None, ["--max-position-bias", "1.5"], "expected a rate between 0 and 1, got '1.5'"),
    ],
)
def test_usage_errors(
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    rows: list[dict[str, object]] | None,
    args: list[str],
    message: str,
) -> None:
    if rows is not None:
        (workdir / "pairs.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    code, _, err = calibrate("--judge", f"{MODULE}:judge", *args, capsys=capsys)
    assert code == 2
    assert message in err


def test_max_position_bias_needs_pairwise(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["judge", "calibrate", "pairs.jsonl", "--judge", "x:y", "--max-position-bias", "0"])
    assert code == 2
    assert "--max-position-bias needs --pairwise" in capsys.readouterr().err


def test_the_pairwise_judge_sees_first_and_second() -> None:
    pytest.importorskip("synalinks")
    from synatest.eval.calibrate import pair_model

    assert ast.literal_eval(repr(pair_model("A", {"answer": "B"}).get_json())) == {
        "first": "A",
        "second": {"answer": "B"},
    }
