"""Hypothesis strategies for Synalinks data: valid inputs for property tests.

``synatest.strategies.data_models(Query)`` generates ``Query`` instances valid for
the DataModel's JSON schema; :func:`from_schema` does the same for any JSON schema
of the kind pydantic (and so Synalinks) generates: objects with ``$defs``/``$ref``,
enums and consts, lists, tuples (``prefixItems``), optional fields (``anyOf`` with
``null``), string/number bounds, ``pattern`` and common ``format`` values.

Written here rather than taken from hypothesis-jsonschema: its 0.23 release fails
on current Hypothesis (``'many' object has no attribute 'more'``), and the schemas
Synalinks produces need only this subset. :class:`~synatest.SchemaLM` draws its
replies from these same strategies.

Example::

    from hypothesis import given
    import synatest

    @given(query=synatest.strategies.data_models(Query))
    async def test_guard_never_returns_none(query, guarded_program):
        assert await guarded_program(query) is not None
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

__all__ = ["data_models", "from_schema", "json_values"]

# Nested $ref deeper than this is cut off (through optional/array-empty branches)
# so recursive schemas (a Tree with children: list[Tree]) stay finite.
MAX_DEPTH = 6
# Unbounded strings and arrays are kept short so replies stay readable.
DEFAULT_MAX_TEXT = 24
DEFAULT_MAX_ITEMS = 3


class UnsupportedSchema(ValueError):
    """A JSON schema feature these strategies cannot generate values for."""


def _resolve(ref: str, root: dict[str, Any]) -> dict[str, Any]:
    if not ref.startswith("#"):
        raise UnsupportedSchema(f"only local $ref are supported, not {ref!r}")
    node: Any = root
    for raw in ref.lstrip("#").strip("/").split("/"):
        if not raw:
            continue
        part = raw.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            raise UnsupportedSchema(f"$ref {ref!r} does not resolve in the schema")
        node = node[part]
    if not isinstance(node, dict):
        raise UnsupportedSchema(f"$ref {ref!r} resolves to {type(node).__name__}, not a schema")
    return node


@dataclass(frozen=True)
class _Ctx:
    root: dict[str, Any]
    readable: bool


def from_schema(
    schema: dict[str, Any] | bool,
    *,
    root: dict[str, Any] | None = None,
    readable: bool = False,
) -> Any:
    """A hypothesis strategy of JSON values valid for ``schema``.

    Args:
        schema: the JSON schema.
        root: the document ``$ref`` resolves against (default: ``schema``).
        readable: draw unbounded strings from printable ASCII words instead of any
            Unicode (what :class:`~synatest.SchemaLM` does, so traces stay legible).
    """
    if root is None:
        root = schema if isinstance(schema, dict) else {}
    return _strategy(schema, _Ctx(root=root, readable=readable), 0)


def json_values(max_leaves: int = 5) -> Any:
    """Any JSON value (for ``{}`` schemas)."""
    from hypothesis import strategies as st

    scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=DEFAULT_MAX_TEXT)
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(st.text(max_size=8), children, max_size=3)
        ),
        max_leaves=max_leaves,
    )


def _strategy(schema: dict[str, Any] | bool, ctx: _Ctx, depth: int) -> Any:
    from hypothesis import strategies as st

    if schema is True or schema == {}:
        return json_values()
    if schema is False:
        raise UnsupportedSchema("the schema `false` admits no value")
    if not isinstance(schema, dict):
        raise UnsupportedSchema(f"not a JSON schema: {schema!r}")
    if "$ref" in schema:
        if depth >= MAX_DEPTH:
            return st.nothing()
        target = _resolve(schema["$ref"], ctx.root)
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        merged = {**target, **{k: v for k, v in rest.items() if k not in ("description",)}}
        return _strategy(merged, ctx, depth + 1)
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(list(schema["enum"]))
    for key in ("anyOf", "oneOf"):
        if key in schema:
            base = {k: v for k, v in schema.items() if k not in (key, "default")}
            options = [_strategy({**base, **sub}, ctx, depth) for sub in schema[key]]
            return st.one_of(*options)
    if "allOf" in schema:
        merged = {k: v for k, v in schema.items() if k != "allOf"}
        for sub in schema["allOf"]:
            merged.update(_resolve(sub["$ref"], ctx.root) if "$ref" in sub else sub)
        return _strategy(merged, ctx, depth + 1)
    kind = schema.get("type")
    if kind is None:
        if "properties" in schema:
            kind = "object"
        elif "items" in schema or "prefixItems" in schema:
            kind = "array"
        else:
            return json_values()
    if isinstance(kind, list):
        return st.one_of(*(_strategy({**schema, "type": k}, ctx, depth) for k in kind))
    builder = _BUILDERS.get(kind)
    if builder is None:
        raise UnsupportedSchema(f"unknown JSON schema type {kind!r}")
    return builder(schema, ctx, depth)


_FORMATS = {
    "date-time": lambda st: st.datetimes().map(lambda d: d.isoformat() + "Z"),
    "date": lambda st: st.dates().map(lambda d: d.isoformat()),
    "time": lambda st: st.times().map(lambda t: t.isoformat()),
    "uuid": lambda st: st.uuids().map(str),
    "email": lambda st: st.emails(),
    "uri": lambda st: st.from_regex(r"https://[a-z]{1,10}\.example/[a-z0-9]{0,10}", fullmatch=True),
}


def _string(schema: dict[str, Any], ctx: _Ctx, depth: int) -> Any:
    from hypothesis import strategies as st

    fmt = schema.get("format")
    if fmt in _FORMATS:
        return _FORMATS[fmt](st)
    if "pattern" in schema:
        return st.from_regex(schema["pattern"])
    min_size = int(schema.get("minLength", 0))
    max_size = schema.get("maxLength")
    max_size = int(max_size) if max_size is not None else max(min_size, DEFAULT_MAX_TEXT)
    if ctx.readable:
        alphabet = st.sampled_from("abcdefghijklmnopqrstuvwxyz     ABCDEFGHIJ0123456789.,")
    else:
        alphabet = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"))
    return st.text(alphabet=alphabet, min_size=min_size, max_size=max_size)


def _bounds(schema: dict[str, Any]) -> tuple[Any, Any, bool, bool]:
    low, high = schema.get("minimum"), schema.get("maximum")
    exclude_low = exclude_high = False
    if "exclusiveMinimum" in schema:
        low, exclude_low = schema["exclusiveMinimum"], True
    if "exclusiveMaximum" in schema:
        high, exclude_high = schema["exclusiveMaximum"], True
    return low, high, exclude_low, exclude_high


def _integer(schema: dict[str, Any], ctx: _Ctx, depth: int) -> Any:
    import math

    from hypothesis import strategies as st

    low, high, exclude_low, exclude_high = _bounds(schema)
    if low is not None:
        low = math.floor(low) + 1 if exclude_low else math.ceil(low)
    if high is not None:
        high = math.ceil(high) - 1 if exclude_high else math.floor(high)
    values = st.integers(min_value=low, max_value=high)
    step = schema.get("multipleOf")
    if isinstance(step, int) and step > 0:
        values = values.map(lambda v: v - v % step).filter(
            lambda v: (low is None or v >= low) and (high is None or v <= high)
        )
    return values


def _number(schema: dict[str, Any], ctx: _Ctx, depth: int) -> Any:
    from hypothesis import strategies as st

    low, high, exclude_low, exclude_high = _bounds(schema)
    return st.floats(
        min_value=low,
        max_value=high,
        exclude_min=exclude_low and low is not None,
        exclude_max=exclude_high and high is not None,
        allow_nan=False,
        allow_infinity=False,
    )


def _boolean(schema: dict[str, Any], ctx: _Ctx, depth: int) -> Any:
    from hypothesis import strategies as st

    return st.booleans()


def _null(schema: dict[str, Any], ctx: _Ctx, depth: int) -> Any:
    from hypothesis import strategies as st

    return st.none()


def _array(schema: dict[str, Any], ctx: _Ctx, depth: int) -> Any:
    from hypothesis import strategies as st

    min_size = int(schema.get("minItems", 0))
    max_size = schema.get("maxItems")
    max_size = int(max_size) if max_size is not None else max(min_size, DEFAULT_MAX_ITEMS)
    if "prefixItems" in schema:
        return st.tuples(*(_strategy(s, ctx, depth + 1) for s in schema["prefixItems"])).map(list)
    items = schema.get("items", {})
    if depth >= MAX_DEPTH and min_size == 0:
        return st.just([])
    element = _strategy(items, ctx, depth + 1)
    if schema.get("uniqueItems"):
        return st.lists(
            element,
            min_size=min_size,
            max_size=max_size,
            unique_by=lambda v: json.dumps(v, sort_keys=True),
        )
    return st.lists(element, min_size=min_size, max_size=max_size)


def _object(schema: dict[str, Any], ctx: _Ctx, depth: int) -> Any:
    from hypothesis import strategies as st

    properties: dict[str, Any] = schema.get("properties", {})
    required = [name for name in schema.get("required", []) if name in properties]
    optional = [name for name in properties if name not in required]
    extra = schema.get("additionalProperties", True)
    if not properties:
        if isinstance(extra, dict):
            return st.dictionaries(
                st.text(max_size=8), _strategy(extra, ctx, depth + 1), max_size=3
            )
        return st.dictionaries(st.text(max_size=8), json_values(3), max_size=3)
    fixed = st.fixed_dictionaries(
        {name: _strategy(properties[name], ctx, depth + 1) for name in required},
        optional={name: _strategy(properties[name], ctx, depth + 1) for name in optional}
        if depth < MAX_DEPTH
        else {},
    )
    return fixed


_BUILDERS = {
    "string": _string,
    "integer": _integer,
    "number": _number,
    "boolean": _boolean,
    "null": _null,
    "array": _array,
    "object": _object,
}


def data_models(model: Any, /, **fields: Any) -> Any:
    """A strategy of ``model`` instances (a Synalinks ``DataModel`` class).

    Args:
        model: the DataModel class.
        **fields: fixed values (or strategies) for some fields, e.g.
            ``data_models(Query, query=st.sampled_from(["hi", "bye"]))``.
    """
    from hypothesis import strategies as st

    get_schema = getattr(model, "get_schema", None)
    if not callable(get_schema):
        raise TypeError(
            f"data_models() takes a Synalinks DataModel class, not {model!r}; "
            "for a raw JSON schema use synatest.strategies.from_schema(schema)"
        )
    schema = get_schema()
    unknown = set(fields) - set(schema.get("properties", {}))
    if unknown:
        raise TypeError(
            f"{getattr(model, '__name__', model)} has no field(s) {sorted(unknown)}; "
            f"its fields: {sorted(schema.get('properties', {}))}"
        )
    values = from_schema(schema)
    if fields:
        overrides = st.fixed_dictionaries(
            {
                name: value if isinstance(value, st.SearchStrategy) else st.just(value)
                for name, value in fields.items()
            }
        )
        values = st.tuples(values, overrides).map(lambda pair: {**pair[0], **pair[1]})
    return values.map(lambda value: model(**value))


# ``synatest.strategies`` is exported lazily as an attribute of the package: the
# lazy loader reads the name ``strategies`` from this module, so it names itself.
strategies = sys.modules[__name__]
