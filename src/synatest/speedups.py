"""Session speedups: caches of what Synalinks recomputes on every call with the same result.

Profiling a Generator call with ``litellm.acompletion`` patched by a prebuilt response
(the floor every mock pays) shows where a call's time goes in Synalinks 0.10.14:

- ``DataModel.get_schema()`` runs pydantic's ``model_json_schema()`` about five times a
  call (the output schema, ``ChatMessage``/``ChatMessages`` checks of the inputs, the
  conversion of the inputs to ``JsonDataModel``): ~75% of the call;
- ``Generator._render_system_message`` compiles its prompt template with
  ``jinja2.Template(source)`` on every call: ~12%.

Both are pure functions of immutable inputs (a class's pydantic core schema, a template's
source), so inside a test session synatest computes each once and serves copies:

- the JSON schema of a DataModel class is cached per class object, keyed weakly (a
  class that goes away drops its entry) and checked against the class's pydantic core
  schema, so a redefined class (a new class object) or a rebuilt one
  (``model_rebuild()`` replaces the core schema) is computed afresh; every caller gets
  its own deep copy, so a caller that mutates the schema changes nothing cached;
- compiled prompt templates are cached by their source text, in jinja2's default
  environment (the one ``jinja2.Template(source)`` uses), so rendering is unchanged.

What a program sends (messages, ``response_format``, tools) and what it returns stay
byte for byte the same: ``tests/perf/test_speedups_equivalence.py`` runs every example
with and without the speedups and compares. ``--synalinks-no-speedups`` (ini
``synalinks_no_speedups``) turns them off. Installed by the session when Synalinks is
imported (at session start, before each test and before each test body); uninstalled,
and the caches emptied, when the session ends.

Nothing here imports Synalinks or jinja2 at module import.
"""

from __future__ import annotations

import sys
import weakref
from collections.abc import Callable
from types import ModuleType
from typing import Any

_CORE = "synalinks.src.backend.pydantic.core"
_GENERATOR = "synalinks.src.modules.core.generator"

# At most this many distinct template sources are kept (a program has a handful; a test
# that builds templates in a loop must not grow the cache without bound).
MAX_TEMPLATES = 1024


def json_copy(value: Any) -> Any:
    """A deep copy of a JSON value (dicts, lists, scalars): ~10x faster than ``deepcopy``."""
    kind = type(value)
    if kind is dict:
        return {key: json_copy(item) for key, item in value.items()}
    if kind is list:
        return [json_copy(item) for item in value]
    return value


class _Stats:
    """Hits and misses of each cache, for tests and ``synatest`` diagnostics."""

    def __init__(self) -> None:
        self.schema_hits = 0
        self.schema_misses = 0
        self.template_hits = 0
        self.template_misses = 0


class _State:
    def __init__(self) -> None:
        self.installed = False
        self.schemas: weakref.WeakKeyDictionary[type, tuple[Any, dict[str, Any]]] = (
            weakref.WeakKeyDictionary()
        )
        self.templates: dict[str, Any] = {}
        self.stats = _Stats()
        # (owner, attribute, original value) of every patch, to undo them.
        self.patched: list[tuple[Any, str, Any]] = []


_STATE = _State()


def stats() -> _Stats:
    return _STATE.stats


def is_installed() -> bool:
    return _STATE.installed


def _cached_get_schema(original: Callable[[type], dict[str, Any]]) -> Any:
    schemas = _STATE.schemas

    def get_schema(cls: type) -> dict[str, Any]:
        entry = schemas.get(cls)
        # pydantic keeps a class's core schema in its own __dict__; model_rebuild()
        # (or a forward reference resolved later) replaces it, which invalidates.
        core = cls.__dict__.get("__pydantic_core_schema__")
        if entry is None or entry[0] is not core or core is None:
            _STATE.stats.schema_misses += 1
            schema = original(cls)
            core = cls.__dict__.get("__pydantic_core_schema__")
            if core is not None:
                schemas[cls] = (core, json_copy(schema))
            return schema
        _STATE.stats.schema_hits += 1
        copied: dict[str, Any] = json_copy(entry[1])
        return copied

    get_schema.__synatest_speedup__ = True  # type: ignore[attr-defined]
    get_schema.__wrapped__ = original  # type: ignore[attr-defined]
    get_schema.__doc__ = original.__doc__
    return classmethod(get_schema)


class _CachedJinja:
    """Stands in for the ``jinja2`` module inside Synalinks' generator module.

    ``Template(source)`` returns one compiled template per source text; every other
    attribute is the real module's.
    """

    def __init__(self, jinja2: ModuleType) -> None:
        self._jinja2 = jinja2

    def __getattr__(self, name: str) -> Any:
        return getattr(self._jinja2, name)

    def Template(self, source: str, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs or type(source) is not str:
            return self._jinja2.Template(source, *args, **kwargs)
        templates = _STATE.templates
        template = templates.get(source)
        if template is None:
            _STATE.stats.template_misses += 1
            if len(templates) >= MAX_TEMPLATES:
                templates.clear()
            template = templates[source] = self._jinja2.Template(source)
        else:
            _STATE.stats.template_hits += 1
        return template


def _patch(owner: Any, attribute: str, value: Any) -> None:
    _STATE.patched.append((owner, attribute, owner.__dict__[attribute]))
    setattr(owner, attribute, value)


def install() -> bool:
    """Install the caches if Synalinks is imported (idempotent); True once installed."""
    if _STATE.installed:
        return True
    core = sys.modules.get(_CORE)
    generator = sys.modules.get(_GENERATOR)
    if core is None or generator is None:
        return False
    data_model = core.DataModel
    current = data_model.__dict__.get("get_schema")
    if current is None or not isinstance(current, classmethod):
        return False  # a Synalinks whose DataModel we do not know: leave it alone
    _patch(data_model, "get_schema", _cached_get_schema(current.__func__))
    jinja2 = generator.__dict__.get("jinja2")
    if isinstance(jinja2, ModuleType):
        _patch(generator, "jinja2", _CachedJinja(jinja2))
    _STATE.installed = True
    return True


def uninstall(*, keep_caches: bool = False) -> None:
    """Undo every patch and empty the caches (end of session, or speedups turned off).

    ``keep_caches`` keeps what was computed for a later :func:`install` (benchmarks
    alternate between modes inside what would be one session).
    """
    for owner, attribute, original in reversed(_STATE.patched):
        setattr(owner, attribute, original)
    _STATE.patched.clear()
    if not keep_caches:
        clear()
    _STATE.installed = False


def clear() -> None:
    """Empty the caches (the patches stay)."""
    _STATE.schemas.clear()
    _STATE.templates.clear()
    _STATE.stats = _Stats()
