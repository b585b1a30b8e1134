"""Reading the MLflow traces ``synalinks.enable_observability()`` writes (the Monitor hook).

Read with MLflow's own client (``MlflowClient(tracking_uri).search_traces``), from a
local store (``sqlite:///path.db``, a ``file:`` / ``mlruns`` folder) or a tracking
server. One trace is one program call: its root span's inputs and outputs make a
program-level example, and every ``CHAT_MODEL`` span (a ``LanguageModel`` call: the
messages sent, the reply's ``choices``) a recording.

Traces of a program being built (symbolic calls) and traces without a root span (a
span whose parent MLflow never stored) are skipped, counted in the summary.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from synatest.errors import TracesError
from synatest.traces.records import Example, Recording, TraceItem, inputs_hash

PAGE = 500


class Skipped(Exception):
    """A trace that is not a program call (the reason is the message)."""


def _local_store(uri: str) -> Path | None:
    """The file or folder of a local store URI (None for a server)."""
    parsed = urlparse(uri)
    if parsed.scheme == "sqlite":
        # sqlite:///relative.db and sqlite:////absolute.db (SQLAlchemy's URLs)
        return Path(unquote(parsed.path[1:]))
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme == "" or len(parsed.scheme) == 1:  # a path (or a Windows drive)
        return Path(uri)
    return None


def _unwrap(value: Any) -> Any:
    """The Monitor logs ``{"data": [dm, ...]}``: one data model is the usual case."""
    if isinstance(value, dict) and "data" in value:
        value = value["data"]
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return value


def _recording(span: Any) -> Recording | None:
    inputs = span.inputs if isinstance(span.inputs, dict) else {}
    messages = inputs.get("messages")
    if not isinstance(messages, list):
        return None
    attributes = span.attributes or {}
    outputs = span.outputs if isinstance(span.outputs, dict) else {}
    choices = outputs.get("choices") or []
    completion = choices[0].get("message") if choices and isinstance(choices[0], dict) else None
    tokens = attributes.get("mlflow.chat.tokenUsage") or {}
    cost = (attributes.get("mlflow.llm.cost") or {}).get("total_cost")
    exception = attributes.get("synalinks.exception")
    return Recording(
        model=str(attributes.get("mlflow.llm.model") or ""),
        messages=[m for m in messages if isinstance(m, dict)],
        completion=completion if isinstance(completion, dict) else None,
        usage={
            "prompt_tokens": tokens.get("input_tokens", 0),
            "completion_tokens": tokens.get("output_tokens", 0),
            "total_tokens": tokens.get("total_tokens", 0),
        },
        cost=float(cost) if isinstance(cost, (int, float)) else None,
        exception=str(exception) if exception else None,
        created=(span.start_time_ns or 0) / 1e9,
    )


def trace_item(trace: Any, uri: str, experiment: str) -> TraceItem:
    """One MLflow trace as a program-level trace item.

    Raises:
        Skipped: a program build (symbolic) or a trace with no root span.
    """
    spans = sorted(trace.data.spans, key=lambda s: s.start_time_ns or 0)
    roots = [s for s in spans if s.parent_id is None]
    trace_id = trace.info.trace_id
    if not roots:
        raise Skipped("no root span (MLflow did not store the program's span)")
    root = roots[0]
    attributes = root.attributes or {}
    if attributes.get("synalinks.is_symbolic"):
        raise Skipped("a program being built (symbolic call)")
    if "synalinks.call_id" not in attributes:
        raise Skipped("not written by Synalinks' Monitor hook")
    tags = trace.info.tags or {}
    program = str(tags.get("synalinks.program") or attributes.get("synalinks.module_name", ""))
    recordings = [r for r in (_recording(s) for s in spans) if r is not None]
    inputs = _unwrap(root.inputs)
    if isinstance(inputs, dict):
        inputs = {k: v for k, v in inputs.items() if k != "kwargs"}
    failed = str(getattr(trace.info.state, "value", trace.info.state)) == "ERROR" or (
        attributes.get("synalinks.success") is False
    )
    exception = attributes.get("synalinks.exception") or ("the trace failed" if failed else None)
    usage = {
        name: sum(int(r.usage.get(name) or 0) for r in recordings)
        for name in ("prompt_tokens", "completion_tokens", "total_tokens")
    }
    costs = [r.cost for r in recordings if r.cost is not None]
    start, end = root.start_time_ns or 0, root.end_time_ns or 0
    example = Example(
        # Synalinks' call id (a uuid4): MLflow's trace ids repeat across processes when
        # the random module is seeded (Synalinks seeds it).
        id=str(attributes["synalinks.call_id"]),
        program=program,
        module=str(attributes.get("synalinks.module_name", program)),
        inputs=inputs,
        expected=None if failed else _unwrap(root.outputs),
        inputs_hash=inputs_hash(inputs),
        timestamp=(trace.info.request_time or 0) / 1000,
        metadata={
            "source": "mlflow",
            "tracking_uri": uri,
            "experiment": experiment,
            "trace_id": trace_id,
            "call_id": attributes.get("synalinks.call_id"),
            "model": sorted({r.model for r in recordings if r.model}),
            "usage": usage,
            "cost": sum(costs) if costs else None,
            "latency_s": (end - start) / 1e9 if end > start else None,
        },
        exception=str(exception) if exception else None,
    )
    modules = {str((s.attributes or {}).get("synalinks.module_name", "")) for s in spans}
    return TraceItem(example, recordings, modules - {""}, f"{uri} trace {trace_id}")


def read_mlflow(uri: str, experiment: str, skipped: dict[str, int]) -> Iterator[TraceItem]:
    """Every program-call trace of ``experiment`` at ``uri``, oldest first.

    ``skipped`` counts the traces left out, by reason.

    Raises:
        TracesError: naming the URI, when the store does not exist or cannot be read, the
            experiment is not there, or it holds no traces.
    """
    store = _local_store(uri)
    if store is not None and not store.exists():
        # MLflow would create an empty store here; an import never writes to the source.
        raise TracesError(f"{uri}: no MLflow store at {store}")
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    try:
        client = MlflowClient(tracking_uri=uri)
        found = client.get_experiment_by_name(experiment)
        if found is None:
            names = sorted(e.name for e in client.search_experiments())
            raise TracesError(
                f"{uri}: no MLflow experiment named {experiment!r} "
                f"(experiments: {', '.join(names) or 'none'})"
            )
        traces: list[Any] = []
        token = None
        while True:
            page = client.search_traces(
                locations=[found.experiment_id],
                max_results=PAGE,
                order_by=["timestamp_ms ASC"],
                page_token=token,
            )
            traces += list(page)
            token = page.token
            if not token:
                break
    except MlflowException as error:
        raise TracesError(f"{uri}: cannot read MLflow traces: {error.message}") from None
    except OSError as error:
        raise TracesError(f"{uri}: cannot read MLflow traces: {error}") from None
    if not traces:
        raise TracesError(f"{uri}: experiment {experiment!r} holds no traces")
    for trace in traces:
        try:
            yield trace_item(trace, uri, experiment)
        except Skipped as why:
            skipped[str(why)] = skipped.get(str(why), 0) + 1
