"""The DDR facade. ``predict`` runs the RAG pipeline (retriever -> V_KR -> V_Gen) on any backends.

from ennead.ddr import DDR, DDRConfig
preds = DDR(DDRConfig()).predict([{"question": "...", "passages": ["..."]}])
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, Field

from ennead.core.errors import DataError
from ennead.core.runs import RunDir
from ennead.ddr.config import DDRConfig
from ennead.ddr.data import QARecord, as_records
from ennead.ddr.pipeline import Prediction, RAGPipeline, build_retriever, load_module_lm


class EvalResult(BaseModel):
    metric: str
    score: float
    by_scenario: dict[str, float] = Field(default_factory=dict)
    n: int
    predictions: list[Prediction] = Field(default_factory=list, exclude=True)


class DDR:
    def __init__(self, config: DDRConfig | None = None):
        self.config = config or DDRConfig()
        self.pipeline_: RAGPipeline | None = None

    def pipeline(self) -> RAGPipeline:
        if self.pipeline_ is None:
            cfg = self.config
            gen_lm = load_module_lm(cfg.gen.module)
            kr_lm = None
            if cfg.kr.enabled:
                same = cfg.kr.module == cfg.gen.module and cfg.gen.module.backend != "tiny"
                kr_lm = gen_lm if same else load_module_lm(cfg.kr.module)
            self.pipeline_ = RAGPipeline(cfg, gen_lm, kr_lm, build_retriever(cfg))
        return self.pipeline_

    def predict(self, questions: Iterable[QARecord | dict[str, Any]]) -> list[Prediction]:
        return self.pipeline().predict(as_records(questions))

    def evaluate(self, questions: Iterable[QARecord | dict[str, Any]]) -> EvalResult:
        """Predict and score; per-scenario means when records carry a scenario."""
        preds = self.predict(questions)
        scored = [p for p in preds if p.score is not None]
        if not scored:
            raise DataError("no question has gold answers; nothing to evaluate")
        groups: dict[str, list[float]] = {}
        for p in scored:
            groups.setdefault(p.scenario or "all", []).append(float(p.score or 0.0))
        by = {k: sum(v) / len(v) for k, v in sorted(groups.items())}
        overall = sum(float(p.score or 0.0) for p in scored) / len(scored)
        return EvalResult(
            metric=self.config.data_type,
            score=overall,
            by_scenario=by,
            n=len(scored),
            predictions=preds,
        )

    def train(self, questions: Iterable[QARecord | dict[str, Any]], run: RunDir) -> dict[str, Any]:
        """All DDR stages into ``run`` (resumable); then ``predict`` uses the trained modules."""
        from ennead.ddr.train import DDRTrainer

        trainer = DDRTrainer(self.config, run)
        summary = trainer.fit(as_records(questions))
        self.pipeline_ = RAGPipeline(
            self.config, trainer.gen_lm_, trainer.kr_lm_, build_retriever(self.config)
        )
        return summary
