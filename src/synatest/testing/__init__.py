"""Test helpers that ship with synatest: a loopback OpenAI-compatible server, and
recording a suite's cassettes from it."""

from __future__ import annotations

from synatest.testing.faults import Fault, FaultRule, RequestRate
from synatest.testing.record import record_from_loopback
from synatest.testing.server import LoopbackLM, schema_instance

# A key litellm accepts for `openai/...` models pointed at the loopback server. Not a
# secret: the cassette secret scan still refuses it if it ever reaches a file.
DUMMY_API_KEY = "sk-test-dummy-loopback-key"

__all__ = [
    "DUMMY_API_KEY",
    "Fault",
    "FaultRule",
    "LoopbackLM",
    "RequestRate",
    "record_from_loopback",
    "schema_instance",
]
