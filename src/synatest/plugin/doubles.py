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
from synatest.markers import MODEL_FIXTURE, MODELS_MARKER, check_models, parse_models
from synatest.session import ROUTER_KEY

LM_MARKER = "synalinks_lm"
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
    config.stash[_MATRIX] = _session_matrix(config)


def _session_matrix(config: pytest.Config) -> tuple[tuple[str, ...] | None, bool]:
    """The models of ``--synalinks-models`` (or its ini key), checked once at start."""
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


def _matrix_of(metafunc: pytest.Metafunc) -> tuple[str, ...] | None:
    """The models a test runs with: the command line's, its marker's, the ini's."""
    session, from_cli = metafunc.config.stash.get(_MATRIX, (None, False))
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


@pytest.hookimpl(trylast=True)  # after the test's own parametrize: ids end with the model
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if MODEL_FIXTURE not in metafunc.fixturenames:
        return
    for marker in metafunc.definition.iter_markers("parametrize"):
        names = marker.args[0] if marker.args else marker.kwargs.get("argnames", "")
        if MODEL_FIXTURE in (names.split(",") if isinstance(names, str) else names):
            return  # the test lists its models itself
    models = _matrix_of(metafunc)
    if models:
        metafunc.parametrize(MODEL_FIXTURE, models, ids=models, indirect=True)


def _marker_doubles(item: pytest.Item) -> list[Any]:
    from synatest.doubles.base import Double

    doubles: list[Any] = []
    # Closest first: a test's own marker before its class's and module's.
    for marker in item.iter_markers(LM_MARKER):
        if marker.kwargs:
            raise pytest.UsageError(
                f"{item.nodeid}: @pytest.mark.{LM_MARKER} takes doubles as positional "
                f"arguments, not keywords {sorted(marker.kwargs)}; e.g. "
                f"@pytest.mark.{LM_MARKER}(synatest.SchemaLM(seed=1))"
            )
        if not marker.args:
            raise pytest.UsageError(
                f"{item.nodeid}: @pytest.mark.{LM_MARKER}() needs at least one double, e.g. "
                f"@pytest.mark.{LM_MARKER}(synatest.SchemaLM(seed=1))"
            )
        for arg in marker.args:
            if isinstance(arg, Double):
                doubles.append(arg.fresh())
            elif isinstance(arg, type) and issubclass(arg, Double):
                doubles.append(arg())
            elif callable(arg) and _takes_no_arguments(arg):
                made = arg()
                if not isinstance(made, Double):
                    raise pytest.UsageError(
                        f"{item.nodeid}: the factory {arg!r} given to "
                        f"@pytest.mark.{LM_MARKER} returned {type(made).__name__}, not a "
                        "synatest double"
                    )
                doubles.append(made)
            else:
                raise pytest.UsageError(
                    f"{item.nodeid}: @pytest.mark.{LM_MARKER} got {arg!r}; give synatest "
                    "doubles (ScriptedLM, FunctionLM, SchemaLM, HashEmbeddings), their "
                    "classes, or zero-argument factories returning one"
                )
    return doubles


def _takes_no_arguments(obj: Any) -> bool:
    import inspect

    try:
        parameters = inspect.signature(obj).parameters.values()
    except (TypeError, ValueError):
        return False
    return all(
        p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in parameters
    )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    router = item.stash.get(ROUTER_KEY, None)
    if router is None or item.get_closest_marker(LM_MARKER) is None:
        return
    doubles = _marker_doubles(item)
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
