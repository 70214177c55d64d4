"""The DDR facade. ``predict`` runs the RAG pipeline (retriever -> V_KR -> V_Gen) on any backends.

from ennead.ddr import DDR, DDRConfig
preds = DDR(DDRConfig()).predict([{"question": "...", "passages": ["..."]}])
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ennead.ddr.config import DDRConfig
from ennead.ddr.data import QARecord, as_records
from ennead.ddr.pipeline import Prediction, RAGPipeline, build_retriever, load_module_lm


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
