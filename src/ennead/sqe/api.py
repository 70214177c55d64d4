"""The SQE facade: score tracks without ground truth, self-optimise a tracker, check against GT.

>>> from ennead.sqe import SQE, SQEConfig
>>> sqe = SQE(SQEConfig())          # the constructor only stores the config
>>> result = sqe.score("tracks.txt", features="tracks.npy")   # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel, Field

from ennead.core.errors import DataError
from ennead.core.io import atomic_write_json
from ennead.core.logging import get_logger
from ennead.core.results import CheckResult, RunResult
from ennead.core.runs import RunDir, default_run_path
from ennead.sqe.config import SQEConfig
from ennead.sqe.score import ScoreResult

if TYPE_CHECKING:
    from ennead.sqe.study import TuneStudyResult

__all__ = ["SQE", "EvaluateResult", "OptimizeResult", "ScoreResult", "SequenceChoice"]

log = get_logger(__name__)


class SequenceChoice(BaseModel):
    """The parameters SQE chose on one sequence (and, with GT, how good they are)."""

    sequence: str
    params: dict[str, float]
    sqe: float
    trials: int
    idf1: float | None = None
    mota: float | None = None
    best_idf1: float | None = None
    best_params: dict[str, float] | None = None
    spearman_idf1: float | None = None
    kendall_idf1: float | None = None
    spearman_mota: float | None = None
    kendall_mota: float | None = None


class _SQERun(RunResult):
    """A run-folder result; ``run`` and ``report`` are the folder and the HTML report as text."""

    @property
    def run(self) -> str:
        return str(self.run_dir)

    @property
    def report(self) -> str | None:
        page = self.artifacts.get("report")
        return None if page is None else str(page)


class OptimizeResult(_SQERun):
    """The parameters SQE chose per sequence (no ground truth used for the choice)."""

    sequences: list[SequenceChoice]


class EvaluateResult(_SQERun):
    """Agreement of SQE with ground truth over a parameter sweep."""

    sequences: list[SequenceChoice]
    median_spearman_idf1: float
    median_kendall_idf1: float
    max_idf1_shortfall: float = Field(description="largest best IDF1 - SQE-chosen IDF1 (points).")
    mean_chosen_idf1: float
    global_param: dict[str, float] = Field(description="one setting best on average IDF1 (GT).")
    mean_global_idf1: float


class SimulateResult(RunResult):
    """Simulated sequence folders (no run folder) and their detection counts."""

    folders: list[str]
    boxes: list[int]


def _nan_to_none(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


class SQE:
    """Facade over :mod:`ennead.sqe` (score, optimize, evaluate, simulate, report)."""

    def __init__(self, config: SQEConfig | None = None):
        self.config = config or SQEConfig()

    # -- scoring --------------------------------------------------------------------------
    def score(
        self,
        tracks: Any,
        features: str | Path | None = None,
        detections: Any = None,
        plot: str | Path | None = None,
    ) -> ScoreResult:
        """Score tracker output (a MOT file path or :class:`Boxes` with features).

        ``detections`` (path or Boxes with features) fixes the ``auto`` thresholds to the
        sequence rather than to this output; ``plot`` writes the distance histograms there.
        """
        from ennead.sqe.mot import Boxes, read_mot
        from ennead.sqe.score import embedding_scales, score_tracks

        boxes = tracks if isinstance(tracks, Boxes) else read_mot(tracks, "tracks", features)
        if boxes.features is None:
            raise DataError(
                "tracker output has no features: pass features=<file.npy> (one row per box)"
            )
        scales = None
        if detections is not None:
            dets = detections if isinstance(detections, Boxes) else read_mot(detections, "det")
            scales = embedding_scales(dets, seed=self.config.metric.seed)
        res = score_tracks(boxes, self.config.metric, scales)
        if plot is not None:
            from ennead.sqe.plots import plot_track_histograms

            plot_track_histograms(boxes, res, plot, self.config.metric)
        return res

    def track(self, sequence: str, **params: float) -> Any:
        """Run the tracker with the config's parameters (overridden by ``params``)."""
        from ennead.sqe.config import TrackerConfig
        from ennead.sqe.optimize import load_sequence
        from ennead.sqe.tracker import Tracker

        seq = load_sequence(sequence, self.config)
        tcfg = TrackerConfig.model_validate({**self.config.tracker.model_dump(), **params})
        return Tracker(tcfg).run(seq.detections)

    # -- self-optimisation --------------------------------------------------------------
    def _search(self, run: RunDir, with_gt: bool) -> dict[str, dict[str, Any]]:
        from ennead.sqe.optimize import _slug, search_all

        cfg = self.config
        results: dict[str, dict[str, Any]] = {}
        skip = set()
        for spec in cfg.sequences:
            name = f"search-{_slug(spec)}"
            if run.is_done(name):
                results[spec] = run.stage_info(name)["result"]
                skip.add(spec)

        def done(spec: str, res: dict[str, Any]) -> None:
            results[spec] = res
            run.run_stage(f"search-{_slug(spec)}", lambda folder: res)
            best = res["best"]
            run.log_metrics(
                {"sqe": best["sqe"], **{f"param.{k}": v for k, v in best["params"].items()}},
                sequence=res["sequence"],
            )
            log.info("%s: chose %s (SQE %.3f)", res["sequence"], best["params"], best["sqe"])

        search_all(cfg, run.path / "trials", with_gt, done, skip)
        return {s: results[s] for s in cfg.sequences}

    def optimize(self, out: str | Path | None = None) -> OptimizeResult:
        """Choose tracker parameters per sequence by maximising SQE; resumable run folder."""
        run = RunDir.create(
            out or default_run_path("sqe-optimize", self.config.out),
            self.config,
            system="sqe",
            seed=self.config.seed,
        )
        results = self._search(run, with_gt=True)
        choices = [self._choice(r) for r in results.values()]
        self._artifacts(run, results)
        rows = [self._row(c) for c in choices]
        atomic_write_json(run.path / "summary.json", {"verb": "optimize", "sequences": rows})
        from ennead.sqe.report import write_report

        report = write_report(run.path)
        run.finish()
        return OptimizeResult(
            run_dir=run.path,
            metrics={f"{c.sequence}.sqe": c.sqe for c in choices},
            artifacts={"report": report, "summary": run.path / "summary.json"},
            sequences=choices,
        )

    def _choice(self, res: dict[str, Any]) -> SequenceChoice:
        from ennead.sqe.evaluate import rank_correlations

        best, trials = res["best"], res["trials"]
        choice = SequenceChoice(
            sequence=res["sequence"], params=best["params"], sqe=best["sqe"], trials=len(trials)
        )
        if "idf1" in best:
            gt_best = max(trials, key=lambda r: r["idf1"])
            sq = [r["sqe"] for r in trials]
            ci = rank_correlations(sq, [r["idf1"] for r in trials])
            cm = rank_correlations(sq, [r["mota"] for r in trials])
            choice.idf1, choice.mota = best["idf1"], best["mota"]
            choice.best_idf1, choice.best_params = gt_best["idf1"], gt_best["params"]
            choice.spearman_idf1 = _nan_to_none(ci["spearman"])
            choice.kendall_idf1 = _nan_to_none(ci["kendall"])
            choice.spearman_mota = _nan_to_none(cm["spearman"])
            choice.kendall_mota = _nan_to_none(cm["kendall"])
        return choice

    @staticmethod
    def _row(c: SequenceChoice) -> dict[str, Any]:
        row: dict[str, Any] = {"sequence": c.sequence, "chosen": c.params, "sqe": c.sqe}
        if c.idf1 is not None:
            row.update(
                idf1_chosen=c.idf1,
                idf1_best=c.best_idf1,
                best=c.best_params,
                spearman_idf1=c.spearman_idf1,
                kendall_idf1=c.kendall_idf1,
                spearman_mota=c.spearman_mota,
            )
        return row

    def _artifacts(self, run: RunDir, results: dict[str, dict[str, Any]]) -> None:
        from ennead.sqe.mot import write_mot
        from ennead.sqe.plots import plot_sweep

        space = list(self.config.search.space)
        for spec, res in results.items():
            name = res["sequence"]
            if len(space) == 1:
                plot_sweep(res["trials"], space[0], run.artifact(f"sweep-{name}.png"), name)
            best = self.track(spec, **res["best"]["params"])
            write_mot(run.artifact(f"{name}-best.txt"), best)
            if len(best):
                from ennead.sqe.plots import plot_track_histograms
                from ennead.sqe.score import Scales, score_tracks

                scales = Scales(**res["scales"])
                scored = score_tracks(best, self.config.metric, scales)
                plot_track_histograms(
                    best, scored, run.artifact(f"tracks-{name}.png"), self.config.metric
                )

    def evaluate(self, out: str | Path | None = None) -> EvaluateResult:
        """Sweep the search grid on sequences with GT; correlate SQE with IDF1 and MOTA."""
        cfg = self.config.model_copy(deep=True)
        cfg.search.method = "grid"
        sqe = SQE(cfg)
        run = RunDir.create(
            out or default_run_path("sqe-evaluate", cfg.out), cfg, system="sqe", seed=cfg.seed
        )
        results = sqe._search(run, with_gt=True)
        for res in results.values():
            if "idf1" not in res["best"]:
                raise DataError(
                    f"sequence {res['sequence']} has no ground truth to evaluate against"
                )
        choices = [sqe._choice(r) for r in results.values()]
        sqe._artifacts(run, results)
        # one global setting, best on mean IDF1 (uses GT: the baseline per-scene tuning must beat)
        keys = [json_key(r["params"]) for r in next(iter(results.values()))["trials"]]
        mean_idf1 = {
            k: float(
                np.mean(
                    [
                        next(t["idf1"] for t in r["trials"] if json_key(t["params"]) == k)
                        for r in results.values()
                    ]
                )
            )
            for k in keys
        }
        gkey = max(mean_idf1, key=lambda k: mean_idf1[k])
        rho = [c.spearman_idf1 for c in choices if c.spearman_idf1 is not None]
        tau = [c.kendall_idf1 for c in choices if c.kendall_idf1 is not None]
        result = EvaluateResult(
            run_dir=run.path,
            sequences=choices,
            median_spearman_idf1=float(np.median(rho)) if rho else float("nan"),
            median_kendall_idf1=float(np.median(tau)) if tau else float("nan"),
            max_idf1_shortfall=100 * max((c.best_idf1 or 0) - (c.idf1 or 0) for c in choices),
            mean_chosen_idf1=float(np.mean([c.idf1 for c in choices])),
            global_param=next(
                t["params"]
                for t in next(iter(results.values()))["trials"]
                if json_key(t["params"]) == gkey
            ),
            mean_global_idf1=mean_idf1[gkey],
        )
        agg = result.model_dump(exclude={"sequences", "run_dir", "metrics", "artifacts"})
        result.metrics = {k: float(v) for k, v in agg.items() if isinstance(v, int | float)}
        atomic_write_json(
            run.path / "summary.json",
            {"verb": "evaluate", "aggregate": agg, "sequences": [self._row(c) for c in choices]},
        )
        run.log_metrics(agg)
        from ennead.sqe.report import write_report

        result.artifacts = {
            "report": write_report(run.path),
            "summary": run.path / "summary.json",
        }
        run.finish()
        return result

    def tune_study(self, out: str | Path | None = None) -> TuneStudyResult:
        """Per-sequence SQE tuning vs the default, a leave-one-out global setting and the GT
        best, for each parameter in ``study.params``, with ablations of SQE's parts."""
        from ennead.sqe.study import tune_study

        return tune_study(self.config, out)

    # -- data ---------------------------------------------------------------------------
    def simulate(self, out: str | Path, seeds: list[int] | None = None) -> SimulateResult:
        """Write simulated sequences (MOTChallenge folders with det.npy features and gt)."""
        from ennead.sqe.mot import write_sequence
        from ennead.sqe.simulate import simulate_sequence

        seeds = seeds if seeds is not None else [self.config.seed]
        folders, boxes = [], []
        for s in seeds:
            seq = simulate_sequence(s, self.config.simulator)
            folders.append(str(write_sequence(Path(out) / seq.name, seq)))
            boxes.append(len(seq.detections))
        return SimulateResult(
            artifacts={Path(f).name: Path(f) for f in folders}, folders=folders, boxes=boxes
        )

    def report(self, run_path: str | Path) -> RunResult:
        """(Re)write ``report.md`` + ``report.html`` of an optimize/evaluate run folder."""
        from ennead.sqe.report import write_report

        html = write_report(run_path)
        return RunResult(
            run_dir=Path(run_path),
            artifacts={"report_md": html.with_suffix(".md"), "report_html": html},
        )

    def check(self, paths: list[Path] | list[str]) -> CheckResult:
        """Validate tracker output files (MOTChallenge text, features beside) without scoring."""
        from ennead.core.checks import check_inputs
        from ennead.sqe.mot import read_mot

        return check_inputs(paths, lambda p: read_mot(p, "tracks"), "tracker output")


def json_key(params: dict[str, float]) -> str:
    import json

    return json.dumps({k: params[k] for k in sorted(params)})


def tour_demo(run: RunDir) -> dict[str, Any]:
    """`ennead tour`: SQE vs IDF1 on two short simulated sequences and TUD-Campus (tiny)."""
    from ennead.core.config import load_config

    cfg = load_config(SQEConfig, "tiny", package="ennead.sqe")
    cfg.sequences = [*cfg.sequences, "tud:campus"]
    res = SQE(cfg).evaluate(out=run.path / "evaluate")
    default_theta = cfg.tracker.appearance_thresh
    tasks, baselines = {}, {}
    for c in res.sequences:
        trials = run_trials(Path(res.run), c.sequence)
        fixed = next(
            t["idf1"]
            for t in trials
            if abs(t["params"]["appearance_thresh"] - default_theta) < 1e-9
        )
        tasks[c.sequence] = {"idf1": 100 * (c.idf1 or 0), "spearman": c.spearman_idf1 or 0.0}
        baselines[c.sequence] = {"idf1": 100 * fixed}
    images = [str(p.relative_to(run.path)) for p in sorted(Path(res.run).glob("artifacts/*.png"))]
    table = "| sequence | chosen θ | IDF1 (SQE choice) | best IDF1 | Spearman | Kendall |\n"
    table += "|---|---|---|---|---|---|\n" + "".join(
        f"| {c.sequence} | {c.params['appearance_thresh']:.2f} | {100 * (c.idf1 or 0):.1f} | "
        f"{100 * (c.best_idf1 or 0):.1f} | {c.spearman_idf1 or float('nan'):.2f} | "
        f"{c.kendall_idf1 or float('nan'):.2f} |\n"
        for c in res.sequences
    )
    return {
        "title": "SQE: tracker quality without ground truth",
        "summary": (
            "The tracker's appearance threshold was swept on each sequence and scored by SQE "
            "(no ground truth); the SQE-chosen setting is compared with the fixed default "
            f"θ = {default_theta} (baseline) by IDF1. Median Spearman(SQE, IDF1) = "
            f"{res.median_spearman_idf1:.2f}. Appearance features are simulated (see docs)."
        ),
        "tasks": tasks,
        "baselines": baselines,
        "higher_is_better": {"idf1": True, "spearman": True},
        "images": images,
        "tables": [table],
    }


def run_trials(run_path: Path, sequence: str) -> list[dict[str, Any]]:
    """Trials of one sequence from an evaluate/optimize run folder."""
    import json

    for marker in sorted(run_path.glob("stages/search-*/_DONE.json")):
        res = json.loads(marker.read_text(encoding="utf-8"))["result"]
        if res["sequence"] == sequence:
            return list(res["trials"])
    raise DataError(f"no trials for {sequence} in {run_path}")
