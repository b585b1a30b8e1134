"""The pytest side: fixtures, the synalinks_lm marker, @synatest.program, failures."""

from __future__ import annotations

import jsonschema  # noqa: F401
import litellm  # noqa: F401
import pytest
import synalinks  # noqa: F401

import synatest.doubles.embeddings
import synatest.doubles.schema
import synatest.doubles.scripted
import synatest.programs
import synatest.trace  # noqa: F401

# Imported here, not first inside the in-process runs: pytester drops modules first
# imported during a run, and a second import of litellm/Synalinks costs time and
# breaks importlib.metadata lookups in later runs.
pytest_plugins = ["pytester"]

PROGRAM = """
import pytest
import synalinks
import synatest


class Query(synalinks.DataModel):
    query: str = synalinks.Field(description="The user query")


class Answer(synalinks.DataModel):
    answer: str = synalinks.Field(description="The answer")


@synatest.program
async def qa(language_model):
    inputs = synalinks.Input(data_model=Query)
    outputs = await synalinks.Generator(data_model=Answer, language_model=language_model)(inputs)
    return synalinks.Program(inputs=inputs, outputs=outputs, name="qa")
"""


INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"


def run(pytester: pytest.Pytester, body: str, *args: str, ini: str = "") -> pytest.RunResult:
    pytester.makeini(INI + ini)
    pytester.makepyfile(test_it=PROGRAM + body)
    return pytester.runpytest("-p", "no:cacheprovider", *args)


def test_scripted_lm_serves_a_program(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
async def test_ok(qa, scripted_lm):
    scripted_lm.on(contains="France").reply({"answer": "Paris"})
    scripted_lm.add(Answer(answer="Rome"))
    assert (await qa(Query(query="capital of France?"))).get("answer") == "Paris"
    assert (await qa(Query(query="capital of Italy?"))).get("answer") == "Rome"
    assert [c.schema_title for c in scripted_lm.calls] == ["Answer", "Answer"]
    assert "Italy" in scripted_lm.calls[1].last_user_message
""",
    )
    result.assert_outcomes(passed=1)


def test_unused_replies_fail_the_test_after_its_body(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
async def test_leftover(qa, scripted_lm):
    scripted_lm.add({"answer": "a"}, {"answer": "never used"})
    await qa(Query(query="q"))
""",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*UnusedReplies: ScriptedLM: 1 scripted reply was never used*",
            "*queued reply #2: {'answer': 'never used'}*",
        ]
    )


def test_script_exhausted_fails_the_test_even_though_synalinks_catches(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
async def test_unscripted(qa, scripted_lm):
    await qa(Query(query="where is the reply?"))
""",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*ScriptExhausted: ScriptedLM has no reply for LM call #1*",
            "*request: model='openai/gpt-4o-mini', schema='Answer', "
            "last user message:*where is the reply?*",
        ]
    )


def test_schema_mismatch_fails_the_test(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
async def test_typo(qa, scripted_lm):
    scripted_lm.add({"anwser": "typo"})
    await qa(Query(query="q"))
""",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*SchemaMismatch: ScriptedLM (queue #1) reply does not match the schema*",
            "*$: 'answer' is a required property*",
        ]
    )


def test_provider_error_reply_surfaces_unless_allowed(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
import litellm


def rate_limited():
    return litellm.RateLimitError("slow down", llm_provider="openai", model="gpt-4o-mini")


async def test_fails(qa, scripted_lm, synalinks_router):
    scripted_lm.on(contains="q").reply(rate_limited())
    await qa(Query(query="q"))


@pytest.mark.synalinks_allow_lm_errors
async def test_allowed(qa, scripted_lm, synalinks_router):
    scripted_lm.on(contains="q").reply(rate_limited())
    assert await qa(Query(query="q")) is None
    assert "slow down" in str(synalinks_router.lm_errors[0])


async def test_retry_then_success(qa, scripted_lm):
    scripted_lm.add(rate_limited(), {"answer": "second attempt"})
    assert (await qa(Query(query="q"))).get("answer") == "second attempt"
""",
    )
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*LMCallFailed: LanguageModel 'openai/gpt-4o-mini' failed*"])


def test_marker_installs_fresh_doubles_per_test(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
pytestmark = pytest.mark.synalinks_lm(synatest.SchemaLM(seed=5))


async def test_one(qa, synalinks_router):
    out = await qa(Query(query="anything"))
    assert isinstance(out.get("answer"), str)
    layer = [l for n, l in synalinks_router.layers if "SchemaLM" in n][0]
    assert len(layer.calls) == 1


async def test_two(qa, synalinks_router):
    await qa(Query(query="anything"))
    layer = [l for n, l in synalinks_router.layers if "SchemaLM" in n][0]
    assert len(layer.calls) == 1  # not shared with test_one


async def test_scripted_first(qa, scripted_lm):
    scripted_lm.on(contains="special").reply({"answer": "scripted"})
    assert (await qa(Query(query="special"))).get("answer") == "scripted"
    # unscripted requests fall through to the marker's SchemaLM
    assert isinstance((await qa(Query(query="other"))).get("answer"), str)


@pytest.mark.synalinks_lm(lambda: synatest.FunctionLM(lambda r: {"answer": "factory"}))
async def test_factory(qa):
    assert (await qa(Query(query="x"))).get("answer") == "factory"
""",
    )
    result.assert_outcomes(passed=4)


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ('"SchemaLM"', "*@pytest.mark.synalinks_lm got 'SchemaLM'; give synatest doubles*"),
        ("", "*@pytest.mark.synalinks_lm() needs at least one double*"),
        ("seed=1", "*takes doubles as positional arguments, not keywords*"),
        ("lambda: 42", "*returned int, not a synatest double*"),
    ],
)
def test_marker_misuse_is_a_usage_error(
    pytester: pytest.Pytester, marker: str, message: str
) -> None:
    result = run(pytester, f"@pytest.mark.synalinks_lm({marker})\ndef test_bad():\n    pass\n")
    result.stdout.fnmatch_lines([message])
    assert result.ret != 0


def test_schema_lm_and_hash_embeddings_fixtures(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
async def test_it(qa, schema_lm, hash_embeddings, embedding_model):
    out = await qa(Query(query="x"))
    assert schema_lm.seed == 1337  # --synalinks-seed default
    assert len(schema_lm.calls) == 1
    from synalinks.src.backend.pydantic.base import EmbeddingRequest
    vectors = (await embedding_model(EmbeddingRequest(texts=["a b"]))).get("embeddings")
    assert vectors[0] == hash_embeddings.embed("a b")
""",
    )
    result.assert_outcomes(passed=1)


def test_language_model_fixtures_follow_the_options(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
def test_models(language_model, embedding_model):
    assert language_model.model == "openai/gpt-4.1-nano"
    assert embedding_model.model == "ollama/nomic-embed-text"
""",
        "--synalinks-model=openai/gpt-4.1-nano",
        ini="synalinks_embedding_model = ollama/nomic-embed-text\n",
    )
    result.assert_outcomes(passed=1)


def test_program_fixture_is_registered_and_checks_what_it_builds(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
from synatest.programs import PROGRAM_FIXTURES, program_fixtures_of


@synatest.program(name="broken")
async def build_broken(language_model):
    return "not a program"


@synatest.program
def sync_program(language_model):
    return synalinks.Sequential([synalinks.Input(data_model=Query),
                                 synalinks.Generator(data_model=Answer,
                                                     language_model=language_model)],
                               description="a sequential program")


@synatest.program
def returns_coroutine(language_model):
    async def later():
        return None
    return later()


def test_registry(request, qa):
    spec = PROGRAM_FIXTURES["qa"]
    assert spec.name == "qa" and spec.module == "test_it"
    assert spec.argnames == ["language_model"]
    assert [s.name for s in program_fixtures_of(request.node)] == ["qa"]


def test_broken(broken):
    pass


def test_sync(sync_program):
    assert isinstance(sync_program, synalinks.Program)
""",
    )
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        ["*TypeError: @synatest.program builder 'broken' returned str, not a synalinks.Program*"]
    )


def test_trace_fixture_records_the_execution_path(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
async def test_trace(qa, scripted_lm, synalinks_trace):
    scripted_lm.add({"answer": "x"})
    await qa(Query(query="q"))
    assert synalinks_trace.names() == ["qa", "generator"]
    gen = synalinks_trace.get("generator")
    assert gen.inputs == {"query": "q"}
    assert gen.outputs == {"answer": "x"}
    assert gen.parent is synalinks_trace.get("qa")
    assert [c.request.schema_title for c in gen.lm_calls] == ["Answer"]
    assert gen.lm_calls[0].content == '{"answer": "x"}'
    assert synalinks_trace.called("generator")
    assert "generator (Generator) [1 LM call(s)]" in str(synalinks_trace)
    from synalinks.src.modules.module import Module
    assert getattr(Module.__call__, "__synatest_traced__", False)


def test_trace_is_removed_after_the_test():
    from synalinks.src.modules.module import Module
    assert not getattr(Module.__call__, "__synatest_traced__", False)


async def test_trace_records_exceptions(qa, scripted_lm, synalinks_trace):
    with pytest.raises(synatest.ScriptExhausted):
        await qa(Query(query="q"))
    assert isinstance(synalinks_trace.get("generator").exception, synatest.ScriptExhausted)
    with pytest.raises(LookupError, match="expected one call of module 'nope', found 0"):
        synalinks_trace.get("nope")
""",
    )
    result.assert_outcomes(passed=3)


def test_doubles_work_under_xdist(pytester: pytest.Pytester) -> None:
    """Doubles hold per-test state only, so tests spread over workers keep their own."""
    pytester.makeini(INI)
    pytester.makepyfile(
        test_it=PROGRAM
        + """
pytestmark = pytest.mark.synalinks_lm(synatest.SchemaLM(seed=2))


@pytest.mark.parametrize("n", range(4))
async def test_scripted(qa, scripted_lm, n):
    scripted_lm.on(contains=f"q{n}").reply({"answer": f"a{n}"})
    assert (await qa(Query(query=f"q{n}"))).get("answer") == f"a{n}"
    assert len(scripted_lm.calls) == 1


async def test_leftover(qa, scripted_lm):
    scripted_lm.add({"answer": "never used"})
"""
    )
    result = pytester.runpytest_subprocess("-p", "xdist", "-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines(["*UnusedReplies*1 scripted reply was never used*"])
