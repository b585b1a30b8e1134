"""``async def`` tests and fixtures need no configuration, with or without other plugins."""

from __future__ import annotations

import pytest

ASYNC_SUITE = """
import asyncio
import pytest

EVENTS = []

@pytest.fixture
async def value():
    await asyncio.sleep(0)
    return 41

@pytest.fixture
async def resource():
    EVENTS.append("open")
    yield asyncio.get_running_loop()
    await asyncio.sleep(0)
    EVENTS.append("close")

@pytest.fixture(scope="module")
async def module_loop():
    return asyncio.get_running_loop()

async def test_coroutine_test_and_fixture(value):
    await asyncio.sleep(0)
    assert value + 1 == 42

async def test_async_generator_fixture_shares_the_loop(resource, module_loop):
    assert resource is asyncio.get_running_loop()
    assert module_loop is asyncio.get_running_loop()
    assert EVENTS == ["open"]

def test_teardown_ran():
    assert EVENTS == ["open", "close"]

def test_sync_test_with_async_fixture(value):
    assert value == 41

class TestInAClass:
    @pytest.fixture
    async def doubled(self, value):
        return value * 2

    async def test_method(self, doubled):
        assert doubled == 82
"""


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("-p", "no:asyncio"), id="without-pytest-asyncio"),
        pytest.param((), id="pytest-asyncio-strict"),
    ],
)
def test_async_tests_and_fixtures_just_work(pytester: pytest.Pytester, args: tuple[str]) -> None:
    pytester.makepyfile(ASYNC_SUITE)
    if args:  # pytest-asyncio disabled: its ini key would be unknown
        pytester.makeini("[pytest]\n")
    result = pytester.runpytest("-W", "error", *args)
    result.assert_outcomes(passed=5)


def test_pytest_asyncio_auto_mode_keeps_its_tests(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        @pytest.fixture
        async def value():
            return 1

        async def test_run_by_pytest_asyncio(request, value):
            assert value == 1
            assert request.node.get_closest_marker("asyncio") is not None
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_marked_tests_stay_with_their_plugin(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        @pytest.mark.asyncio
        async def test_pytest_asyncio():
            await asyncio.sleep(0)

        @pytest.mark.anyio
        async def test_anyio(anyio_backend):
            assert anyio_backend == "asyncio"

        @pytest.fixture
        def anyio_backend():
            return "asyncio"
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_hypothesis_async_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        from hypothesis import given, settings, strategies as st

        @settings(max_examples=5)
        @given(st.integers())
        async def test_property(n):
            await asyncio.sleep(0)
            assert n == n
        """
    )
    pytester.makeini("[pytest]\n")
    pytester.runpytest("-p", "no:asyncio").assert_outcomes(passed=1)


def test_context_variables_flow_from_fixtures_and_do_not_leak(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import contextvars
        import pytest

        VAR = contextvars.ContextVar("VAR", default="unset")

        @pytest.fixture
        def set_in_fixture():
            token = VAR.set("from fixture")
            yield
            VAR.reset(token)

        async def test_sees_the_fixture(set_in_fixture):
            assert VAR.get() == "from fixture"
            VAR.set("leaked?")

        async def test_next_test_starts_clean():
            assert VAR.get() == "unset"
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)
