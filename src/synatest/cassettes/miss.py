"""The message of a cassette miss: what was asked, the nearest recording, and the diff."""

from __future__ import annotations

import difflib
import shlex
from collections.abc import Callable
from typing import Any

from synatest.cassettes.fileformat import dump_yaml
from synatest.cassettes.normalize import canonical
from synatest.cassettes.store import Cassette, Interaction
from synatest.seam import LMRequest

MAX_DIFF_LINES = 40
MAX_CANDIDATES_FOR_TIEBREAK = 200


def differing_fields(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    return sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def nearest(
    cassette: Cassette, kind: str, normalized: dict[str, Any]
) -> tuple[int, Interaction] | None:
    """The recording most like ``normalized``.

    Fewest differing fields first, then the longest shared canonical prefix.
    """
    cassette.materialize_all()
    scored = [
        (len(differing_fields(i.request, normalized)), n, i)
        for n, i in enumerate(cassette.interactions)
        if i.kind == kind
    ]
    if not scored:
        return None
    best = min(s for s, _, _ in scored)
    group = [(n, i) for s, n, i in scored if s == best][:MAX_CANDIDATES_FOR_TIEBREAK]
    if len(group) == 1:
        return group[0]
    mine = canonical(normalized)
    return max(group, key=lambda pair: _common_prefix(canonical(pair[1].request), mine))


def request_diff(recorded: dict[str, Any], actual: dict[str, Any], label: str) -> list[str]:
    """A unified diff of two normalized requests, trimmed around the first difference."""
    lines = list(
        difflib.unified_diff(
            dump_yaml(recorded).splitlines(),
            dump_yaml(actual).splitlines(),
            fromfile=label,
            tofile="this call",
            lineterm="",
            n=3,
        )
    )
    if len(lines) > MAX_DIFF_LINES:
        more = len(lines) - MAX_DIFF_LINES
        lines = [*lines[:MAX_DIFF_LINES], f"... ({more} more diff lines)"]
    return lines


def record_command(nodeid: str | None, mode: str = "rewrite") -> str:
    """The pytest command recording ``nodeid`` (give it as run from the current
    directory, see :func:`synatest.session.runnable_nodeid`)."""
    target = f" {shlex.quote(nodeid)}" if nodeid else ""
    return f"pytest --synalinks-record-mode={mode}{target}"


def describe_recorded(interaction: Interaction) -> str:
    interaction.materialize()
    request = LMRequest(kind=interaction.kind, kwargs=interaction.request)  # type: ignore[arg-type]
    return request.describe()


def miss_message(
    request: LMRequest,
    normalized: dict[str, Any],
    cassette: Cassette,
    *,
    mode: str,
    test_id: str | None,
    command: Callable[[str], str] | None = None,
) -> str:
    """Why ``request`` missed, and how to record it: ``command(mode)`` gives the command
    that records with ``mode`` (default: the pytest command of ``test_id``)."""

    def hint(record_mode: str) -> str:
        if command is not None:
            return command(record_mode)
        return record_command(test_id, record_mode)

    lines = ["no recording in the cassette matches this LM call (recording is off)."]
    if test_id:
        lines.append(f"  test: {test_id}")
    lines.append(
        f"  cassette: {cassette.path} ({len(cassette.own)} recording(s)"
        + (
            f", {len(cassette) - len(cassette.own)} from read-only extras"
            if len(cassette) > len(cassette.own)
            else ""
        )
        + f"; record mode: {mode})"
    )
    lines.append(f"  request: {request.describe()}")
    used_up = cassette.occurrences(request.kind, normalized)
    if used_up:
        lines.append(
            f"  this exact request was recorded {used_up} time(s) and every recording was "
            f"already replayed in this test: the program now makes it more often than when "
            f"it was recorded (or pass allow_repeats=True to the synalinks_cassette marker)."
        )
    else:
        found = nearest(cassette, request.kind, normalized)
        if found is None:
            lines.append(f"  the cassette holds no {request.kind} recording at all.")
        else:
            number, interaction = found
            where = f" (from {interaction.source})" if interaction.source else ""
            lines.append(f"  nearest recording: #{number}{where}: {describe_recorded(interaction)}")
            fields = differing_fields(interaction.request, normalized)
            lines.append(f"  fields that differ: {', '.join(fields)}")
            lines.append("  diff (normalized request, recorded -> this call):")
            lines.extend(
                "    " + line
                for line in request_diff(interaction.request, normalized, f"recording #{number}")
            )
    if not cassette.loaded_from_disk:
        lines.append("Record this test once (needs the real model and its key):")
        lines.append(f"  {hint('once')}")
        return "\n".join(lines)
    lines.append("Re-record this test (needs the real model and its key):")
    lines.append(f"  {hint('rewrite')}")
    lines.append(f"  or keep the recordings and add the missing calls: {hint('new_episodes')}")
    return "\n".join(lines)
