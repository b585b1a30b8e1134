"""A cassette file: recorded LM calls of one test, indexed for O(1) replay.

File format (YAML, loaded with the safe loader)::

    synatest_cassette: 2            # format version
    recorded_with: {synatest: ..., synalinks: ..., litellm: ..., python: ...}
    interactions:
    - kind: completion              # completion | embedding | decision
      request: {model: ..., messages: [...], response_format: {...}}   # normalized
      response_type: ModelResponse
      response: {...}               # or `stream: [chunks]`, or `error: {...}`
      cost: 0.00012
      latency_s: 0.84               # how long the live call took (latency budgets on replay)
    # synatest-seal: sha256=... interactions=1

Long and multi-line strings are written as literal blocks, vectors on one line.
Identical requests (self-consistency sampling) replay their occurrences in the
order they were recorded. Writes are atomic (temp file + ``os.replace``) and are
refused when the secret scan finds anything. The last line seals the file (see
:mod:`synatest.cassettes.fileformat`): a cassette cut short or changed after it was written
fails to load. Format 1 (no seal) is still read.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import yaml

from synatest._atomic import atomic_write_text
from synatest.cassettes import fileformat as sealing
from synatest.cassettes import secrets
from synatest.cassettes.fileformat import dump_yaml, load_yaml, read_cassette_text
from synatest.cassettes.normalize import Scrubber, normalize, request_key
from synatest.errors import CassetteError

# dump_yaml/load_yaml are re-exported: older imports (and the CLI) take them from here.
__all__ = [
    "FORMAT_VERSION",
    "READABLE_FORMATS",
    "Cassette",
    "Interaction",
    "dump_yaml",
    "iter_cassettes",
    "load_yaml",
    "read_cassette_text",
    "recorded_with",
    "reseal",
]

FORMAT_VERSION = 2
# Formats this synatest reads: 1 is format 2 without the seal line.
READABLE_FORMATS = (1, 2)
# Files at least this big are indexed lazily (see ``Cassette.load``).
LAZY_MIN_BYTES = 1_000_000
# An item of the `interactions:` list, as our dumper writes it: "- kind: K\n  key: HEX\n",
# then "  repeat: N\n" for a recording of run N > 0 of a repeated example.
_ITEM_START = re.compile(r"^- kind: ", re.MULTILINE)
# The reply part of an item: its first top-level key after the request.
_REPLY_START = re.compile(r"^  (?:response_type|response|stream|error):", re.MULTILINE)
_ITEM_HEAD = re.compile(r"- kind: ([a-z]+)\n  key: ([0-9a-f]{32})\n(?:  repeat: ([0-9]+)\n)?")
HEADER_KEY = "synatest_cassette"
KINDS = ("completion", "embedding", "decision")


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:  # pragma: no cover
        return "unknown"


def recorded_with() -> dict[str, str]:
    return {
        "synatest": _version("synatest"),
        "synalinks": _version("synalinks"),
        "litellm": _version("litellm"),
        "python": ".".join(map(str, sys.version_info[:3])),
    }


@dataclass
class Interaction:
    """One recorded call: its normalized request and what came back."""

    kind: str
    request: dict[str, Any]
    response_type: str | None = None
    response: dict[str, Any] | None = None
    stream: list[dict[str, Any]] | None = None
    error: dict[str, Any] | None = None
    cost: float | None = None
    # Seconds the live call took (its retries' waits left out); None in older files.
    latency_s: float | None = None
    key: bytes = b""
    used: bool = False
    # The run of a repeated eval example that made the call (0: not repeated, or run 1).
    repeat: int = 0
    # Set for recordings of read-only extra cassettes.
    source: Path | None = None
    # Lazily loaded: the YAML text of this item, parsed on first use (big files),
    # and where it is ("FILE: interaction #N" starting at file line ``line``) for
    # error messages.
    chunk: str | None = field(default=None, repr=False)
    reply_loaded: bool = field(default=True, repr=False)
    origin: str = field(default="", repr=False)
    line: int = field(default=0, repr=False)

    def _load_chunk(self, offset: int = 0) -> Any:
        """Parse the chunk from character ``offset`` on; errors give the file's line."""
        assert self.chunk is not None
        try:
            return load_yaml(self.chunk[offset:])
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            at = ""
            if mark is not None and self.line:
                at = f" at line {self.line + self.chunk.count(chr(10), 0, offset) + mark.line}"
            problem = getattr(error, "problem", None) or error
            raise CassetteError(
                f"{self.origin or 'cassette'} is not valid YAML{at} ({problem}); fix it and "
                "re-seal it (`synatest cassettes check --fix`), or delete the cassette and "
                "re-record with --synalinks-record-mode=rewrite"
            ) from error

    def materialize(self) -> Interaction:
        """Parse a lazily loaded recording (no-op otherwise)."""
        if self.chunk is None:
            return self
        items = self._load_chunk()
        self.chunk = None
        parsed = Interaction.from_data(
            items[0] if isinstance(items, list) and items else items,
            where=self.origin or str(self.source or "cassette"),
        )
        self.kind, self.request = parsed.kind, parsed.request
        self.response_type, self.response = parsed.response_type, parsed.response
        self.stream, self.error, self.cost = parsed.stream, parsed.error, parsed.cost
        self.latency_s = parsed.latency_s
        self.repeat = parsed.repeat
        self.reply_loaded = True
        return self

    def materialize_reply(self) -> Interaction:
        """Parse only what replay needs (the reply and its cost), not the request.

        The request is usually most of a recording (prompts, schemas); it stays
        unparsed until a miss message, a save or a listing needs it.
        """
        if self.chunk is None or self.reply_loaded:
            return self
        match = _REPLY_START.search(self.chunk)
        if match is None:
            return self.materialize()
        data = self._load_chunk(match.start())
        if not isinstance(data, dict):
            return self.materialize()
        outcomes = [name for name in ("response", "stream", "error") if data.get(name) is not None]
        if len(outcomes) != 1:
            return self.materialize()  # let the full parse explain what is wrong
        self.response, self.stream, self.error = (
            data.get("response"),
            data.get("stream"),
            data.get("error"),
        )
        self.response_type = data.get("response_type") or (
            "ModelResponse" if self.response is not None else None
        )
        cost = data.get("cost")
        self.cost = float(cost) if isinstance(cost, (int, float)) else None
        latency = data.get("latency_s")
        self.latency_s = float(latency) if isinstance(latency, (int, float)) else None
        self.reply_loaded = True
        return self

    def to_data(self) -> dict[str, Any]:
        self.materialize()
        data: dict[str, Any] = {"kind": self.kind, "key": self.key.hex()}
        if self.repeat:
            data["repeat"] = self.repeat
        data["request"] = self.request
        if self.error is not None:
            data["error"] = self.error
        elif self.stream is not None:
            data["stream"] = self.stream
        else:
            data["response_type"] = self.response_type or "ModelResponse"
            data["response"] = self.response
        if self.cost is not None:
            data["cost"] = self.cost
        if self.latency_s is not None:
            data["latency_s"] = self.latency_s
        return data

    @classmethod
    def from_data(cls, data: Any, *, where: str) -> Interaction:
        if not isinstance(data, dict):
            raise CassetteError(f"{where}: an interaction must be a mapping, got {data!r:.80}")
        kind = data.get("kind", "completion")
        if kind not in KINDS:
            raise CassetteError(f"{where}: unknown kind {kind!r}; expected one of {KINDS}")
        request = data.get("request")
        if not isinstance(request, dict):
            raise CassetteError(f"{where}: `request` must be a mapping")
        outcomes = [name for name in ("response", "stream", "error") if data.get(name) is not None]
        if len(outcomes) != 1:
            raise CassetteError(
                f"{where}: needs exactly one of `response`, `stream`, `error` "
                f"(found {outcomes or 'none'})"
            )
        repeat = data.get("repeat", 0)
        if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 0:
            raise CassetteError(f"{where}: `repeat` must be a whole number >= 0, got {repeat!r}")
        cost = data.get("cost")
        if cost is not None and not isinstance(cost, (int, float)):
            raise CassetteError(f"{where}: `cost` must be a number, got {cost!r}")
        latency = data.get("latency_s")
        if latency is not None and (
            isinstance(latency, bool) or not isinstance(latency, (int, float)) or latency < 0
        ):
            raise CassetteError(f"{where}: `latency_s` must be seconds >= 0, got {latency!r}")
        stream = data.get("stream")
        if stream is not None and not (
            isinstance(stream, list) and all(isinstance(c, dict) for c in stream)
        ):
            raise CassetteError(f"{where}: `stream` must be a list of chunk mappings")
        for name in ("response", "error"):
            if data.get(name) is not None and not isinstance(data[name], dict):
                raise CassetteError(f"{where}: `{name}` must be a mapping")
        return cls(
            kind=kind,
            request=request,
            response_type=data.get("response_type")
            or ("ModelResponse" if data.get("response") else None),
            response=data.get("response"),
            stream=stream,
            error=data.get("error"),
            cost=None if cost is None else float(cost),
            latency_s=None if latency is None else float(latency),
            repeat=repeat,
        )


def _slot(key: bytes, repeat: int) -> bytes:
    """Where a recording is indexed: its request key, plus the run index for runs > 0."""
    return key if not repeat else key + b"#%d" % repeat


@dataclass
class Cassette:
    """The recordings of one cassette file, indexed by normalized request.

    Args:
        path: the YAML file.
        scrubbers: applied to requests before matching (and before recording).
        match_api_base: also match on ``api_base`` (default False).
        allow_repeats: once a request's recordings are used up, replay the last one
            again instead of missing (default False).
    """

    path: Path
    scrubbers: Sequence[Scrubber] = ()
    match_api_base: bool = False
    allow_repeats: bool = False
    interactions: list[Interaction] = field(default_factory=list)
    header: dict[str, Any] = field(default_factory=dict)
    loaded_from_disk: bool = False
    dirty: bool = False
    # The format the file declared, and whether its seal was checked (format >= 2).
    format: int = FORMAT_VERSION
    sealed: bool = False
    # Recordings (of a fully parsed file) whose stored `key:` is missing or outdated.
    stale_keys: list[int] = field(default_factory=list)
    # key -> indexes into ``interactions``, and how many of them were replayed.
    _index: dict[bytes, list[int]] = field(default_factory=dict, repr=False)
    # The request fields matched on, when narrower than the allowlist (a cassette
    # imported from Synalinks traces: header `match_on: [messages, model]`).
    match_on: tuple[str, ...] | None = None
    # Request keys with a recording of some run > 0 (recorded with repeats).
    _repeated: set[bytes] = field(default_factory=set, repr=False)
    _cursor: dict[bytes, int] = field(default_factory=dict, repr=False)

    # -- loading ----------------------------------------------------------------
    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        *,
        scrubbers: Sequence[Scrubber] = (),
        match_api_base: bool = False,
        allow_repeats: bool = False,
        missing_ok: bool = True,
        lazy: bool = True,
        verify_seal: bool = True,
    ) -> Cassette:
        """Load a cassette file (an empty cassette when it does not exist and ``missing_ok``).

        Big files (>= ``LAZY_MIN_BYTES``) whose every recording carries its ``key:``
        line are indexed without parsing, and each recording is parsed when first
        replayed: PyYAML builds ~1 MB/s, too slow for a 20,000-recording cassette.
        ``lazy=False`` parses everything (and recomputes every key from the request,
        so hand-edited requests and newly added scrubbers take effect).
        ``verify_seal=False`` skips the seal check (for re-sealing a file edited on
        purpose); the file must still parse.

        Raises:
            CassetteError: naming the file, when it cannot be read, is not UTF-8 (with
                the byte offset), is truncated or changed after it was written (seal),
                or is not a valid cassette.
        """
        cassette = cls(
            Path(path),
            scrubbers=tuple(scrubbers),
            match_api_base=match_api_base,
            allow_repeats=allow_repeats,
        )
        text = read_cassette_text(cassette.path, missing_ok=missing_ok)
        if text is None:
            return cassette
        if verify_seal:
            opened = sealing.open_seal(
                text, where=cassette.path, sealed_from=2, latest=FORMAT_VERSION
            )
        else:
            opened = sealing.Unsealed(sealing.strip_seal(text), sealed=False)
        cassette.sealed = opened.sealed
        body = opened.body
        if not (lazy and len(body) >= LAZY_MIN_BYTES and cassette._index_lazily(body)):
            cassette._parse(body)
        if verify_seal and not opened.sealed and cassette.format >= 2:
            # The first line did not show the format (written by hand, or cut short).
            raise CassetteError(sealing.missing_seal_message(cassette.path, cassette.format))
        if opened.interactions is not None and opened.interactions != len(cassette):
            raise CassetteError(
                f"{cassette.path}: its seal counts {opened.interactions} interaction(s) but "
                f"the file holds {len(cassette)}; re-record it with "
                "--synalinks-record-mode=rewrite"
            )
        cassette.loaded_from_disk = True
        return cassette

    def _index_lazily(self, text: str) -> bool:
        """Index recordings by their stored ``key:`` lines; False when some lack one."""
        starts = [m.start() for m in _ITEM_START.finditer(text)]
        if not starts:
            return False
        header_text = text[: starts[0]]
        try:
            header = load_yaml(header_text)
        except yaml.YAMLError:
            return False  # the full parse explains what is wrong
        if not isinstance(header, dict) or header.get(HEADER_KEY) not in READABLE_FORMATS:
            return False
        entries = []
        line = header_text.count("\n") + 1
        for number, start in enumerate(starts):
            end = starts[number + 1] if number + 1 < len(starts) else len(text)
            match = _ITEM_HEAD.match(text, start)
            if match is None or match.end() > end:
                return False  # a hand-written item without its key: parse everything
            chunk = text[start:end]
            entries.append(
                (match[1], bytes.fromhex(match[2]), int(match[3] or 0), chunk, number, line)
            )
            line += chunk.count("\n")
        self.header = {k: v for k, v in header.items() if k != "interactions"}
        self._read_match_on()
        self.format = int(header[HEADER_KEY])
        for kind, key, repeat, chunk, number, line in entries:
            if kind not in KINDS:
                return False
            interaction = Interaction(
                kind=kind,
                request={},
                key=key,
                repeat=repeat,
                chunk=chunk,
                reply_loaded=False,
                origin=f"{self.path}: interaction #{number} (line {line})",
                line=line,
            )
            self._append(interaction)
        return True

    def materialize_all(self) -> None:
        for interaction in self.interactions:
            interaction.materialize()

    def _parse(self, text: str) -> None:
        where = str(self.path)
        try:
            data = load_yaml(text)
        except yaml.YAMLError as error:
            raise CassetteError(
                f"{where} is not valid YAML ({error}); fix it, or delete it and re-record "
                "with --synalinks-record-mode=rewrite"
            ) from error
        if not isinstance(data, dict) or HEADER_KEY not in data:
            raise CassetteError(
                f"{where} is not a synatest cassette (no `{HEADER_KEY}:` header); "
                "delete it and re-record with --synalinks-record-mode=rewrite"
            )
        fmt = data.get(HEADER_KEY)
        if fmt not in READABLE_FORMATS:
            raise CassetteError(
                f"{where}: cassette format {fmt!r} is not supported by this synatest "
                f"(it reads formats {', '.join(map(str, READABLE_FORMATS))}); re-record with "
                "--synalinks-record-mode=rewrite or upgrade synatest"
            )
        self.format = int(fmt)
        items = data.get("interactions")
        if items is None:
            items = []
        if not isinstance(items, list):
            raise CassetteError(f"{where}: `interactions` must be a list")
        self.header = {k: v for k, v in data.items() if k != "interactions"}
        self._read_match_on()
        for number, item in enumerate(items):
            interaction = Interaction.from_data(item, where=f"{where}: interaction #{number}")
            self.add(interaction, renormalize=True)
            if isinstance(item, dict) and item.get("key") != interaction.key.hex():
                self.stale_keys.append(number)

    def _read_match_on(self) -> None:
        fields = self.header.get("match_on")
        if fields is None:
            return
        if not (isinstance(fields, list) and fields and all(isinstance(f, str) for f in fields)):
            raise CassetteError(
                f"{self.path}: `match_on` must be a list of request field names, got {fields!r}"
            )
        self.match_on = tuple(fields)

    # -- index -----------------------------------------------------------------
    def normalize(self, kind: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        return normalize(
            kind,
            kwargs,
            scrubbers=self.scrubbers,
            match_api_base=self.match_api_base,
            only=self.match_on,
        )

    def add(self, interaction: Interaction, *, renormalize: bool = False) -> int:
        """Append a recording and index it; returns its position."""
        if renormalize:
            # Idempotent for requests we wrote; applies new scrubbers to old files.
            interaction.request = self.normalize(interaction.kind, interaction.request)
        interaction.key = request_key(interaction.kind, interaction.request)
        return self._append(interaction)

    def _append(self, interaction: Interaction) -> int:
        position = len(self.interactions)
        self.interactions.append(interaction)
        self._index.setdefault(_slot(interaction.key, interaction.repeat), []).append(position)
        if interaction.repeat:
            self._repeated.add(interaction.key)
        return position

    def extend(self, other: Cassette) -> None:
        """Index another cassette's recordings after ours (read-only extras)."""
        for interaction in other.interactions:
            copy = Interaction(**{**interaction.materialize().__dict__, "used": False})
            copy.source = copy.source or other.path
            self.add(copy)

    def play(
        self, kind: str, normalized: dict[str, Any], repeat: int = 0, *, share: bool = True
    ) -> Interaction | None:
        """The next unplayed recording of this request in run ``repeat``, or None (O(1)).

        With ``share`` (replaying, not recording), a request recorded without repeats (no
        recording of any run > 0) replays its recordings in every run; check
        ``interaction.repeat`` to tell.
        """
        key = request_key(kind, normalized)
        slot = _slot(key, repeat)
        positions = self._index.get(slot)
        if not positions and repeat and share and key not in self._repeated:
            positions = self._index.get(key)
        if not positions:
            return None
        cursor = self._cursor.get(slot, 0)
        if cursor >= len(positions):
            if not self.allow_repeats:
                return None
            cursor = len(positions) - 1
        self._cursor[slot] = cursor + 1
        interaction = self.interactions[positions[cursor]].materialize_reply()
        interaction.used = True
        return interaction

    def occurrences(self, kind: str, normalized: dict[str, Any]) -> int:
        return len(self._index.get(request_key(kind, normalized), ()))

    def record(self, interaction: Interaction) -> Interaction:
        """Add a new recording (already played: it answered the call that made it)."""
        interaction.request = self.normalize(interaction.kind, interaction.request)
        self.add(interaction)
        slot = _slot(interaction.key, interaction.repeat)
        self._cursor[slot] = self._cursor.get(slot, 0) + 1
        interaction.used = True
        self.dirty = True
        return interaction

    @property
    def own(self) -> list[Interaction]:
        """Recordings of this file (not of read-only extras)."""
        return [i for i in self.interactions if i.source is None]

    def unused(self) -> list[tuple[int, Interaction]]:
        return [(n, i) for n, i in enumerate(self.own) if not i.used]

    def __len__(self) -> int:
        return len(self.interactions)

    # -- saving ----------------------------------------------------------------
    def to_text(self, interactions: Iterable[Interaction] | None = None) -> str:
        """The sealed file text of ``interactions`` (default: this file's own)."""
        items = self.own if interactions is None else list(interactions)
        data: dict[str, Any] = {HEADER_KEY: FORMAT_VERSION, "recorded_with": recorded_with()}
        for name in ("imported_from", "match_on"):
            if name in self.header:  # kept from the file, or set by `synatest traces import`
                data[name] = self.header[name]
        if self.match_on is not None:
            data["match_on"] = list(self.match_on)
        data["interactions"] = [i.to_data() for i in items]
        return sealing.seal(dump_yaml(data), len(items))

    def save(
        self,
        interactions: Iterable[Interaction] | None = None,
        *,
        environ: dict[str, str] | None = None,
    ) -> Path:
        """Write the cassette atomically, after the secret scan."""
        text = self.to_text(interactions)
        secrets.refuse(
            text,
            f"write cassette {self.path}",
            "A secret reached a prompt or a reply: remove it from the program's inputs, or "
            "register a scrubber for it (synatest.cassettes.register_scrubber(...) or "
            "@pytest.mark.synalinks_cassette(scrub=[...]))",
            environ,
        )
        atomic_write_text(self.path, text)
        self.dirty = False
        self.sealed, self.format = True, FORMAT_VERSION
        return self.path


def reseal(path: Path, *, environ: dict[str, str] | None = None) -> bool:
    """Seal a cassette whose text is valid but unsealed or edited: False if already sealed.

    The text is kept byte for byte (hand edits, comments, the original
    ``recorded_with``), its format line set to the current format; it must parse as a
    cassette and pass the secret scan.
    """
    text = read_cassette_text(path)
    assert text is not None
    try:
        if sealing.open_seal(text, where=path, sealed_from=2, latest=FORMAT_VERSION).sealed:
            return False
    except CassetteError:
        pass  # a broken or missing seal: what re-sealing is for
    body = sealing.strip_seal(text)
    declared = sealing.declared_format(body)
    if declared in READABLE_FORMATS and declared != FORMAT_VERSION:
        body = body.replace(f"{HEADER_KEY}: {declared}", f"{HEADER_KEY}: {FORMAT_VERSION}", 1)
    cassette = Cassette(path)
    cassette._parse(body)
    sealed = sealing.seal(body, len(cassette))
    secrets.refuse(
        sealed, f"seal cassette {path}", "Remove the secret from the file first.", environ
    )
    atomic_write_text(path, sealed)
    return True


def iter_cassettes(root: Path) -> Iterator[Path]:
    """Every cassette file under ``root`` (YAML files, hidden temp files skipped)."""
    if not root.exists():
        return
    for path in sorted(root.rglob("*.yaml")):
        if not path.name.startswith("."):
            yield path
