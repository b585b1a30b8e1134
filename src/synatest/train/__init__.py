"""Training a program until its evaluation suite passes (``synatest train``).

Heavy modules (Synalinks, numpy, matplotlib) are imported by the functions that
need them, never here.
"""

from __future__ import annotations

from synatest.train.config import EpochRecord, TrainConfig, TrainingError, TrainResult
from synatest.train.core import train_program

__all__ = ["EpochRecord", "TrainConfig", "TrainResult", "TrainingError", "train_program"]
