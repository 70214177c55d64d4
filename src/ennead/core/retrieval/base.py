"""What every index shares: typed hits, and atomic index folders with a ``meta.json``."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ennead.core.errors import ConfigError, DataError
from ennead.core.io import atomic_write_json
from ennead.core.retrieval.corpus import Corpus, Document

INDEX_FORMAT = "ennead.index"
FORMAT_VERSION = 1
META = "meta.json"
DOCS = "docs.jsonl"


@dataclass(frozen=True)
class Hit:
    """One retrieved document: ``rank`` starts at 1; a higher ``score`` is better."""

    doc: Document
    score: float
    rank: int

    @property
    def id(self) -> str:
        return self.doc.id

    @property
    def text(self) -> str:
        return self.doc.text

    @property
    def title(self) -> str | None:
        return self.doc.title

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "rank": self.rank, "score": self.score, **self.doc.to_dict()}


class Index(Protocol):
    """The search surface shared by :class:`BM25Index` and :class:`DenseIndex`."""

    corpus: Corpus

    def search(self, query: str, k: int = 10) -> list[Hit]: ...

    def batch_search(self, queries: Sequence[str], k: int = 10) -> list[list[Hit]]: ...

    def save(self, path: str | Path) -> Path: ...


def check_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ConfigError(f"k must be a positive integer, got {k!r}")
    return k


def check_queries(queries: Sequence[str]) -> list[str]:
    if isinstance(queries, str):
        raise TypeError("batch_search() takes a list of queries; use search() for one query")
    out = list(queries)
    for i, q in enumerate(out):
        if not isinstance(q, str):
            raise DataError(f"query {i} must be a string, got {type(q).__name__}")
    return out


def _is_index_folder(path: Path) -> bool:
    try:
        meta = json.loads((path / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and meta.get("format") == INDEX_FORMAT


@contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yield a temporary sibling folder; on success it replaces ``path`` in one rename.

    A crash leaves the previous index (or nothing), never a half-written one. An existing
    folder is replaced only when it is empty or is itself an ennead index, so a mistyped path
    cannot wipe unrelated files.
    """
    path = Path(path)
    if path.exists():
        if not path.is_dir():
            raise DataError("cannot save an index here: the path is a file", path)
        if any(path.iterdir()) and not _is_index_folder(path):
            raise DataError(
                "refusing to overwrite a folder that is not an ennead index; pick another path",
                path,
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        yield tmp
        if path.exists():
            old = path.with_name(f".{path.name}.old-{uuid.uuid4().hex[:8]}")
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_meta(folder: Path, kind: str, corpus: Corpus, **fields: Any) -> None:
    from ennead.core.runs import package_versions

    atomic_write_json(
        folder / META,
        {
            "format": INDEX_FORMAT,
            "format_version": FORMAT_VERSION,
            "kind": kind,
            "n_docs": len(corpus),
            "corpus_fingerprint": corpus.fingerprint(),
            **fields,
            "versions": package_versions(("ennead", "faiss-cpu", "bm25s", "sentence-transformers")),
        },
    )


def read_meta(folder: str | Path, kind: str) -> dict[str, Any]:
    """Read and check ``meta.json`` of an index folder of the given kind."""
    folder = Path(folder)
    meta_path = folder / META
    if not meta_path.exists():
        raise DataError(f"not an index folder (no {META})", folder)
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise DataError(f"invalid JSON: {exc}", meta_path) from None
    if not isinstance(meta, dict) or meta.get("format") != INDEX_FORMAT:
        raise DataError("not an ennead index (wrong 'format')", meta_path)
    if meta.get("format_version", 0) > FORMAT_VERSION:
        raise DataError(
            f"index format version {meta['format_version']} is newer than this ennead "
            f"understands ({FORMAT_VERSION}); upgrade ennead",
            meta_path,
        )
    if meta.get("kind") != kind:
        raise DataError(f"this is a {meta.get('kind')!r} index, not a {kind!r} index", meta_path)
    return meta


def load_docs(folder: Path, meta: dict[str, Any]) -> Corpus:
    from ennead.core.retrieval.corpus import load_corpus

    corpus = load_corpus(folder / DOCS)
    if len(corpus) != meta.get("n_docs"):
        raise DataError(
            f"{DOCS} holds {len(corpus)} documents but the index was built on {meta.get('n_docs')}",
            folder,
        )
    return corpus
