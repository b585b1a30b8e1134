"""Re-record the sentiment suite's cassettes from the loopback simulator (no key needed).

    uv run python examples/eval/record_sentiment.py

Starts ``synatest.testing.LoopbackLM`` on 127.0.0.1 with a keyword classifier as the
"model", points the suite's LanguageModel at it, and runs the suite with
``--synalinks-eval --synalinks-record-mode=rewrite``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from synatest.testing import record_from_loopback

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
NEGATIVE = ("terrible", "awful", "broke", "crashing", "poor", "bad", "worst", "waste", "stopped")


def keyword_classifier(body: dict[str, Any]) -> dict[str, str]:
    """A naive "model": any negative keyword means negative (so sarcasm fools it)."""
    text = json.dumps(body.get("messages", [])[-1:]).lower()
    return {"label": "negative" if any(word in text for word in NEGATIVE) else "positive"}


def main() -> int:
    suite = str(HERE / "test_sentiment_replay_eval.py")
    flags = ["--synalinks-eval", "--synalinks-report-dir=reports/recording"]
    return record_from_loopback(keyword_classifier, [suite, *flags], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main())
