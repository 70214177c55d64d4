"""The DDR facade. ``predict`` runs the RAG pipeline (retriever -> V_KR -> V_Gen) on any backends.

from ennead.ddr import DDR, DDRConfig
preds = DDR(DDRConfig()).predict([{"question": "...", "passages": ["..."]}])
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import Field

from ennead.core.errors import DataError
from ennead.core.results import CheckResult, RunResult
from ennead.core.runs import RunDir
from ennead.ddr.config import DDRConfig
from ennead.ddr.data import QARecord, as_records
from ennead.ddr.pipeline import Prediction, RAGPipeline, build_retriever, load_module_lm


class EvalResult(RunResult):
    """``DDR.evaluate``: the mean reward (``metric``) overall and per scenario, over ``n``."""

    metric: str
    score: float
    by_scenario: dict[str, float] = Field(default_factory=dict)
    n: int
    predictions: list[Prediction] = Field(default_factory=list, exclude=True)


class TrainResult(RunResult):
    """``DDR.train``: the run folder, each stage's summary, the trained modules' folders."""

    stages: dict[str, Any] = Field(default_factory=dict, description="stage name -> summary")


class DDR:
    def __init__(self, config: DDRConfig | None = None):
        self.config = config or DDRConfig()
        self.pipeline_: RAGPipeline | None = None

    @classmethod
    def from_modules(
        cls, config: DDRConfig, gen_lm: Any, kr_lm: Any | None = None, retriever: Any = None
    ) -> DDR:
        """A facade on modules already loaded (e.g. trained in this process): nothing is loaded."""
        ddr = cls(config)
        ddr.pipeline_ = RAGPipeline(config, gen_lm, kr_lm, retriever)
        return ddr

    @classmethod
    def from_run(cls, run_dir: str | Path, overrides: Iterable[str] = ()) -> DDR:
        """The trained pipeline of a ``train`` run folder: its ``config.yaml`` (plus
        ``overrides``) with each module on its last DPO stage's adapter or model."""
        return cls(run_config(run_dir, overrides))

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
            metrics={"score": overall, **{f"score/{k}": v for k, v in by.items()}},
        )

    def train(self, questions: Iterable[QARecord | dict[str, Any]], run: RunDir) -> TrainResult:
        """All DDR stages into ``run`` (resumable); then ``predict`` uses the trained modules
        (later, ``DDR.from_run(run.path)`` reopens them)."""
        from ennead.ddr.train import DDRTrainer

        trainer = DDRTrainer(self.config, run)
        summary = trainer.fit(as_records(questions))
        self.pipeline_ = RAGPipeline(
            self.config, trainer.gen_lm_, trainer.kr_lm_, build_retriever(self.config)
        )
        models = {
            name: run.stage_dir(name) / "model"
            for name in summary
            if name.endswith("-dpo") and (run.stage_dir(name) / "model").is_dir()
        }
        losses = {
            f"{name}/final_loss": float(info["final_loss"])
            for name, info in summary.items()
            if isinstance(info, dict) and info.get("final_loss") is not None
        }
        return TrainResult(run_dir=run.path, stages=summary, metrics=losses, artifacts=models)

    def check(self, paths: list[Path] | list[str]) -> CheckResult:
        """Validate question files (JSONL) without running anything."""
        from ennead.core.checks import check_inputs
        from ennead.ddr.data import load_records

        return check_inputs(paths, lambda p: load_records(p, need_answers=False), "question file")

    def report(self, run_dir: str | Path) -> RunResult:
        """(Re)write ``report.md`` and ``report.html`` of a run folder (its summary and plots)."""
        import json

        from ennead.core.errors import StageError
        from ennead.core.eval.report import Report
        from ennead.core.io import atomic_write_text

        run = Path(run_dir)
        manifest = run / "manifest.json"
        if not manifest.is_file():
            raise StageError(f"{run} is not a run folder (no manifest.json)")
        summary = json.loads(manifest.read_text(encoding="utf-8")).get("summary") or {}
        rep = Report("DDR run", str(run))
        if summary and all(isinstance(v, dict) for v in summary.values()):
            rep.table([{"method": k, **v} for k, v in summary.items()])
        elif summary:
            rep.table([{"key": k, "value": json.dumps(v)} for k, v in summary.items()])
        for img in sorted(run.glob("*.png")):
            rep.image(img, link=img.name)
        md = atomic_write_text(run / "report.md", rep.to_markdown())
        html = atomic_write_text(run / "report.html", rep.to_html())
        return RunResult(run_dir=run, artifacts={"report_md": md, "report_html": html})


def is_run_folder(path: str | Path | None) -> bool:
    return path is not None and (Path(path) / "manifest.json").is_file()


def run_config(run_dir: str | Path, overrides: Iterable[str] = ()) -> DDRConfig:
    """A run folder's config with the trained modules (see :func:`ddr.train.trained_config`)."""
    from ennead.core.config import load_config
    from ennead.core.errors import StageError
    from ennead.ddr.train import trained_config

    cfg_path = Path(run_dir) / "config.yaml"
    if not cfg_path.is_file():
        raise StageError(f"{run_dir} has no config.yaml: not a run folder")
    cfg = load_config(DDRConfig, cfg_path, list(overrides), package="ennead.ddr")
    return trained_config(cfg, run_dir)
