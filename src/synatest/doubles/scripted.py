"""``ScriptedLM``: queued replies and content rules, strict about both.

Queued replies (``add``) are answered in call-start order: a reply is taken from the
queue the moment a request reaches the double, before anything awaits, so under
``asyncio.gather`` the assignment follows the order in which the calls *started*,
never the order in which other work completed. When the calls of a batch need
per-example answers, use rules (``on(contains=...)``): they match on the request's
content and give the same answers whatever the interleaving.
"""

from __future__ import annotations

import copy
import fnmatch
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from synatest.doubles.base import Double
from synatest.doubles.replies import as_tool_calls, resolve, to_response
from synatest.doubles.strict import check_reply
from synatest.errors import ScriptExhausted, UnusedReplies
from synatest.seam import CallNext, LMRequest, shorten


def describe_reply(reply: Any) -> str:
    calls = as_tool_calls(reply)
    if calls is not None:
        return "tool call(s) " + ", ".join(f"{c.name}({c.arguments})" for c in calls)
    if isinstance(reply, BaseException):
        return f"raise {type(reply).__name__}({shorten(str(reply), 60)!r})"
    if callable(reply):
        return f"callable {getattr(reply, '__name__', type(reply).__name__)}"
    get_json = getattr(reply, "get_json", None)
    if callable(get_json):
        return f"{type(reply).__name__} {shorten(repr(get_json()), 100)}"
    return shorten(repr(reply), 100)


@dataclass
class Call:
    """One request a ScriptedLM answered, and the reply it gave."""

    request: LMRequest
    reply: Any
    source: str  # "queue #1" or "rule on(contains='...')"

    @property
    def model(self) -> str:
        return self.request.model

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.request.messages

    @property
    def schema(self) -> dict[str, Any] | None:
        return self.request.schema

    @property
    def schema_title(self) -> str | None:
        return self.request.schema_title

    @property
    def tools(self) -> list[dict[str, Any]]:
        return self.request.tools

    @property
    def tool_names(self) -> list[str]:
        return self.request.tool_names

    @property
    def last_user_message(self) -> str:
        return self.request.last_user_message

    @property
    def text(self) -> str:
        return self.request.text

    def describe(self) -> str:
        return f"{self.request.describe()} -> {describe_reply(self.reply)} [{self.source}]"


def _schema_matcher(schema: Any) -> Callable[[LMRequest], bool]:
    """``schema=`` of a rule: a title, a DataModel class, or a JSON schema dict."""
    if isinstance(schema, str):
        return lambda request: request.schema_title == schema
    if isinstance(schema, dict):
        title = schema.get("title")
        props = set(schema.get("properties", {}))
        return lambda request: (
            request.schema is not None
            and (
                request.schema == schema
                or (title is not None and request.schema_title == title)
                or (bool(props) and props == set(request.schema.get("properties", {})))
            )
        )
    get_schema = getattr(schema, "get_schema", None)
    if callable(get_schema):
        wanted = get_schema()
        title = wanted.get("title")
        props = set(wanted.get("properties", {}))

        # A Generator's output schema may add fields (ChainOfThought adds
        # "thinking"), so a DataModel matches a request asking for all its fields.
        def matches(request: LMRequest) -> bool:
            if request.schema is None:
                return False
            if request.schema_title == title:
                return True
            return bool(props) and props <= set(request.schema.get("properties", {}))

        return matches
    raise TypeError(
        f"on(schema=...) takes a schema title (str), a DataModel class or a JSON schema "
        f"dict, not {type(schema).__name__}"
    )


class Rule:
    """A content rule: ``scripted_lm.on(contains=...).reply(...)``."""

    def __init__(
        self,
        lm: ScriptedLM,
        *,
        contains: str | Iterable[str] | None = None,
        schema: Any = None,
        model: str | None = None,
        where: Callable[[LMRequest], bool] | None = None,
        tools: str | Iterable[str] | None = None,
    ) -> None:
        self._lm = lm
        self.contains = [contains] if isinstance(contains, str) else list(contains or [])
        self.schema = schema
        self.model = model
        self.where = where
        self.tools = [tools] if isinstance(tools, str) else list(tools or [])
        self._schema_match = _schema_matcher(schema) if schema is not None else None
        self.replies: deque[Any] = deque()
        self.times: int | None = None
        self.used = 0

    def matches(self, request: LMRequest) -> bool:
        if self.model is not None and not fnmatch.fnmatchcase(request.model, self.model):
            return False
        if self.contains:
            text = request.text
            if not all(piece in text for piece in self.contains):
                return False
        if self.tools and not set(self.tools) <= set(request.tool_names):
            return False
        if self._schema_match is not None and not self._schema_match(request):
            return False
        if self.where is not None and not self.where(request):
            return False
        return True

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.used >= self.times

    def reply(self, *replies: Any, times: int | None = None) -> ScriptedLM:
        """Answer matching requests with ``replies`` (returns the ScriptedLM, to chain).

        One reply: used for every match (``times=None``, the default) or exactly
        ``times`` matches. Several replies: each used once, in order (``times``
        defaults to their number). A counted rule not used up by the end of the test
        fails it with :class:`~synatest.UnusedReplies`.
        """
        if not replies:
            raise TypeError("reply() needs a reply, e.g. .reply({'answer': '42'})")
        if times is not None and times < 1:
            raise ValueError(f"times must be a positive number of uses, not {times}")
        if len(replies) > 1:
            if times is not None and times != len(replies):
                raise ValueError(
                    f"{len(replies)} replies given with times={times}: give one reply "
                    "with times=N, or N replies (each used once)"
                )
            times = len(replies)
        self.replies.extend(replies)
        self.times = times
        self._lm._add_rule(self)
        return self._lm

    def next_reply(self) -> Any:
        self.used += 1
        if len(self.replies) > 1:
            return self.replies.popleft()
        return self.replies[0]

    def describe(self) -> str:
        bits = []
        if self.contains:
            shown = self.contains[0] if len(self.contains) == 1 else self.contains
            bits.append(f"contains={shown!r}")
        if self.schema is not None:
            name = (
                self.schema
                if isinstance(self.schema, str)
                else getattr(self.schema, "__name__", "<schema>")
            )
            bits.append(f"schema={name!r}")
        if self.model is not None:
            bits.append(f"model={self.model!r}")
        if self.tools:
            bits.append(f"tools={self.tools!r}")
        if self.where is not None:
            bits.append(f"where={getattr(self.where, '__name__', 'fn')}")
        return f"on({', '.join(bits)})"

    def __repr__(self) -> str:
        uses = "unlimited" if self.times is None else f"{self.used}/{self.times} used"
        return f"<Rule {self.describe()} {uses}>"


@dataclass
class _Queued:
    reply: Any
    index: int


class ScriptedLM(Double):
    """A language model that answers from a script.

    Args:
        *replies: replies queued at once (same as :meth:`add`).
        strict: check structured replies against the requested schema
            (:class:`~synatest.SchemaMismatch`). Default True.
        allow_unused: do not fail the test when queued replies are left over.
            Default False (:class:`~synatest.UnusedReplies`).
        passthrough: pass requests with no reply on to the next layer (another
            double, a cassette) instead of raising :class:`~synatest.ScriptExhausted`.
            Default False.
        kinds: request kinds served. Default ``("completion", "decision")``: LM and
            decision-model calls (embedding calls go on to e.g.
            :class:`~synatest.HashEmbeddings`).

    A reply is a dict, a DataModel, a str, ``synatest.tool_call(name, **args)``, a
    list of tool calls, an exception instance (raised as the provider's error: note
    that Synalinks retries, and each retry takes the next reply), or a callable taking
    the :class:`~synatest.LMRequest` and returning one of these.
    """

    def __init__(
        self,
        *replies: Any,
        strict: bool = True,
        allow_unused: bool = False,
        passthrough: bool = False,
        kinds: tuple[str, ...] = ("completion", "decision"),
    ) -> None:
        self.strict = strict
        self.allow_unused = allow_unused
        self.passthrough = passthrough
        self.kinds = kinds
        self.rules: list[Rule] = []
        self.calls: list[Call] = []
        self._queue: deque[_Queued] = deque()
        self._queued_total = 0
        self._lock = threading.Lock()
        self.add(*replies)

    # -- scripting ---------------------------------------------------------------
    def add(self, *replies: Any) -> ScriptedLM:
        """Queue replies, answered in call-start order after the rules. Returns self."""
        with self._lock:
            for reply in replies:
                self._queued_total += 1
                self._queue.append(_Queued(reply, self._queued_total))
        return self

    def on(
        self,
        *,
        contains: str | Iterable[str] | None = None,
        schema: Any = None,
        model: str | None = None,
        where: Callable[[LMRequest], bool] | None = None,
        tools: str | Iterable[str] | None = None,
    ) -> Rule:
        """A rule matched on the request's content; finish it with ``.reply(...)``.

        Args:
            contains: text (or texts, all required) found in the request's messages.
            schema: the requested output schema: its title, a DataModel class (matches
                when the request asks for all of its fields), or a JSON schema dict.
            model: the model name, a glob (``"openai/*"``).
            where: any predicate on the :class:`~synatest.LMRequest`.
            tools: tool name(s) the request must offer.

        Rules are tried in the order they were added, before the queue.
        """
        return Rule(self, contains=contains, schema=schema, model=model, where=where, tools=tools)

    def _add_rule(self, rule: Rule) -> None:
        with self._lock:
            if rule not in self.rules:
                self.rules.append(rule)

    @property
    def queued(self) -> list[Any]:
        """Replies still waiting in the queue."""
        return [q.reply for q in self._queue]

    # -- serving -------------------------------------------------------------------
    def _pick(self, request: LMRequest) -> tuple[Any, str] | None:
        with self._lock:
            for rule in self.rules:
                if not rule.exhausted and rule.matches(request):
                    return rule.next_reply(), f"rule {rule.describe()}"
            if self._queue:
                queued = self._queue.popleft()
                return queued.reply, f"queue #{queued.index}"
        return None

    async def __call__(self, request: LMRequest, call_next: CallNext) -> Any:
        if request.kind not in self.kinds:
            return await call_next(request)
        picked = self._pick(request)
        if picked is None:
            if self.passthrough:
                return await call_next(request)
            raise ScriptExhausted(self._exhausted_message(request))
        reply, source = picked
        reply = resolve(reply, request)
        self.calls.append(Call(request=request, reply=reply, source=source))
        if self.strict:
            check_reply(reply, request, source=f"ScriptedLM ({source})")
        return to_response(reply, request)

    # -- messages and checks -------------------------------------------------------
    def _exhausted_message(self, request: LMRequest) -> str:
        lines = [
            f"ScriptedLM has no reply for LM call #{len(self.calls) + 1}: no rule matches "
            f"and the queue is empty ({self._queued_total} queued repl"
            f"{'y' if self._queued_total == 1 else 'ies'} already used).",
            f"  request: {request.describe()}",
        ]
        if request.test_id:
            lines.append(f"  test: {request.test_id}")
        retried = self._retry_of(request)
        if retried is not None:
            lines.append(
                f"  This request repeats call #{retried} (same messages): Synalinks retries "
                "a call when handling its reply failed (a provider error, or a warning "
                "turned into an error by filterwarnings). To see that error run pytest "
                "with -W 'always:Error occured:UserWarning'; to script a retry, queue one "
                "reply per attempt."
            )
        for rule in self.rules:
            state = "used up" if rule.exhausted else "does not match"
            lines.append(f"  rule {rule.describe()}: {state}")
        if self.calls:
            lines.append("  calls served so far:")
            lines.extend(f"    {i}. {c.describe()}" for i, c in enumerate(self.calls[-5:], 1))
        lines.append(
            "Script it: scripted_lm.add(reply) queues one more reply; "
            "scripted_lm.on(contains=...).reply(reply) answers by content. "
            "ScriptedLM(passthrough=True) lets other doubles or cassettes answer instead."
        )
        return "\n".join(lines)

    def _retry_of(self, request: LMRequest) -> int | None:
        messages = request.kwargs.get("messages")
        for index, call in enumerate(self.calls, 1):
            if messages is not None and call.request.kwargs.get("messages") is messages:
                return index
        return None

    def unused(self) -> list[str]:
        """What the script still expects: leftover queued replies and counted rules."""
        left = [f"queued reply #{q.index}: {describe_reply(q.reply)}" for q in self._queue]
        for rule in self.rules:
            if rule.times is not None and not rule.exhausted:
                left.append(
                    f"rule {rule.describe()}: {rule.times - rule.used} of {rule.times} use(s) left"
                )
        return left

    def check(self) -> None:
        """Fail with :class:`UnusedReplies` when the script was not used up."""
        if self.allow_unused:
            return
        left = self.unused()
        if not left:
            return
        lines = [
            f"ScriptedLM: {len(left)} scripted repl{'y was' if len(left) == 1 else 'ies were'} "
            f"never used (the program made {len(self.calls)} LM call(s), fewer than scripted):"
        ]
        lines.extend(f"  - {item}" for item in left)
        if self.calls:
            lines.append("  calls served:")
            lines.extend(f"    {i}. {c.describe()}" for i, c in enumerate(self.calls, 1))
        lines.append(
            "Remove the extra replies, or find out why the program made fewer calls; "
            "ScriptedLM(allow_unused=True) turns this check off."
        )
        raise UnusedReplies("\n".join(lines))

    def reset(self) -> None:
        """Forget the script and the recorded calls."""
        with self._lock:
            self.rules.clear()
            self._queue.clear()
            self._queued_total = 0
        self.calls.clear()

    def fresh(self) -> ScriptedLM:
        new = ScriptedLM(
            strict=self.strict,
            allow_unused=self.allow_unused,
            passthrough=self.passthrough,
            kinds=self.kinds,
        )
        new.add(*(q.reply for q in self._queue))
        for rule in self.rules:
            clone = copy.copy(rule)
            clone._lm = new
            clone.replies = deque(rule.replies)
            clone.used = 0
            new.rules.append(clone)
        return new
