"""The seam: every LM, embedding and decision call Synalinks makes, routed.

Synalinks looks ``litellm.acompletion`` / ``litellm.aembedding`` /
``litellm.asystemone`` up on the module at call time, so replacing those three
attributes reaches every ``LanguageModel``, ``EmbeddingModel`` and ``DecisionModel``
without touching the program under test.

Each call becomes an :class:`LMRequest` and runs through the current
:class:`Router`: an ordered chain of layers (doubles, cassettes, recorders), each an
``async def layer(request, call_next)`` that answers the request or passes it on.
At the end of the chain a call is either sent to the real provider (live mode) or
fails at once with :class:`~synatest.errors.UnservedLMCall`.

The router in force is, in order: a per-task override (:func:`use_router`, for
harnesses that run many examples concurrently), the current test's router, the
session's router. Nothing here imports litellm or Synalinks at module import.
"""

from synatest.seam.limiter import Limiter, set_limiter
from synatest.seam.patch import (
    activate,
    deactivate,
    install_litellm,
    is_installed,
    patch_synalinks_module,
    set_zero_waits,
    uninstall_litellm,
    unpatch_synalinks,
)
from synatest.seam.provider import SEAMS, call_original
from synatest.seam.request import (
    Kind,
    LMRequest,
    current_repeat,
    shorten,
    snapshot,
    unserved_message,
    use_repeat,
)
from synatest.seam.retry import RetryPolicy, RetryStats, set_policy
from synatest.seam.router import (
    CallNext,
    Layer,
    Router,
    current_router,
    set_session_router,
    set_test_router,
    use_router,
)

__all__ = [
    "SEAMS",
    "CallNext",
    "Kind",
    "LMRequest",
    "Layer",
    "Limiter",
    "RetryPolicy",
    "RetryStats",
    "Router",
    "activate",
    "call_original",
    "current_repeat",
    "current_router",
    "deactivate",
    "install_litellm",
    "is_installed",
    "patch_synalinks_module",
    "set_limiter",
    "set_policy",
    "set_session_router",
    "set_test_router",
    "set_zero_waits",
    "shorten",
    "snapshot",
    "uninstall_litellm",
    "unpatch_synalinks",
    "unserved_message",
    "use_repeat",
    "use_router",
]
