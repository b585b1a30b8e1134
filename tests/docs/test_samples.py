"""Every ```python block of the docs and the README runs here, so a sample cannot rot.

The rules (also written down in docs/contributing.md):

- A block that defines a pytest test (``def test_`` / ``async def test_``) is a test
  module. It is written into a ``pytester`` directory and run in-process, with synatest
  active through its entry point as for any user. It must pass and run at least one
  test: a sample that collects nothing fails here.
- Any other block is a snippet: it runs in a fresh namespace inside an async test
  (top-level ``await`` allowed), with the test's own synatest router, in a temp dir.
- Settings in the fence info, written ```` ```{.python key="value"} ```` (the form both
  pytest-examples and mkdocs' superfences read):
  ``files="a b"`` copies those repo paths into the run directory (datasets, cassettes);
  ``args="..."`` adds pytest arguments to a test module run;
  ``test="skip"`` skips the block (rare; the page says why next to it).
  Other fence languages (``text``, ``console``, ``bash``) are not run.
- Samples are ``ruff format``-ed (line length 100).
- A test module whose first line is a comment naming a file (``# test_qa.py``) is
  written under that name.
"""

from __future__ import annotations

import ast
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from pytest_examples import CodeExample, find_examples

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
README_MAX_LINES = 300

EXAMPLES = sorted(find_examples(ROOT / "docs", README), key=lambda e: (str(e.path), e.start_line))


def _id(example: CodeExample) -> str:
    return f"{example.path.relative_to(ROOT)}:{example.start_line}"


def _is_test_module(example: CodeExample) -> bool:
    return re.search(r"^\s*(async\s+)?def test_", example.source, flags=re.M) is not None


def _params(test_modules: bool) -> list[object]:
    return [
        pytest.param(e, id=_id(e))
        for e in EXAMPLES
        if e.prefix.lstrip("{.").split()[0].rstrip("}") in ("py", "python")
        and _is_test_module(e) == test_modules
    ]


def _settings(example: CodeExample) -> dict[str, str]:
    settings = example.prefix_settings()
    if settings.get("test") == "skip":
        pytest.skip(f'{_id(example)} is marked test="skip" (its page says why)')
    return settings


def _copy_files(settings: dict[str, str], dest: Path) -> None:
    for rel in shlex.split(settings.get("files", "")):
        source = ROOT / rel
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            shutil.copy2(source, target)


@pytest.fixture(autouse=True)
def _no_leaked_scrubbers():
    """A sample may register cassette scrubbers (process-wide): drop them afterwards."""
    yield
    from synatest.cassettes.normalize import clear_registered_scrubbers

    clear_registered_scrubbers()


def test_samples_were_found() -> None:
    assert len(_params(True)) >= 10, "the docs lost their test-module samples"
    assert any(e.path == README for e in EXAMPLES), "the README quickstart is not collected"


@pytest.mark.parametrize("example", _params(test_modules=True))
def test_module_sample(example: CodeExample, pytester: pytest.Pytester) -> None:
    settings = _settings(example)
    first_line = example.source.lstrip().splitlines()[0]
    named = re.fullmatch(r"#\s*(test_\w+\.py)\s*", first_line)
    name = named.group(1) if named else f"test_{example.path.stem}_{example.start_line}.py"
    name = name.replace("-", "_")
    (pytester.path / name).write_text(example.source)
    _copy_files(settings, pytester.path)
    args = shlex.split(settings.get("args", ""))
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-q", *args, name)
    outcomes = result.parseoutcomes()
    output = "\n".join(result.outlines)
    assert result.ret == 0, f"{_id(example)} failed:\n{output}"
    assert outcomes.get("passed", 0) >= 1, f"{_id(example)} ran no test:\n{output}"


@pytest.mark.parametrize("example", _params(test_modules=False))
async def test_snippet_sample(
    example: CodeExample, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(example)
    _copy_files(settings, tmp_path)
    monkeypatch.chdir(tmp_path)
    code = compile(example.source, _id(example), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    namespace: dict[str, object] = {"__name__": f"sample_{example.start_line}"}
    result = eval(code, namespace)
    if result is not None:  # the snippet used top-level await
        await result


def test_samples_are_formatted() -> None:
    """Samples follow the project's style (``ruff format``, line length 100)."""
    ruff = shutil.which("ruff")
    if ruff is None:  # pragma: no cover - ruff is a dev dependency
        pytest.skip("ruff is not installed")
    unformatted = []
    for example in EXAMPLES:
        done = subprocess.run(
            [ruff, "format", "--line-length", "100", "-"],
            input=example.source,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0 or done.stdout != example.source:
            unformatted.append(_id(example))
    assert not unformatted, f"run ruff format on these samples: {unformatted}"


def test_readme_is_a_front_page() -> None:
    lines = README.read_text().splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines"
