"""Cassettes: LM calls recorded once from a real model, replayed offline forever.

The core is plain Python, usable without pytest: :class:`Cassette` (a file of
recordings, indexed for O(1) lookup), :class:`CassetteLayer` (the router layer that
replays and records), `normalize_request` (what a request is matched on) and
:class:`Scrubber` (volatile text removed before matching). The pytest side lives in
``synatest.plugin.cassettes``.
"""

from __future__ import annotations

from synatest.cassettes.layer import MODES, CassetteLayer, replay
from synatest.cassettes.normalize import (
    BUILTIN_SCRUBBERS,
    ISO_TIMESTAMP,
    TEMP_PATH,
    UUID,
    Scrubber,
    register_scrubber,
)
from synatest.cassettes.normalize import (
    normalize as normalize_request,
)
from synatest.cassettes.paths import cassette_path, cassette_relpath
from synatest.cassettes.store import FORMAT_VERSION, Cassette, Interaction

__all__ = [
    "BUILTIN_SCRUBBERS",
    "FORMAT_VERSION",
    "ISO_TIMESTAMP",
    "MODES",
    "TEMP_PATH",
    "UUID",
    "Cassette",
    "CassetteLayer",
    "Interaction",
    "Scrubber",
    "cassette_path",
    "cassette_relpath",
    "normalize_request",
    "register_scrubber",
    "replay",
]
