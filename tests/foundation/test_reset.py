"""Per-test reset: Synalinks' global state, default models, and the seed."""

from __future__ import annotations

import random
import re

import pytest

# pytester's default ini (tests/conftest.py) plus one key.
PYTESTER_INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"

SEEDED = """
import random
import numpy as np

def test_a(synalinks_session):
    print("A", random.random(), np.random.random())

def test_b(synalinks_session):
    print("B", random.random(), np.random.random())
"""


def _draws(result: pytest.RunResult) -> dict[str, tuple[float, float]]:
    found = re.findall(r"\b([AB]) ([0-9.e-]+) ([0-9.e-]+)", result.stdout.str())
    return {name: (float(a), float(b)) for name, a, b in found}


def test_every_test_starts_from_the_same_documented_seed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SEEDED)
    result = pytester.runpytest("-s")
    result.assert_outcomes(passed=2)
    draws = _draws(result)
    assert draws["A"] == draws["B"]
    assert draws["A"][0] == random.Random(1337).random()


def test_seed_flag_beats_ini_which_beats_default(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SEEDED)
    pytester.makeini(PYTESTER_INI + "synalinks_seed = 5\n")
    from_ini = _draws(pytester.runpytest("-s"))
    assert from_ini["A"][0] == random.Random(5).random()
    from_cli = _draws(pytester.runpytest("-s", "--synalinks-seed", "9"))
    assert from_cli["A"][0] == random.Random(9).random()


def test_bad_seed_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_ok(): pass")
    result = pytester.runpytest("--synalinks-seed", "-4")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*argument --synalinks-seed: the seed must be a non-negative integer, not '-4'*"]
    )
    pytester.makeini(PYTESTER_INI + "synalinks_seed = many\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*ini synalinks_seed: invalid value 'many': the seed must be a non-negative integer*"]
    )


def test_synalinks_state_is_reset_between_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import synalinks

        class Answer(synalinks.DataModel):
            answer: str

        def test_first_sets_defaults(synalinks_session):
            synalinks.set_default_language_model("openai/gpt-4o-mini")
            synalinks.set_default_embedding_model("openai/text-embedding-3-small")
            synalinks.set_seed(99)
            assert synalinks.Generator(data_model=Answer).name == "generator"
            assert synalinks.Generator(data_model=Answer).name == "generator_1"

        def test_second_sees_a_fresh_session(synalinks_session):
            assert synalinks.default_language_model() is None
            assert synalinks.default_embedding_model() is None
            assert synalinks.get_seed() == 1337
            lm = synalinks.LanguageModel(model="openai/gpt-4o-mini")
            assert synalinks.Generator(data_model=Answer, language_model=lm).name == "generator"
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)
