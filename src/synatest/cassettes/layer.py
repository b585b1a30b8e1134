"""The cassette as a router layer: replay recorded calls, record missing ones.

Modes (as in VCR):

- ``none`` (default): replay only; a call with no recording raises
  :class:`~synatest.CassetteMiss`. No live call is ever made.
- ``once``: record every call when the cassette file does not exist yet, replay
  only when it does.
- ``new_episodes``: replay what is recorded, record (live) what is not, and add it.
- ``rewrite``: ignore the file, record every call anew, overwrite it.

The layer always answers *after* every double of the test, whenever the double
was added (a fixture, or ``synalinks_router.use`` inside the test): on each call it
runs the layers added after it first, and only what they pass on reaches the
cassette.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import Any

from synatest import seam
from synatest.cassettes import serialize
from synatest.cassettes.miss import miss_message
from synatest.cassettes.store import Cassette, Interaction
from synatest.errors import CassetteError, CassetteMiss
from synatest.seam import CallNext, Layer, LMRequest, Router

MODES = ("none", "once", "new_episodes", "rewrite")
RECORDING_MODES = ("once", "new_episodes", "rewrite")


def ci_is_set(environ: dict[str, str] | None = None) -> bool:
    value = (os.environ if environ is None else environ).get("CI", "")
    return value.strip().lower() not in ("", "0", "false", "no", "off")


class CassetteLayer:
    """Replays (and in record modes records) one test's LM calls.

    Args:
        cassette: the test's cassette (loaded, or empty when the file is missing).
        mode: one of ``none``, ``once``, ``new_episodes``, ``rewrite``.
        router: the router this layer is added to (to run later layers first).
        test_id: the test's node id (for messages).
        record_errors: record provider errors too and replay them (default False).
        explicit: the test asked for a cassette (marker or fixture): a missing file
            then raises CassetteMiss instead of the generic unserved-call error.
        extras: read-only cassettes consulted after this one.
        record_command: gives the command recording with a mode, for the miss message
            (default: the pytest command of ``test_id``; the CLIs give their own).
    """

    def __init__(
        self,
        cassette: Cassette,
        mode: str = "none",
        *,
        router: Router | None = None,
        test_id: str | None = None,
        record_errors: bool = False,
        explicit: bool = False,
        extras: Sequence[Cassette] = (),
        record_command: Callable[[str], str] | None = None,
    ) -> None:
        if mode not in MODES:
            raise CassetteError(f"unknown record mode {mode!r}; choose from {', '.join(MODES)}")
        self.cassette = cassette
        self.mode = mode
        self.router = router
        self.test_id = test_id
        self.record_errors = record_errors
        self.explicit = explicit
        self.record_command = record_command
        # Fail the test when recordings are left unused (--synalinks-strict-cassettes).
        self.strict = False
        # When the run started (seconds since the epoch): `rewrite` adds to a shared file
        # written since then (set by the plugin; see cassettes/shared.py).
        self.run_started: float | None = None
        existed = cassette.loaded_from_disk
        if mode == "rewrite":
            # Start empty: the file is rewritten with this run's calls only.
            self.cassette = Cassette(
                cassette.path,
                scrubbers=cassette.scrubbers,
                match_api_base=cassette.match_api_base,
                allow_repeats=cassette.allow_repeats,
            )
        self.records = mode in ("new_episodes", "rewrite") or (mode == "once" and not existed)
        for extra in extras:
            self.cassette.extend(extra)
        self.recorded: list[Interaction] = []
        self.replayed: list[Interaction] = []

    @property
    def engaged(self) -> bool:
        """Whether the test uses this cassette: the test asked for one (marker or
        fixture), its file exists, or this run records it."""
        return (
            self.explicit or self.records or self.cassette.loaded_from_disk or bool(self.cassette)
        )

    # -- the layer ----------------------------------------------------------------
    async def __call__(self, request: LMRequest, call_next: CallNext) -> Any:
        later = self._later_layers()
        if not later:
            return await self.serve(request, call_next)

        async def run(index: int, req: LMRequest) -> Any:
            if index < len(later):
                return await later[index](req, lambda r: run(index + 1, r))
            return await self.serve(req, self._terminal)

        return await run(0, request)

    def _later_layers(self) -> list[Layer]:
        if self.router is None:
            return []
        layers = [layer for _, layer in self.router.layers]
        for index, layer in enumerate(layers):
            if layer is self:
                return layers[index + 1 :]
        return []

    async def _terminal(self, request: LMRequest) -> Any:
        if self.router is None:  # pragma: no cover - always set by the plugin
            return await seam.call_original(request)
        return await self.router.terminal(request)

    async def serve(self, request: LMRequest, call_next: Callable[[LMRequest], Any]) -> Any:
        """Answer from the cassette, record, or pass on / miss."""
        normalized = self.cassette.normalize(request.kind, request.kwargs)
        # While recording, a run with no recording of its own is recorded, not shared.
        interaction = self.cassette.play(
            request.kind, normalized, request.repeat, share=not self.records
        )
        if interaction is not None:
            self.replayed.append(interaction)
            request.source = "cassette"
            request.recorded_repeat = interaction.repeat
            request.recorded_latency_s = interaction.latency_s
            return replay(interaction)
        if self.records:
            return await self.record(request, normalized)
        if self.router is not None and self.router.live:
            return await call_next(request)
        if not self.cassette.loaded_from_disk and not self.explicit and not len(self.cassette):
            # No cassette for this test at all: the unserved-call error (which says
            # how to record) is the helpful one.
            return await call_next(request)
        raise CassetteMiss(
            miss_message(
                request,
                normalized,
                self.cassette,
                mode=self.mode,
                test_id=self.test_id,
                command=self.record_command,
            )
        )

    async def record(self, request: LMRequest, normalized: dict[str, Any]) -> Any:
        """Make the live call and keep what came back (under the normalized request)."""
        kwargs = normalized
        started = time.perf_counter()
        try:
            response = await seam.call_original(request)
        except Exception as error:
            if self.record_errors:
                self._keep(
                    Interaction(
                        kind=request.kind, request=kwargs, error=serialize.dump_error(error)
                    ),
                    request.repeat,
                )
            raise
        cost = serialize.response_cost(response)
        if request.stream and hasattr(response, "__aiter__"):
            chunks = await serialize.drain_stream(response)
            # A live stream's cost may be known only once it is read to its end.
            cost = serialize.response_cost(response) if cost is None else cost
            self._keep(
                Interaction(
                    kind=request.kind,
                    request=kwargs,
                    stream=chunks,
                    cost=cost,
                    latency_s=_latency(started, request),
                ),
                request.repeat,
            )
            return serialize.ReplayedStream(chunks, cost)
        self._keep(
            Interaction(
                kind=request.kind,
                request=kwargs,
                response_type=serialize.response_type_name(response),
                response=serialize.dump_response(response),
                cost=cost,
                latency_s=_latency(started, request),
            ),
            request.repeat,
        )
        return response

    def _keep(self, interaction: Interaction, repeat: int = 0) -> None:
        interaction.repeat = repeat  # each run of a repeated example recorded apart
        self.recorded.append(self.cassette.record(interaction))

    # -- end of test ---------------------------------------------------------------
    def unused(self) -> list[tuple[int, Interaction]]:
        return self.cassette.unused()

    def check_unused(self) -> None:
        """Raise when recordings were left unused (``--synalinks-strict-cassettes``)."""
        unused = self.unused()
        if not unused:
            return
        from synatest.cassettes.miss import describe_recorded

        shown = "\n".join(f"  #{n}: {describe_recorded(i)}" for n, i in unused[:10])
        more = f"\n  ... and {len(unused) - 10} more" if len(unused) > 10 else ""
        raise CassetteError(
            f"{len(unused)} recording(s) of cassette {self.cassette.path} were not replayed "
            f"by {self.test_id or 'this test'} (--synalinks-strict-cassettes):\n{shown}{more}\n"
            "The program makes fewer calls than when it was recorded: re-record with "
            "--synalinks-record-mode=rewrite, or prune with `synatest cassettes prune --unused`."
        )

    def save(self) -> bool:
        """Write the cassette if this test recorded anything; True when written."""
        if not self.cassette.dirty:
            return False
        # Under a lock, merged with what other processes saved meanwhile (see shared.py).
        from synatest.cassettes.shared import save_merged

        save_merged(
            self.cassette,
            self.recorded,
            rewrite=self.mode == "rewrite",
            session_started=self.run_started,
        )
        return True


def _latency(started: float, request: LMRequest) -> float:
    """Seconds a recorded call took, its retries' waits left out (to the millisecond)."""
    return round(max(0.0, time.perf_counter() - started - request.retry_wait_s), 3)


def replay(interaction: Interaction) -> Any:
    """The litellm response (or raised error) of a recording."""
    if interaction.error is not None:
        raise serialize.build_error(interaction.error)
    if interaction.stream is not None:
        return serialize.ReplayedStream(interaction.stream, interaction.cost)
    assert interaction.response is not None
    return serialize.build_response(
        interaction.response_type or "ModelResponse", interaction.response, interaction.cost
    )
