"""The session speedups: cached DataModel schemas and prompt templates, and their opt-out."""

from __future__ import annotations

from typing import Any

import jinja2
import pydantic
import pytest
import synalinks

from synatest import speedups


@pytest.fixture
def fresh_speedups() -> Any:
    """Speedups installed with empty caches for this test, as the session installs them."""
    speedups.uninstall()
    assert speedups.install()
    yield speedups
    speedups.uninstall()
    speedups.install()


def _uncached_schema(cls: type[synalinks.DataModel]) -> dict[str, Any]:
    return pydantic.BaseModel.model_json_schema.__func__(cls)  # type: ignore[attr-defined,no-any-return]


def test_schema_is_computed_once_per_class_and_equal_to_pydantic(fresh_speedups: Any) -> None:
    class Answer(synalinks.DataModel):
        answer: str = synalinks.Field(description="The answer")
        score: float = 0.5

    first = Answer.get_schema()
    second = Answer.get_schema()
    assert first == second == _uncached_schema(Answer)
    assert (speedups.stats().schema_misses, speedups.stats().schema_hits) == (1, 1)


def test_a_caller_mutating_its_schema_changes_nothing_cached(fresh_speedups: Any) -> None:
    class Answer(synalinks.DataModel):
        answer: str

    schema = Answer.get_schema()
    schema["properties"]["answer"]["type"] = "integer"
    schema["required"].append("extra")
    assert Answer.get_schema() == _uncached_schema(Answer)


def test_a_redefined_class_gets_its_own_schema(fresh_speedups: Any) -> None:
    class Answer(synalinks.DataModel):
        answer: str

    old = Answer.get_schema()

    class Answer(synalinks.DataModel):  # type: ignore[no-redef]
        answer: int
        reason: str

    new = Answer.get_schema()
    assert old != new
    assert new == _uncached_schema(Answer)
    assert speedups.stats().schema_misses == 2


def test_a_rebuilt_class_is_computed_afresh(fresh_speedups: Any) -> None:
    class Outer(synalinks.DataModel):
        inner: Inner  # defined below, resolved by model_rebuild

    class Inner(synalinks.DataModel):
        value: int

    Outer.model_rebuild(_types_namespace={"Inner": Inner})
    assert Outer.get_schema() == _uncached_schema(Outer)
    misses = speedups.stats().schema_misses
    Outer.model_rebuild(force=True, _types_namespace={"Inner": Inner})
    assert Outer.get_schema() == _uncached_schema(Outer)
    assert speedups.stats().schema_misses == misses + 1


def test_subclasses_are_cached_separately(fresh_speedups: Any) -> None:
    class Base(synalinks.DataModel):
        a: str

    class Child(Base):
        b: int

    assert Base.get_schema() == _uncached_schema(Base)
    assert Child.get_schema() == _uncached_schema(Child)
    assert Base.get_schema() != Child.get_schema()


def test_generator_templates_are_compiled_once_and_render_the_same(fresh_speedups: Any) -> None:
    from synalinks.src.modules.core import generator

    source = "Hello {{ name }}{% if extra %} and {{ extra }}{% endif %}"
    first = generator.jinja2.Template(source)
    assert generator.jinja2.Template(source) is first
    for values in ({"name": "a"}, {"name": "b", "extra": "c"}):
        assert first.render(**values) == jinja2.Template(source).render(**values)
    assert (speedups.stats().template_misses, speedups.stats().template_hits) == (1, 1)
    # Anything else on the module is the real jinja2's.
    assert generator.jinja2.Environment is jinja2.Environment


async def test_a_program_call_is_served_from_the_caches(
    fresh_speedups: Any, scripted_lm: Any
) -> None:
    class Query(synalinks.DataModel):
        query: str

    class Answer(synalinks.DataModel):
        answer: str

    lm = synalinks.LanguageModel(model="openai/gpt-4o-mini")
    inputs = synalinks.Input(data_model=Query)
    outputs = await synalinks.Generator(data_model=Answer, language_model=lm)(inputs)
    program = synalinks.Program(inputs=inputs, outputs=outputs)
    scripted_lm.on(schema=Answer).reply({"answer": "Paris"}, times=None)
    await program(Query(query="capital of France?"))
    before = speedups.stats().schema_misses
    result = await program(Query(query="capital of Italy?"))
    assert result.get("answer") == "Paris"
    assert speedups.stats().schema_misses == before
    assert speedups.stats().schema_hits > 0 and speedups.stats().template_hits > 0
    first, second = scripted_lm.calls
    assert first.request.kwargs["response_format"] == second.request.kwargs["response_format"]


def test_uninstall_restores_synalinks_and_empties_the_caches(fresh_speedups: Any) -> None:
    from synalinks.src.backend.pydantic import core
    from synalinks.src.modules.core import generator

    class Answer(synalinks.DataModel):
        answer: str

    Answer.get_schema()
    speedups.uninstall()
    assert not speedups.is_installed()
    assert generator.jinja2 is jinja2
    assert not getattr(core.DataModel.get_schema.__func__, "__synatest_speedup__", False)
    assert speedups.stats().schema_misses == 0
    assert speedups.install()
    assert getattr(core.DataModel.get_schema.__func__, "__synatest_speedup__", False)


def test_json_copy_copies_nested_containers_and_keeps_scalars() -> None:
    value = {"a": [1, {"b": "c"}, None], "d": {"e": 1.5, "f": True}}
    copy = speedups.json_copy(value)
    assert copy == value
    assert copy["a"] is not value["a"] and copy["a"][1] is not value["a"][1]


SPEEDUPS_STATE = """
    from synatest import speedups

    def test_state(pytestconfig):
        print("SPEEDUPS", speedups.is_installed())
"""


@pytest.mark.parametrize(
    ("args", "ini", "expected"),
    [
        ((), "", "SPEEDUPS True"),
        (("--synalinks-no-speedups",), "", "SPEEDUPS False"),
        ((), "synalinks_no_speedups = true", "SPEEDUPS False"),
    ],
    ids=["default-on", "flag-off", "ini-off"],
)
def test_no_speedups_flag_and_ini_turn_them_off(
    pytester: pytest.Pytester, args: tuple[str, ...], ini: str, expected: str
) -> None:
    pytester.makeini(f"[pytest]\nasyncio_default_fixture_loop_scope = function\n{ini}\n")
    pytester.makepyfile(SPEEDUPS_STATE)
    result = pytester.runpytest("-s", *args)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"*{expected}*"])
    header = "speedups on" if expected.endswith("True") else "speedups off*"
    result.stdout.fnmatch_lines([f"synatest: offline*, {header}, *"])
    # The outer session (this one) gets its speedups back.
    assert speedups.is_installed()


def test_no_speedups_is_documented_in_help(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    text = " ".join(result.stdout.str().split())
    assert "--synalinks-no-speedups turn off the session's caches" in text
    assert "(ini: synalinks_no_speedups)" in text


def test_a_suite_that_never_imports_synalinks_never_loads_the_speedups(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import sys

        def test_plain():
            assert "synatest.speedups" not in sys.modules
            assert "synalinks" not in sys.modules
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["synatest: offline*, speedups on, *"])
