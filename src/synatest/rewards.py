"""Rewards that test authors expect and Synalinks lacks, as real Synalinks ``Reward`` s.

Each works in ``program.compile(reward=...)``, ``program.evaluate``, optimizers,
``synatest.assert_reward`` and ``@pytest.mark.synalinks_eval(reward=...)``; each
serializes (``get_config``/``from_config``, registered under ``synatest>Name``) and
honours Synalinks' field masks (``in_mask``/``out_mask``/``*_mask_pattern``) to pick
the fields compared.

- :class:`RegexMatch` -- the prediction's text fields match a pattern (or the
  expected output's fields, read as patterns);
- :class:`Contains` -- each expected text is contained in the predicted field;
- :class:`NumericMatch` -- expected numbers equal the predicted ones within a
  tolerance (numbers are read out of text: ``"The answer is 1,234."``);
- :class:`JSONSchemaValid` -- the prediction validates against a JSON schema (by
  default the expected output's schema).

Every reward is 1.0 or 0.0. This module imports Synalinks (it is not loaded by the
pytest plugin, only when a reward is used).
"""

from __future__ import annotations

import math
import re
from typing import Any

import synalinks

from synatest.jsondiff import leaves

__all__ = ["Contains", "JSONSchemaValid", "NumericMatch", "RegexMatch"]

_NUMBER = re.compile(r"[-+]?(?:\d[\d,_]*\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def _json(data_model: Any) -> Any:
    return None if data_model is None else data_model.get_json()


def parse_number(value: Any) -> float | None:
    """A number from a JSON leaf: numbers as they are, text's last number otherwise."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if not isinstance(value, str):
        return None
    text = value.strip().replace("$", "").replace("%", "")
    try:
        return float(text.replace(",", "").replace("_", ""))
    except ValueError:
        pass
    found = _NUMBER.findall(value)
    if not found:
        return None
    try:
        return float(found[-1].replace(",", "").replace("_", "").rstrip("."))
    except ValueError:
        return None


class _Base(synalinks.rewards.Reward):  # type: ignore[misc]
    def __init__(  # noqa: PLR0917 - Synalinks' own Reward signature
        self,
        name: str | None = None,
        reduction: str = "mean",
        in_mask: list[str] | None = None,
        out_mask: list[str] | None = None,
        in_mask_pattern: str | None = None,
        out_mask_pattern: str | None = None,
    ) -> None:
        super().__init__(
            name=name,
            reduction=reduction,
            in_mask=in_mask,
            out_mask=out_mask,
            in_mask_pattern=in_mask_pattern,
            out_mask_pattern=out_mask_pattern,
        )


@synalinks.saving.register_synalinks_serializable(package="synatest")
class RegexMatch(_Base):
    """1.0 when the prediction's text fields match a regular expression.

    With ``pattern``: every text field of ``y_pred`` (after masks) must match it.
    Without: each text field of ``y_true`` is a pattern that the same field of
    ``y_pred`` must match (per-example patterns in the dataset).

    Args:
        pattern: the regular expression (default None: taken from ``y_true``).
        full_match: the whole text must match (default False: a search).
        ignore_case: case-insensitive matching (default False).
        name, reduction, in_mask, out_mask, in_mask_pattern, out_mask_pattern:
            as for every Synalinks ``Reward`` (default name ``"regex_match"``).
    """

    def __init__(
        self,
        pattern: str | None = None,
        full_match: bool = False,
        ignore_case: bool = False,
        name: str = "regex_match",
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, **kwargs)
        self.pattern = pattern
        self.full_match = full_match
        self.ignore_case = ignore_case
        if pattern is not None:
            re.compile(pattern)  # a bad pattern fails here, not mid-evaluation

    def _matches(self, pattern: str, text: Any) -> bool:
        if not isinstance(text, str):
            return False
        flags = re.IGNORECASE if self.ignore_case else 0
        match = re.fullmatch if self.full_match else re.search
        return match(pattern, text, flags) is not None

    async def call(self, y_true: Any, y_pred: Any) -> float:
        predicted = leaves(_json(y_pred)) if y_pred is not None else {}
        if self.pattern is not None:
            texts = [v for v in predicted.values() if isinstance(v, str)]
            return float(bool(texts) and all(self._matches(self.pattern, t) for t in texts))
        expected = {k: v for k, v in leaves(_json(y_true)).items() if isinstance(v, str)}
        if not expected:
            return 0.0
        return float(all(self._matches(p, predicted.get(k)) for k, p in expected.items()))

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = super().get_config()
        config.update(
            pattern=self.pattern, full_match=self.full_match, ignore_case=self.ignore_case
        )
        return config


@synalinks.saving.register_synalinks_serializable(package="synatest")
class Contains(_Base):
    """1.0 when each expected text field is contained in the same predicted field.

    Args:
        ignore_case: compare case-insensitively (default True).
        name, ...: as for every Synalinks ``Reward`` (default name ``"contains"``).
    """

    def __init__(self, ignore_case: bool = True, name: str = "contains", **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        self.ignore_case = ignore_case

    async def call(self, y_true: Any, y_pred: Any) -> float:
        if y_true is None or y_pred is None:
            return 0.0
        predicted = leaves(_json(y_pred))
        expected = {k: v for k, v in leaves(_json(y_true)).items() if isinstance(v, str)}
        if not expected:
            return 0.0
        for key, needle in expected.items():
            haystack = predicted.get(key)
            if haystack is None:
                return 0.0
            want, hay = needle, str(haystack)
            if self.ignore_case:
                want, hay = want.casefold(), hay.casefold()
            if want not in hay:
                return 0.0
        return 1.0

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = super().get_config()
        config["ignore_case"] = self.ignore_case
        return config


@synalinks.saving.register_synalinks_serializable(package="synatest")
class NumericMatch(_Base):
    """1.0 when every expected number matches the predicted one within ``tolerance``.

    Numbers are read from numeric fields or out of text (``"1,234"``, ``"$5"``, or
    the last number of ``"so the answer is 42."``).

    Args:
        tolerance: the allowed difference (default 1e-9).
        relative: ``tolerance`` is relative to the expected value (default False).
        name, ...: as for every Synalinks ``Reward`` (default ``"numeric_match"``).
    """

    def __init__(
        self,
        tolerance: float = 1e-9,
        relative: bool = False,
        name: str = "numeric_match",
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, **kwargs)
        if tolerance < 0:
            raise ValueError(f"tolerance must be >= 0, got {tolerance}")
        self.tolerance = tolerance
        self.relative = relative

    async def call(self, y_true: Any, y_pred: Any) -> float:
        if y_true is None or y_pred is None:
            return 0.0
        predicted = leaves(_json(y_pred))
        expected = {
            k: n for k, v in leaves(_json(y_true)).items() if (n := parse_number(v)) is not None
        }
        if not expected:
            return 0.0
        for key, want in expected.items():
            got = parse_number(predicted.get(key))
            if got is None or math.isnan(got):
                return 0.0
            allowed = self.tolerance * abs(want) if self.relative else self.tolerance
            if abs(got - want) > allowed:
                return 0.0
        return 1.0

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = super().get_config()
        config.update(tolerance=self.tolerance, relative=self.relative)
        return config


@synalinks.saving.register_synalinks_serializable(package="synatest")
class JSONSchemaValid(_Base):
    """1.0 when the prediction validates against a JSON schema.

    Args:
        schema: the JSON schema (default None: the expected output's schema, or the
            prediction's own declared schema when there is no expected output).
        name, ...: as for every Synalinks ``Reward`` (default ``"json_schema_valid"``).
    """

    def __init__(
        self, schema: dict[str, Any] | None = None, name: str = "json_schema_valid", **kwargs: Any
    ) -> None:
        super().__init__(name=name, **kwargs)
        self.schema = schema
        if schema is not None:
            import jsonschema

            jsonschema.validators.validator_for(schema).check_schema(schema)

    async def call(self, y_true: Any, y_pred: Any) -> float:
        import jsonschema

        if y_pred is None:
            return 0.0
        schema = self.schema
        if schema is None:
            schema = (y_true if y_true is not None else y_pred).get_schema()
        validator = jsonschema.validators.validator_for(schema)(schema)
        return 0.0 if next(validator.iter_errors(y_pred.get_json()), None) else 1.0

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = super().get_config()
        config["schema"] = self.schema
        return config
