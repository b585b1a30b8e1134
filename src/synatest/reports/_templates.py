"""The jinja2 environment of the Markdown and HTML templates (package data)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from synatest.reports import _rows


@functools.cache
def environment(autoescape: bool) -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("synatest.reports", "templates"),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["f"] = _rows.fmt_float
    env.filters["cost"] = _rows.fmt_cost
    env.filters["compact"] = _rows.compact
    if not autoescape:
        env.filters["md"] = _rows.escape
        env.filters["code"] = _rows.code
    env.globals["ci"] = _rows.fmt_ci
    env.globals["suite_status"] = _rows.suite_status
    env.globals["status"] = _rows.status
    env.globals["pass_at_k"] = _rows.fmt_pass_at_k
    env.globals["matrix_cell_lines"] = _rows.matrix_cell_lines
    return env


def render(name: str, **context: Any) -> str:
    autoescape = name.endswith(".html.j2")
    return str(environment(autoescape).get_template(name).render(**context))


def render_as[T](renderers: Mapping[str, Callable[[T], str]], value: T, fmt: str) -> str:
    """``value`` rendered by the renderer of format ``fmt`` (md, html, json)."""
    try:
        renderer = renderers[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(renderers)}") from None
    return renderer(value)
