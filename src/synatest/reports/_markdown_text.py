"""Untrusted text inside Markdown: shown as typed (predictions, inputs, names, labels)."""

from __future__ import annotations

import re

# What would not show as typed in GitHub Markdown: emphasis, code, links and images
# (`![](https://tracker)`), tables, strikethrough and math (`$`) are backslash-escaped;
# `<` that would open raw HTML (`<img>`, `<details>`, `<https://...>`) and `&` that
# would spell an entity become entities. "a < b" and "R&D" stay as they are.
# `$` only where it could open math (`$x$`), not in amounts such as `$0.0060`.
_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]|~!]|\$(?![\d\s]))")
_HTML_START = re.compile(r"<(?=[A-Za-z/!?])")
_ENTITY_START = re.compile(r"&(?=#?\w+;)")


# C0 controls but tab/newline/CR, and DEL: NUL or ESC (terminal escapes) show as
# their Unicode control pictures (␀, ␛), never as raw bytes.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _picture(match: re.Match[str]) -> str:
    code = ord(match[0])
    return "\u2421" if code == 0x7F else chr(0x2400 + code)


def escape(text: str) -> str:
    """``text`` shown literally in Markdown (inline): specials escaped, HTML as entities,
    control characters as their pictures."""
    text = _CONTROL.sub(_picture, text)
    text = _INLINE_SPECIAL.sub(lambda m: "\\" + m[0], text)
    text = _ENTITY_START.sub("&amp;", text)  # before `<` becomes the entity `&lt;`
    return _HTML_START.sub("&lt;", text)


def _longest_run(text: str, char: str) -> int:
    runs = re.findall(f"{re.escape(char)}+", text)
    return max((len(run) for run in runs), default=0)


def code(text: str) -> str:
    """An inline code span holding ``text`` exactly (backticks inside cannot close it)."""
    text = _CONTROL.sub(_picture, " ".join(text.split()))
    ticks = "`" * (_longest_run(text, "`") + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def fence(lines: list[str], info: str = "") -> list[str]:
    """A fenced code block around ``lines`` that no line inside can close."""
    ticks = "`" * max(3, _longest_run("\n".join(lines), "`") + 1)
    return [f"{ticks}{info}", *lines, ticks]
