"""A dataset's examples and their DataModels: :class:`Example`, :class:`Dataset`."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

from synatest.errors import DatasetError


@dataclass(frozen=True)
class Example:
    """One example: its stable ``id``, input ``x`` and expected output ``y``.

    ``x``/``y`` are instances of the dataset's DataModels (``y`` is None for an
    inputs-only dataset); ``row`` is the raw row as read; ``source`` says where it
    came from (``"qa.jsonl, line 3"``).
    """

    id: str
    x: Any
    y: Any
    row: Mapping[str, Any] = field(repr=False, compare=False)
    source: str = ""


class Dataset(Sequence[Example]):
    """An ordered collection of examples with their DataModels.

    Indexing takes a position or an example id. Built by :func:`load_dataset`, or
    directly from examples.
    """

    def __init__(
        self,
        examples: Iterable[Example],
        *,
        x_model: Any,
        y_model: Any = None,
        path: str | None = None,
        name: str | None = None,
    ) -> None:
        self.examples: list[Example] = list(examples)
        self.x_model = x_model
        self.y_model = y_model
        self.path = path
        self.name = name or (Path(path).stem if path else "dataset")
        self._by_id = {example.id: example for example in self.examples}
        if len(self._by_id) != len(self.examples):
            seen: set[str] = set()
            dupes = [e.id for e in self.examples if e.id in seen or seen.add(e.id)]  # type: ignore[func-returns-value]
            raise DatasetError(f"dataset {self.name!r}: duplicate example ids {dupes[:5]}")

    def __repr__(self) -> str:
        y = getattr(self.y_model, "__name__", None)
        return (
            f"<synatest.Dataset {self.name!r}: {len(self)} examples, "
            f"x={getattr(self.x_model, '__name__', self.x_model)}, y={y}>"
        )

    def __len__(self) -> int:
        return len(self.examples)

    def __iter__(self) -> Iterator[Example]:
        return iter(self.examples)

    @overload
    def __getitem__(self, key: int | str) -> Example: ...

    @overload
    def __getitem__(self, key: slice) -> Dataset: ...

    def __getitem__(self, key: int | str | slice) -> Example | Dataset:
        if isinstance(key, slice):
            return self._derive(self.examples[key], suffix="")
        if isinstance(key, str):
            try:
                return self._by_id[key]
            except KeyError:
                raise KeyError(f"no example with id {key!r} in dataset {self.name!r}") from None
        return self.examples[key]

    @property
    def ids(self) -> list[str]:
        return [example.id for example in self.examples]

    def _derive(self, examples: Iterable[Example], suffix: str) -> Dataset:
        return Dataset(
            examples,
            x_model=self.x_model,
            y_model=self.y_model,
            path=self.path,
            name=self.name + suffix,
        )

    def select(self, ids: Iterable[str]) -> Dataset:
        """The examples with these ids, in the dataset's order."""
        wanted = set(ids)
        unknown = wanted - self._by_id.keys()
        if unknown:
            raise KeyError(f"no example with id(s) {sorted(unknown)[:5]} in dataset {self.name!r}")
        return self._derive((e for e in self.examples if e.id in wanted), suffix="")

    def split(self, *fractions: float, seed: int = 0) -> tuple[Dataset, ...]:
        """Deterministic seeded split: ``train, test = ds.split(0.8, seed=1)``.

        Examples are ranked by a hash of (seed, id), so a split depends only on the
        seed and the example ids -- not on file order or on the process. Fractions
        summing to less than 1 leave the rest as a last part. Parts keep the
        dataset's order.
        """
        if not fractions:
            raise ValueError("split() needs at least one fraction, e.g. ds.split(0.8)")
        if any(not 0 < f < 1 for f in fractions) or sum(fractions) > 1 + 1e-9:
            raise ValueError(
                f"split fractions must each be between 0 and 1 and sum to at most 1, "
                f"got {fractions}"
            )
        parts = list(fractions)
        if sum(parts) < 1 - 1e-9:
            parts.append(1 - sum(parts))
        ranked = sorted(
            self.examples,
            key=lambda e: hashlib.sha256(f"{seed}:{e.id}".encode()).hexdigest(),
        )
        bounds, total = [], 0.0
        for fraction in parts:
            total += fraction
            bounds.append(round(total * len(ranked)))
        bounds[-1] = len(ranked)
        chosen, start = [], 0
        for end in bounds:
            chosen.append({e.id for e in ranked[start:end]})
            start = end
        return tuple(
            self._derive((e for e in self.examples if e.id in ids), suffix=f"[{i}]")
            for i, ids in enumerate(chosen)
        )

    def as_arrays(self) -> tuple[Any, Any]:
        """``(x, y)`` numpy object arrays of DataModels, as ``program.fit`` takes them.

        ``y`` is None for an inputs-only dataset.
        """
        import numpy as np

        x = np.empty(len(self.examples), dtype=object)
        for i, example in enumerate(self.examples):
            x[i] = example.x
        if self.y_model is None:
            return x, None
        y = np.empty(len(self.examples), dtype=object)
        for i, example in enumerate(self.examples):
            y[i] = example.y
        return x, y


# -- reading rows ----------------------------------------------------------------
