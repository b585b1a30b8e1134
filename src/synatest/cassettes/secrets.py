"""The last line of defence before a cassette reaches the disk: a scan for secrets.

Requests are recorded from an allowlist (no headers, no api keys), so a secret can
only get in through a prompt or a reply. Before any cassette is written, its text
is searched for the values of environment variables named ``*_API_KEY``,
``*_TOKEN``, ``*_SECRET`` (and a few more) and for well-known key prefixes; a hit
refuses the save. Messages name the variable or key kind and the line, never the
value.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

SECRET_ENV = re.compile(
    r"(?:_API_KEY|_APIKEY|_TOKEN|_SECRET|_SECRET_KEY|_ACCESS_KEY|_PASSWORD|^API_KEY|^TOKEN)$",
    re.IGNORECASE,
)
# Values shorter than this are too likely to occur by chance ("true", "0", "none").
MIN_SECRET_LENGTH = 8

KEY_PATTERNS: dict[str, re.Pattern[str]] = {
    "OpenAI-style key (sk-...)": re.compile(r"\bsk-(?:proj-|ant-|or-)?[A-Za-z0-9_\-]{20,}"),
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}"),
    "Slack token": re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_\-]{35}"),
    "Hugging Face token": re.compile(r"\bhf_[A-Za-z0-9]{30,}"),
    "Groq key": re.compile(r"\bgsk_[A-Za-z0-9]{40,}"),
    "bearer credential": re.compile(r"\bBearer\s+[A-Za-z0-9_\-\.=]{20,}"),
}


@dataclass(frozen=True)
class SecretHit:
    what: str  # "the value of $OPENAI_API_KEY" or a key kind
    line: int

    def __str__(self) -> str:
        return f"line {self.line}: {self.what}"


def secret_values(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment variables that hold secrets: name -> value."""
    env = os.environ if environ is None else environ
    return {
        name: value
        for name, value in env.items()
        if SECRET_ENV.search(name) and len(value.strip()) >= MIN_SECRET_LENGTH
    }


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def scan(text: str, environ: Mapping[str, str] | None = None) -> list[SecretHit]:
    """Every secret found in ``text`` (at most one hit per variable or key kind)."""
    hits = []
    for name, value in sorted(secret_values(environ).items()):
        index = text.find(value.strip())
        if index >= 0:
            hits.append(SecretHit(f"the value of ${name}", _line_of(text, index)))
    for kind, pattern in KEY_PATTERNS.items():
        match = pattern.search(text)
        if match:
            hits.append(
                SecretHit(f"something that looks like a {kind}", _line_of(text, match.start()))
            )
    return hits
