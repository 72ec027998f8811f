"""Fakes for fast unit tests. The real model and KB are exercised by the `integration` tests."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence

import numpy as np

from ingest.embed import Vectors


class FakeEmbedder:
    """Deterministic bag-of-character-bigrams vectors: similar texts get similar vectors.

    Counts every text it embeds, so tests can assert what an incremental build re-embedded.
    """

    def __init__(self, dimension: int = 64, model_id: str = "fake-embedder", delay: float = 0.0,
                 fail_after: int | None = None) -> None:
        self._dim = dimension
        self._id = model_id
        self.delay = delay
        self.fail_after = fail_after
        self.embedded: list[str] = []

    @property
    def model_id(self) -> str:
        return self._id

    @property
    def dimension(self) -> int:
        return self._dim

    def warm_up(self) -> None:
        pass

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self._dim, dtype=np.float32)
        grams = [text[i:i + 2] for i in range(max(1, len(text) - 1))]
        for g in grams:
            h = int.from_bytes(hashlib.md5(g.encode()).digest()[:4], "little")
            v[h % self._dim] += 1.0
        n = np.linalg.norm(v)
        return v / n if n else v

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return np.stack([self._vec(t) for t in texts]).astype(np.float32)

    def embed_passages(self, texts: Sequence[str], *, progress: bool = False) -> Vectors:
        out = []
        for t in texts:
            if self.fail_after is not None and len(self.embedded) >= self.fail_after:
                raise RuntimeError("embedder failed midway (injected)")
            if self.delay:
                time.sleep(self.delay)
            self.embedded.append(t)
            out.append(self._vec(t))
        if not out:
            return np.zeros((0, self._dim), dtype=np.float32)
        return np.stack(out).astype(np.float32)
