"""``synatest judge calibrate``'s core: a judge run on a labelled set alone.

No program under test: each row of the dataset holds the output to judge (``output``),
optionally the gold answer (``expected``) and a person's label (``human``). The judge
(a Synalinks reward) scores every row; :func:`calibrate` measures it against the labels
with the same :func:`~synatest.eval.judge_agreement.measure_judge` as eval mode, so a
team can tune the judge's instructions before any suite relies on it.

LM calls go through synatest's seam like in a test: a double (``lm=``) or a cassette
(``cassette=``, replayed offline, recorded with ``mode=``) answers them, and a call
nothing answers fails, unless ``live=True``.
"""

from __future__ import annotations

import importlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synatest.eval.judge_labels import DEFAULT_FIELD, LabelError, Scale, detect_kind, parse_label
from synatest.eval.position_bias import JudgedPair


class CalibrationError(ValueError):
    """A calibration the user set up wrong: the message names the file or the flag."""


@dataclass
class Row:
    id: str
    where: str  # "labels.jsonl, line 3"
    expected: Any
    output: Any  # pairwise: candidate A
    human: float | None  # pairwise: 1.0 when a person prefers A, 0.0 for B
    other: Any = None  # pairwise: candidate B


@dataclass
class Calibration:
    """What ``judge calibrate`` ran: the rows, the judge's rewards per row and run."""

    rows: list[Row]
    rewards: list[list[float | None]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def load_object(spec: str, flag: str) -> Any:
    """``MODULE:ATTR`` imported (the current directory first on the path)."""
    module_name, colon, attr = spec.partition(":")
    if not colon or not module_name or not attr:
        raise CalibrationError(f"{flag} {spec!r}: expected MODULE:ATTR, e.g. judges:strict_judge")
    if "" not in sys.path and str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # ImportError, or the module's own failure
        raise CalibrationError(
            f"{flag} {spec!r}: cannot import module {module_name!r}: "
            f"{type(error).__name__}: {error}"
        ) from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise CalibrationError(
            f"{flag} {spec!r}: module {module_name!r} has no attribute {attr!r}"
        ) from None


def read_rows(
    path: Path,
    *,
    human: str = DEFAULT_FIELD,
    output: str = "output",
    expected: str = "expected",
    scale: Scale | None = None,
    pairwise: bool = False,
) -> list[Row]:
    """The labelled rows of a JSONL or JSON (list of objects) file; ``pairwise``: rows
    with two candidates ``a`` and ``b`` (labels, ``"a"`` or ``"b"``, optional)."""
    if not path.is_file():
        raise CalibrationError(f"DATASET {str(path)!r}: no such file")
    text = path.read_text(encoding="utf-8")
    raw: list[tuple[str, Any]]
    try:
        if path.suffix == ".json":
            data = json.loads(text)
            if not isinstance(data, list):
                raise CalibrationError(f"{path}: expected a JSON list of objects")
            raw = [(f"{path.name}, row {i}", row) for i, row in enumerate(data, start=1)]
        else:
            raw = [
                (f"{path.name}, line {i}", json.loads(line))
                for i, line in enumerate(text.splitlines(), start=1)
                if line.strip()
            ]
    except json.JSONDecodeError as error:
        raise CalibrationError(
            f"{path}: not JSON Lines or a JSON list (line {error.lineno}: {error.msg})"
        ) from None
    rows = []
    for index, (where, row) in enumerate(raw, start=1):
        if not isinstance(row, dict):
            raise CalibrationError(f"{where}: expected an object, got {type(row).__name__}")
        if pairwise:
            rows.append(_pair_row(row, index, where, human=human, expected=expected))
            continue
        if output not in row:
            raise CalibrationError(
                f"{where}: no {output!r} field (the output the judge scores; "
                "--output-field names another)"
            )
        try:
            label = parse_label(row.get(human), scale)
        except LabelError as error:
            raise CalibrationError(f"{where}: human label in field {human!r}: {error}") from None
        rows.append(
            Row(
                id=str(row.get("id", index)),
                where=where,
                expected=row.get(expected),
                output=row[output],
                human=label,
            )
        )
    if pairwise and not rows:
        raise CalibrationError(f"{path}: no rows (--pairwise: each row has 'a' and 'b')")
    if not pairwise and not any(row.human is not None for row in rows):
        raise CalibrationError(
            f"{path}: no row has a human label in field {human!r}; add a person's verdict "
            "(true/false) or score (0 to 1) to each row, or name the field with --human"
        )
    return rows


def _pair_row(row: dict[str, Any], index: int, where: str, *, human: str, expected: str) -> Row:
    for name in ("a", "b"):
        if row.get(name) is None:
            raise CalibrationError(
                f"{where}: no {name!r} field (--pairwise compares two candidates for the same "
                "input: each row needs 'a' and 'b')"
            )
    label = row.get(human)
    preference = str(label).strip().lower() if isinstance(label, str) else None
    if label is not None and preference not in ("a", "b"):
        raise CalibrationError(
            f"{where}: human label in field {human!r}: {label!r} is not a preference: use "
            '"a" or "b" (the candidate a person prefers), or leave it out'
        )
    return Row(
        id=str(row.get("id", index)),
        where=where,
        expected=row.get(expected),
        output=row["a"],
        other=row["b"],
        human=None if preference is None else float(preference == "a"),
    )


def data_model(value: Any, name: str) -> Any:
    """A Synalinks DataModel instance holding ``value`` (an object's fields, or a text
    as ``answer``), its class made from the value's fields."""
    import pydantic
    import synalinks

    fields = value if isinstance(value, dict) else {"answer": value}
    model = pydantic.create_model(  # type: ignore[call-overload]
        name,
        __base__=synalinks.DataModel,
        **{key: (Any if item is None else type(item), ...) for key, item in fields.items()},
    )
    return model(**fields)


def judge_kind(rows: list[Row], scale: Scale | None) -> tuple[str, list[float]]:
    return detect_kind([row.human for row in rows if row.human is not None], scale)


async def run_judge(reward: Any, rows: list[Row], repeat: int = 1) -> Calibration:
    """Score every row ``repeat`` times with the judge (runs marked with their index).

    A judge that fails is noted and the row left unscored; a call nothing serves (a
    cassette miss, no double) stops the run: a :class:`CalibrationError` naming the row.
    """
    from synatest.errors import SynatestError
    from synatest.seam import use_repeat

    result = Calibration(rows=rows)
    for row in rows:
        expected = None if row.expected is None else data_model(row.expected, "Expected")
        output = data_model(row.output, "Output")
        rewards: list[float | None] = []
        for index in range(repeat):
            with use_repeat(index):
                try:
                    rewards.append(float(await reward(expected, output)))
                except SynatestError as error:
                    name = type(error).__name__
                    raise CalibrationError(f"{row.where}: {name}: {error}") from None
                except Exception as error:
                    rewards.append(None)
                    result.errors.append(f"{row.where}: {type(error).__name__}: {error}")
        result.rewards.append(rewards)
    return result


def pair_model(first: Any, second: Any) -> Any:
    """What a pairwise judge sees: the two candidates as ``first`` and ``second``."""
    return data_model({"first": first, "second": second}, "Candidates")


async def run_pairs(reward: Any, rows: list[Row]) -> tuple[list[JudgedPair], list[str]]:
    """Judge every pair twice, A/B (A shown ``first``) then B/A; a pair whose judge failed
    in either order is left out (its error noted). A call nothing serves stops the run."""
    from synatest.errors import SynatestError

    pairs: list[JudgedPair] = []
    errors: list[str] = []
    for row in rows:
        expected = None if row.expected is None else data_model(row.expected, "Expected")
        rewards: list[float] = []
        orders = (("A/B", row.output, row.other), ("B/A", row.other, row.output))
        for order, first, second in orders:
            try:
                rewards.append(float(await reward(expected, pair_model(first, second))))
            except SynatestError as error:
                name = type(error).__name__
                raise CalibrationError(f"{row.where} ({order}): {name}: {error}") from None
            except Exception as error:
                errors.append(f"{row.where} ({order}): {type(error).__name__}: {error}")
        if len(rewards) == 2:
            pairs.append(JudgedPair(id=row.id, ab=rewards[0], ba=rewards[1]))
    return pairs, errors
