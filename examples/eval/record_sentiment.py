"""Re-record the sentiment suite's cassettes from the loopback simulator (no key needed).

    uv run python examples/eval/record_sentiment.py

Starts ``synatest.testing.LoopbackLM`` on 127.0.0.1 with a keyword classifier as the
"model", points the suite's LanguageModel at it, and runs the suite with
``--synalinks-eval --synalinks-record-mode=rewrite``. The suite runs each example 3 times
(its marker's ``repeat=3``) and each run is recorded apart; the simulator is a little
moody: the second time it reads a review, it reads sarcasm and "not bad" right, so those
examples are flaky, and stay flaky when the cassettes replay offline.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from synatest.testing import record_from_loopback

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
NEGATIVE = ("terrible", "awful", "broke", "crashing", "poor", "bad", "worst", "waste", "stopped")


def keyword_classifier(body: dict[str, Any], seen: Counter[str]) -> dict[str, str]:
    """A naive "model": any negative keyword means negative, so sarcasm and "not bad"
    fool it, except the second time it reads the same review (runs are recorded in
    order, so that is run 2 of a repeated example)."""
    text = json.dumps(body.get("messages", [])[-1:]).lower()
    seen[text] += 1
    negative = any(word in text for word in NEGATIVE)
    tricky = "oh great" in text or "not bad" in text
    if tricky and seen[text] == 2:
        negative = not negative
    return {"label": "negative" if negative else "positive"}


def main() -> int:
    suite = str(HERE / "test_sentiment_replay_eval.py")
    flags = ["--synalinks-eval", "--synalinks-report-dir=reports/recording"]
    seen: Counter[str] = Counter()
    return record_from_loopback(
        lambda body: keyword_classifier(body, seen), [suite, *flags], cwd=ROOT
    )


if __name__ == "__main__":
    sys.exit(main())
