"""``synatest judge calibrate DATASET --judge MODULE:ATTR``: a judge against human labels.

Runs the judge alone on a labelled set (no program under test) and prints the agreement
block eval mode puts in reports; exit code 1 when ``--min-agreement`` is not met, 2 on a
usage error. The judge's LM calls are served by a double (``--lm MODULE:ATTR``) or a
cassette (``--cassette PATH``, replayed offline; ``--record-mode`` records), never by a
real model unless ``--live``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_NOT_CALIBRATED = 1
EXIT_USAGE = 2


def _scale(raw: str) -> tuple[float, float]:
    low, sep, high = raw.partition(",")
    try:
        value = (float(low), float(high))
    except ValueError:
        value = None
    if not sep or value is None or value[0] >= value[1]:
        raise argparse.ArgumentTypeError(
            f"expected LOW,HIGH with LOW < HIGH, e.g. 1,5; got {raw!r}"
        )
    return value


def _kappa(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = None
    if value is None or not -1.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a kappa between -1 and 1, got {raw!r}")
    return value


def _rate(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = None
    if value is None or not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a rate between 0 and 1, got {raw!r}")
    return value


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from synatest.cassettes.layer import MODES

    parser = sub.add_parser(
        "judge",
        help="check an LM judge against human labels before a gate relies on it",
        description="Tools for LM judges (Synalinks rewards such as LMAsJudge).",
    )
    judge_sub = parser.add_subparsers(dest="action", metavar="ACTION")
    calibrate = judge_sub.add_parser(
        "calibrate",
        help="run a judge on a labelled set alone and print its agreement with the labels",
        description=(
            "Score each row's OUTPUT with the judge (and its EXPECTED answer when present) "
            "and compare with the row's human label: agreement, Cohen's kappa (quadratic-"
            "weighted for ordinal labels), Spearman, each with a 95%% bootstrap CI, the "
            "confusion matrix and the worst disagreements. Rows are JSON Lines (or a JSON "
            "list) with the fields 'output', 'expected' (optional) and 'human'."
        ),
    )
    calibrate.add_argument("dataset", metavar="DATASET", help="the labelled rows (.jsonl/.json)")
    calibrate.add_argument(
        "--judge",
        required=True,
        metavar="MODULE:ATTR",
        help="the judge: a Synalinks reward, or a function returning one (imported from the "
        "current directory first)",
    )
    calibrate.add_argument(
        "--lm", metavar="MODULE:ATTR", help="a synatest double serving the judge's LM calls"
    )
    calibrate.add_argument("--cassette", metavar="PATH", help="replay (or record) the LM calls")
    calibrate.add_argument(
        "--record-mode", choices=MODES, default="none", help="cassette record mode (default none)"
    )
    calibrate.add_argument("--live", action="store_true", help="let calls reach real models")
    calibrate.add_argument("--human", default="human", help="the label field (default human)")
    calibrate.add_argument("--output-field", default="output", help="default output")
    calibrate.add_argument("--expected-field", default="expected", help="default expected")
    calibrate.add_argument(
        "--human-scale", type=_scale, metavar="LOW,HIGH", help="labels graded LOW..HIGH (1,5)"
    )
    calibrate.add_argument(
        "--pass-at", type=float, default=0.5, help="a verdict passes at this reward (0.5)"
    )
    calibrate.add_argument(
        "--min-agreement", type=_kappa, metavar="KAPPA", help="exit 1 when kappa is under it"
    )
    calibrate.add_argument(
        "--repeat", type=int, default=1, metavar="K", help="score each row K times (stability)"
    )
    calibrate.add_argument(
        "--pairwise",
        action="store_true",
        help="rows hold two candidates 'a' and 'b' (human: \"a\" or \"b\"): judge each pair "
        "A/B then B/A and report the judge's position bias",
    )
    calibrate.add_argument(
        "--max-position-bias",
        type=_rate,
        metavar="RATE",
        help="--pairwise: exit 1 when the preference changed with the order in more than "
        "RATE of the pairs",
    )
    calibrate.add_argument("--format", choices=("text", "json"), default="text")
    calibrate.set_defaults(handler=run)
    parser.set_defaults(handler=lambda args: parser.print_help() or EXIT_USAGE)


def _fail(message: str) -> int:
    print(f"synatest judge calibrate: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def run(args: argparse.Namespace) -> int:
    from synatest import _env

    handle = _env.enter()  # before Synalinks is imported: nothing written under $HOME
    try:
        return _calibrate(args)
    finally:
        handle.restore()


def _resolve_judge(spec: str) -> Any:
    import synalinks

    from synatest.eval.calibrate import CalibrationError, load_object

    judge = load_object(spec, "--judge")
    if not isinstance(judge, synalinks.rewards.Reward) and callable(judge):
        judge = judge()
    if not isinstance(judge, synalinks.rewards.Reward):
        raise CalibrationError(
            f"--judge {spec!r}: {type(judge).__name__} is not a Synalinks reward (give an "
            "LMAsJudge, RubricsAsJudge, ... or a function returning one)"
        )
    return judge


def _check_cassette_flags(args: argparse.Namespace) -> None:
    from synatest.eval.calibrate import CalibrationError

    if args.record_mode != "none" and not args.cassette:
        raise CalibrationError(
            f"--record-mode {args.record_mode} needs --cassette PATH (the file to record into)"
        )
    if args.record_mode != "none" and args.lm:
        raise CalibrationError(
            f"--record-mode {args.record_mode} records the judge's real LM calls, but --lm "
            f"{args.lm!r} answers them with a double: nothing would be recorded. Drop --lm and "
            "point the judge's LanguageModel at the model (api_base, key) to record from"
        )
    if args.cassette and args.record_mode == "none" and not Path(args.cassette).is_file():
        raise CalibrationError(
            f"--cassette {args.cassette!r}: no such file; record it once with "
            f"{_record_command(args, 'once')} (needs the judge's real model and its key)"
        )


def _record_command(args: argparse.Namespace, mode: str) -> str:
    """The command that records the cassette of this calibration with ``mode``."""
    import shlex

    words = ["synatest", "judge", "calibrate", args.dataset, "--judge", args.judge]
    words += ["--cassette", args.cassette, f"--record-mode={mode}"]
    if args.repeat > 1:
        words += ["--repeat", str(args.repeat)]
    return shlex.join(words)


def _calibrate(args: argparse.Namespace) -> int:
    import asyncio

    from synatest import seam
    from synatest.eval import calibrate as core
    from synatest.eval.judge_agreement import measure_judge, summary_lines
    from synatest.eval.judge_labels import Scale
    from synatest.eval.results import ExampleResult, JudgeSettings, RunResult

    if args.repeat < 1:
        return _fail(f"--repeat must be at least 1, got {args.repeat}")
    if args.pairwise and args.repeat > 1:
        return _fail("--repeat with --pairwise is not supported: each pair is judged twice")
    if args.max_position_bias is not None and not args.pairwise:
        return _fail("--max-position-bias needs --pairwise (rows with candidates 'a' and 'b')")
    scale = Scale(*args.human_scale) if args.human_scale else None
    layer = None
    try:
        _check_cassette_flags(args)
        rows = core.read_rows(
            Path(args.dataset),
            human=args.human,
            output=args.output_field,
            expected=args.expected_field,
            scale=scale,
            pairwise=args.pairwise,
        )
        judge = _resolve_judge(args.judge)
        lm = core.load_object(args.lm, "--lm") if args.lm else None
        seam.activate()
        seam.set_zero_waits(True)
        router = seam.Router()
        router.live = bool(args.live)
        if lm is not None:
            from synatest.doubles.base import use_lm

            use_lm(lm, router=router)
        if args.cassette:
            from synatest.cassettes.layer import CassetteLayer
            from synatest.cassettes.store import Cassette

            layer = CassetteLayer(
                Cassette.load(args.cassette, allow_repeats=True),
                args.record_mode,
                router=router,
                test_id=None,
                explicit=True,
                record_command=lambda mode: _record_command(args, mode),
            )
            router.use(layer, name="cassette")
    except core.CalibrationError as error:
        return _fail(str(error))
    try:
        with seam.use_router(router):  # this run's router, even inside a test session
            if args.pairwise:
                pairs, errors = asyncio.run(core.run_pairs(judge, rows))
            else:
                result = asyncio.run(core.run_judge(judge, rows, args.repeat))
                errors = result.errors
    except core.CalibrationError as error:  # a call nothing served: a cassette miss, ...
        return _fail(str(error))
    if layer is not None and args.record_mode != "none":
        layer.save()
    for message in errors:
        print(f"synatest judge calibrate: {message}", file=sys.stderr)
    if args.pairwise:
        block = _pairwise_block(args, rows, pairs)
    else:
        examples = []
        for row, rewards in zip(rows, result.rewards, strict=True):
            scored = [r for r in rewards if r is not None]
            runs = [
                RunResult(index=i, reward=r, prediction=row.output) for i, r in enumerate(rewards)
            ]
            examples.append(
                ExampleResult(
                    id=row.id,
                    suite="calibration",
                    reward=sum(scored) / len(scored) if scored else None,
                    human=row.human,
                    runs=runs if args.repeat > 1 else [],
                )
            )
        kind, levels = core.judge_kind(rows, scale)
        settings = JudgeSettings(
            field=args.human,
            kind=kind,
            levels=levels,
            pass_at=args.pass_at,
            min_agreement=args.min_agreement,
        )
        block = measure_judge(examples, settings)
    name = getattr(judge, "name", args.judge)
    if args.format == "json":
        print(block.model_dump_json(indent=2))
    else:
        print("\n".join(summary_lines(str(name), block)).replace("suite ", "", 1))
    return _gate(args, str(name), block)


def _gate(args: argparse.Namespace, name: str, block: Any) -> int:
    """Exit 1 when ``--min-agreement`` or ``--max-position-bias`` is not met."""
    from synatest.eval.gates import Gate, JudgeAgreementGate, JudgePositionBiasGate
    from synatest.eval.results import SuiteResult

    gates: list[Gate] = []
    if args.min_agreement is not None:
        gates.append(JudgeAgreementGate(args.min_agreement))
    if args.max_position_bias is not None:
        gates.append(JudgePositionBiasGate(args.max_position_bias))
    code = EXIT_OK
    for gate in gates:
        failure = gate.fails(SuiteResult(name=name, judge=block))
        if failure is not None:
            print(f"synatest judge calibrate: {failure}", file=sys.stderr)
            code = EXIT_NOT_CALIBRATED
    return code


def _pairwise_block(args: argparse.Namespace, rows: list[Any], pairs: list[Any]) -> Any:
    """The agreement block of a pairwise calibration: the judge's preference for A (the
    position averaged out) against the person's, and the position bias."""
    from synatest.eval.judge_agreement import measure_judge
    from synatest.eval.position_bias import measure_position_bias
    from synatest.eval.results import ExampleResult, JudgeSettings

    preference = {pair.id: pair.prefers_a() for pair in pairs}
    examples = [
        ExampleResult(id=r.id, suite="calibration", reward=preference.get(r.id), human=r.human)
        for r in rows
    ]
    settings = JudgeSettings(
        field=args.human,
        kind="binary",
        levels=[0.0, 1.0],
        pass_at=args.pass_at,
        min_agreement=args.min_agreement,
    )
    block = measure_judge(examples, settings)
    block.position_bias = measure_position_bias(pairs, args.pass_at)
    return block
