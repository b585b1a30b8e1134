"""Re-create this example's production traces, then import them as a regression test.

    uv run python examples/traces/record_production.py

Runs ``triage.py``'s program "in production" with ``synalinks.record_traces()`` on,
against ``synatest.testing.LoopbackLM`` (real HTTP, a simulated model: no key, no
network), writing ``examples/traces/recorder/``; then runs
``synatest traces import examples/traces/recorder -o examples/traces/regression
--emit-test examples/traces/triage.py:build_program``.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TICKETS = [
    "I was charged twice for my subscription this month.",
    "The export button crashes the app since the last update.",
    "How do I change the email address on my account?",
    "I was charged twice for my subscription this month.",  # the same ticket again
    "Your app deleted all my invoices, I need them for an audit tomorrow!",
    "Do you have a dark mode?",
]


def triage(body: dict[str, Any]) -> dict[str, Any]:
    """The simulated model: keywords to a category, '!' to urgent."""
    text = json.dumps(body["messages"][-1]).lower()
    category = next(
        (
            c
            for c, words in (
                ("billing", ("charged", "invoice")),
                ("bug", ("crash",)),
                ("account", ("email", "password")),
            )
            if any(w in text for w in words)
        ),
        "other",
    )
    return {"category": category, "urgent": "!" in text}


async def run(recorder: Path) -> None:
    import synalinks

    from synatest.testing import DUMMY_API_KEY, LoopbackLM

    spec = importlib.util.spec_from_file_location("triage", HERE / "triage.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    synalinks.record_traces(str(recorder))
    with LoopbackLM(triage) as server:
        os.environ["SYNATEST_EXAMPLE_API_BASE"] = server.base_url
        os.environ["OPENAI_API_KEY"] = DUMMY_API_KEY
        program = await module.build_program()
        for text in TICKETS:
            await program(module.Ticket(text=text))


def main() -> int:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    recorder = HERE / "recorder"
    shutil.rmtree(recorder, ignore_errors=True)
    asyncio.run(run(recorder))
    shutil.rmtree(HERE / "regression", ignore_errors=True)
    from synatest.cli.main import main as synatest

    os.chdir(HERE.parent.parent)  # paths in the files written are relative to the repo
    here = HERE.relative_to(Path.cwd())
    return synatest(
        [
            "traces",
            "import",
            str(here / "recorder"),
            "-o",
            str(here / "regression"),
            "--emit-test",
            f"{here / 'triage.py'}:build_program",
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
