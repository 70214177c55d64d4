"""The RAG pipeline: retrieve (or take given passages) -> V_KR refines -> V_Gen answers -> score."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from ennead.core.errors import DataError
from ennead.ddr.config import DDRConfig, ModuleBackend
from ennead.ddr.data import QARecord
from ennead.ddr.modules import Generator, KnowledgeRefiner, top_passages
from ennead.ddr.reward import reward_for


class Prediction(BaseModel):
    id: str
    question: str
    answer: str
    passages: list[str] = Field(default_factory=list)
    kept: int = 0
    fell_back: bool = False
    score: float | None = None
    scenario: str | None = None


def load_module_lm(m: ModuleBackend) -> Any:
    from ennead.core.backends import load_backend

    return load_backend(
        m.backend,
        model=m.model,
        adapter=m.adapter,
        device=m.device,
        batch_size=m.batch_size,
        options=dict(m.options),
    )


class RAGPipeline:
    def __init__(
        self, cfg: DDRConfig, gen_lm: Any, kr_lm: Any | None = None, retriever: Any | None = None
    ):
        self.cfg = cfg
        g, k = cfg.gen, cfg.kr
        self.generator = Generator.from_config(gen_lm, g)
        self.refiner = None
        if k.enabled:
            self.refiner = KnowledgeRefiner(
                kr_lm if kr_lm is not None else gen_lm,
                k.need_n,
                k.max_passage_tokens,
                k.max_new_tokens,
                k.presence_penalty,
                k.module.chat,
                g.style,
                k.decision,
            )
        self.retriever = retriever

    def passages_for(self, records: Sequence[QARecord]) -> list[list[str]]:
        if self.cfg.retrieval.kind == "given":
            missing = [r.id for r in records if not r.passages]
            if missing and self.refiner is not None:
                raise DataError(
                    f"{len(missing)} question(s) have no passages (first: {missing[0]!r}) and "
                    "retrieval.kind is 'given'; add passages or set retrieval.kind to bm25/dense"
                )
            return [r.passages[: self.cfg.retrieval.k] for r in records]
        if self.retriever is None:
            raise DataError(
                f"retrieval.kind is {self.cfg.retrieval.kind!r} but no retriever was built; "
                "build the pipeline through DDR (which makes one) or set retrieval.kind to given"
            )
        hits = self.retriever.batch_search([r.question for r in records], self.cfg.retrieval.k)
        return [[h.text for h in row] for row in hits]

    def contexts(self, records: Sequence[QARecord]) -> tuple[list[list[str]], list[Any]]:
        raw = self.passages_for(records)
        if self.refiner is None:
            return [p[: self.cfg.gen.top_n] for p in raw], [None] * len(records)
        judged = self.refiner.refine_many([r.question for r in records], raw)
        ctx = [top_passages(j.kept, p, self.cfg.gen.top_n) for j, p in zip(judged, raw)]
        return ctx, judged

    def predict(self, records: Sequence[QARecord]) -> list[Prediction]:
        ctx, judged = self.contexts(records)
        answers = self.generator.answer([r.question for r in records], ctx)
        out = []
        for r, c, j, a in zip(records, ctx, judged, answers):
            s = None
            if r.answers:
                s = reward_for(r.data_type if r.data_type != "qa" else self.cfg.data_type)(
                    a[0], r.answers
                )
            out.append(
                Prediction(
                    id=r.id,
                    question=r.question,
                    answer=a[0],
                    passages=c,
                    kept=len(j.kept) if j else len(c),
                    fell_back=bool(j and j.fell_back),
                    score=s,
                    scenario=r.scenario,
                )
            )
        return out


def build_retriever(cfg: DDRConfig) -> Any:
    if cfg.retrieval.kind == "given":
        return None
    from ennead.core.retrieval import RetrieverConfig
    from ennead.core.retrieval import build_retriever as core_build

    if not cfg.retrieval.corpus and not cfg.retrieval.index:
        raise DataError(f"retrieval.kind={cfg.retrieval.kind!r} needs retrieval.corpus or .index")
    r = cfg.retrieval
    index = r.index
    if index is None and r.kind == "dense" and r.corpus:
        index = str(dense_index_cache(r.corpus, r.embedder))  # embed a corpus once, not per call
    rc = RetrieverConfig(kind=r.kind, k=r.k, embedder=r.embedder, index_path=index)
    return core_build(rc, cfg.retrieval.corpus)


def dense_index_cache(corpus: str, embedder: str) -> Path:
    """Where a dense index of ``corpus`` is kept when no ``retrieval.index`` is set: the ennead
    cache, keyed by the corpus file's content hash and the embedder (an edited corpus gets a new
    index)."""
    import hashlib

    from ennead.core.assets import cache_dir

    path = Path(corpus)
    if not path.is_file():
        raise DataError(f"retrieval.corpus {corpus!r} is not a file (JSONL with id, text)")
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return cache_dir() / "ddr-index" / f"{embedder}-{digest.hexdigest()[:16]}"
