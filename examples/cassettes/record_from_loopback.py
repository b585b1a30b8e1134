"""Re-record this example's cassettes from the loopback simulator (no real model, no key).

    uv run python examples/cassettes/record_from_loopback.py

Starts ``synatest.testing.LoopbackLM`` on 127.0.0.1 with a responder that does the
arithmetic, points the example's LanguageModel at it, and runs the suite with
``--synalinks-record-mode=rewrite``.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from synatest.testing import record_from_loopback

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def arithmetic(body: dict[str, Any]) -> dict[str, str] | None:
    """Answer "What is A + B?" with the sum (as the structured `answer`)."""
    text = json.dumps(body.get("messages", [])[-1:])
    match = re.search(r"What is (\d+) \+ (\d+)\?", text)
    return {"answer": str(int(match[1]) + int(match[2]))} if match else None


def main() -> int:
    return record_from_loopback(arithmetic, [str(HERE)], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main())
