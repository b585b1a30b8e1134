"""mkdocs hook: the option and CLI references are generated from the code at build time.

A page holds a placeholder line (``<!-- generated: flags -->`` or
``<!-- generated: cli -->``) that is replaced by what the code declares, so these pages
cannot drift from the parser. Only light modules are imported (no Synalinks).
"""

from __future__ import annotations

import argparse
import importlib
import os

FLAGS = "<!-- generated: flags -->"
CLI = "<!-- generated: cli -->"


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
    out = [f"{'#' * level} `{parser.prog}`", "", "```text", parser.format_help().rstrip(), "```", ""]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                out += _walk(sub, min(level + 1, 6))
    return out


def _cli() -> str:
    from synatest.cli import build_parser

    return "\n".join(_walk(build_parser(), 2))


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ANN001
    if FLAGS not in markdown and CLI not in markdown:
        return markdown
    os.environ["COLUMNS"] = "100"  # argparse wraps help to the terminal width
    if FLAGS in markdown:
        markdown = markdown.replace(FLAGS, _flags())
    if CLI in markdown:
        markdown = markdown.replace(CLI, _cli())
    return markdown
