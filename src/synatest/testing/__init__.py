"""Test helpers that ship with synatest: a loopback OpenAI-compatible server."""

from __future__ import annotations

from synatest.testing.server import LoopbackLM, schema_instance

__all__ = ["LoopbackLM", "schema_instance"]
