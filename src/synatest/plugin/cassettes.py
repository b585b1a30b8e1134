"""pytest side of cassettes: options, the ``synalinks_cassette`` marker, ``lm_cassette``.

Every test gets a cassette layer on its router (after every double). Its file is
``<cassette dir>/<test module path>/<test name>.yaml`` unless the marker names
another. Record mode precedence: command line > marker > ini > ``none``.
Recordings are saved only when the test passed, atomically, after a secret scan.
Options, marker and hooks only: what a test's hooks do is
:mod:`synatest.plugin.cassette_setup`, loaded with the cassette core at the first test.

xdist: each test writes its own file, so workers rarely write the same one; tests
sharing a cassette by ``name=`` may record it from several processes: a save locks the
file, re-reads it and adds its recordings (see ``synatest.cassettes.shared``).
"""

from __future__ import annotations

import time
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import pytest

from synatest import options
from synatest.markers import CASSETTE_MARKER
from synatest.options import Option
from synatest.session import ROUTER_KEY, get_session

if TYPE_CHECKING:
    from synatest.cassettes.layer import CassetteLayer

MARKER = CASSETTE_MARKER
STARTED_INPUT = "synatest_run_started"
MODES = ("none", "once", "new_episodes", "rewrite")
MARKER_LINE = (
    f"{MARKER}(name=None, path=None, record_mode=None, extra=(), scrub=(), "
    "match_api_base=False, record_errors=False, allow_repeats=False, strict=None): "
    "configure this test's LM cassette (share or rename it, add read-only extra "
    "cassettes, scrubbers, record provider errors)"
)
HINT = "record it once: pytest --synalinks-record-mode=once {nodeid}"

options.group(
    "cassettes",
    [
        Option(
            "record-mode",
            "cassette record mode: none = replay only (never a live call); once = record "
            "tests that have no cassette yet; new_episodes = record the calls missing from "
            "a cassette; rewrite = record every call anew",
            default="none",
            choices=MODES,
        ),
        Option(
            "cassette-dir",
            "directory of cassettes, relative to the rootdir",
            default="cassettes",
            metavar="DIR",
        ),
        Option(
            "strict-cassettes",
            "fail tests that leave recordings of their cassette unused",
            flag=True,
        ),
        Option(
            "cassette-layer",
            "where calls are recorded: lm = the litellm call (default, fastest); http = "
            "the HTTP exchanges, through vcrpy (full-stack fidelity)",
            default="lm",
            choices=("lm", "http"),
        ),
        Option(
            "allow-recording-in-ci",
            "allow record modes when the CI environment variable is set (refused otherwise)",
            flag=True,
        ),
        Option(
            "cassette-usage",
            "write which recordings each cassette's tests replayed to this JSON file "
            "(used by `synatest cassettes check --run`)",
            metavar="PATH",
            ini=False,
        ),
    ],
)


LAYER_KEY = pytest.StashKey["CassetteLayer"]()
USAGE_KEY = pytest.StashKey[dict[str, dict[str, Any]]]()
STARTED_KEY = pytest.StashKey[float]()


def pytest_addoption(parser: pytest.Parser) -> None:
    options.register(parser, "cassettes")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_LINE)
    get_session(config).unserved_hints.append(HINT)
    config.stash[USAGE_KEY] = {}
    # Read once now so that a bad ini value is a usage error before any test runs.
    options.value(config, "record-mode")
    # The run's start (xdist workers get their controller's): `rewrite` adds to a
    # shared cassette written since then instead of replacing it (cassettes/shared.py).
    workerinput = getattr(config, "workerinput", {})
    config.stash[STARTED_KEY] = float(workerinput.get(STARTED_INPUT, time.time()))


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist controller: hand the run's start to each worker."""
    node.workerinput[STARTED_INPUT] = node.config.stash[STARTED_KEY]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # tryfirst: before fixtures are set up, so doubles added by fixtures come later.
    router = item.stash.get(ROUTER_KEY, None)
    if router is None:
        return
    from synatest.plugin.cassette_setup import make_layer

    layer = make_layer(item, router, item.config.stash.get(STARTED_KEY, None))
    item.stash[LAYER_KEY] = layer
    was_strict = router.strict
    # A test with no cassette file, marker, fixture or record mode does not use it.
    router.use(layer, name="cassette", engages=layer.engaged)
    if router.strict and not was_strict:
        get_session(item.config).reset()  # still before the test's fixtures


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    # tryfirst: outside the session's wrapper, so the router's end-of-test checks
    # (unused scripted replies...) have run when we get here: save only a test
    # that passed everything.
    try:
        result = yield
    finally:
        _note_usage(item)
    layer = item.stash.get(LAYER_KEY, None)
    if layer is not None:
        if layer.strict:
            layer.check_unused()
        stop = getattr(layer, "stop", None)
        if stop is not None:
            stop()  # vcrpy's patches off before it saves
        layer.save()
    return result


def pytest_runtest_teardown(item: pytest.Item) -> None:
    stop = getattr(item.stash.get(LAYER_KEY, None), "stop", None)
    if stop is not None:
        stop()  # unpatch vcrpy even when the test failed


def _note_usage(item: pytest.Item) -> None:
    layer = item.stash.get(LAYER_KEY, None)
    if layer is None or item.config.getoption("synalinks_cassette_usage", None) is None:
        return
    from synatest.plugin.cassette_setup import note_usage

    note_usage(item.config.stash[USAGE_KEY], layer, item)


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    target = config.getoption("synalinks_cassette_usage", None)
    usage = config.stash.get(USAGE_KEY, None)
    if target is None or usage is None:
        return
    from synatest.plugin.cassette_setup import write_usage

    write_usage(config, target, usage)


@pytest.fixture
def lm_cassette(request: pytest.FixtureRequest) -> CassetteLayer:
    """This test's cassette layer: ``.cassette`` (path, recordings), ``.mode``, ``.recorded``."""
    layer: CassetteLayer | None = request.node.stash.get(LAYER_KEY, None)
    if layer is None:
        raise pytest.UsageError("lm_cassette needs the synatest plugin's per-test router")
    # Asking for the fixture opts in: a missing file is a cassette miss, not "unserved".
    layer.explicit = True
    return layer
