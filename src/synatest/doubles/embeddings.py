"""``HashEmbeddings``: deterministic embeddings for every EmbeddingModel of a test."""

from __future__ import annotations

import hashlib
import math
import re
from typing import Any

from synatest.doubles.base import Double
from synatest.doubles.replies import to_response
from synatest.seam import CallNext, LMRequest

_WORD = re.compile(r"\w+", re.UNICODE)


class HashEmbeddings(Double):
    """Embeds texts by feature hashing of their words: stable across runs and machines.

    Texts sharing words get similar vectors (the cosine similarity of a text with
    itself is 1, of texts with no word in common about 0), so similarity rewards,
    retrievers and OMEGA's embedding step behave sensibly offline.

    Args:
        dim: vector size (default 64).
        kinds: request kinds served (default embeddings only).
    """

    kinds: tuple[str, ...] = ("embedding",)

    def __init__(self, dim: int = 64, *, kinds: tuple[str, ...] = ("embedding",)) -> None:
        if dim < 2:
            raise ValueError(f"HashEmbeddings(dim={dim}): dim must be at least 2")
        self.dim = dim
        self.kinds = kinds
        self.calls: list[LMRequest] = []

    def embed(self, text: str) -> list[float]:
        """The unit vector of ``text`` (an empty text maps to the first axis)."""
        vector = [0.0] * self.dim
        for word in _WORD.findall(text.lower()):
            digest = hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest()
            index = int.from_bytes(digest[:4], "big") % self.dim
            vector[index] += 1.0 if digest[4] & 1 else -1.0
        norm = math.sqrt(sum(v * v for v in vector))
        if norm == 0.0:
            vector[0] = 1.0
            return vector
        return [v / norm for v in vector]

    async def __call__(self, request: LMRequest, call_next: CallNext) -> Any:
        if request.kind not in self.kinds:
            return await call_next(request)
        self.calls.append(request)
        return to_response([self.embed(text) for text in request.input], request)

    def fresh(self) -> HashEmbeddings:
        return HashEmbeddings(self.dim, kinds=self.kinds)
