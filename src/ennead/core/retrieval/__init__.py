"""Embedders, BM25 and a FAISS dense index over JSONL corpora.

A corpus is JSONL with ``id`` and ``text`` (optional ``title``; other fields are kept as
metadata). Both indexes return :class:`Hit` objects (``doc``, ``score``, ``rank``, plus ``id``
and ``text``) and save to / load from a folder (``meta.json``, ``docs.jsonl`` and the index
files), written atomically.

>>> from ennead.core.retrieval import BM25Index
>>> index = BM25Index.build([{"id": "a", "text": "cats purr"}, {"id": "b", "text": "dogs bark"}])
>>> index.search("dogs", k=1)[0].id
'b'

Importing this package is light: torch, sentence-transformers, faiss and bm25s load on first use.
"""

from ennead.core.retrieval.base import Hit, Index
from ennead.core.retrieval.bm25 import BM25Index
from ennead.core.retrieval.corpus import Corpus, Document, as_corpus, load_corpus
from ennead.core.retrieval.dense import DenseIndex, DenseIndexConfig
from ennead.core.retrieval.embedders import Embedder, embedders, get_embedder
from ennead.core.retrieval.retriever import BM25Config, Retriever, RetrieverConfig, build_retriever

__all__ = [
    "BM25Config",
    "BM25Index",
    "Corpus",
    "DenseIndex",
    "DenseIndexConfig",
    "Document",
    "Embedder",
    "Hit",
    "Index",
    "Retriever",
    "RetrieverConfig",
    "as_corpus",
    "build_retriever",
    "embedders",
    "get_embedder",
    "load_corpus",
]
