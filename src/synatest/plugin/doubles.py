"""pytest side of the LM doubles: fixtures, the ``synalinks_lm`` marker, the trace.

Light to import: Synalinks and litellm are imported by the fixtures that need them.

Installing doubles for a test, three ways:

- the ``scripted_lm`` fixture (a :class:`~synatest.ScriptedLM`), ``schema_lm``
  (a :class:`~synatest.SchemaLM` seeded with ``--synalinks-seed``) and
  ``hash_embeddings`` (a :class:`~synatest.HashEmbeddings`) fixtures;
- the marker ``@pytest.mark.synalinks_lm(double, ...)`` on a test, class or module
  (``pytestmark``): each double is copied per test (``double.fresh()``) and installed
  before fixtures are set up; a zero-argument factory works too;
- ``synatest.use_lm(double, ...)`` (or ``double.install()``) from a test or fixture.

``scripted_lm`` answers before the marker's doubles, and when the test has marker
doubles it passes requests it has no reply for on to them.

A model matrix (``--synalinks-models M1,M2``, ini ``synalinks_models``, marker
``synalinks_models(...)``) parametrizes the ``synalinks_model_name`` fixture, which
``language_model`` asks for: every test using either runs once per model (ids: the
model names). The command line wins over the marker, the marker over the ini.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from synatest import options
from synatest.markers import LM_MARKER, MODEL_FIXTURE
from synatest.session import ROUTER_KEY

MARKER_LINES = [
    f"{LM_MARKER}(*doubles): serve this test's LM/embedding calls with these doubles "
    "(e.g. synatest.SchemaLM(seed=1), synatest.HashEmbeddings(dim=64)); each is copied "
    "per test",
]
_MARKER_LAYER = "synalinks_lm marker: "
_MARKER_DOUBLES = pytest.StashKey[list[Any]]()
# The matrix of the command line or ini (None: none), and whether it came from the CLI.
_MATRIX = pytest.StashKey[tuple[tuple[str, ...] | None, bool]]()


def pytest_configure(config: pytest.Config) -> None:
    for line in MARKER_LINES:
        config.addinivalue_line("markers", line)
    models = options.get("models").dest
    if config.getoption(models, default=None) is not None or config.getini(models):
        from synatest.model_matrix import session_matrix

        config.stash[_MATRIX] = session_matrix(config)


@pytest.hookimpl(trylast=True)  # after the test's own parametrize: ids end with the model
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if MODEL_FIXTURE not in metafunc.fixturenames:
        return
    for marker in metafunc.definition.iter_markers("parametrize"):
        names = marker.args[0] if marker.args else marker.kwargs.get("argnames", "")
        if MODEL_FIXTURE in (names.split(",") if isinstance(names, str) else names):
            return  # the test lists its models itself
    from synatest.model_matrix import matrix_of

    models = matrix_of(metafunc, *metafunc.config.stash.get(_MATRIX, (None, False)))
    if models:
        metafunc.parametrize(MODEL_FIXTURE, models, ids=models, indirect=True)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    router = item.stash.get(ROUTER_KEY, None)
    if router is None or item.get_closest_marker(LM_MARKER) is None:
        return
    from synatest.doubles.marker import marker_doubles

    doubles = marker_doubles(item)
    for double in doubles:
        router.use(double, name=_MARKER_LAYER + type(double).__name__)
        router.add_check(double.check)
    item.stash[_MARKER_DOUBLES] = doubles


def _router(request: pytest.FixtureRequest) -> Any:
    return request.node.stash[ROUTER_KEY]


def _install_before_marker_doubles(router: Any, layer: Any, name: str) -> None:
    """Put ``layer`` just before the marker's doubles (so it answers first)."""
    with router._lock:
        for index, (layer_name, _) in enumerate(router.layers):
            if layer_name.startswith(_MARKER_LAYER):
                router.layers.insert(index, (name, layer))
                return
        router.layers.append((name, layer))


@pytest.fixture
def scripted_lm(request: pytest.FixtureRequest) -> Any:
    """A ScriptedLM serving every LanguageModel of the test: ``add``, ``on``, ``calls``."""
    from synatest.doubles.scripted import ScriptedLM

    router = _router(request)
    has_marker_doubles = bool(request.node.stash.get(_MARKER_DOUBLES, None))
    double = ScriptedLM(passthrough=has_marker_doubles)
    _install_before_marker_doubles(router, double, "scripted_lm")
    router.add_check(double.check)
    return double


@pytest.fixture
def schema_lm(request: pytest.FixtureRequest) -> Any:
    """A SchemaLM (seeded with --synalinks-seed) answering every LM call validly."""
    from synatest.doubles.schema import SchemaLM

    return SchemaLM(seed=options.value(request.config, "seed")).install(_router(request))


@pytest.fixture
def hash_embeddings(request: pytest.FixtureRequest) -> Any:
    """HashEmbeddings (dim 64) serving every EmbeddingModel of the test."""
    from synatest.doubles.embeddings import HashEmbeddings

    return HashEmbeddings().install(_router(request))


@pytest.fixture
def synalinks_model_name(request: pytest.FixtureRequest) -> str:
    """The test's model name: its model of the matrix (--synalinks-models), else
    --synalinks-model. Ask for it in your own fixtures to build their models."""
    param = getattr(request, "param", None)
    return str(param) if param is not None else str(options.value(request.config, "model"))


@pytest.fixture
def language_model(synalinks_model_name: str) -> Any:
    """A synalinks.LanguageModel for --synalinks-model (ini synalinks_model), or each
    model of --synalinks-models in turn."""
    import synalinks

    return synalinks.LanguageModel(model=synalinks_model_name)


@pytest.fixture
def embedding_model(request: pytest.FixtureRequest) -> Any:
    """A synalinks.EmbeddingModel for --synalinks-embedding-model."""
    import synalinks

    return synalinks.EmbeddingModel(model=options.value(request.config, "embedding-model"))


@pytest.fixture
def synalinks_trace(request: pytest.FixtureRequest) -> Generator[Any, None, None]:
    """Every module call of the test's programs, in order, with the LM calls each made."""
    from synatest.trace import Trace

    trace = Trace().start(_router(request))
    try:
        yield trace
    finally:
        trace.stop()
