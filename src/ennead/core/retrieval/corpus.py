"""Corpora of documents: JSONL with ``id`` and ``text`` (optional ``title``; other fields kept).

Every problem names where it is: ``corpus.jsonl:12: duplicate id 'd3' (first seen on line 4)``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

from ennead.core.errors import DataError
from ennead.core.io import iter_jsonl, write_jsonl

_RESERVED = ("id", "text", "title")


@dataclass(frozen=True)
class Document:
    """One retrievable passage. ``meta`` holds every other field of the JSONL line."""

    id: str
    text: str
    title: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def contents(self) -> str:
        """What gets indexed: the title (when present) on its own line, then the text."""
        return f"{self.title}\n{self.text}" if self.title else self.text

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "text": self.text}
        if self.title is not None:
            out["title"] = self.title
        out.update(self.meta)
        return out


def _document(obj: Any, where: str | Path | None, line: int | None) -> Document:
    """Validate one record; ``where``/``line`` locate it in error messages."""
    if isinstance(obj, Document):
        return obj
    if not isinstance(obj, Mapping):
        raise DataError(f"expected a JSON object, got {type(obj).__name__}", where, line)
    if "id" not in obj:
        raise DataError("missing required field 'id'", where, line)
    raw_id = obj["id"]
    # ints are common in public corpora; bools are ints in Python but never meant as ids.
    if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int)):
        raise DataError(f"'id' must be a string or integer, got {raw_id!r}", where, line)
    doc_id = str(raw_id)
    if not doc_id.strip():
        raise DataError("'id' is empty", where, line)
    if "text" not in obj:
        raise DataError(f"document {doc_id!r} has no 'text' field", where, line)
    text = obj["text"]
    if not isinstance(text, str):
        raise DataError(
            f"'text' of {doc_id!r} must be a string, got {type(text).__name__}", where, line
        )
    title = obj.get("title")
    if title is not None and not isinstance(title, str):
        raise DataError(
            f"'title' of {doc_id!r} must be a string, got {type(title).__name__}", where, line
        )
    if not text.strip() and not (title and title.strip()):
        raise DataError(f"document {doc_id!r} has empty 'text' and no title", where, line)
    meta = {k: v for k, v in obj.items() if k not in _RESERVED}
    return Document(id=doc_id, text=text, title=title, meta=meta)


class Corpus(Sequence[Document]):
    """An ordered, non-empty collection of documents with unique ids."""

    def __init__(self, docs: Iterable[Document], source: str | None = None):
        self.source = source
        self._docs: list[Document] = []
        self._by_id: dict[str, int] = {}
        for doc in docs:
            if doc.id in self._by_id:
                raise DataError(f"duplicate document id {doc.id!r}", source)
            self._by_id[doc.id] = len(self._docs)
            self._docs.append(doc)
        if not self._docs:
            raise DataError("the corpus is empty; at least one document is needed", source)

    @overload
    def __getitem__(self, i: int) -> Document: ...
    @overload
    def __getitem__(self, i: slice) -> list[Document]: ...

    def __getitem__(self, i: int | slice) -> Document | list[Document]:
        return self._docs[i]

    def __len__(self) -> int:
        return len(self._docs)

    def __iter__(self) -> Iterator[Document]:
        return iter(self._docs)

    def __contains__(self, item: object) -> bool:
        if isinstance(item, Document):
            return item.id in self._by_id
        return isinstance(item, str) and item in self._by_id

    def get(self, doc_id: str) -> Document:
        """The document with this id (KeyError naming the id when absent)."""
        try:
            return self._docs[self._by_id[doc_id]]
        except KeyError:
            raise KeyError(f"no document with id {doc_id!r} in the corpus") from None

    @property
    def ids(self) -> list[str]:
        return [d.id for d in self._docs]

    def fingerprint(self) -> str:
        """A hash of ids, titles and texts, stored with indexes to spot a changed corpus."""
        h = hashlib.sha256()
        for d in self._docs:
            h.update(f"{d.id}\0{d.title or ''}\0{d.text}\n".encode())
        return h.hexdigest()[:16]

    def save(self, path: str | Path) -> Path:
        return write_jsonl(path, (d.to_dict() for d in self._docs))

    def __repr__(self) -> str:
        src = f", source={self.source!r}" if self.source else ""
        return f"Corpus({len(self)} documents{src})"


def load_corpus(path: str | Path) -> Corpus:
    """Read a JSONL corpus; malformed lines, missing text and duplicate ids raise ``file:line``."""
    path = Path(path)
    if not path.exists():
        raise DataError("corpus file not found", path)
    # iter_jsonl skips blank lines; pair its records with the numbers of the non-blank lines.
    with path.open("r", encoding="utf-8") as fh:
        numbers = [i for i, line in enumerate(fh, start=1) if line.strip()]
    docs: list[Document] = []
    first_line: dict[str, int] = {}
    for lineno, obj in zip(numbers, iter_jsonl(path), strict=True):
        doc = _document(obj, path, lineno)
        if doc.id in first_line:
            raise DataError(
                f"duplicate document id {doc.id!r} (first seen on line {first_line[doc.id]})",
                path,
                lineno,
            )
        first_line[doc.id] = lineno
        docs.append(doc)
    if not docs:
        raise DataError("the corpus is empty; at least one document is needed", path)
    return Corpus(docs, source=str(path))


CorpusLike = Corpus | str | Path | Iterable[Document | Mapping[str, Any]]


def as_corpus(corpus: CorpusLike) -> Corpus:
    """Accept a Corpus, a JSONL path, or an iterable of documents or dicts."""
    if isinstance(corpus, Corpus):
        return corpus
    if isinstance(corpus, (str, Path)):
        return load_corpus(corpus)
    docs: list[Document] = []
    seen: set[str] = set()
    for i, obj in enumerate(corpus):
        try:
            doc = _document(obj, None, None)
        except DataError as exc:
            raise DataError(f"corpus item {i}: {exc}") from None
        if doc.id in seen:
            raise DataError(f"corpus item {i}: duplicate document id {doc.id!r}")
        seen.add(doc.id)
        docs.append(doc)
    return Corpus(docs)
