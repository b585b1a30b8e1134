"""The last line of defence before a cassette reaches the disk: secrets, by name and shape.

Requests are recorded from an allowlist (no headers, no api keys), and every field,
header, query parameter or JSON key whose *name* looks like a credential
(:func:`secret_name`) is dropped before recording, in both layers. A secret can then
only get in through a prompt or a reply, so before any cassette is written its text
is searched for:

- the value of every environment variable whose name looks like a credential, in
  the shapes it takes on the wire: as is, URL-encoded, JSON-escaped, and base64
  encoded at any alignment (as in ``Authorization: Basic ...``);
- well-known key shapes (``sk-...``, ``ghp_...``, JWTs, private key blocks, ...).

A hit refuses the save. Messages name the variable or key kind and the line, never
the value.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import quote, quote_plus

from synatest.errors import CassetteError

# Name segments (split on `_`, `-`, `.` and camelCase) that mark a credential.
SECRET_WORDS = frozenset(
    {
        "key",
        "apikey",
        "token",
        "secret",
        "secrets",
        "password",
        "passwd",
        "pass",
        "pwd",
        "credential",
        "credentials",
        "pat",
        "auth",
        "authorization",
        "cookie",
        "signature",
        "sig",
    }
)
# Whole names that look like credentials but are not: the shell's directories.
NOT_SECRET_NAMES = frozenset({"pwd", "oldpwd"})
# A last segment that makes the name about a credential, not the credential itself.
NOT_SECRET_SUFFIXES = frozenset(
    {"id", "file", "path", "dir", "url", "uri", "sock", "name", "type", "prefix", "header"}
)
# Values shorter than this are too likely to occur by chance ("true", "0", "none").
MIN_SECRET_LENGTH = 8

KEY_PATTERNS: dict[str, re.Pattern[str]] = {
    "OpenAI-style key (sk-...)": re.compile(r"\bsk-(?:proj-|ant-|or-)?[A-Za-z0-9_\-]{20,}"),
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})"),
    "GitLab token": re.compile(r"\bglpat-[A-Za-z0-9_\-]{20,}"),
    "Slack token": re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_\-]{35}"),
    "Hugging Face token": re.compile(r"\bhf_[A-Za-z0-9]{30,}"),
    "Groq key": re.compile(r"\bgsk_[A-Za-z0-9]{40,}"),
    "xAI key": re.compile(r"\bxai-[A-Za-z0-9]{40,}"),
    "Perplexity key": re.compile(r"\bpplx-[A-Za-z0-9]{40,}"),
    "Replicate token": re.compile(r"\br8_[A-Za-z0-9]{30,}"),
    "Stripe key": re.compile(r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{20,}"),
    "npm token": re.compile(r"\bnpm_[A-Za-z0-9]{36}\b"),
    "JSON web token": re.compile(
        r"\beyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}"
    ),
    "private key": re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----"),
    "bearer credential": re.compile(r"\bBearer\s+[A-Za-z0-9_\-\.=~+/]{20,}"),
    "basic-auth credential": re.compile(r"\bBasic\s+[A-Za-z0-9+/]{16,}={0,2}"),
    "password in a URL": re.compile(r"\b[a-z][a-z0-9+.\-]*://[^\s:/@\"']+:[^\s/@\"']{3,}@"),
}

_SEGMENTS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def name_words(name: str) -> list[str]:
    """``"OPENAI_API_KEY"`` -> ``["openai", "api", "key"]``; camelCase split too."""
    words: list[str] = []
    for part in re.split(r"[_\-.\s]+", name):
        words += [w.lower() for w in _SEGMENTS.findall(part)]
    return words


def secret_name(name: str) -> bool:
    """Does this name (env variable, header, query or JSON key) look like a credential?

    ``OPENAI_API_KEY``, ``AZURE_OPENAI_KEY``, ``x-api-key``, ``Authorization``,
    ``aws_secret_access_key``, ``apiKey``, ``GITHUB_PAT`` do; ``AWS_ACCESS_KEY_ID``,
    ``GOOGLE_APPLICATION_CREDENTIALS_FILE``, ``SSH_AUTH_SOCK``, ``max_tokens`` do not.
    """
    words = name_words(name)
    if not words or words[-1] in NOT_SECRET_SUFFIXES or name.lower() in NOT_SECRET_NAMES:
        return False
    if words[-1] == "tokens" or (len(words) > 1 and words[-2:] == ["max", "tokens"]):
        return False
    return any(word in SECRET_WORDS for word in words)


# Kept for callers of the first version: a regex over env variable names.
SECRET_ENV = re.compile(
    r"(?:_API_KEY|_APIKEY|_TOKEN|_SECRET|_SECRET_KEY|_ACCESS_KEY|_PASSWORD|^API_KEY|^TOKEN)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class SecretHit:
    what: str  # "the value of $OPENAI_API_KEY" or a key kind
    line: int

    def __str__(self) -> str:
        return f"line {self.line}: {self.what}"


def secret_values(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment variables that hold secrets: name -> value (stripped)."""
    env = os.environ if environ is None else environ
    return {
        name: value.strip()
        for name, value in env.items()
        if secret_name(name) and len(value.strip()) >= MIN_SECRET_LENGTH
    }


def _base64_shapes(value: bytes) -> Iterator[str]:
    """Substrings every base64 text holding ``value`` contains, at each of 3 alignments."""
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + value).decode("ascii")
        full = (shift + len(value)) // 3 * 4  # groups made of whole input bytes
        start = 4 if shift else 0  # the first group mixes in the unknown prefix
        core = encoded[start:full]
        if len(core) >= MIN_SECRET_LENGTH:
            yield core
            yield core.replace("+", "-").replace("/", "_")  # urlsafe alphabet


def value_shapes(value: str) -> list[tuple[str, str]]:
    """The forms a secret value takes in a file: (shape, text to search), raw first."""
    shapes = [("", value)]
    for shape, shaped in (
        ("URL-encoded", quote(value, safe="")),
        ("URL-encoded", quote_plus(value)),
        ("JSON-escaped", json.dumps(value)[1:-1]),
        ("JSON-escaped", json.dumps(value, ensure_ascii=False)[1:-1]),
    ):
        if shaped != value:
            shapes.append((shape, shaped))
    shapes += [("base64-encoded", core) for core in _base64_shapes(value.encode("utf-8"))]
    return shapes


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def scan(text: str, environ: Mapping[str, str] | None = None) -> list[SecretHit]:
    """Every secret found in ``text`` (at most one hit per variable or key kind)."""
    hits = []
    for name, value in sorted(secret_values(environ).items()):
        for shape, shaped in value_shapes(value):
            index = text.find(shaped)
            if index >= 0:
                label = f" ({shape})" if shape else ""
                hits.append(SecretHit(f"the value of ${name}{label}", _line_of(text, index)))
                break
    for kind, pattern in KEY_PATTERNS.items():
        match = pattern.search(text)
        if match:
            hits.append(
                SecretHit(f"something that looks like a {kind}", _line_of(text, match.start()))
            )
    return hits


def refuse(text: str, action: str, advice: str, environ: Mapping[str, str] | None = None) -> None:
    """Raise if ``text`` holds a secret: ``refusing to {action}: it contains ... {advice}``.

    Raises:
        CassetteError: naming every hit (variable or key kind, and line), never a value.
    """
    hits = scan(text, environ)
    if hits:
        found = "; ".join(str(hit) for hit in hits)
        raise CassetteError(f"refusing to {action}: it contains {found}. {advice}")


REDACTED = "<redacted>"


def redact(text: str, environ: Mapping[str, str] | None = None) -> str:
    """``text`` with every secret :func:`scan` would find replaced by ``<redacted>``.

    For data that is copied rather than recorded (``synatest traces import --redact``):
    the same rules as the scan, so a redacted text scans clean.
    """
    for _name, value in sorted(secret_values(environ).items()):
        for _shape, shaped in value_shapes(value):
            text = text.replace(shaped, REDACTED)
    for pattern in KEY_PATTERNS.values():
        text = pattern.sub(REDACTED, text)
    return text
