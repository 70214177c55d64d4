"""A deterministic, dependency-free embedder for tests and smoke runs.

Words and character trigrams are hashed with BLAKE2 (Python's ``hash`` is salted per process,
so it would change vectors between runs) into signed buckets. Texts sharing words land close;
there is no semantics, so paraphrases with different words are not found.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from ennead.core.errors import ConfigError
from ennead.core.retrieval.embedders import normalise_rows

_WORD = re.compile(r"\w+", re.UNICODE)


class HashingEmbedder:
    """Feature-hashing embedder: ``dim`` signed buckets over words and character n-grams."""

    name = "hashing"

    def __init__(self, dim: int = 256, ngram: int = 3, seed: int = 0):
        if dim < 2:
            raise ConfigError(f"HashingEmbedder dim must be >= 2, got {dim}")
        if ngram < 0:
            raise ConfigError(f"HashingEmbedder ngram must be >= 0 (0 = words only), got {ngram}")
        self.dim, self.ngram, self.seed = int(dim), int(ngram), int(seed)
        self._salt = self.seed.to_bytes(8, "little", signed=True)

    @property
    def params(self) -> dict[str, Any]:
        return {"dim": self.dim, "ngram": self.ngram, "seed": self.seed}

    def _features(self, text: str) -> list[tuple[str, float]]:
        words = _WORD.findall(text.lower())
        feats = [("w:" + w, 1.0) for w in words]
        if self.ngram:
            for w in words:
                padded = f"<{w}>"
                # Character n-grams give partial credit to inflections (index / indexes).
                feats += [
                    ("c:" + padded[i : i + self.ngram], 0.5)
                    for i in range(max(len(padded) - self.ngram + 1, 0))
                ]
        return feats

    def _bucket(self, feature: str) -> tuple[int, float]:
        digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8, salt=self._salt).digest()
        value = int.from_bytes(digest, "little")
        return value % self.dim, (1.0 if (value >> 63) & 1 else -1.0)

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("encode() takes a list of texts, not a single string")
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature, weight in self._features(text):
                col, sign = self._bucket(feature)
                out[row, col] += sign * weight
        return normalise_rows(out)

    def __repr__(self) -> str:
        return f"HashingEmbedder(dim={self.dim}, ngram={self.ngram}, seed={self.seed})"
