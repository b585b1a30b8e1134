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

from .conftest import build_repeated_report, build_report

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


# -- clicking an example: a real click through the DevTools protocol -----------------------


class DevTools:
    """Chromium driven over ``--remote-debugging-pipe`` (fds 3 and 4, NUL-framed JSON)."""

    def __init__(self, chromium: str, profile: Path) -> None:
        import json
        import os

        self._json = json
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def wire() -> None:  # in the child: its fds 3 and 4 are the two pipe ends
            read_end, write_end = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)

        self.proc = subprocess.Popen(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-extensions",
                "--host-resolver-rules=MAP * ~NOTFOUND",
                f"--user-data-dir={profile}",
                "--window-size=1400,1600",
                "--remote-debugging-pipe",
                "about:blank",
            ],
            # preexec_fn runs before close_fds would close 3 and 4; the pipes' own fds
            # are not inheritable (PEP 446), so only the dup2-ed 3 and 4 reach chromium.
            close_fds=False,
            preexec_fn=wire,  # noqa: PLW1509 - only dup2, safe before exec
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._next_id = 0
        self.session: str | None = None

    def send(self, method: str, **params: object) -> dict[str, object]:
        import os

        self._next_id += 1
        message: dict[str, object] = {"id": self._next_id, "method": method, "params": params}
        if self.session is not None:
            message["sessionId"] = self.session
        os.write(self._to_chrome, self._json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._next_id:
                assert "error" not in reply, reply
                return reply["result"]  # type: ignore[return-value]

    def _read(self) -> dict[str, object]:
        import os

        while b"\0" not in self._buffer:
            chunk = os.read(self._from_chrome, 65536)
            assert chunk, "chromium closed the DevTools pipe"
            self._buffer += chunk
        frame, self._buffer = self._buffer.split(b"\0", 1)
        return self._json.loads(frame)  # type: ignore[no-any-return]

    def open(self, url: str) -> None:
        import time

        target = self.send("Target.createTarget", url=url)
        attached = self.send("Target.attachToTarget", targetId=target["targetId"], flatten=True)
        self.session = str(attached["sessionId"])
        deadline = time.monotonic() + 30
        # A new target reports about:blank as loaded before the navigation commits:
        # wait for the page itself (its URL) to be loaded.
        ready = f"location.href === {url!r} && document.readyState === 'complete'"
        while self.evaluate(ready) is not True:
            assert time.monotonic() < deadline, "the page did not load"
            time.sleep(0.05)

    def evaluate(self, expression: str) -> object:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")  # type: ignore[union-attr]

    def click(self, selector: str) -> None:
        """A real mouse click (press and release) at the middle of the element."""
        box = self.evaluate(
            f"(() => {{ const e = document.querySelector({selector!r});"
            " e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
            " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        x, y = box  # type: ignore[misc]
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def close(self) -> None:
        import os

        self.proc.kill()
        self.proc.wait(timeout=30)
        os.close(self._to_chrome)
        os.close(self._from_chrome)


def test_clicking_an_example_shows_its_runs_and_transcripts(chromium: str, tmp_path: Path) -> None:
    write_reports(build_repeated_report(), tmp_path, formats=("html",))
    browser = DevTools(chromium, tmp_path / "profile")
    try:
        browser.open((tmp_path / "report.html").as_uri())
        assert browser.evaluate("document.querySelectorAll('tr.detail').length") == 0
        browser.click("#examples tbody tr.example")
        text = browser.evaluate("document.querySelector('tr.detail').innerText")
        assert isinstance(text, str)
        for expected in (
            "Run 1 of 3 — passed, reward 1.000",
            "Run 2 of 3 — failed, reward 0.000",
            'answer: expected "Paris", got "Lyon"',  # the diff with the expected output
            "[1] completion openai/gpt-4o-mini · from cassette · 12 ms · 25 tokens",
            "What is the capital of France?",
            '"answer": "Lyon"',  # the structured reply, pretty-printed
        ):
            assert expected in text, (expected, text)
        # Chat layout: each message in its own bubble, by role.
        roles = browser.evaluate(
            "[...document.querySelectorAll('tr.detail [data-run=\"2\"] .msg .role')]"
            ".map(e => e.textContent)"
        )
        assert roles == ["system", "user", "reply"]
        # Untrusted text is shown as text, never run as HTML.
        assert browser.evaluate("document.title") == "synatest report"
        assert browser.evaluate("document.querySelectorAll('tr.detail img').length") == 0
        browser.click("#examples tbody tr.example")  # a second click closes it
        assert browser.evaluate("document.querySelectorAll('tr.detail').length") == 0
    finally:
        browser.close()
