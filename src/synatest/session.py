"""The pytest session object: everything the plugin's hooks forward to.

Created in ``pytest_configure`` and kept in ``config.stash``; each hook in
:mod:`synatest.plugin` is one call into it. Usable without pytest's hook machinery (the
``synatest`` CLI and the unit tests drive it directly).

Light to import, since pytest loads it with the plugin: the seam (routers, patches)
is loaded when the session first needs it -- its first test, or the first import of
a module the seam patches (litellm, DuckDB, Synalinks) or of the seam itself -- and
the event loop when async code first runs. A ``pytest --collect-only`` of a suite
that never uses Synalinks loads neither.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest

from synatest import _env, options
from synatest._postimport import PostImportFinder

if TYPE_CHECKING:
    from synatest._asyncio import SessionLoop
    from synatest.seam import Limiter, Router

SESSION_KEY = pytest.StashKey["SynatestSession"]()
ROUTER_KEY = pytest.StashKey["Router"]()

ALLOW_LM_ERRORS = "synalinks_allow_lm_errors"

MARKERS = {
    ALLOW_LM_ERRORS: (
        f"{ALLOW_LM_ERRORS}: let Synalinks swallow failed LM calls in this test (they are "
        "listed in `synalinks_router.lm_errors`) instead of failing the test"
    ),
}


_ACTIVE: list[SynatestSession] = []
_SYNALINKS_CORE = "synalinks.src.backend.pydantic.core"

# The modules whose import turns the seam on: those it patches (the keys of
# ``synatest.seam.patch._HOOKS``; a test checks both lists agree) and the seam itself,
# so that code using it before the first test (a conftest installing a double) finds
# the session's router in force.
SEAM_TRIGGERS = (
    "litellm",
    "duckdb",
    "synalinks.src.modules.language_models.language_model",
    "synalinks.src.modules.embedding_models.embedding_model",
    "synalinks.src.modules.decision_models.decision_model",
    "synatest.seam",
)


def _seam_needed(module: ModuleType) -> None:
    if _ACTIVE:
        # No speedups here: Synalinks may be half imported.
        _ACTIVE[-1].need_seam(speedups=False)


_TRIGGERS = PostImportFinder(dict.fromkeys(SEAM_TRIGGERS, _seam_needed))


def _uninstall_speedups() -> None:
    speedups = sys.modules.get("synatest.speedups")
    if speedups is not None:
        speedups.uninstall()


class SynatestSession:
    """State of one pytest session (or one xdist worker's share of it)."""

    def __init__(self, config: pytest.Config, env: _env.HermeticEnv | None = None) -> None:
        self.config = config
        self.env = env
        self.seed: int = options.value(config, "seed")
        self.live: bool = options.value(config, "live")
        self.speedups: bool = not options.value(config, "no-speedups")
        self.strict: str = options.value(config, "strict")
        # Lines added to every "unserved call" message; "{nodeid}" is filled in.
        self.unserved_hints: list[str] = []
        self.session_router: Router | None = None  # made with the seam
        self.test_router: Router | None = None
        self._loop: SessionLoop | None = None
        self.limiter: Limiter | None = None  # of the calls reaching the provider

    @property
    def loop(self) -> SessionLoop:
        """The session's event loop (one ``asyncio.Runner``), made on first use."""
        if self._loop is None:
            from synatest._asyncio import SessionLoop

            self._loop = SessionLoop()
        return self._loop

    # -- lifecycle ------------------------------------------------------------
    def start(self) -> None:
        _ACTIVE.append(self)
        if any(name in sys.modules for name in SEAM_TRIGGERS):
            self._apply()
        else:
            _TRIGGERS.install()  # the seam turns on when one of them is imported

    def need_seam(self, *, speedups: bool = True) -> None:
        """Turn the seam on for this session, unless it is on already."""
        if self.session_router is None:  # made by the seam's first _apply
            self._apply(speedups=speedups)

    def _apply(self, *, speedups: bool = True) -> None:
        _TRIGGERS.uninstall()
        from synatest import seam

        if self.session_router is None:
            # Calls outside any test (a conftest, collection): strict only if asked.
            on, auto = self.strict == "on", self.strict == "auto"
            self.session_router = seam.Router(strict=on, strict_on_use=auto)
        seam.set_zero_waits(not self.live)
        seam.set_policy(
            seam.RetryPolicy(
                retries=options.value(self.config, "retries"),
                budget_s=options.value(self.config, "retry-budget"),
                backoff_s=options.value(self.config, "retry-backoff"),
                seed=self.seed,
            )
        )
        if self.limiter is None:  # made once: a nested session handing back keeps it
            self.limiter = seam.Limiter.from_config(self.config)
        seam.set_limiter(self.limiter)
        seam.set_session_router(self.session_router)
        seam.set_test_router(self.test_router)
        seam.activate()
        # Per session: a session starts with empty caches (a nested pytester session
        # with --synalinks-no-speedups runs with none, then hands back to the outer).
        _uninstall_speedups()
        if speedups:
            self._speedups()

    def _speedups(self) -> None:
        # Imported once Synalinks is: a suite that never uses it loads nothing more.
        if self.speedups and _SYNALINKS_CORE in sys.modules:
            from synatest import speedups

            speedups.install()

    def close(self) -> None:
        if self._loop is not None:
            self._loop.close()
        if self in _ACTIVE:
            _ACTIVE.remove(self)
        _TRIGGERS.uninstall()
        # Nothing to undo if the seam was never loaded.
        seam = sys.modules.get("synatest.seam")
        if seam is not None:
            seam.set_test_router(None)
        if _ACTIVE:
            # A session nested in another (pytester's in-process runs): hand the
            # seam back to the outer session instead of unpatching it.
            if seam is not None:
                _ACTIVE[-1]._apply()
            else:
                _TRIGGERS.install()
        elif seam is not None:
            seam.set_session_router(seam.Router())
            seam.set_policy(seam.RetryPolicy(retries=0))
            seam.set_limiter(None)
            seam.deactivate()
            _uninstall_speedups()
        if self.env is not None:
            self.env.restore()

    # -- per test --------------------------------------------------------------
    def start_test(self, item: pytest.Item) -> Router:
        self.need_seam()
        from synatest import seam, strictness

        router = seam.Router(
            live=self.live,
            test_id=item.nodeid,
            allow_lm_errors=item.get_closest_marker(ALLOW_LM_ERRORS) is not None,
            hints=[
                hint.format(nodeid=shlex.quote(runnable_nodeid(item)))
                for hint in self.unserved_hints
            ],
        )
        router.strict, router.strict_on_use = strictness.resolve(self.strict, item)
        item.stash[ROUTER_KEY] = router
        self.test_router = router
        seam.set_test_router(router)
        # Patch anything imported since the last test (collection imports modules).
        seam.activate()
        self._speedups()
        if router.strict:
            self.reset()
        return router

    def reset(self) -> None:
        from synatest.strictness import reset_synalinks

        reset_synalinks(self.seed)

    def check_test(self, item: pytest.Item) -> None:
        """After a test body passed: end-of-test checks (e.g. unused scripted replies)."""
        router = item.stash.get(ROUTER_KEY, None)
        if router is not None:
            router.run_checks()

    def end_test(self, item: pytest.Item) -> None:
        from synatest import seam

        self.test_router = None
        seam.set_test_router(None)

    # -- async support -----------------------------------------------------------
    def pyfunc_call(self, item: pytest.Function) -> Any:
        from synatest import _asyncio

        self._speedups()  # Synalinks may have been imported by a fixture
        return _asyncio.pyfunc_call(self.loop, item)

    def fixture_setup(self, fixturedef: Any, request: pytest.FixtureRequest) -> Any:
        from synatest import _asyncio

        return _asyncio.fixture_setup(self.loop, fixturedef, request)

    def report_header(self) -> str:
        mode = "live LM calls ALLOWED" if self.live else "offline (unserved LM calls fail)"
        fast = "speedups on" if self.speedups else "speedups off (--synalinks-no-speedups)"
        header = f"synatest: {mode}, seed={self.seed}, {fast}, strict={self.strict}"
        return f"{header}, {_env.describe()}"


def get_session(config: pytest.Config) -> SynatestSession:
    return config.stash[SESSION_KEY]


def runnable_nodeid(item: pytest.Item) -> str:
    """``item``'s node id as pytest accepts it from the directory it was run in.

    Node ids are relative to the rootdir; run from a subdirectory, pytest does not
    resolve them (``tests/test_x.py::t`` from ``tests/``). Commands a message
    suggests use this form, so they work when pasted where pytest was run.
    """
    invocation = item.config.invocation_params.dir
    file_part, sep, rest = item.nodeid.partition("::")
    try:
        relative = Path(os.path.relpath(item.path, invocation)).as_posix()
    except ValueError:  # another drive (Windows)
        return item.nodeid
    return f"{relative}{sep}{rest}" if relative != file_part else item.nodeid
