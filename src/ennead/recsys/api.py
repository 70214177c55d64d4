"""The Recsys facade: data, pretrain, transfer, evaluate, grid, report, check, demo."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ennead.core.checks import check_inputs
from ennead.core.errors import DataError, StageError
from ennead.core.io import atomic_write_json
from ennead.core.results import CheckResult, RunResult
from ennead.core.runs import RunDir, default_run_path
from ennead.recsys.config import RecsysConfig


class DataResult(RunResult):
    stats: dict[str, float]
    excluded: dict[str, int]


class PretrainResult(RunResult):
    epochs: int
    epochs_per_s: float | None


class TransferResult(RunResult):
    mode: str
    meta: bool
    copied: list[str]


class GridResult(RunResult):
    units: int
    wall_seconds: float
    rows: list[dict[str, Any]]


def _headline(per_user: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for group, by in per_user.items():
        for protocol, metrics in by.items():
            for name in ("ndcg@10", "hr@10"):
                vals = metrics[name]
                out[f"{group} {protocol} {name}"] = float(sum(vals) / len(vals))
    return out


def load_file(path: Path, cfg: RecsysConfig) -> Any:
    """The loader `check` uses: a data file's folder read as the verbs read it, then split."""
    from ennead.recsys.data import load_atomic, load_ml1m, load_ml20m, split_domains

    path = Path(path)
    if path.name in ("ratings.dat", "movies.dat"):
        ds = load_ml1m(path.parent)
    elif path.name in ("ratings.csv", "movies.csv", "links.csv"):
        ds = load_ml20m(path.parent)
    elif path.suffix in (".inter", ".item", ".kg", ".link"):
        ds = load_atomic(path.parent, path.stem, cfg.data.actors)
    else:
        raise DataError(
            "not a data file: expected <name>.inter/.item/.kg/.link (RecBole atomic), "
            "ratings.dat/movies.dat (MovieLens-1M layout) or ratings.csv/movies.csv/links.csv "
            "(MovieLens-20M layout)",
            path,
        )
    return split_domains(ds, cfg.data)


class Recsys:
    def __init__(self, config: RecsysConfig | None = None):
        self.config = config or RecsysConfig()

    # -- data ------------------------------------------------------------------------------
    def data(self) -> DataResult:
        from ennead.recsys.data import describe
        from ennead.recsys.experiment import context

        ds, sp = context(self.config)
        stats = describe(ds, sp)
        return DataResult(
            metrics={k: float(v) for k, v in stats.items()},
            stats={k: float(v) for k, v in stats.items()},
            excluded=sp.excluded,
        )

    # -- train -----------------------------------------------------------------------------
    def train(self, run_dir: str | Path | None = None) -> TransferResult:
        """Pre-train (when ``mode`` needs it) and transfer in one resumable run folder."""
        from ennead.recsys.experiment import run_unit

        cfg = self.config
        run = RunDir.create(run_dir or default_run_path("recsys-train"), cfg, system="recsys")
        unit = run_unit(cfg, cfg.model.name, cfg.meta, cfg.seed, [cfg.mode], run.path / "unit")
        metrics = _headline(unit.per_user[cfg.mode])
        run.finish(summary=metrics)
        return TransferResult(
            run_dir=run.path,
            metrics=metrics,
            artifacts={"unit": run.path / "unit" / "unit.json"},
            mode=cfg.mode,
            meta=cfg.meta,
            copied=[],
        )

    def pretrain(self, run_dir: str | Path | None = None) -> PretrainResult:
        """Pre-train on the source domain; per-epoch checkpoint ``pretrain.pt``, resumable."""
        import torch

        from ennead.recsys.experiment import pretrain

        cfg = self.config
        run = RunDir.create(run_dir or default_run_path("recsys-pretrain"), cfg, system="recsys")
        ckpt = run.path / "pretrain.pt"
        state, info = pretrain(cfg, cfg.meta, cfg.seed, ckpt)
        model_path = run.path / "model.pt"
        torch.save(state, model_path)
        for h in info["history"]:
            run.log_metrics({"loss": h["loss"]}, step=h["epoch"])
        eps = info["epochs_per_s"]
        run.finish(summary={"epochs": len(info["history"]), "epochs_per_s": eps})
        return PretrainResult(
            run_dir=run.path,
            metrics={"final loss": info["history"][-1]["loss"]} if info["history"] else {},
            artifacts={"model": model_path, "checkpoint": ckpt},
            epochs=len(info["history"]),
            epochs_per_s=eps,
        )

    def transfer(
        self, source: str | Path | None = None, run_dir: str | Path | None = None
    ) -> TransferResult:
        """Fine-tune on the target domain with ``config.mode``; evaluates and saves the model."""
        import torch

        from ennead.recsys.experiment import evaluate, finetune

        cfg = self.config
        state = None
        if source is not None:
            path = Path(source) / "model.pt"
            if not path.is_file():
                raise StageError(f"{source} has no model.pt; run `ennead recsys pretrain` first")
            state = torch.load(path, weights_only=True)
        run = RunDir.create(run_dir or default_run_path("recsys-transfer"), cfg, system="recsys")
        model, info = finetune(cfg, cfg.mode, cfg.meta, cfg.seed, state, run.path / "finetune.pt")
        model_path = run.path / "model.pt"
        torch.save(model.state_dict(), model_path)
        res = evaluate(model, cfg)
        per_user = {
            g: {p: {k: v.tolist() for k, v in d.items()} for p, d in by.items()}
            for g, by in res.items()
        }
        metrics = _headline(per_user)
        ev = atomic_write_json(run.path / "eval.json", {"metrics": metrics, "per_user": per_user})
        run.finish(summary=metrics)
        return TransferResult(
            run_dir=run.path,
            metrics=metrics,
            artifacts={"model": model_path, "eval": ev},
            mode=cfg.mode,
            meta=cfg.meta,
            copied=info["copied"],
        )

    def evaluate(self, run_dir: str | Path) -> RunResult:
        """Re-evaluate a transfer run's saved model (same split and protocol)."""
        import torch

        from ennead.recsys.experiment import _model, context, evaluate

        run = Path(run_dir)
        path = run / "model.pt"
        if not path.is_file():
            raise StageError(f"{run} has no model.pt; run `ennead recsys transfer` first")
        cfg = self.config
        ds, _ = context(cfg)
        model = _model(cfg, ds, cfg.meta)
        model.load_state_dict(torch.load(path, weights_only=True))
        res = evaluate(model, cfg)
        per_user = {
            g: {p: {k: v.tolist() for k, v in d.items()} for p, d in by.items()}
            for g, by in res.items()
        }
        metrics = _headline(per_user)
        ev = atomic_write_json(run / "eval.json", {"metrics": metrics, "per_user": per_user})
        return RunResult(run_dir=run, metrics=metrics, artifacts={"eval": ev})

    # -- the paper's table -------------------------------------------------------------------
    def grid(self, run_dir: str | Path | None = None) -> GridResult:
        import shutil

        from ennead.recsys.grid import grid_units, run_units, unit_dir, write_report

        cfg = self.config
        run = RunDir.create(run_dir or default_run_path("recsys-grid"), cfg, system="recsys")
        modes = list(cfg.grid.modes)
        results, wall = run_units(cfg, grid_units(cfg), modes, run.path)
        by_k = {cfg.data.k: results} if cfg.grid.ks else {}
        for k in cfg.grid.ks:
            if k not in by_k:  # the same units on another split: cold users keep K items
                cfg_k = cfg.model_copy(deep=True)
                cfg_k.data.k = k
                for u in grid_units(cfg):  # the source domain does not depend on K: reuse
                    src, dst = unit_dir(run.path, u), unit_dir(run.path / f"k{k}", u)
                    if (src / "pretrain.pt").is_file() and not (dst / "pretrain.pt").exists():
                        dst.mkdir(parents=True, exist_ok=True)
                        shutil.copy(src / "pretrain.pt", dst / "pretrain.pt")
                by_k[k], secs = run_units(cfg_k, grid_units(cfg), modes, run.path / f"k{k}")
                wall += secs
        md, html, summary = write_report(results, run.path, "Recsys: the paper's table", wall, by_k)
        run.finish(summary={"wall_seconds": wall, "units": len(results)})
        rows = summary["tables"]["sampled"]
        metrics = {
            f"{r['model']} {r['mode']} meta-{r['meta']} {r['users']} ndcg@10": r["ndcg10"]
            for r in rows
        }
        return GridResult(
            run_dir=run.path,
            metrics=metrics | {"wall seconds": wall},
            artifacts={"report_md": md, "report_html": html, "summary": run.path / "summary.json"},
            units=len(results),
            wall_seconds=wall,
            rows=rows,
        )

    def report(self, run_dir: str | Path) -> RunResult:
        """The grid report of a grid or demo run (re-read from its units), or a transfer's eval."""
        from ennead.recsys.grid import load_results, write_report

        run = Path(run_dir)
        results = load_results(run)
        if results:
            md, html, _ = write_report(results, run, "Recsys: the paper's table")
            return RunResult(run_dir=run, artifacts={"report_md": md, "report_html": html})
        ev = run / "eval.json"
        if not ev.is_file():
            raise StageError(f"{run} holds no grid units and no eval.json; nothing to report")
        from ennead.core.eval.report import Report

        rep = Report("Recsys transfer run", str(run))
        metrics = json.loads(ev.read_text(encoding="utf-8"))["metrics"]
        rep.key_values(metrics, caption="mean over users")
        md, html = rep.write(run)
        return RunResult(
            run_dir=run, metrics=metrics, artifacts={"report_md": md, "report_html": html}
        )

    def check(self, paths: list[Path] | list[str]) -> CheckResult:
        return check_inputs(paths, lambda p: load_file(p, self.config), "data file")

    def demo(self, run_dir: str | Path | None = None) -> GridResult:
        """BERT4Rec none/shallow/deep on one seed at the tiny size (seconds)."""
        cfg = self.config.model_copy(deep=True)
        cfg.grid.models, cfg.grid.metas, cfg.grid.seeds = ["bert4rec"], [False], [cfg.seed]
        return Recsys(cfg).grid(run_dir or default_run_path("recsys-demo"))
