"""Dense retrieval: embeddings in a FAISS index (exact inner product by default).

Vectors are unit length, so inner product is cosine similarity. ``flat`` is exact and right up
to a few hundred thousand passages; ``ivf`` (clustered, probes ``nprobe`` lists) and ``hnsw``
(graph) trade a little recall for speed on larger corpora.

>>> from ennead.core.retrieval.hashing import HashingEmbedder
>>> index = DenseIndex.build([{"id": "a", "text": "cats purr"}], HashingEmbedder(dim=32))
>>> index.search("cats", k=1)[0].id
'a'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from ennead.core.config import BaseConfig
from ennead.core.errors import ConfigError, DataError
from ennead.core.imports import require
from ennead.core.logging import get_logger, progress
from ennead.core.retrieval.base import (
    DOCS,
    Hit,
    atomic_dir,
    check_k,
    check_queries,
    load_docs,
    read_meta,
    write_meta,
)
from ennead.core.retrieval.corpus import Corpus, CorpusLike, as_corpus
from ennead.core.retrieval.embedders import Embedder, get_embedder

log = get_logger(__name__)
INDEX_FILE = "index.faiss"


class DenseIndexConfig(BaseConfig):
    """How a dense index is built and searched."""

    index_type: Literal["flat", "ivf", "hnsw"] = Field(
        "flat", description="flat = exact; ivf / hnsw = approximate, for large corpora"
    )
    batch_size: int = Field(64, gt=0, description="texts per embedder call while encoding")
    nlist: int | None = Field(
        None, gt=0, description="ivf: number of clusters (default about 4*sqrt(n), at most n)"
    )
    nprobe: int = Field(8, gt=0, description="ivf: clusters searched per query")
    hnsw_m: int = Field(32, gt=1, description="hnsw: neighbours per node")
    ef_construction: int = Field(80, gt=0, description="hnsw: candidate list size when building")
    ef_search: int = Field(64, gt=0, description="hnsw: candidate list size when searching")


def _faiss() -> Any:
    return require("faiss", "retrieval", "dense retrieval")


def encode_in_batches(
    embedder: Embedder, texts: Sequence[str], batch_size: int, desc: str = "encoding"
) -> np.ndarray:
    """Encode with a progress bar; checks the embedder keeps its promise of unit rows."""
    batches = [texts[i : i + batch_size] for i in range(0, len(texts), batch_size)]
    parts = [
        np.asarray(embedder.encode(list(b), batch_size=batch_size), dtype=np.float32)
        for b in progress(batches, total=len(batches), desc=desc)
    ]
    vecs = np.concatenate(parts) if parts else np.zeros((0, embedder.dim), dtype=np.float32)
    if vecs.shape != (len(texts), embedder.dim):
        raise DataError(
            f"embedder {embedder.name!r} returned shape {vecs.shape}, "
            f"expected ({len(texts)}, {embedder.dim})"
        )
    return np.ascontiguousarray(vecs)


def _make_index(vecs: np.ndarray, cfg: DenseIndexConfig) -> tuple[Any, dict[str, Any]]:
    faiss = _faiss()
    n, dim = vecs.shape
    if cfg.index_type == "flat":
        index = faiss.IndexFlatIP(dim)
        params: dict[str, Any] = {}
    elif cfg.index_type == "ivf":
        nlist = min(cfg.nlist or max(1, int(4 * math.sqrt(n))), n)
        if cfg.nlist and cfg.nlist > n:
            log.warning("ivf nlist %d exceeds the %d documents; using %d", cfg.nlist, n, nlist)
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.train(vecs)
        index.nprobe = min(cfg.nprobe, nlist)
        params = {"nlist": nlist, "nprobe": index.nprobe}
    else:
        index = faiss.IndexHNSWFlat(dim, cfg.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = cfg.ef_construction
        index.hnsw.efSearch = cfg.ef_search
        params = {"hnsw_m": cfg.hnsw_m, "ef_search": cfg.ef_search}
    index.add(vecs)
    return index, params


class DenseIndex:
    """Documents, their embeddings in FAISS, and the embedder that made them."""

    kind = "dense"

    def __init__(
        self, corpus: Corpus, embedder: Embedder, index: Any, config: DenseIndexConfig | None = None
    ):
        if index.d != embedder.dim:
            raise ConfigError(
                f"the FAISS index holds {index.d}-d vectors but embedder "
                f"{embedder.name!r} makes {embedder.dim}-d ones"
            )
        if index.ntotal != len(corpus):
            raise DataError(f"the FAISS index holds {index.ntotal} vectors for {len(corpus)} docs")
        self.corpus = corpus
        self.embedder = embedder
        self.index = index
        self.config = config or DenseIndexConfig()

    @classmethod
    def build(
        cls,
        corpus: CorpusLike,
        embedder: Embedder | str = "minilm",
        config: DenseIndexConfig | None = None,
        **overrides: Any,
    ) -> DenseIndex:
        """Encode the corpus (titles and texts) in batches and index the vectors.

        ``overrides`` are :class:`DenseIndexConfig` fields, e.g. ``index_type="hnsw"``.
        """
        corpus = as_corpus(corpus)
        cfg = config or DenseIndexConfig()
        if overrides:
            cfg = cfg.model_validate({**cfg.model_dump(), **overrides})
        emb = get_embedder(embedder) if isinstance(embedder, str) else embedder
        vecs = encode_in_batches(emb, [d.contents for d in corpus], cfg.batch_size)
        index, _ = _make_index(vecs, cfg)
        return cls(corpus, emb, index, cfg)

    def search(self, query: str, k: int = 10) -> list[Hit]:
        """The ``k`` nearest documents to ``query`` by cosine similarity."""
        return self.batch_search([query], k)[0]

    def batch_search(self, queries: Sequence[str], k: int = 10) -> list[list[Hit]]:
        check_k(k)
        queries = check_queries(queries)
        if not queries:
            return []
        qvecs = encode_in_batches(self.embedder, queries, self.config.batch_size, "queries")
        scores, ids = self.index.search(qvecs, min(k, len(self.corpus)))
        out = []
        for row_scores, row_ids in zip(scores, ids, strict=True):
            # Approximate indexes pad with -1 when fewer than k neighbours were reached.
            found = [(int(i), float(s)) for i, s in zip(row_ids, row_scores, strict=True) if i >= 0]
            out.append([Hit(self.corpus[i], s, r) for r, (i, s) in enumerate(found, 1)])
        return out

    def save(self, path: str | Path) -> Path:
        """Write ``index.faiss``, ``docs.jsonl`` and ``meta.json`` atomically to a folder."""
        path = Path(path)
        faiss = _faiss()
        with atomic_dir(path) as tmp:
            faiss.write_index(self.index, str(tmp / INDEX_FILE))
            self.corpus.save(tmp / DOCS)
            write_meta(
                tmp,
                self.kind,
                self.corpus,
                embedder=self.embedder.name,
                embedder_params=dict(getattr(self.embedder, "params", {}) or {}),
                dim=self.embedder.dim,
                config=self.config.model_dump(),
            )
        return path

    @classmethod
    def load(cls, path: str | Path, embedder: Embedder | str | None = None) -> DenseIndex:
        """Reopen a saved index; without ``embedder`` the one named in ``meta.json`` is built.

        A different embedder (name or size) than the one that built the index is refused:
        its vectors would not be comparable.
        """
        path = Path(path)
        meta = read_meta(path, cls.kind)
        if embedder is None:
            emb = get_embedder(meta["embedder"], **meta.get("embedder_params", {}))
        elif isinstance(embedder, str):
            emb = get_embedder(embedder)
        else:
            emb = embedder
        if emb.dim != meta["dim"]:
            raise ConfigError(
                f"{path}: the index was built with embedder {meta['embedder']!r} "
                f"({meta['dim']}-d vectors) but embedder {emb.name!r} makes {emb.dim}-d vectors; "
                "load it with the same embedder or rebuild the index"
            )
        if emb.name != meta["embedder"]:
            raise ConfigError(
                f"{path}: the index was built with embedder {meta['embedder']!r}, "
                f"not {emb.name!r}; vectors from different embedders are not comparable"
            )
        corpus = load_docs(path, meta)
        index = _faiss().read_index(str(path / INDEX_FILE))
        cfg = DenseIndexConfig.model_validate(meta.get("config", {}))
        if cfg.index_type == "ivf":
            index.nprobe = min(cfg.nprobe, index.nlist)
        elif cfg.index_type == "hnsw":
            index.hnsw.efSearch = cfg.ef_search
        return cls(corpus, emb, index, cfg)

    def __len__(self) -> int:
        return len(self.corpus)

    def __repr__(self) -> str:
        return (
            f"DenseIndex({len(self.corpus)} documents, embedder={self.embedder.name!r}, "
            f"dim={self.embedder.dim}, index_type={self.config.index_type!r})"
        )
