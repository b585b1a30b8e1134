"""`--synalinks-mlflow[=URI]`: an eval run logged to a local MLflow store (sqlite, no
server) and read back with `mlflow.search_runs`; shards log nothing, and
`synatest report merge --mlflow` logs the merged run once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synatest.cli.main import main

SUITE = """
import pytest
import synalinks
import synatest


class Question(synalinks.DataModel):
    question: str


class Answer(synalinks.DataModel):
    answer: str


def reply(request):
    number = int(request.last_user_message.split("question ")[1].split("'")[0])
    return {"answer": "wrong" if number % 4 == 0 else f"a{number}"}


@synatest.parametrize_dataset("qa.jsonl", x=Question, y=Answer)
@pytest.mark.synalinks_eval(suite="qa", threshold=0.5)
async def test_qa(x, y, synalinks_router):
    synalinks_router.use(synatest.FunctionLM(reply))
    lm = synalinks.LanguageModel(model="openai/gpt-4o-mini")
    inputs = synalinks.Input(data_model=Question)
    outputs = await synalinks.Generator(data_model=Answer, language_model=lm)(inputs)
    return await synalinks.Program(inputs=inputs, outputs=outputs)(x)
"""


def _runs(uri: str, experiment: str) -> list[dict[str, object]]:
    import mlflow

    mlflow.set_tracking_uri(uri)
    try:
        frame = mlflow.search_runs(experiment_names=[experiment])
    finally:
        mlflow.set_tracking_uri(None)
    records: list[dict[str, object]] = frame.to_dict("records")
    return records


def test_eval_runs_are_logged_to_mlflow_and_shards_log_once_merged(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    rows = [{"id": f"q{i}", "question": f"question {i}", "answer": f"a{i}"} for i in range(8)]
    (pytester.path / "qa.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    pytester.makepyfile(test_suite=SUITE)
    for name in ("SYNATEST_SHARD", "SYNATEST_RUN_ID", "GITHUB_RUN_ID", "MLFLOW_TRACKING_URI"):
        monkeypatch.delenv(name, raising=False)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"

    result = pytester.runpytest_inprocess(
        "--synalinks-eval", f"--synalinks-mlflow={uri}", "--synalinks-mlflow-experiment=evals"
    )
    result.assert_outcomes(passed=8)
    result.stdout.fnmatch_lines(
        [f"synatest mlflow: logged MLflow run * in experiment 'evals' at {uri}"]
    )
    (run,) = _runs(uri, "evals")
    assert run["metrics.qa.mean"] == 0.75
    assert run["metrics.qa.pass_rate"] == 0.75
    assert run["metrics.qa.ci_low"] < 0.75 < run["metrics.qa.ci_high"]
    assert run["metrics.qa.pass_at_k.1"] == 0.75
    assert run["metrics.qa.n"] == 8 and run["metrics.qa.calls"] == 8
    assert run["metrics.qa.tokens"] > 0 and run["metrics.qa.latency_s"] > 0
    assert "metrics.qa.cost" in run and run["metrics.qa.gates_passed"] == 1
    assert run["params.repeat"] == "1" and run["params.shard"] == "none"
    assert run["params.models"] and run["params.git_commit"]
    assert run["tags.synatest.gates"] == "passed"
    artifacts = Path(str(run["artifact_uri"]).removeprefix("file://")) / "reports"
    assert {"report.json", "report.md", "report.html"} <= {p.name for p in artifacts.iterdir()}
    assert not (pytester.path / "mlruns").exists()

    # The ini keys do the same.
    pytester.makeini(
        f"[pytest]\nasyncio_default_fixture_loop_scope = function\nsynalinks_mlflow = {uri}\n"
        "synalinks_mlflow_experiment = from-ini\n"
    )
    pytester.runpytest_inprocess("--synalinks-eval").assert_outcomes(passed=8)
    assert len(_runs(uri, "from-ini")) == 1

    # Shards: none logs; the merge logs the whole run once.
    for index in (1, 2):
        shard = pytester.runpytest_inprocess(
            "--synalinks-eval",
            f"--synalinks-report-dir=s{index}",
            f"--synalinks-shard={index}/2",
            f"--synalinks-mlflow={uri}",
            "--synalinks-mlflow-experiment=sharded",
        )
        shard.stdout.fnmatch_lines(["synatest mlflow: a shard's run is not logged;*"])
    code = main(
        [
            "report",
            "merge",
            str(pytester.path / "s1"),
            str(pytester.path / "s2"),
            "-o",
            str(pytester.path / "merged"),
            "--mlflow",
            uri,
            "--mlflow-experiment",
            "sharded",
        ]
    )
    assert code == 0
    assert "synatest: logged MLflow run" in capsys.readouterr().out
    (merged,) = _runs(uri, "sharded")
    assert merged["metrics.qa.mean"] == 0.75 and merged["params.shard"] == "merged 2"

    # An unreachable store: one line, exit code 2 (merge), or a red line (pytest).
    bad = f"sqlite:///{tmp_path / 'missing' / 'm.db'}"
    code = main(
        [
            "report",
            "merge",
            str(pytester.path / "s1"),
            str(pytester.path / "s2"),
            "-o",
            str(pytester.path / "merged2"),
            "--mlflow",
            bad,
        ]
    )
    assert code == 2
    assert (
        capsys.readouterr()
        .err.strip()
        .endswith(f"{bad}: cannot log the eval run: its folder does not exist")
    )
    result = pytester.runpytest_inprocess("--synalinks-eval", f"--synalinks-mlflow={bad}")
    result.stdout.fnmatch_lines([f"synatest mlflow: error: {bad}: cannot log the eval run: *"])
