"""Sentence embedders and their registry.

An embedder turns texts into L2-normalised float32 rows, so inner product equals cosine
similarity. Registered names resolve lazily: listing them (``ennead ls``) imports no torch.

>>> emb = get_embedder("hashing", dim=64)
>>> emb.encode(["a cat", "a dog"]).shape
(2, 64)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ennead.core.registry import Registry


@runtime_checkable
class Embedder(Protocol):
    """What indexes need from an embedder.

    ``name`` and ``params`` are stored with a saved index so that loading it can rebuild the
    same embedder (``get_embedder(name, **params)``) and refuse a different one.
    """

    name: str
    dim: int

    @property
    def params(self) -> dict[str, Any]: ...

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Return an ``(len(texts), dim)`` float32 array with unit-length rows."""
        ...


embedders: Registry[Any] = Registry("embedder")
embedders.register(
    "minilm",
    "ennead.core.retrieval.minilm:MiniLMEmbedder",
    summary="all-MiniLM-L6-v2 (384-d, English) from the embedded package; the default",
)
embedders.register(
    "hashing",
    "ennead.core.retrieval.hashing:HashingEmbedder",
    summary="deterministic feature hashing of words and character n-grams; no model, for tests",
)


def get_embedder(name: str = "minilm", **params: Any) -> Embedder:
    """Build the embedder registered as ``name`` (unknown names get did-you-mean errors)."""
    factory = embedders.get(name)
    return factory(**params)  # type: ignore[no-any-return]


def normalise_rows(x: np.ndarray) -> np.ndarray:
    """Scale rows to unit length in float32; all-zero rows stay zero instead of becoming NaN."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)
