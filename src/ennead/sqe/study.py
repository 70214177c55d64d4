"""The tuning study: does choosing tracker parameters per sequence by SQE beat fixed settings?

The paper's point is that a tracker can be re-tuned per scene without ground truth by maximising
SQE. For each study group (a kind of sequence) and each parameter in ``study.params`` (swept
alone, the other parameters at the tracker defaults) every sequence is swept once; each grid point
records SQE's parts (n, L, fp, dif, sim) and, from ground truth, IDF1 and MOTA. Then, per sequence:

- **tuned**: the grid point with the highest selection score (no ground truth); scores are the full
  SQE and its ablations, the error count alone ``-(fp + dif + sim)`` and the ``n L / (n + k1 L)``
  term alone; ties go to the point nearest the default;
- **default**: the tracker's default value;
- **global**: the single value with the best mean IDF1 on the *other* sequences of the group
  (leave-one-out with ground truth: what a practitioner would ship after tuning elsewhere);
- **oracle**: the best IDF1 on this sequence (ground truth; the ceiling).

Means over sequences come with paired bootstrap intervals over sequences (``core.eval.stats``); the
all-group row resamples sequences within each group. The sweeps are stages of a run folder, so an
interrupted study resumes, and the selection is recomputed from them (cheap) for every score.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from ennead.core.errors import ConfigError
from ennead.core.eval.stats import Interval, paired_bootstrap, pooled_paired_bootstrap
from ennead.core.logging import get_logger
from ennead.core.results import RunResult
from ennead.core.runs import RunDir, default_run_path
from ennead.sqe.config import SQEConfig, StudyConfig, StudyGroup, TrackerConfig

log = get_logger(__name__)

SCORES = {
    "sqe": "full SQE",
    "errors": "error count alone -(fp+dif+sim)",
    "nl": "n L / (n + k1 L) alone",
}


class StudyRow(BaseModel):
    """One sequence and one parameter: the value each rule picks and the IDF1 it gets (points)."""

    group: str
    sequence: str
    param: str
    default: float
    idf1_default: float
    global_value: float
    idf1_global: float
    oracle: float
    idf1_oracle: float
    picks: dict[str, float] = Field(description="score -> value it chose (no ground truth).")
    idf1_tuned: dict[str, float] = Field(description="score -> IDF1 (points) at its choice.")
    spearman: dict[str, float | None] = Field(description="score -> Spearman with IDF1.")


class IntervalOut(BaseModel):
    estimate: float
    low: float
    high: float
    n: int

    @classmethod
    def of(cls, iv: Interval) -> IntervalOut:
        return cls(estimate=iv.estimate, low=iv.low, high=iv.high, n=iv.n)

    def text(self, digits: int = 2) -> str:
        return f"{self.estimate:+.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}]"


class StudyCell(BaseModel):
    """Means over the sequences of one group (or ``all``) for one parameter and one score."""

    group: str
    param: str
    score: str
    n: int
    tuned: float
    default: float
    global_best: float
    oracle: float
    tuned_minus_default: IntervalOut
    tuned_minus_global: IntervalOut
    median_spearman: float | None


class TuneStudyResult(RunResult):
    """What ``tune-study`` measured: per-sequence rows and per-group means with intervals."""

    rows: list[StudyRow] = Field(default_factory=list)
    cells: list[StudyCell] = Field(default_factory=list)

    def cell(self, param: str, score: str = "sqe", group: str = "all") -> StudyCell:
        for c in self.cells:
            if (c.param, c.score, c.group) == (param, score, group):
                return c
        raise KeyError(f"no study cell for {param}/{score}/{group}")


# -- sweeps -----------------------------------------------------------------------------------
def group_config(cfg: SQEConfig, group: StudyGroup) -> SQEConfig:
    """The config with the group's simulator overrides applied (validated)."""
    data = cfg.model_dump()
    data["simulator"] = {**data["simulator"], **group.simulator}
    data["sequences"] = list(group.sequences)
    try:
        return SQEConfig.model_validate(data)
    except Exception as exc:  # pydantic names the key; say which group it came from
        raise ConfigError(f"study.groups[{group.name}].simulator: {exc}") from None


def grid(spec: list[float], name: str) -> list[float]:
    from ennead.sqe.optimize import grid_points

    return [p[name] for p in grid_points({name: spec})]


def _check_defaults(study: StudyConfig, tracker: TrackerConfig) -> None:
    for name, spec in study.params.items():
        values = grid(spec, name)
        default = float(getattr(tracker, name))
        if not any(abs(v - default) < 1e-9 for v in values):
            raise ConfigError(
                f"study.params.{name}: the grid {spec} does not contain the tracker default "
                f"{default}; the default must be one of the compared settings"
            )


def sweep_sequence(spec: str, cfg: SQEConfig) -> dict[str, Any]:
    """Every grid point of every study parameter on one sequence: SQE parts, IDF1, MOTA."""
    from ennead.sqe.optimize import evaluate_params, load_sequence
    from ennead.sqe.score import embedding_scales

    seq = load_sequence(spec, cfg)
    scales = embedding_scales(seq.detections, seed=cfg.metric.seed)
    sweeps = {
        name: [evaluate_params(seq, {name: v}, cfg, scales) for v in grid(rng, name)]
        for name, rng in cfg.study.params.items()
    }
    return {"sequence": seq.name, "spec": spec, "sweeps": sweeps}


def _job(args: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    spec, data = args
    return sweep_sequence(spec, SQEConfig.model_validate(data))


def _stage(group: str, spec: str) -> str:
    from ennead.sqe.optimize import _slug

    return f"sweep-{_slug(group)}-{_slug(spec)}"


def run_sweeps(run: RunDir, cfg: SQEConfig) -> dict[str, list[dict[str, Any]]]:
    """Sweep every sequence of every group (resumable; ``study.workers`` processes)."""
    jobs: list[tuple[str, str, dict[str, Any]]] = []
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for group in cfg.study.groups:
        gcfg = group_config(cfg, group).model_dump()
        for spec in group.sequences:
            name = _stage(group.name, spec)
            if run.is_done(name):
                out[(group.name, spec)] = run.stage_info(name)["result"]
            else:
                jobs.append((group.name, spec, gcfg))

    def done(gname: str, spec: str, res: dict[str, Any]) -> None:
        out[(gname, spec)] = res
        run.run_stage(_stage(gname, spec), lambda folder: res)
        log.info("study: swept %s (%s)", res["sequence"], gname)

    if cfg.study.workers <= 1 or len(jobs) <= 1:
        for gname, spec, data in jobs:
            done(gname, spec, _job((spec, data)))
    else:
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(max_workers=min(cfg.study.workers, len(jobs))) as pool:
            futures = {pool.submit(_job, (spec, data)): (g, spec) for g, spec, data in jobs}
            for fut in as_completed(futures):
                done(*futures[fut], fut.result())
    return {g.name: [out[(g.name, spec)] for spec in g.sequences] for g in cfg.study.groups}


# -- selection and statistics -----------------------------------------------------------------
def selection_score(row: dict[str, Any], score: str, k1: float = 1.0) -> float:
    """The value a rule maximises: full SQE or one of its ablated parts."""
    if score == "sqe":
        return float(row["sqe"])
    if score == "errors":
        return -float(row["fp"] + row["dif"] + row["sim"])
    if score == "nl":
        n, L = float(row["n"]), float(row["L"])
        return n * L / (n + k1 * L) if n > 0 else 0.0
    raise ConfigError(f"unknown study score {score!r}; allowed: {', '.join(SCORES)}")


def pick(
    trials: list[dict[str, Any]],
    param: str,
    score: str,
    default: float,
    k1: float = 1.0,
    margin: float = 0.0,
) -> dict[str, Any]:
    """The trial a score chooses; ties go to the value nearest the default.

    With ``margin > 0`` the default is kept unless the best score beats the default's by that
    relative margin (a conservative rule: no change without clear evidence).
    """
    scores = [selection_score(t, score, k1) for t in trials]
    values = [float(t["params"][param]) for t in trials]
    best = max(range(len(trials)), key=lambda i: (scores[i], -abs(values[i] - default)))
    if margin > 0:
        d = min(range(len(trials)), key=lambda i: abs(values[i] - default))
        if scores[best] - scores[d] <= margin * abs(scores[d]):
            best = d
    return trials[best]


def _value_idf1(trials: list[dict[str, Any]], param: str) -> dict[float, float]:
    return {float(t["params"][param]): 100 * float(t["idf1"]) for t in trials}


def analyse(
    sweeps: dict[str, list[dict[str, Any]]], cfg: SQEConfig
) -> tuple[list[StudyRow], list[StudyCell]]:
    """Rows per sequence and parameter, then group means with paired bootstrap intervals."""
    from ennead.sqe.evaluate import rank_correlations

    study, k1 = cfg.study, cfg.metric.k1
    rows: list[StudyRow] = []
    for gname, seqs in sweeps.items():
        for param in study.params:
            default = float(getattr(cfg.tracker, param))
            tables = [_value_idf1(s["sweeps"][param], param) for s in seqs]
            for i, s in enumerate(seqs):
                trials = s["sweeps"][param]
                table = tables[i]
                others = [t for j, t in enumerate(tables) if j != i] or [table]
                if len(seqs) == 1:
                    others = [
                        _value_idf1(o["sweeps"][param], param)
                        for g2, ss in sweeps.items()
                        if g2 != gname
                        for o in ss
                    ] or [table]
                mean_other = {v: float(np.mean([o[v] for o in others])) for v in table}
                gval = max(table, key=lambda v: (mean_other[v], -abs(v - default)))
                oval = max(table, key=lambda v: (table[v], -abs(v - default)))
                picks, tuned, rho = {}, {}, {}
                idf1 = [t["idf1"] for t in trials]
                for score in study.scores:
                    chosen = pick(trials, param, score, default, k1, study.margin)
                    v = float(chosen["params"][param])
                    picks[score], tuned[score] = v, table[v]
                    r = rank_correlations([selection_score(t, score, k1) for t in trials], idf1)
                    rho[score] = None if not np.isfinite(r["spearman"]) else r["spearman"]
                rows.append(
                    StudyRow(
                        group=gname,
                        sequence=s["sequence"],
                        param=param,
                        default=default,
                        idf1_default=table[_nearest(table, default)],
                        global_value=gval,
                        idf1_global=table[gval],
                        oracle=oval,
                        idf1_oracle=table[oval],
                        picks=picks,
                        idf1_tuned=tuned,
                        spearman=rho,
                    )
                )
    return rows, _cells(rows, study)


def _nearest(table: dict[float, float], value: float) -> float:
    return min(table, key=lambda v: abs(v - value))


def _cells(rows: list[StudyRow], study: StudyConfig) -> list[StudyCell]:
    groups = list(dict.fromkeys(r.group for r in rows))
    cells: list[StudyCell] = []
    boot = {"n_resamples": study.bootstrap, "seed": study.seed}
    for param in study.params:
        for score in study.scores:
            for g in [*groups, "all"]:
                sel = [r for r in rows if r.param == param and (g == "all" or r.group == g)]
                if not sel:
                    continue
                tuned = [r.idf1_tuned[score] for r in sel]
                if g == "all" and len(groups) > 1:
                    by = {
                        gg: [r for r in sel if r.group == gg] for gg in groups
                    }  # resample within groups: each keeps its size
                    vs_def = pooled_paired_bootstrap(
                        {k: [r.idf1_tuned[score] for r in v] for k, v in by.items()},
                        {k: [r.idf1_default for r in v] for k, v in by.items()},
                        **boot,
                    )
                    vs_glob = pooled_paired_bootstrap(
                        {k: [r.idf1_tuned[score] for r in v] for k, v in by.items()},
                        {k: [r.idf1_global for r in v] for k, v in by.items()},
                        **boot,
                    )
                else:
                    vs_def = paired_bootstrap(tuned, [r.idf1_default for r in sel], **boot)
                    vs_glob = paired_bootstrap(tuned, [r.idf1_global for r in sel], **boot)
                rhos = [v for r in sel if (v := r.spearman[score]) is not None]
                cells.append(
                    StudyCell(
                        group=g,
                        param=param,
                        score=score,
                        n=len(sel),
                        tuned=float(np.mean(tuned)),
                        default=float(np.mean([r.idf1_default for r in sel])),
                        global_best=float(np.mean([r.idf1_global for r in sel])),
                        oracle=float(np.mean([r.idf1_oracle for r in sel])),
                        tuned_minus_default=IntervalOut.of(vs_def),
                        tuned_minus_global=IntervalOut.of(vs_glob),
                        median_spearman=float(np.median(rhos)) if rhos else None,
                    )
                )
    return cells


# -- the study as a run -----------------------------------------------------------------------
def tune_study(cfg: SQEConfig, out: str | Path | None = None) -> TuneStudyResult:
    """Run (or resume) the study in a run folder; write summary.json, report.md/.html, plots."""
    _check_defaults(cfg.study, cfg.tracker)
    run = RunDir.create(
        out or default_run_path("sqe-tune-study", cfg.out), cfg, system="sqe", seed=cfg.seed
    )
    sweeps = run_sweeps(run, cfg)
    rows, cells = analyse(sweeps, cfg)
    metrics: dict[str, float] = {}
    for c in cells:
        if c.group == "all":
            key = f"{c.param}.{c.score}"
            metrics[f"{key}.tuned_minus_default"] = c.tuned_minus_default.estimate
            metrics[f"{key}.tuned_minus_global"] = c.tuned_minus_global.estimate
    result = TuneStudyResult(run_dir=run.path, metrics=metrics, rows=rows, cells=cells)
    from ennead.core.io import atomic_write_json
    from ennead.sqe.report import write_study_report

    summary = run.path / "summary.json"
    atomic_write_json(summary, {"verb": "tune-study", **result.model_dump(mode="json")})
    md, page = write_study_report(result, cfg)
    result.artifacts.update(summary=summary, report_md=md, report=page)
    run.log_metrics(metrics)
    run.finish()
    return result


def claim_config(quick: bool = True) -> SQEConfig:
    """The study at the CI-gate size (``quick``: 5 sequences per group, coarser grids)."""
    from ennead.core.config import load_config

    cfg = load_config(SQEConfig, "study-ci" if quick else "default", package="ennead.sqe")
    return cfg


def tuning_claim(out: str | Path, quick: bool = True, workers: int = 2) -> TuneStudyResult:
    """The paper's self-optimisation claim, measured: run the study and return its result.

    ``result.cell("appearance_thresh", "sqe", "all").tuned_minus_default`` is the mean IDF1
    difference (points) of per-sequence SQE tuning over the default with its 95% interval;
    ``result.rows`` holds the per-sequence numbers. ``quick`` is the CI size (about two
    minutes on two cores).
    """
    cfg = claim_config(quick)
    cfg.study.workers = workers
    return tune_study(cfg, out)


def study_table(result: TuneStudyResult, score: str = "sqe") -> list[dict[str, Any]]:
    """Rows for the docs/report: tuned vs default vs global vs oracle with intervals."""
    return [
        {
            "parameter": c.param,
            "group": c.group,
            "n": c.n,
            "tuned": round(c.tuned, 2),
            "default": round(c.default, 2),
            "global (LOO)": round(c.global_best, 2),
            "oracle": round(c.oracle, 2),
            "tuned - default [95%]": c.tuned_minus_default.text(),
            "tuned - global [95%]": c.tuned_minus_global.text(),
            "median Spearman": None if c.median_spearman is None else round(c.median_spearman, 3),
        }
        for c in result.cells
        if c.score == score
    ]


def ablation_table(result: TuneStudyResult, group: str = "all") -> list[dict[str, Any]]:
    """Rows per score (full SQE and its parts) for one group."""
    return [
        {
            "parameter": c.param,
            "score": SCORES[c.score],
            "tuned": round(c.tuned, 2),
            "tuned - default [95%]": c.tuned_minus_default.text(),
            "tuned - global [95%]": c.tuned_minus_global.text(),
            "median Spearman": None if c.median_spearman is None else round(c.median_spearman, 3),
        }
        for c in result.cells
        if c.group == group
    ]


def load_result(run_path: str | Path) -> TuneStudyResult:
    """Read a finished study's ``summary.json`` back into a result."""
    data = json.loads((Path(run_path) / "summary.json").read_text(encoding="utf-8"))
    data.pop("verb", None)
    return TuneStudyResult.model_validate(data)
