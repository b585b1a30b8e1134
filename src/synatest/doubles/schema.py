"""``SchemaLM``: a valid reply for any request, with no script at all.

Each structured request gets a value generated (with Hypothesis, through
:mod:`synatest.strategies`) from the very JSON schema the program sent; a request
offering tools gets one call of every tool it has not called yet in the
conversation, with generated arguments, and then a plain answer. Replies depend only
on the seed and the request's content, so they are reproducible and the same under
any concurrency.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from typing import Any

from synatest import _env
from synatest.doubles.base import Double
from synatest.doubles.replies import ToolCall, to_response
from synatest.doubles.strict import check_reply
from synatest.seam import CallNext, LMRequest

# Hypothesis tries the simplest value first; drawing a few and keeping the last
# gives more telling replies (non-empty strings, several list items).
_DRAWS = 3


@contextlib.contextmanager
def _hypothesis_storage(directory: str) -> Iterator[None]:
    """Point Hypothesis' storage (``.hypothesis``) at ``directory`` for one draw.

    With ``database=None`` a draw saves no examples, but Hypothesis still caches
    its unicode tables in its storage directory, ``./.hypothesis`` unless told
    otherwise: the user's working directory. Their own choice (the
    ``HYPOTHESIS_STORAGE_DIRECTORY`` variable, ``set_hypothesis_home_dir``) is put
    back afterwards.
    """
    from hypothesis import configuration

    name = "__hypothesis_home_directory"  # a module global: not name-mangled
    if not hasattr(configuration, name):  # pragma: no cover - another Hypothesis
        yield
        return
    previous = getattr(configuration, name)
    configuration.set_hypothesis_home_dir(directory)
    try:
        yield
    finally:
        setattr(configuration, name, previous)


def draw(strategy: Any, seed: int) -> Any:
    """A value of ``strategy``, determined by ``seed`` (no global randomness used)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    drawn: list[Any] = []

    @settings(
        max_examples=_DRAWS,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=False,
        print_blob=False,
    )
    @hypothesis_seed(seed)
    @given(strategy)
    def collect(value: Any) -> None:
        drawn.append(value)

    with _hypothesis_storage(_env.hypothesis_home()):
        collect()
    if not drawn:  # pragma: no cover - a strategy with no values at all
        raise ValueError("the schema admits no value to generate")
    return drawn[-1]


def _assistant_tool_names(request: LMRequest) -> set[str]:
    called: set[str] = set()
    for message in request.messages:
        if not isinstance(message, dict):
            continue
        for call in message.get("tool_calls") or []:
            function = call.get("function") if isinstance(call, dict) else None
            if isinstance(function, dict) and function.get("name"):
                called.add(str(function["name"]))
    return called


class SchemaLM(Double):
    """Answers any completion with a reply valid for what the program asked.

    Args:
        seed: seeds generation (default 0). Same seed, same request -> same reply.
        text: the reply to requests with neither schema nor tools (default: a short
            fixed sentence, so the output is readable).
        kinds: request kinds served (default completions and decision-model calls).

    ``schema_lm.calls`` lists ``(request, reply)`` pairs.
    """

    def __init__(
        self,
        seed: int = 0,
        *,
        text: str = "SchemaLM reply.",
        kinds: tuple[str, ...] = ("completion", "decision"),
    ) -> None:
        self.seed = seed
        self.text = text
        self.kinds = kinds
        self.calls: list[tuple[LMRequest, Any]] = []
        self._strategies: dict[str, Any] = {}

    def _strategy(self, schema: dict[str, Any]) -> Any:
        key = json.dumps(schema, sort_keys=True)
        strategy = self._strategies.get(key)
        if strategy is None:
            from synatest.strategies import from_schema

            strategy = self._strategies[key] = from_schema(schema, readable=True)
        return strategy

    def _seed_for(self, request: LMRequest, extra: str = "") -> int:
        digest = hashlib.blake2b(digest_size=8)
        for part in (
            str(self.seed),
            json.dumps(request.schema, sort_keys=True),
            request.text,
            extra,
        ):
            digest.update(part.encode("utf-8", "surrogatepass"))
            digest.update(b"\0")
        return int.from_bytes(digest.digest(), "big") % (2**32)

    def reply_for(self, request: LMRequest) -> Any:
        """The reply this double gives ``request`` (a dict, tool calls, or text)."""
        tools = [t.get("function", {}) for t in request.tools if isinstance(t, dict)]
        if tools and request.kwargs.get("tool_choice") != "none":
            called = _assistant_tool_names(request)
            pending = [t for t in tools if t.get("name") and t["name"] not in called]
            if pending:
                calls = []
                for tool in pending:
                    parameters = tool.get("parameters") or {"type": "object"}
                    arguments = draw(
                        self._strategy(parameters), self._seed_for(request, tool["name"])
                    )
                    calls.append(ToolCall(name=tool["name"], arguments=arguments))
                return calls
        schema = request.schema
        if schema is None:
            return self.text
        return draw(self._strategy(schema), self._seed_for(request))

    async def __call__(self, request: LMRequest, call_next: CallNext) -> Any:
        if request.kind not in self.kinds:
            return await call_next(request)
        reply = self.reply_for(request)
        self.calls.append((request, reply))
        # Generation follows the schema; the check guards that promise.
        check_reply(reply, request, source="SchemaLM")
        return to_response(reply, request)

    def fresh(self) -> SchemaLM:
        return SchemaLM(self.seed, text=self.text, kinds=self.kinds)
