"""Lexical retrieval: BM25 over ``bm25s`` (sparse scores precomputed at index time).

>>> index = BM25Index.build([{"id": "a", "text": "cats purr"}, {"id": "b", "text": "dogs bark"}])
>>> index.search("why do cats purr", k=1)[0].id
'a'
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ennead.core.errors import ConfigError
from ennead.core.imports import require
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

_METHODS = ("robertson", "lucene", "atire", "bm25l", "bm25+")
_SUBDIR = "bm25s"


def _bm25s() -> Any:
    return require("bm25s", "retrieval", "BM25 retrieval")


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` best scores, best first; ties keep corpus order (deterministic)."""
    k = min(k, scores.shape[0])
    if k < scores.shape[0]:
        part = np.argpartition(-scores, k - 1)[:k]
        # argpartition may cut through a tie; take every index tied with the k-th score.
        cut = scores[part].min()
        part = np.flatnonzero(scores >= cut)
    else:
        part = np.arange(scores.shape[0])
    order = np.lexsort((part, -scores[part]))
    return part[order][:k]


class BM25Index:
    """BM25 over a corpus. Build with :meth:`build`, reopen with :meth:`load`."""

    kind = "bm25"

    def __init__(self, corpus: Corpus, retriever: Any, params: dict[str, Any]):
        self.corpus = corpus
        self._bm25 = retriever
        self.params = params
        # Token ids at or beyond this have no postings (bm25s keeps an extra empty token).
        self._n_scored = len(retriever.scores["indptr"]) - 1

    @staticmethod
    def _check_params(k1: float, b: float, method: str, stopwords: str | None) -> dict[str, Any]:
        if method not in _METHODS:
            raise ConfigError(f"BM25 method must be one of {', '.join(_METHODS)}, got {method!r}")
        if not k1 >= 0:
            raise ConfigError(f"BM25 k1 must be >= 0, got {k1}")
        if not 0 <= b <= 1:
            raise ConfigError(f"BM25 b must be in [0, 1], got {b}")
        return {"k1": float(k1), "b": float(b), "method": method, "stopwords": stopwords}

    @classmethod
    def build(
        cls,
        corpus: CorpusLike,
        *,
        k1: float = 1.5,
        b: float = 0.75,
        method: str = "lucene",
        stopwords: str | None = "en",
    ) -> BM25Index:
        """Index every document's title and text. ``stopwords``: "en" or None."""
        corpus = as_corpus(corpus)
        params = cls._check_params(k1, b, method, stopwords)
        bm25s = _bm25s()
        retriever = bm25s.BM25(k1=params["k1"], b=params["b"], method=method)
        retriever.index(cls._tokenize([d.contents for d in corpus], stopwords), show_progress=False)
        return cls(corpus, retriever, params)

    @staticmethod
    def _tokenize(texts: list[str], stopwords: str | None) -> list[list[str]]:
        return _bm25s().tokenize(  # type: ignore[no-any-return]
            texts, stopwords=stopwords or [], return_ids=False, show_progress=False
        )

    def scores(self, query: str) -> np.ndarray:
        """The BM25 score of every document for ``query`` (corpus order)."""
        tokens = self._tokenize([query], self.params["stopwords"])[0]
        vocab = self._bm25.vocab_dict
        ids = [vocab[t] for t in tokens if t in vocab and vocab[t] < self._n_scored]
        if not ids:
            return np.zeros(len(self.corpus), dtype=np.float32)
        return np.asarray(self._bm25.get_scores_from_ids(ids), dtype=np.float32)

    def search(self, query: str, k: int = 10) -> list[Hit]:
        """The ``k`` best documents for ``query`` (fewer when the corpus is smaller)."""
        return self.batch_search([query], k)[0]

    def batch_search(self, queries: Sequence[str], k: int = 10) -> list[list[Hit]]:
        check_k(k)
        out = []
        for query in check_queries(queries):
            scores = self.scores(query)
            best = top_k(scores, k)
            out.append(
                [Hit(self.corpus[int(i)], float(scores[i]), r) for r, i in enumerate(best, 1)]
            )
        return out

    def save(self, path: str | Path) -> Path:
        """Write the index folder atomically: ``bm25s/``, ``docs.jsonl``, ``meta.json``."""
        path = Path(path)
        with atomic_dir(path) as tmp:
            self._bm25.save(str(tmp / _SUBDIR), show_progress=False)
            self.corpus.save(tmp / DOCS)
            write_meta(tmp, self.kind, self.corpus, params=self.params)
        return path

    @classmethod
    def load(cls, path: str | Path) -> BM25Index:
        path = Path(path)
        meta = read_meta(path, cls.kind)
        corpus = load_docs(path, meta)
        retriever = _bm25s().BM25.load(str(path / _SUBDIR), show_progress=False)
        return cls(corpus, retriever, dict(meta["params"]))

    def __len__(self) -> int:
        return len(self.corpus)

    def __repr__(self) -> str:
        return f"BM25Index({len(self.corpus)} documents, {self.params})"
