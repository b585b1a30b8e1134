"""What the cassettes plugin does for each test: its cassette, its layer, what it replayed.

Loaded by :mod:`synatest.plugin.cassettes` when the first test is set up, with the
cassette core: a ``pytest --collect-only`` loads neither. Record mode precedence:
command line > marker > ini > ``none``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from synatest import options
from synatest._atomic import atomic_write_text
from synatest.cassettes.layer import MODES, CassetteLayer, ci_is_set
from synatest.cassettes.normalize import as_scrubber, registered_scrubbers
from synatest.cassettes.paths import cassette_path, named_cassette
from synatest.cassettes.store import Cassette
from synatest.errors import CassetteError
from synatest.markers import CASSETTE_MARKER as MARKER
from synatest.seam import Router
from synatest.session import runnable_nodeid

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


def make_layer(item: pytest.Item, router: Router, run_started: float | None) -> CassetteLayer:
    """The cassette layer of ``item``, started (it is added to ``router`` by the caller)."""
    config = item.config
    settings = resolve(item)
    try:
        scrubbers = [*registered_scrubbers(), *(as_scrubber(s) for s in settings.scrub)]
    except TypeError as error:
        raise pytest.UsageError(f"@pytest.mark.{MARKER}(scrub=...): {error}") from None
    layer: CassetteLayer
    if options.value(config, "cassette-layer") == "http":
        from synatest.cassettes.http import HttpCassetteLayer, http_path  # vcrpy

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
    layer.run_started = run_started
    if layer.records and ci_is_set() and not options.value(config, "allow-recording-in-ci"):
        raise CassetteError(_ci_refusal(settings, item.nodeid))
    start = getattr(layer, "start", None)
    if start is not None:
        start()
    return layer


def note_usage(usage: dict[str, dict[str, Any]], layer: CassetteLayer, item: pytest.Item) -> None:
    """Add which recordings ``item`` replayed from ``layer`` to ``usage``."""
    if not layer.cassette.loaded_from_disk:
        return
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


def write_usage(config: pytest.Config, target: str, usage: dict[str, dict[str, Any]]) -> None:
    """Write ``usage`` to ``target`` (``--synalinks-cassette-usage``; one file per xdist worker)."""
    path = Path(target)
    worker = getattr(config, "workerinput", {}).get("workerid")
    if worker:
        path = path.with_name(f"{path.name}.{worker}")
    atomic_write_text(path, json.dumps(usage, indent=2, sort_keys=True))
