"""Stores libraries keep under $HOME or the working directory stay in the session temp dir:
DuckDB's extensions (Synalinks' KnowledgeBase, in tests that use synatest) and SchemaLM's
Hypothesis storage."""

from __future__ import annotations

import re
from pathlib import Path

import pytest


def test_knowledge_base_and_schema_lm_leave_home_and_cwd_untouched(
    pytester: pytest.Pytester, fresh_home: Path
) -> None:
    home = fresh_home
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(
        """
        import os
        import warnings

        import pytest
        import synalinks
        import synatest


        class Doc(synalinks.DataModel):
            title: str = synalinks.Field(description="The title")
            body: str = synalinks.Field(description="The text")


        def test_knowledge_base(tmp_path, synalinks_session):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # offline: `INSTALL fts` fails, it warns
                uri = f"duckdb://{tmp_path / 'kb.db'}"
                kb = synalinks.KnowledgeBase(uri=uri, data_models=[Doc])
            assert kb is not None
            duckdb_home = os.environ["SYNATEST_DUCKDB_HOME"]
            assert duckdb_home.startswith(os.environ["SYNATEST_SESSION_TMP"])
            import duckdb

            settings = duckdb.connect().execute(
                "SELECT current_setting('home_directory'), "
                "current_setting('autoinstall_known_extensions'), "
                "current_setting('custom_extension_repository')"
            ).fetchone()
            assert settings == (duckdb_home, False, os.path.join(duckdb_home, "repository"))
            print("SESSION_TMP=" + os.environ["SYNATEST_SESSION_TMP"])


        def test_duckdb_as_it_comes_in_a_test_not_using_synatest():
            import duckdb

            home = duckdb.connect().execute("SELECT current_setting('home_directory')")
            assert home.fetchone() == ("",)


        @pytest.mark.synalinks_lm(synatest.SchemaLM(seed=5))
        async def test_schema_lm_text(language_model):
            inputs = synalinks.Input(data_model=Doc)
            generator = synalinks.Generator(data_model=Doc, language_model=language_model)
            program = synalinks.Program(inputs=inputs, outputs=await generator(inputs))
            result = await program(Doc(title="ünïcødé", body="text"))
            assert isinstance(result.get("body"), str)
        """
    )
    result = pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
    assert sorted(p.name for p in home.iterdir()) == []
    assert not (pytester.path / ".hypothesis").exists()
    found = re.search(r"SESSION_TMP=(\S+)", result.stdout.str())
    assert found is not None
    assert not Path(found.group(1)).exists(), "the session temp dir is removed at the end"
