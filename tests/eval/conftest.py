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
