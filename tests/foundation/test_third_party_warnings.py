"""A user project with `filterwarnings = error` runs: synatest ignores the third-party
noise it knows, never the user's own warnings, and can be told not to."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

TEST = """
import warnings

import litellm
import pytest
import synalinks


class Q(synalinks.DataModel):
    q: str


class A(synalinks.DataModel):
    a: str


@pytest.mark.synalinks_allow_lm_errors
async def test_a_failed_call_warns_inside_synalinks(scripted_lm):
    # Synalinks warns (UserWarning) on the failed attempt, then swallows the error.
    scripted_lm.on(schema="A").reply(litellm.BadRequestError("bad", "openai", "gpt-4o-mini"))
    lm = synalinks.LanguageModel(model="openai/gpt-4o-mini")
    inputs = synalinks.Input(data_model=Q)
    program = synalinks.Program(
        inputs=inputs, outputs=await synalinks.Generator(data_model=A, language_model=lm)(inputs)
    )
    assert await program(Q(q="?")) is None


def test_a_knowledge_base_offline(tmp_path):
    # DuckDB's fts/vss cannot be installed in a hermetic session: Synalinks warns.
    synalinks.KnowledgeBase(uri=f"duckdb://{tmp_path / 'kb.db'}", data_models=[A])


def test_the_users_own_warning_is_still_an_error():
    with pytest.raises(DeprecationWarning):
        warnings.warn("my API is deprecated", DeprecationWarning)
"""


def run(pytester: pytest.Pytester, ini: str = "", *args: str) -> pytest.RunResult:
    pytester.makeini(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\nfilterwarnings =\n    error\n"
        + ini
    )
    pytester.makepyfile(test_w=TEST)
    return pytester.runpytest("-p", "no:cacheprovider", *args)


def test_known_third_party_noise_is_ignored_under_filterwarnings_error(
    pytester: pytest.Pytester,
) -> None:
    run(pytester).assert_outcomes(passed=3)


@pytest.mark.parametrize(
    ("ini", "args"),
    [
        ("synalinks_third_party_warnings = false\n", ()),
        ("", ("--synalinks-third-party-warnings=off",)),
    ],
)
def test_switched_off_the_warnings_reach_the_users_filters(
    pytester: pytest.Pytester, ini: str, args: tuple[str, ...]
) -> None:
    result = run(pytester, ini, *args)
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(["*UserWarning: Error occured while trying to call*"])
    result.stdout.fnmatch_lines(["*UserWarning: Failed to install DuckDB extensions*"])


def test_a_bad_value_says_what_is_expected(pytester: pytest.Pytester) -> None:
    result = run(pytester, "synalinks_third_party_warnings = maybe\n")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*ini synalinks_third_party_warnings: invalid value 'maybe': "
            "expected true or false, not 'maybe'"
        ]
    )
