"""``@synatest.program``: a builder of a Synalinks program, as a pytest fixture.

::

    @synatest.program
    async def qa_program(language_model):
        inputs = synalinks.Input(data_model=Query)
        outputs = await synalinks.Generator(
            data_model=Answer, language_model=language_model
        )(inputs)
        return synalinks.Program(inputs=inputs, outputs=outputs, name="qa")

    async def test_answers(qa_program, scripted_lm):
        scripted_lm.add({"answer": "Paris"})
        result = await qa_program(Query(query="Capital of France?"))

The builder may request any fixtures (``language_model``, ``scripted_lm``, your
own); it runs per test by default (Synalinks' session is cleared between tests).
Every program fixture is registered in :data:`PROGRAM_FIXTURES` so tools such as
``synatest train`` can tell which fixture of a test builds its program.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, overload

import pytest

Scope = Literal["function", "class", "module", "package", "session"]


@dataclass(frozen=True)
class ProgramSpec:
    """A registered program fixture: its name, its builder and where it was defined."""

    name: str
    builder: Callable[..., Any]
    module: str
    scope: str = "function"

    @property
    def argnames(self) -> list[str]:
        """The fixtures the builder requests."""
        return list(inspect.signature(self.builder).parameters)


# Fixture name -> spec, filled as test modules / conftests are imported.
PROGRAM_FIXTURES: dict[str, ProgramSpec] = {}


def _check_program(value: Any, name: str) -> Any:
    from synalinks.src.programs.program import Program

    if not isinstance(value, Program):
        raise TypeError(
            f"@synatest.program builder {name!r} returned {type(value).__name__}, not a "
            "synalinks.Program: end the builder with `return synalinks.Program(inputs=..., "
            "outputs=...)` (or an instance of your Program subclass, or a "
            "synalinks.Sequential)"
        )
    return value


@overload
def program(builder: Callable[..., Any], /) -> Any: ...
@overload
def program(*, name: str | None = None, scope: Scope = "function") -> Callable[..., Any]: ...


def program(
    builder: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    scope: Scope = "function",
) -> Any:
    """Turn an (async) program builder into a fixture returning the built Program.

    Args:
        builder: ``async def`` (or plain) function returning a ``synalinks.Program``;
            its parameters are fixtures.
        name: fixture name (default: the builder's name).
        scope: pytest fixture scope (default ``"function"``).
    """

    def decorate(fn: Callable[..., Any]) -> Any:
        if not callable(fn):
            raise TypeError(f"@synatest.program decorates a function, not {fn!r}")
        fixture_name = name or fn.__name__
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def build_async(*args: Any, **kwargs: Any) -> Any:
                return _check_program(await fn(*args, **kwargs), fixture_name)

            fixture_fn: Callable[..., Any] = build_async
        else:

            @functools.wraps(fn)
            def build_sync(*args: Any, **kwargs: Any) -> Any:
                value = fn(*args, **kwargs)
                if inspect.isawaitable(value):
                    raise TypeError(
                        f"@synatest.program builder {fixture_name!r} returned an awaitable: "
                        "declare it `async def`"
                    )
                return _check_program(value, fixture_name)

            fixture_fn = build_sync
        # functools.wraps gave it the builder's module: mark it as synatest's fixture.
        fixture_fn.__synatest_fixture__ = True  # type: ignore[attr-defined]
        PROGRAM_FIXTURES[fixture_name] = ProgramSpec(
            name=fixture_name, builder=fn, module=fn.__module__, scope=scope
        )
        return pytest.fixture(scope=scope, name=fixture_name)(fixture_fn)

    if builder is not None:
        return decorate(builder)
    return decorate


def program_fixtures_of(item: pytest.Item) -> list[ProgramSpec]:
    """The program fixtures a test item uses (directly or through other fixtures)."""
    names = getattr(item, "fixturenames", ())
    return [PROGRAM_FIXTURES[n] for n in names if n in PROGRAM_FIXTURES]
