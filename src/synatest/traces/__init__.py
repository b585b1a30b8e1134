"""From production to regression tests: Synalinks traces imported as cassettes and datasets.

Sources: ``synalinks.record_traces()`` JSONL files (:mod:`~synatest.traces.recorder`)
and the MLflow traces of ``synalinks.enable_observability()``
(:mod:`~synatest.traces.mlflow_traces`); :mod:`~synatest.traces.importer` filters them
and writes cassettes, datasets and (:mod:`~synatest.traces.emit`) a regression test.
Used by ``synatest traces import``.
"""

from synatest.errors import TracesError
from synatest.traces.importer import ImportOptions, ImportSummary, import_items, import_traces
from synatest.traces.records import Example, Recording, TraceItem

__all__ = [
    "Example",
    "ImportOptions",
    "ImportSummary",
    "Recording",
    "TraceItem",
    "TracesError",
    "import_items",
    "import_traces",
]
