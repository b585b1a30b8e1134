"""Shared fixtures: a loopback OpenAI-compatible server and a project that talks to it."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest

from synatest.testing import LoopbackLM

DUMMY_KEY = "sk-test-dummy-loopback-key"

# A helper module for the test projects run through pytester: a Synalinks QA program
# whose LanguageModel talks to the loopback server through real HTTP.
HELPERS = """
import json, os
import synalinks


class Question(synalinks.DataModel):
    question: str = synalinks.Field(description="the question")


class Answer(synalinks.DataModel):
    answer: str = synalinks.Field(description="the answer")


def lm():
    return synalinks.LanguageModel(
        model="openai/gpt-4o-mini", api_base=os.environ["LOOPBACK_URL"]
    )


async def qa_program(language_model=None):
    inputs = synalinks.Input(data_model=Question)
    outputs = await synalinks.Generator(
        data_model=Answer, language_model=language_model or lm()
    )(inputs)
    return synalinks.Program(inputs=inputs, outputs=outputs)


async def ask(question):
    program = await qa_program()
    result = await program(Question(question=question))
    return result.get_json()


def save_output(name, value):
    path = os.environ.get("OUTPUT_DIR")
    if path:
        with open(os.path.join(path, name + ".json"), "w") as handle:
            json.dump(value, handle, sort_keys=True, default=str)
"""


@pytest.fixture
def loopback(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackLM]:
    """A running loopback server; its URL in $LOOPBACK_URL, a dummy OpenAI key set, CI unset."""
    with LoopbackLM(idle_timeout=300) as server:
        monkeypatch.setenv("LOOPBACK_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", DUMMY_KEY)
        monkeypatch.delenv("CI", raising=False)
        yield server


INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"


@pytest.fixture(scope="session")
def synalinks_imported() -> None:
    """Import Synalinks once, before pytester snapshots ``sys.modules`` (a run restores
    the snapshot, and numpy cannot be imported twice), and outside
    ``filterwarnings = error`` (its own imports warn). Hypothesis too: its pytest
    plugin imports it at the end of every in-process run, ~5 s each time otherwise."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import hypothesis  # noqa: F401
        import synalinks  # noqa: F401


@pytest.fixture
def project(
    synalinks_imported: None, pytester: pytest.Pytester, loopback: LoopbackLM
) -> pytest.Pytester:
    """A pytester project with the `helpers` module importable."""
    pytester.makeini(INI)
    pytester.makepyfile(helpers=HELPERS)
    pytester.syspathinsert()
    return pytester
