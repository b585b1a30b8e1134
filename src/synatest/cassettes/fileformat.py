"""The cassette file format: YAML as synatest writes it, reading a file, and its seal.

YAML is loaded with the safe loader only (plain data, no Python tags); long and
multi-line strings are dumped as literal blocks, vectors of numbers on one line.

The seal is proof that a file is exactly what synatest wrote.

A cassette of format 2 ends with one comment line::

    # synatest-seal: sha256=<hex digest of everything above> interactions=<count>

A file cut short (a disk that filled up, an interrupted copy or checkout) loses
its seal line or breaks its digest; a merge conflict or a hand edit changes the
digest. Either way loading fails with a message naming the file, instead of
replaying fewer recordings than were made (YAML cut at an item boundary is still
valid YAML). Format-1 files (written before seals existed) have no seal and load
as before; the next save, or ``synatest cassettes check --fix``, seals them.

The digest is taken over the text with ``\\r\\n`` read as ``\\n``, so a checkout
that converts line endings keeps the seal valid.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from synatest.errors import CassetteError, decode_error_message

SEAL_PREFIX = "# synatest-seal: "
_SEAL_LINE = re.compile(r"# synatest-seal: sha256=([0-9a-f]{64}) interactions=(\d+)\n\Z")
# The format a file declares, read from its first line without parsing the YAML
# (which a truncated file may no longer be).
_DECLARED = re.compile(r"\Asynatest_cassette: *(\d+) *(?:\n|\Z)")


def digest(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def seal(body: str, interactions: int) -> str:
    """``body`` followed by its seal line."""
    if not body.endswith("\n"):
        body += "\n"
    return f"{body}{SEAL_PREFIX}sha256={digest(body)} interactions={interactions}\n"


@dataclass(frozen=True)
class Unsealed:
    """What :func:`open_seal` found: the text without its seal, and the sealed count."""

    body: str
    sealed: bool
    interactions: int | None = None


def missing_seal_message(where: object, fmt: int) -> str:
    return (
        f"{where}: cassette is truncated or damaged: its last line is not the "
        f"`{SEAL_PREFIX.strip()}` line that synatest writes at the end of every "
        f"cassette (format {fmt}). Restore it from version control, or delete it "
        "and re-record with --synalinks-record-mode=rewrite."
    )


def declared_format(text: str) -> int | None:
    match = _DECLARED.match(text)
    return int(match[1]) if match else None


def open_seal(
    text: str, *, where: object, sealed_from: int = 2, latest: int = 2, required: bool = False
) -> Unsealed:
    """Check the seal of a cassette's text and return its body.

    Args:
        text: the whole file, ``\\r\\n`` already read as ``\\n``.
        where: the file, for messages.
        sealed_from: the first format version that carries a seal (default 2).
        latest: the newest format this synatest knows (a newer one is reported as
            unsupported by the parser, not as unsealed).
        required: the file must carry a seal whatever its first line says (HTTP
            cassettes, whose first line is vcrpy's).

    Raises:
        CassetteError: the seal is missing from a file whose format has one, or
            does not match the text above it.
    """
    match = _SEAL_LINE.search(text)
    fmt = declared_format(text)
    if match is None:
        if required or (fmt is not None and sealed_from <= fmt <= latest):
            raise CassetteError(missing_seal_message(where, fmt or latest))
        return Unsealed(text, sealed=False)
    body = text[: match.start()]
    if digest(body) != match[1]:
        raise CassetteError(
            f"{where}: cassette does not match its seal (sha256): it was cut short, "
            "corrupted, merged with conflicts, or edited by hand after synatest wrote it. "
            "Restore it from version control or re-record it with "
            "--synalinks-record-mode=rewrite; if you edited it on purpose, re-seal it with "
            f"`synatest cassettes check --fix {where}`."
        )
    return Unsealed(body, sealed=True, interactions=int(match[2]))


def strip_seal(text: str) -> str:
    """``text`` without its seal line (unchanged when it has none)."""
    match = _SEAL_LINE.search(text)
    return text if match is None else text[: match.start()]


def read_cassette_text(path: Path, *, missing_ok: bool = False) -> str | None:
    """A cassette file's text (``\\r\\n`` read as ``\\n``); None when missing and allowed.

    Raises:
        CassetteError: naming the file (and the byte offset when it is not UTF-8).
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        if missing_ok:
            return None
        raise CassetteError(f"cassette {path} does not exist") from None
    except OSError as error:
        raise CassetteError(f"cannot read cassette {path}: {error}") from error
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CassetteError(
            "cassette "
            + decode_error_message(path, data, error)
            + " (a cassette cut short inside a character, or written by another tool); "
            "restore it from version control or re-record it with "
            "--synalinks-record-mode=rewrite"
        ) from None
    return text.replace("\r\n", "\n")


# --- YAML ---------------------------------------------------------------------

_Loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BaseDumper: type[Any] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_BaseDumper):  # type: ignore[misc,valid-type]
    """Safe dumper: literal blocks for long or multi-line text, flow style for vectors."""


def _represent_str(dumper: Any, value: str) -> Any:
    if "\n" in value or len(value) > 80:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


def _represent_list(dumper: Any, value: list[Any]) -> Any:
    flow = bool(value) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in value
    )
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(list, _represent_list)


def dump_yaml(data: Any) -> str:
    text: str = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=1_000_000_000,
        default_flow_style=False,
    )
    return text


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)
