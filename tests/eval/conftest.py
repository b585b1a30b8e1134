"""Shared DataModels for the eval tests (Synalinks is imported when a test needs them)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="session")
def models() -> Any:
    import synalinks

    class Question(synalinks.DataModel):
        question: str = synalinks.Field(description="The question")

    class Answer(synalinks.DataModel):
        answer: str = synalinks.Field(description="The answer")

    class Number(synalinks.DataModel):
        value: int

    class Models:
        pass

    Models.Question = Question  # type: ignore[attr-defined]
    Models.Answer = Answer  # type: ignore[attr-defined]
    Models.Number = Number  # type: ignore[attr-defined]
    return Models


INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"


@pytest.fixture(autouse=True)
def _prepare_inner_sessions(request: pytest.FixtureRequest) -> None:
    """Import Synalinks before pytester snapshots ``sys.modules``; give inner runs an ini.

    A module first imported inside an in-process pytester run is dropped from
    ``sys.modules`` when the run ends; after Synalinks' imports are dropped that way,
    ``importlib.metadata`` finds no distributions, so the next in-process run loads
    no ``pytest11`` plugin (synatest's flags become "unrecognized arguments").
    """
    if "pytester" in request.fixturenames:
        import synalinks  # noqa: F401

        request.getfixturevalue("pytester").makeini(INI)
