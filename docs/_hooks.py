"""mkdocs hook: the option, marker, fixture and CLI references are generated at build time.

A page holds a placeholder line (``<!-- generated: flags -->``,
``<!-- generated: cli -->`` or ``<!-- generated: markers and fixtures -->``) that is
replaced by what the code declares, so these pages cannot drift from the code. Only
light modules are imported (no Synalinks); markers and fixtures are listed by
``pytest --markers`` / ``--fixtures`` run in an empty directory.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import subprocess
import sys
import tempfile

FLAGS = "<!-- generated: flags -->"
CLI = "<!-- generated: cli -->"
PYTEST = "<!-- generated: markers and fixtures -->"


def _flags() -> str:
    import synatest.plugin
    from synatest import options

    for name in synatest.plugin.FEATURE_PLUGINS:
        importlib.import_module(name)  # each feature declares its option group on import
    out: list[str] = []
    for group, opts in options.GROUPS.items():
        out += [f"### {group}", "", "| flag | ini key | default | what |", "|---|---|---|---|"]
        for opt in opts:
            if opt.flag:
                flag = f"`{opt.flag_name}`"
            else:
                value = opt.metavar or (
                    "{" + ",".join(opt.choices) + "}" if opt.choices else "VALUE"
                )
                value = f"[={value}]" if opt.nargs == "?" else f" {value}"
                flag = f"`{opt.flag_name}{value}`"
            ini = f"`{opt.dest}`" if opt.ini else "(none)"
            default = "off" if opt.flag else ("" if opt.default in (None, "") else opt.default)
            default = f"`{default}`" if default not in ("", "off") else (default or "(none)")
            text = " ".join(opt.help.split()).replace("%%", "%").replace("|", "\\|")
            out.append(f"| {flag} | {ini} | {default} | {text} |")
        out.append("")
    return "\n".join(out)


def _walk(parser: argparse.ArgumentParser, level: int) -> list[str]:
    out = [
        f"{'#' * level} `{parser.prog}`",
        "",
        "```text",
        parser.format_help().rstrip(),
        "```",
        "",
    ]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                out += _walk(sub, min(level + 1, 6))
    return out


def _cli() -> str:
    from synatest.cli import build_parser

    return "\n".join(_walk(build_parser(), 2))


def _pytest(*args: str) -> str:
    # Run in an empty directory, so only the installed plugins (synatest among them) load.
    with tempfile.TemporaryDirectory() as empty:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
            cwd=empty,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"},
        )
    return done.stdout


def _markers_and_fixtures() -> str:
    out = ["### Markers", ""]
    for line in _pytest("--markers").splitlines():
        if line.startswith("@pytest.mark.synalinks_"):
            signature, _, text = line.partition(": ")
            out.append(f"- `{signature}`: {text}")
    out += ["", "### Fixtures", ""]
    section = False
    for line in _pytest("--fixtures").splitlines():
        header = re.match(r"-+ fixtures defined from (\S+) -+$", line)
        if header:
            section = header.group(1).split(".")[0] == "synatest"
        elif section and line and not line.startswith(" "):
            name, _, _where = line.partition(" -- ")
            out.append(f"- `{name.split()[0]}`{name[len(name.split()[0]) :]}:")
        elif section and line.startswith("    "):
            out[-1] += " " + line.strip()
    if len(out) < 8:
        raise RuntimeError("docs hook: pytest listed no synatest markers or fixtures")
    return "\n".join(out) + "\n"


def on_page_markdown(markdown: str, page, config, files) -> str:
    if FLAGS not in markdown and CLI not in markdown and PYTEST not in markdown:
        return markdown
    os.environ["COLUMNS"] = "100"  # argparse wraps help to the terminal width
    if FLAGS in markdown:
        markdown = markdown.replace(FLAGS, _flags())
    if CLI in markdown:
        markdown = markdown.replace(CLI, _cli())
    if PYTEST in markdown:
        markdown = markdown.replace(PYTEST, _markers_and_fixtures())
    return markdown
