"""Running an eval example K times, and the transcript of each run's LM calls.

:func:`repeating` turns a test function into one that runs it ``repeat`` times in a
row, each run its own attempt (its own program call, LM calls, prediction or error,
duration) marked with its index (:func:`synatest.seam.use_repeat`: doubles see it as
``request.repeat``, cassettes record each run apart). :class:`RunRecorder`, a router
layer, keeps every LM call of the run in force: what was sent, what came back, what
answered it, usage, cost and latency. Failures of a run are kept, not raised: the eval
session decides the test's outcome once every run is scored.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from synatest.errors import SynatestError
from synatest.eval.usage import response_usage
from synatest.seam import CallNext, LMRequest, use_repeat

if TYPE_CHECKING:
    from synatest.eval.results import Usage

_RUN: contextvars.ContextVar[Run | None] = contextvars.ContextVar("synatest_run", default=None)
_JUDGING: contextvars.ContextVar[bool] = contextvars.ContextVar("synatest_judging", default=False)


@dataclass
class Run:
    """One run of an example while it executes (scored later by the eval session)."""

    index: int
    value: Any = None  # what the test function returned: the prediction
    error: BaseException | None = None
    duration_s: float = 0.0
    calls: list[dict[str, Any]] = field(default_factory=list)  # TranscriptCall fields
    started: float = field(default_factory=time.perf_counter)
    # Seconds to add to ``duration_s`` for the program's calls a recording answered (a
    # cassette, a prefetch): each counts the time it took when it was really made.
    replayed_offset_s: float = 0.0

    @property
    def latency_s(self) -> float:
        """The program call's latency: its wall time, replayed LM calls at their recorded
        latency (so latency budgets hold on replay)."""
        return max(0.0, self.duration_s + self.replayed_offset_s)

    @property
    def models(self) -> set[str]:
        return {call["model"] for call in self.calls if call.get("model")}

    @property
    def shared_recording(self) -> bool:
        """A call replayed a cassette recording made for another run."""
        return any(call.get("recorded_repeat") not in (None, self.index) for call in self.calls)

    def usage(self) -> Usage:
        from synatest.eval.results import Usage

        total = Usage()
        for call in self.calls:
            total = total + Usage(**call["usage"])
        return total

    def transcript(self) -> list[dict[str, Any]]:
        """The calls as TranscriptCall fields, their messages made JSON (copied lazily:
        most runs' transcripts are never kept)."""
        return [{**call, "messages": _jsonable(call.get("messages", []))} for call in self.calls]


def is_failure(error: BaseException) -> bool:
    """An error that fails an example (not skip, xfail, exit or Ctrl-C)."""
    if isinstance(error, pytest.xfail.Exception):  # an expected failure, not a result
        return False
    return isinstance(error, (Exception, SynatestError, pytest.fail.Exception))


@contextlib.contextmanager
def _attempt(index: int, runs: list[Run]) -> Iterator[Run]:
    """One run: marked with its index, timed, its failure kept (not raised)."""
    run = Run(index)
    runs.append(run)
    token = _RUN.set(run)
    started = run.started = time.perf_counter()
    try:
        with use_repeat(index):
            yield run
    except BaseException as error:
        if not is_failure(error):
            raise
        run.error = error
    finally:
        run.duration_s = time.perf_counter() - started
        _RUN.reset(token)


@contextlib.contextmanager
def scoring(run: Run) -> Iterator[Run]:
    """While the suite's reward scores ``run``: the reward's own LM calls (a judge's) join
    the run's transcript marked ``judge``, and carry the run's index (doubles see
    ``request.repeat``; cassettes record each run's verdict apart)."""
    run_token = _RUN.set(run)
    judging_token = _JUDGING.set(True)
    try:
        with use_repeat(run.index):
            yield run
    finally:
        _JUDGING.reset(judging_token)
        _RUN.reset(run_token)


def repeating(func: Callable[..., Any], repeat: int, runs: list[Run]) -> Callable[..., Any]:
    """``func`` run ``repeat`` times; each run appended to ``runs``; returns None."""
    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def run_async(*args: Any, **kwargs: Any) -> None:
            for index in range(repeat):
                with _attempt(index, runs) as run:
                    run.value = await func(*args, **kwargs)

        return run_async

    @functools.wraps(func)
    def run_sync(*args: Any, **kwargs: Any) -> None:
        for index in range(repeat):
            with _attempt(index, runs) as run:
                run.value = func(*args, **kwargs)

    return run_sync


_ENCODER = json.JSONEncoder(default=str)  # built once (json.dumps builds one per call)


def _jsonable(value: Any) -> Any:
    try:
        return json.loads(_ENCODER.encode(value))
    except (TypeError, ValueError):  # pragma: no cover - default=str serializes anything
        return str(value)


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def _reply(call: dict[str, Any], kind: str, response: Any) -> None:
    """Fill in what came back: text, tool calls, usage and cost (never vectors)."""
    prompt, completion, cost = response_usage(response)
    call["usage"].update(prompt_tokens=prompt, completion_tokens=completion, cost=cost)
    if kind == "embedding":
        return
    choices = _get(response, "choices")
    if not choices:
        call["content"] = _jsonable(response) if kind == "decision" else None
        return
    message = _get(choices[0], "message") or {}
    call["content"] = _get(message, "content")
    for tool_call in _get(message, "tool_calls") or ():
        function = _get(tool_call, "function") or {}
        call["tool_calls"].append(
            {"name": _get(function, "name"), "arguments": _get(function, "arguments")}
        )


class RunRecorder:
    """A router layer adding each LM call to the transcript of the run in force."""

    async def __call__(self, request: LMRequest, call_next: CallNext) -> Any:
        run = _RUN.get()
        if run is None:
            return await call_next(request)
        call: dict[str, Any] = {
            "kind": request.kind,
            "model": request.model,
            "usage": {"calls": 1},
            "tool_calls": [],
        }
        if _JUDGING.get():
            call["judge"] = True
        if request.kind == "embedding":
            call["inputs"] = len(request.input)
        else:
            # A shallow copy per message: Synalinks appends to its message list, and
            # message texts are immutable; made JSON only if the transcript is kept.
            call["messages"] = [dict(m) if isinstance(m, dict) else m for m in request.messages]
            call["tools"] = request.tool_names
            call["schema_title"] = request.schema_title
        run.calls.append(call)  # in call-start order, like the program sent them
        started = time.perf_counter()
        try:
            response = await call_next(request)
        except BaseException as error:
            call["error"] = f"{type(error).__name__}: {error}"
            raise
        finally:
            measured = time.perf_counter() - started
            call["latency_s"] = measured
            call["source"] = request.source
            if request.recorded_repeat is not None:
                call["recorded_repeat"] = request.recorded_repeat
            if request.recorded_latency_s is not None:
                call["latency_s"] = request.recorded_latency_s
                if not call.get("judge"):
                    run.replayed_offset_s += request.recorded_latency_s - measured
            if request.retries:
                call["usage"]["retries"] = request.retries
                call["usage"]["retry_wait_s"] = request.retry_wait_s
        _reply(call, request.kind, response)
        return response


def current_run() -> Run | None:
    """The run of an eval example in force (None outside one, e.g. in a prefetch)."""
    return _RUN.get()


def judging() -> bool:
    """Whether the suite's reward is scoring a run (its LM calls are the judge's)."""
    return _JUDGING.get()
