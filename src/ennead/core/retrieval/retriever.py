"""One config for "give me the top-k passages": BM25 or dense, built or reopened from disk.

>>> cfg = RetrieverConfig(kind="bm25", k=2)
>>> r = build_retriever(cfg, [{"id": "a", "text": "cats purr"}, {"id": "b", "text": "dogs bark"}])
>>> [h.id for h in r.search("dogs")][:1]
['b']
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from ennead.core.config import BaseConfig
from ennead.core.errors import ConfigError
from ennead.core.logging import get_logger
from ennead.core.retrieval.base import META, Hit, Index, check_k
from ennead.core.retrieval.bm25 import BM25Index
from ennead.core.retrieval.corpus import Corpus, CorpusLike, as_corpus
from ennead.core.retrieval.dense import DenseIndex, DenseIndexConfig
from ennead.core.retrieval.embedders import get_embedder

log = get_logger(__name__)


class BM25Config(BaseConfig):
    """BM25 parameters (see the bm25s documentation for the variants)."""

    k1: float = Field(1.5, ge=0, description="term-frequency saturation")
    b: float = Field(0.75, ge=0, le=1, description="document-length normalisation")
    method: Literal["robertson", "lucene", "atire", "bm25l", "bm25+"] = Field(
        "lucene", description="BM25 variant"
    )
    stopwords: Literal["en"] | None = Field("en", description="stopword list to drop, or null")


class RetrieverConfig(BaseConfig):
    """Which retriever to use and where its index lives."""

    kind: Literal["bm25", "dense"] = Field("dense", description="lexical BM25 or dense embeddings")
    k: int = Field(5, gt=0, description="passages returned per query")
    embedder: str = Field("minilm", description="registered embedder name (dense only)")
    embedder_options: dict[str, Any] = Field(
        default_factory=dict,
        description="keyword arguments for the embedder, e.g. {device: auto} for MiniLM",
    )
    index_path: Path | None = Field(
        None,
        description="index folder: reopened when it exists, otherwise built and saved there",
    )
    dense: DenseIndexConfig = Field(default_factory=DenseIndexConfig)
    bm25: BM25Config = Field(default_factory=BM25Config)


class Retriever:
    """An index plus the default ``k`` from the config."""

    def __init__(self, index: Index, k: int = 5):
        self.index = index
        self.k = check_k(k)

    @property
    def corpus(self) -> Corpus:
        return self.index.corpus

    def search(self, query: str, k: int | None = None) -> list[Hit]:
        return self.index.search(query, self.k if k is None else k)

    def batch_search(self, queries: Sequence[str], k: int | None = None) -> list[list[Hit]]:
        return self.index.batch_search(queries, self.k if k is None else k)

    def __repr__(self) -> str:
        return f"Retriever({self.index!r}, k={self.k})"


def build_retriever(cfg: RetrieverConfig, corpus: CorpusLike | None = None) -> Retriever:
    """Reopen ``cfg.index_path`` when it holds an index, else build from ``corpus`` (and save).

    When both an existing index and a corpus are given, the corpus must be the one the index
    was built from; a changed corpus is an error rather than silently stale results.
    """
    path = cfg.index_path
    index: Index
    if path is not None and (Path(path) / META).exists():
        if cfg.kind == "bm25":
            index = BM25Index.load(path)
        else:
            index = DenseIndex.load(path, get_embedder(cfg.embedder, **cfg.embedder_options))
        if corpus is not None:
            given = as_corpus(corpus)
            if given.fingerprint() != index.corpus.fingerprint():
                raise ConfigError(
                    f"the index at {path} was built from a different corpus than the one given "
                    f"({len(index.corpus)} vs {len(given)} documents); delete the folder or "
                    "choose another index_path to rebuild"
                )
        log.info("reopened %s index at %s (%d documents)", cfg.kind, path, len(index.corpus))
        return Retriever(index, cfg.k)
    if corpus is None:
        where = f"no index at {path}" if path is not None else "no index_path is set"
        raise ConfigError(f"{where}; pass a corpus to build one")
    if cfg.kind == "bm25":
        index = BM25Index.build(corpus, **cfg.bm25.model_dump())
    else:
        embedder = get_embedder(cfg.embedder, **cfg.embedder_options)
        index = DenseIndex.build(corpus, embedder, cfg.dense)
    if path is not None:
        index.save(path)
        log.info("saved %s index to %s", cfg.kind, path)
    return Retriever(index, cfg.k)
