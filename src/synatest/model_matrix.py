"""The models a test runs with in a model matrix: ``--synalinks-models``, the marker, the ini.

Loaded by the doubles plugin only when a matrix is asked for (the option or ini key set
at start) or a test asks for the model fixture, so a run without a matrix never pays for it.
The command line wins over a test's ``synalinks_models`` marker, the marker over the ini;
``--synalinks-model M`` on the command line runs the marked tests with M alone.
"""

from __future__ import annotations

import pytest

from synatest import options
from synatest.markers import MODELS_MARKER


def parse_models(raw: str) -> tuple[str, ...]:
    """``"M1,M2,..."``: the models of a matrix, in order.

    Raises:
        ValueError: no model, an empty name, or a model named twice.
    """
    names = tuple(part.strip() for part in str(raw).split(","))
    return check_models(names, raw)


def check_models(names: tuple[str, ...], given: object) -> tuple[str, ...]:
    if not any(names):
        raise ValueError(f"expected model names separated by commas, got {given!r}")
    if "" in names:
        raise ValueError(f"an empty model name in {given!r}: name every model")
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ValueError(f"{', '.join(twice)} given twice in {given!r}: name each model once")
    return names


def session_matrix(config: pytest.Config) -> tuple[tuple[str, ...] | None, bool]:
    """The models of ``--synalinks-models`` (or its ini key), checked once at start, and
    whether they came from the command line."""
    models = options.get("models")
    cli = config.getoption(models.dest, default=None)
    if cli is not None:
        if config.getoption(options.get("model").dest, default=None) is not None:
            raise pytest.UsageError(
                "--synalinks-models and --synalinks-model both given: --synalinks-models "
                "M1,M2 runs each test with every model, --synalinks-model M with one; pass one"
            )
        try:
            return parse_models(cli), True
        except ValueError as error:
            raise pytest.UsageError(f"--synalinks-models: {error}") from None
    raw = config.getini(models.dest)
    if raw:
        try:
            return parse_models(str(raw)), False
        except ValueError as error:
            raise pytest.UsageError(f"ini {models.dest}: {error}") from None
    return None, False


def matrix_of(
    metafunc: pytest.Metafunc, session: tuple[str, ...] | None, from_cli: bool
) -> tuple[str, ...] | None:
    """The models a test runs with: the command line's, its marker's, the ini's."""
    if from_cli:
        return session
    if metafunc.config.getoption(options.get("model").dest, default=None) is not None:
        return None  # --synalinks-model M on the command line: that one model
    marker = metafunc.definition.get_closest_marker(MODELS_MARKER)
    if marker is None:
        return session
    where = f"@pytest.mark.{MODELS_MARKER} on {metafunc.definition.nodeid}"
    if marker.kwargs or not all(isinstance(arg, str) for arg in marker.args):
        raise pytest.UsageError(
            f"{where}: give the model names as strings, e.g. "
            f'@pytest.mark.{MODELS_MARKER}("openai/gpt-4o-mini", "openai/gpt-4o")'
        )
    try:
        return check_models(tuple(marker.args), marker.args)
    except ValueError as error:
        raise pytest.UsageError(f"{where}: {error}") from None
