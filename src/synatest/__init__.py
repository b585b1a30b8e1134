"""synatest: test, evaluate and train Synalinks programs with pytest.

Importing ``synatest`` is cheap: every public name is loaded on first use (PEP 562),
so the pytest plugin, which imports this package, costs nothing to a suite that never
uses them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # at run time every public name is loaded on first access
    from synatest.errors import (
        CassetteError,
        CassetteMiss,
        DatasetError,
        LMCallFailed,
        SchemaMismatch,
        ScriptExhausted,
        SynatestError,
        UnservedLMCall,
        UnusedReplies,
    )
    from synatest.seam import LMRequest, Router

# Public name -> module that defines it, imported on first access. Every name here
# is listed in __all__ too.
_LAZY: dict[str, str] = {
    **dict.fromkeys(
        (
            "CassetteError",
            "CassetteMiss",
            "DatasetError",
            "InvalidReply",
            "LMCallFailed",
            "ReportError",
            "SchemaMismatch",
            "ScriptExhausted",
            "SynatestError",
            "UnservedLMCall",
            "UnusedReplies",
        ),
        "synatest.errors",
    ),
    "LMRequest": "synatest.seam",
    "Router": "synatest.seam",
    "Contains": "synatest.rewards",
    "Dataset": "synatest.datasets",
    "Example": "synatest.datasets",
    "FunctionLM": "synatest.doubles.function",
    "HashEmbeddings": "synatest.doubles.embeddings",
    "JSONSchemaValid": "synatest.rewards",
    "NumericMatch": "synatest.rewards",
    "ProgramSpec": "synatest.programs",
    "RegexMatch": "synatest.rewards",
    "SchemaLM": "synatest.doubles.schema",
    "ScriptedLM": "synatest.doubles.scripted",
    "Scrubber": "synatest.cassettes.normalize",
    "ToolCall": "synatest.doubles.replies",
    "Trace": "synatest.trace",
    "TrainConfig": "synatest.train.config",
    "TrainResult": "synatest.train.config",
    "assert_reward": "synatest.assertions",
    "compare_runs": "synatest.reports.compare",
    "load_dataset": "synatest.datasets",
    "load_report": "synatest.reports.json_report",
    "parametrize_dataset": "synatest.datasets",
    "program": "synatest.programs",
    "register_scrubber": "synatest.cassettes.normalize",
    "strategies": "synatest.strategies",
    "tool_call": "synatest.doubles.replies",
    "train_program": "synatest.train.core",
    "use_lm": "synatest.doubles.base",
    "write_reports": "synatest.reports",
}

__all__ = [
    "CassetteError",
    "CassetteMiss",
    "Contains",
    "Dataset",
    "DatasetError",
    "Example",
    "FunctionLM",
    "HashEmbeddings",
    "InvalidReply",
    "JSONSchemaValid",
    "LMCallFailed",
    "LMRequest",
    "NumericMatch",
    "ProgramSpec",
    "RegexMatch",
    "ReportError",
    "Router",
    "SchemaLM",
    "SchemaMismatch",
    "ScriptExhausted",
    "ScriptedLM",
    "Scrubber",
    "SynatestError",
    "ToolCall",
    "Trace",
    "TrainConfig",
    "TrainResult",
    "UnservedLMCall",
    "UnusedReplies",
    "__version__",
    "assert_reward",
    "compare_runs",
    "load_dataset",
    "load_report",
    "parametrize_dataset",
    "program",
    "register_scrubber",
    "strategies",
    "tool_call",
    "train_program",
    "use_lm",
    "write_reports",
]


def _version() -> str:
    # Looked up on first use: a metadata scan costs ~20 ms, paid by every pytest run
    # that loads the plugin if done at import.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("synatest")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        value = globals()["__version__"] = _version()
        return value
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'synatest' has no attribute {name!r}")
    # Not cached in this module's globals: a cached name would outlive its module when
    # the module is imported anew (pytester's in-process runs restore sys.modules), and
    # isinstance checks against the fresh module's classes would then fail.
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(__all__)
