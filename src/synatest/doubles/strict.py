"""Strictness shared by every double: replies must fit the schema the program asked for.

Synalinks does not validate the LM's JSON against the requested schema, so a
scripted reply with a typo (``{"anwser": ...}``) would flow through the program as
garbage. Doubles check each structured reply here first and fail with
:class:`~synatest.errors.SchemaMismatch`, naming the request and the failing path.
"""

from __future__ import annotations

import json
from typing import Any

from synatest.doubles.replies import as_tool_calls, reply_content
from synatest.errors import SchemaMismatch
from synatest.seam import LMRequest, shorten

# Validators are built once per schema (Generators send the same schema each call).
_VALIDATORS: dict[str, Any] = {}


def _validator(schema: dict[str, Any]) -> Any:
    key = json.dumps(schema, sort_keys=True)
    validator = _VALIDATORS.get(key)
    if validator is None:
        from jsonschema import validators

        cls = validators.validator_for(schema, default=validators.Draft202012Validator)
        validator = cls(schema)
        if len(_VALIDATORS) > 512:
            _VALIDATORS.clear()
        _VALIDATORS[key] = validator
    return validator


def schema_errors(value: Any, schema: dict[str, Any]) -> list[str]:
    """Every way ``value`` breaks ``schema``, one line each: ``$.path: message``."""
    validator = _validator(schema)
    lines = []
    for error in sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path)):
        lines.append(f"{error.json_path}: {shorten(error.message, 200)}")
    return lines


def check_reply(reply: Any, request: LMRequest, *, source: str = "double") -> None:
    """Raise :class:`SchemaMismatch` when a structured reply does not fit the request.

    Tool calls, exceptions and replies to requests without a schema are not checked.
    ``reply`` must already be resolved (not a callable).
    """
    schema = request.schema
    if schema is None or isinstance(reply, BaseException) or as_tool_calls(reply) is not None:
        return
    content = reply_content(reply)
    if content is None:
        return  # to_response reports the unusable type
    try:
        value = json.loads(content)
    except json.JSONDecodeError as error:
        raise SchemaMismatch(
            _message(
                request,
                source,
                [
                    f"$: the reply is not JSON ({error.msg} at position {error.pos}): "
                    f"{shorten(content, 120)!r}"
                ],
            )
        ) from None
    errors = schema_errors(value, schema)
    if errors:
        raise SchemaMismatch(_message(request, source, errors, value))


def _message(request: LMRequest, source: str, errors: list[str], value: Any = None) -> str:
    lines = [
        f"{source} reply does not match the schema the program requested "
        f"({request.schema_title or 'untitled schema'}):",
        f"  request: {request.describe()}",
    ]
    lines.extend(f"  - {line}" for line in errors[:10])
    if len(errors) > 10:
        lines.append(f"  ... and {len(errors) - 10} more")
    if value is not None:
        lines.append(f"  reply: {shorten(json.dumps(value), 300)}")
    properties = sorted((request.schema or {}).get("properties", {}))
    if properties:
        lines.append(f"  the schema's fields: {', '.join(properties)}")
    lines.append(
        "Fix the reply (or build it from the output DataModel so typos are caught early); "
        "pass strict=False to the double to send replies unchecked (e.g. to test how the "
        "program copes with a malformed answer)."
    )
    return "\n".join(lines)
