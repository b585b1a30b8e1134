"""report.html opened in a real headless Chromium: the page's script runs and filters.

Needs Debian's ``chromium`` (``apt-get install -y chromium``); skipped, saying so,
when it is absent.
"""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from synatest.reports import compare, write_reports

from .conftest import build_report

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


@pytest.fixture(scope="module")
def chromium() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    pytest.skip(
        "headless browser test needs Chromium: run `apt-get update && apt-get install -y "
        "chromium` (Debian) to enable it"
    )


def run_browser(chromium: str, tmp_path: Path, url: str, *args: str) -> str:
    profile = tmp_path / "chromium-profile"
    command = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        # The report must not need the network: make every host lookup fail.
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--user-data-dir={profile}",
        "--window-size=1400,1600",
        "--virtual-time-budget=3000",
        *args,
        url,
    ]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


class Rows(HTMLParser):
    """Cell texts of each row in ``<table id=...>``'s body, plus element texts by id."""

    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.table_id = table_id
        self.rows: list[list[str]] = []
        self.texts: dict[str, str] = {}
        self.attrs: dict[str, dict[str, str | None]] = {}
        self._in_table = self._in_body = self._in_cell = False
        self._depth = 0
        self._current_id: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.attrs[str(a["id"])] = a
            self._current_id = str(a["id"])
            self.texts.setdefault(self._current_id, "")
        if tag == "table" and a.get("id") == self.table_id:
            self._in_table = True
        elif self._in_table and tag == "tbody":
            self._in_body = True
        elif self._in_body and tag == "tr":
            self.rows.append([])
        elif self._in_body and tag == "td":
            self._in_cell = True
            self.rows[-1].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._in_cell = False
        elif tag == "tbody":
            self._in_body = False
        elif tag == "table":
            self._in_table = False
        self._current_id = None

    def handle_data(self, data: str) -> None:
        if self._in_cell:
            self.rows[-1][-1] += data
        if self._current_id is not None:
            self.texts[self._current_id] += data


def parse(dom: str, table_id: str) -> Rows:
    parser = Rows(table_id)
    parser.feed(dom)
    return parser


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    directory = tmp_path_factory.mktemp("html-report")
    report = build_report(n=40, seed=11, error_rate=0.1)
    write_reports(report, directory, formats=("html",))
    return directory / "report.html", report


def test_screenshot_and_filter_by_suite_and_status(
    chromium: str, report_file: tuple[Path, object], tmp_path: Path
) -> None:
    path, report = report_file
    url = path.as_uri() + "#suite=math&status=error"
    shot = tmp_path / "report.png"
    run_browser(chromium, tmp_path, url, f"--screenshot={shot}")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000

    dom = parse(run_browser(chromium, tmp_path, url, "--dump-dom"), "examples")
    math = report.suites[1]  # type: ignore[attr-defined]
    expected = sorted(e.id for e in math.examples if e.error)
    assert expected, "the fixture report should have errored math examples"
    assert sorted(row[1] for row in dom.rows) == expected
    assert all(row[0] == "math" and row[2] == "error" and row[3] == "–" for row in dom.rows)
    assert all(row[7].startswith("LMCallFailed: RateLimitError") for row in dom.rows)
    assert dom.texts["f-info"] == f"{len(expected)} of 80 examples match"
    assert dom.attrs["examples"]["data-matching"] == str(len(expected))
    # The static parts rendered too: suites table and one histogram per suite.
    suites = parse(run_browser(chromium, tmp_path, url, "--dump-dom"), "suites")
    assert [row[0] for row in suites.rows] == ["qa", "math"]


def test_text_filter_and_unfiltered_table(
    chromium: str, report_file: tuple[Path, object], tmp_path: Path
) -> None:
    path, _ = report_file
    dom = parse(
        run_browser(chromium, tmp_path, path.as_uri() + "#q=QA-17", "--dump-dom"), "examples"
    )
    assert [row[1] for row in dom.rows] == ["qa-17"]  # case-insensitive, on the id
    assert dom.rows[0][4] == '{"question": "What is 17?", "context": {"n": 17}}'

    everything = parse(run_browser(chromium, tmp_path, path.as_uri(), "--dump-dom"), "examples")
    assert len(everything.rows) == 80
    assert everything.texts["f-info"] == "80 of 80 examples match"


def test_large_report_lists_the_first_500(chromium: str, tmp_path: Path) -> None:
    write_reports(build_report(n=400, seed=2, suites=("a", "b")), tmp_path, formats=("html",))
    url = (tmp_path / "report.html").as_uri()
    dom = parse(run_browser(chromium, tmp_path, url, "--dump-dom"), "examples")
    assert len(dom.rows) == 500
    assert dom.texts["f-info"] == "800 of 800 examples match; showing the first 500"


def test_comparison_page_renders(chromium: str, tmp_path: Path) -> None:
    a = build_report(n=60, seed=1, p=0.5, label="before")
    b = build_report(n=60, seed=2, p=0.95, label="after")
    page = tmp_path / "compare.html"
    compare.write(compare.compare_runs(a, b), page, "html")
    shot = tmp_path / "compare.png"
    run_browser(chromium, tmp_path, page.as_uri(), f"--screenshot={shot}")
    assert shot.read_bytes()[:4] == b"\x89PNG"
    dom = parse(run_browser(chromium, tmp_path, page.as_uri(), "--dump-dom"), "suites")
    assert [row[0] for row in dom.rows] == ["qa", "math"]
    assert dom.rows[0][5] == "better"
