"""The README's Layout table matches the tree and the import-linter layers contract.

`uv run lint-imports` enforces the layers; this test keeps the picture of them in the
README true: same rows in the same order, every package and top-level module of
``src/synatest`` in exactly one row, and every module of a package listed.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "synatest"
_CODE = re.compile(r"`([^`]+)`")


def _layout_rows() -> list[tuple[list[str], str]]:
    """(names of the layer, modules cell) for each row of the README's Layout table."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        names = [name.rstrip("/").removesuffix(".py") for name in _CODE.findall(cells[0])]
        rows.append((names, cells[1]))
    return rows


def _contract_layers() -> list[set[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    (layers,) = [c["layers"] for c in contracts if c["type"] == "layers"]
    return [{name.strip() for name in re.split(r"[|:]", layer)} for layer in layers]


def _top_level() -> set[str]:
    packages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    modules = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__", "__main__"}
    return packages | modules


def _modules_of(package: str) -> set[str]:
    return {p.name for p in (PACKAGE / package).glob("*.py")} - {"__init__.py", "__main__.py"}


def test_readme_layout_rows_are_the_import_linter_layers_in_order() -> None:
    rows = _layout_rows()
    assert [set(names) for names, _ in rows] == _contract_layers()


def test_every_package_and_module_of_src_is_in_one_row() -> None:
    listed = [name for names, _ in _layout_rows() for name in names]
    assert sorted(listed) == sorted(set(listed)), "a name appears in two rows"
    assert set(listed) == _top_level()
    leftovers = [p.name for p in PACKAGE.glob("*.py") if re.match(r"_plugin_|cli_", p.name)]
    assert leftovers == [], "plugin and CLI modules belong in plugin/ and cli/"


def test_every_module_of_each_package_is_listed() -> None:
    for names, cell in _layout_rows():
        packages = [n for n in names if (PACKAGE / n / "__init__.py").exists()]
        if not packages:
            continue
        groups = cell.split(";")
        for package in packages:
            if len(packages) == 1:
                group = cell
            else:
                (group,) = [g for g in groups if f"`{package}/`" in g] or [""]
            listed = {name for name in _CODE.findall(group) if name.endswith(".py")}
            assert listed == _modules_of(package), f"README Layout row of {package}/"
