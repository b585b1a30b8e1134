"""The checkpoint of a training run: written after every epoch, read by ``--resume``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from synatest.train.config import CHECKPOINT_VERSION, TrainConfig, TrainingError
from synatest.train.split import Split


def checkpoint_path(output_dir: Path) -> Path:
    return output_dir / "checkpoint.json"


def read_checkpoint(path: Path, config: TrainConfig, split: Split) -> dict[str, Any]:
    if not path.exists():
        raise TrainingError(
            f"--resume: no checkpoint at {path}; run without --resume to start a new "
            "training run (or pass the --output directory of the run to continue)"
        )
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise TrainingError(
            f"--resume: checkpoint {path} is not valid JSON ({error}); delete it and "
            "train again without --resume"
        ) from None
    if data.get("version") != CHECKPOINT_VERSION:
        raise TrainingError(
            f"--resume: checkpoint {path} has version {data.get('version')!r}, this "
            f"synatest writes version {CHECKPOINT_VERSION}; train again without --resume"
        )
    if data.get("suite") != config.suite or data.get("split") != split.fingerprint():
        raise TrainingError(
            f"--resume: checkpoint {path} belongs to another run (suite "
            f"{data.get('suite')!r}, another dataset, seed or split); pass the same "
            "suite, dataset, --synalinks-seed and split fractions, or train again "
            "without --resume"
        )
    return data
