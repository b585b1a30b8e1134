"""The mocked suite's fixtures: the dummy provider keys its HTTP-layer mocks need."""

from __future__ import annotations

from collections.abc import Iterator
from unittest import mock

import pytest
from mocked_programs import DUMMY_KEYS


@pytest.fixture
def dummy_keys() -> Iterator[None]:
    """litellm builds a provider's client only with some key; these open nothing."""
    with mock.patch.dict("os.environ", DUMMY_KEYS):
        yield
