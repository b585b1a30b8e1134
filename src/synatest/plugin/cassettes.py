"""pytest side of cassettes: options, the ``synalinks_cassette`` marker, ``lm_cassette``.

Every test gets a cassette layer on its router (after every double). Its file is
``<cassette dir>/<test module path>/<test name>.yaml`` unless the marker names
another. Record mode precedence: command line > marker > ini > ``none``.
Recordings are saved only when the test passed, atomically, after a secret scan.

xdist: each test writes its own file, so workers rarely write the same one; tests
sharing a cassette by ``name=`` may record it from several processes: a save locks the
file, re-reads it and adds its recordings (see ``synatest.cassettes.shared``).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from synatest import options
from synatest.options import Option
from synatest.session import ROUTER_KEY, get_session, runnable_nodeid

if TYPE_CHECKING:
    from synatest.cassettes.layer import CassetteLayer

MARKER = "synalinks_cassette"
STARTED_INPUT = "synatest_run_started"
MODES = ("none", "once", "new_episodes", "rewrite")
MARKER_KWARGS = (
    "name",
    "path",
    "record_mode",
    "extra",
    "scrub",
    "match_api_base",
    "record_errors",
    "allow_repeats",
    "strict",
)
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


@dataclass
class TestCassette:
    """The cassette settings of one test, resolved from flags, marker and ini."""

    path: Path
    mode: str
    explicit: bool
    extras: list[Path] = field(default_factory=list)
    scrub: list[Any] = field(default_factory=list)
    match_api_base: bool = False
    record_errors: bool = False
    allow_repeats: bool = False
    strict: bool = False


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


def cassette_dir(config: pytest.Config) -> Path:
    raw = Path(options.value(config, "cassette-dir"))
    return raw if raw.is_absolute() else config.rootpath / raw


def record_mode(config: pytest.Config, marker: pytest.Mark | None) -> str:
    """Command line > marker > ini > default."""
    cli = config.getoption("synalinks_record_mode", default=None)
    if cli is not None:
        return str(cli)
    if marker is not None and marker.kwargs.get("record_mode") is not None:
        mode = str(marker.kwargs["record_mode"])
        if mode not in MODES:
            raise pytest.UsageError(
                f"@pytest.mark.{MARKER}(record_mode={mode!r}): choose from {', '.join(MODES)}"
            )
        return mode
    return str(options.value(config, "record-mode"))


def resolve(item: pytest.Item) -> TestCassette:
    config = item.config
    marker = item.get_closest_marker(MARKER)
    kwargs: dict[str, Any] = dict(marker.kwargs) if marker else {}
    if marker is not None:
        unknown = sorted(set(kwargs) - set(MARKER_KWARGS))
        if unknown:
            raise pytest.UsageError(
                f"@pytest.mark.{MARKER}: unknown argument(s) {', '.join(unknown)}; "
                f"accepted: {', '.join(MARKER_KWARGS)}"
            )
        if marker.args:
            if len(marker.args) > 1 or "name" in kwargs:
                raise pytest.UsageError(
                    f"@pytest.mark.{MARKER} takes at most one positional argument (the name)"
                )
            kwargs["name"] = marker.args[0]
    from synatest.cassettes.paths import cassette_path, named_cassette

    root = cassette_dir(config)
    if kwargs.get("path") is not None:
        path = Path(kwargs["path"])
        path = path if path.is_absolute() else config.rootpath / path
    elif kwargs.get("name") is not None:
        path = named_cassette(str(kwargs["name"]), root)
    else:
        path = cassette_path(item.nodeid, root)
    extras = kwargs.get("extra") or ()
    if isinstance(extras, (str, os.PathLike)):
        extras = [extras]
    extra_paths = []
    for extra in extras:
        candidate = Path(extra)
        if not candidate.is_absolute():
            candidate = named_cassette(str(extra), root)
        extra_paths.append(candidate)
    scrub = kwargs.get("scrub") or ()
    strict = kwargs.get("strict")
    return TestCassette(
        path=path,
        mode=record_mode(config, marker),
        explicit=marker is not None,
        extras=extra_paths,
        scrub=list(scrub) if isinstance(scrub, (list, tuple)) else [scrub],
        match_api_base=bool(kwargs.get("match_api_base", False)),
        record_errors=bool(kwargs.get("record_errors", False)),
        allow_repeats=bool(kwargs.get("allow_repeats", False)),
        strict=bool(options.value(config, "strict-cassettes")) if strict is None else bool(strict),
    )


def _ci_refusal(settings: TestCassette, nodeid: str) -> str:
    return (
        f"refusing to record cassette {settings.path} for {nodeid}: the CI environment "
        f"variable is set and record mode is {settings.mode!r}. CI should replay committed "
        "cassettes (--synalinks-record-mode=none, the default). To record in CI anyway, "
        "pass --synalinks-allow-recording-in-ci (ini: synalinks_allow_recording_in_ci = true)."
    )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # tryfirst: before fixtures are set up, so doubles added by fixtures come later.
    router = item.stash.get(ROUTER_KEY, None)
    if router is None:
        return
    from synatest.cassettes.layer import CassetteLayer, ci_is_set
    from synatest.cassettes.normalize import as_scrubber, registered_scrubbers
    from synatest.cassettes.store import Cassette
    from synatest.errors import CassetteError

    config = item.config
    settings = resolve(item)
    try:
        scrubbers = [*registered_scrubbers(), *(as_scrubber(s) for s in settings.scrub)]
    except TypeError as error:
        raise pytest.UsageError(f"@pytest.mark.{MARKER}(scrub=...): {error}") from None
    layer: CassetteLayer
    if options.value(config, "cassette-layer") == "http":
        from synatest.cassettes.http import HttpCassetteLayer, http_path

        layer = HttpCassetteLayer(
            http_path(settings.path),
            settings.mode,
            router=router,
            test_id=runnable_nodeid(item),
            scrubbers=tuple(scrubbers),
            explicit=settings.explicit,
            allow_repeats=settings.allow_repeats,
            record_errors=settings.record_errors,
        )
    else:
        load = {
            "scrubbers": scrubbers,
            "match_api_base": settings.match_api_base,
            "allow_repeats": settings.allow_repeats,
        }
        cassette = Cassette.load(settings.path, **load)  # type: ignore[arg-type]
        extras = []
        for extra in settings.extras:
            if not extra.exists():
                raise CassetteError(
                    f"extra cassette {extra} (@pytest.mark.{MARKER}(extra=...)) does not "
                    "exist; extra cassettes are read-only: record them from the test that "
                    "owns them"
                )
            extras.append(Cassette.load(extra, **load))  # type: ignore[arg-type]
        layer = CassetteLayer(
            cassette,
            settings.mode,
            router=router,
            test_id=runnable_nodeid(item),
            record_errors=settings.record_errors,
            explicit=settings.explicit,
            extras=extras,
        )
    layer.strict = settings.strict
    layer.run_started = config.stash.get(STARTED_KEY, None)
    if layer.records and ci_is_set() and not options.value(config, "allow-recording-in-ci"):
        raise CassetteError(_ci_refusal(settings, item.nodeid))
    start = getattr(layer, "start", None)
    if start is not None:
        start()
    item.stash[LAYER_KEY] = layer
    router.use(layer, name="cassette")


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
    if not layer.cassette.loaded_from_disk:
        return
    usage = item.config.stash[USAGE_KEY]
    key = str(layer.cassette.path)
    used = {n for n, i in enumerate(layer.cassette.own) if i.used}
    entry = usage.setdefault(key, {"recordings": len(layer.cassette.own), "used": [], "tests": []})
    entry["used"] = sorted(set(entry["used"]) | used)
    entry["tests"].append(item.nodeid)
    # Read-only extras count as used by this test too.
    for interaction in layer.replayed:
        if interaction.source is not None:
            usage.setdefault(str(interaction.source), {"recordings": 0, "used": [], "tests": []})[
                "tests"
            ].append(item.nodeid)


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    target = config.getoption("synalinks_cassette_usage", None)
    usage = config.stash.get(USAGE_KEY, None)
    if target is None or usage is None:
        return
    from synatest._atomic import atomic_write_text

    path = Path(target)
    worker = getattr(config, "workerinput", {}).get("workerid")
    if worker:
        path = path.with_name(f"{path.name}.{worker}")
    atomic_write_text(path, json.dumps(usage, indent=2, sort_keys=True))


@pytest.fixture
def lm_cassette(request: pytest.FixtureRequest) -> CassetteLayer:
    """This test's cassette layer: ``.cassette`` (path, recordings), ``.mode``, ``.recorded``."""
    layer: CassetteLayer | None = request.node.stash.get(LAYER_KEY, None)
    if layer is None:
        raise pytest.UsageError("lm_cassette needs the synatest plugin's per-test router")
    # Asking for the fixture opts in: a missing file is a cassette miss, not "unserved".
    layer.explicit = True
    return layer
