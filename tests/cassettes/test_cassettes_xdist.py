"""pytest-xdist: each worker records its own tests' cassettes; replay works per worker."""

from __future__ import annotations

import pytest

from synatest.testing import LoopbackLM

TESTS = """
import os
import litellm
import pytest

@pytest.mark.parametrize("n", range(4))
async def test_call(n):
    response = await litellm.acompletion(
        model="openai/gpt-4o-mini", api_base=os.environ["LOOPBACK_URL"],
        messages=[{"role": "user", "content": f"question {n}"}],
    )
    assert response.choices[0].message.content == f"Echo: question {n}"
"""


def test_two_workers_record_separate_files_then_replay(
    pytester: pytest.Pytester, loopback: LoopbackLM
) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_par=TESTS)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-n", "2", "--synalinks-record-mode=once"
    )
    result.assert_outcomes(passed=4)
    files = sorted(p.name for p in (pytester.path / "cassettes/test_par").iterdir())
    assert files == [f"test_call[{n}].yaml" for n in range(4)]
    assert len(loopback.requests) == 4
    loopback.stop()
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2").assert_outcomes(passed=4)


SHARED = """
import pytest
from helpers import ask


@pytest.mark.synalinks_cassette("shared_qa")
@pytest.mark.parametrize("n", range(64))
async def test_ask(n):
    result = await ask(f"Shared question {n}?")
    assert result["answer"]
"""


def test_two_workers_recording_one_shared_cassette_keep_every_recording(
    project: pytest.Pytester, loopback: LoopbackLM
) -> None:
    """64 examples recorded by two workers into one `name=` cassette: none is lost
    (before the lock and merge on save, the last writer won), and replay passes offline."""
    from synatest.cassettes.store import Cassette

    project.makepyfile(test_shared=SHARED)
    args = ("-p", "no:cacheprovider", "-n", "2")
    project.runpytest_subprocess(*args, "--synalinks-record-mode=new_episodes").assert_outcomes(
        passed=64
    )
    assert len(loopback.requests) == 64
    cassette = Cassette.load(project.path / "cassettes/shared_qa.yaml", lazy=False)
    assert len(cassette) == 64
    questions = {str(i.request["messages"]) for i in cassette.interactions}
    assert all(f"Shared question {n}?" in "".join(questions) for n in range(64))
    assert len(questions) == 64  # no duplicates either
    loopback.stop()
    project.runpytest_subprocess(*args).assert_outcomes(passed=64)
