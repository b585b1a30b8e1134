"""YAML as cassettes write it: safe loader and dumper, readable literal blocks.

Long and multi-line strings are written as literal blocks, vectors of numbers on
one line; only plain data is ever loaded (no Python tags).
"""

from __future__ import annotations

from typing import Any

import yaml

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
