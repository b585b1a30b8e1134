"""Reports of an evaluation run, every one rendered from the same :class:`RunReport`.

``report.json`` (the run, machine-readable), ``examples.jsonl`` (one line per
example), ``examples.csv`` (one flat row per example, for pandas), ``report.md``
(tables; appended to ``$GITHUB_STEP_SUMMARY`` when set) and ``report.html`` (one
self-contained page). Every file is written atomically.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from synatest.eval.results import RunReport
from synatest.reports import csv_report, html, json_report, jsonl_report, markdown
from synatest.reports.json_report import load_report

__all__ = ["FORMATS", "load_report", "parse_formats", "write_reports"]

# Format name -> (file name, writer).
FORMATS: dict[str, tuple[str, Callable[[RunReport, Path], Path]]] = {
    "json": (json_report.FILENAME, json_report.write_json),
    "jsonl": (jsonl_report.FILENAME, jsonl_report.write_jsonl),
    "csv": (csv_report.FILENAME, csv_report.write_csv),
    "md": (markdown.FILENAME, markdown.write_markdown),
    "html": (html.FILENAME, html.write_html),
}


def parse_formats(raw: str) -> tuple[str, ...]:
    """``"all"`` or a comma-separated list of format names (argparse/ini type)."""
    names = [part.strip() for part in raw.split(",") if part.strip()]
    if names == ["all"]:
        return tuple(FORMATS)
    unknown = [name for name in names if name not in FORMATS]
    if unknown or not names:
        raise ValueError(
            f"unknown report format(s) {', '.join(unknown) or '(none given)'}; "
            f"use 'all' or a comma-separated list of {', '.join(FORMATS)}"
        )
    return tuple(dict.fromkeys(names))


def write_reports(
    report: RunReport,
    directory: str | os.PathLike[str],
    formats: Iterable[str] = tuple(FORMATS),
) -> dict[str, Path]:
    """Write ``report`` in each of ``formats`` into ``directory`` (created if needed).

    Returns format name -> path written. ``report.md`` is also appended to
    ``$GITHUB_STEP_SUMMARY`` when that variable is set.
    """
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for name in formats:
        if name not in FORMATS:
            raise ValueError(f"unknown report format {name!r}; choose from {', '.join(FORMATS)}")
        filename, writer = FORMATS[name]
        written[name] = writer(report, target / filename)
    return written
