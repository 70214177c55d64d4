"""SQE reports through ``core.eval.report``: Markdown and one self-contained HTML page with plots.

``write_report`` renders an ``optimize`` or ``evaluate`` run folder (``summary.json`` and the PNGs
under ``artifacts/``); ``write_study_report`` renders a ``tune-study`` result.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ennead.core.errors import StageError
from ennead.core.eval.report import Report

if TYPE_CHECKING:
    from ennead.sqe.config import SQEConfig
    from ennead.sqe.study import TuneStudyResult

_INTRO = (
    "SQE scores tracker output from its own appearance features, without ground truth "
    "(Huang et al., CVPR 2020). Ground-truth columns, where present, are a check only."
)


def _cell(v: Any) -> Any:
    if isinstance(v, dict):
        return ", ".join(
            f"{k}={x:.3g}" if isinstance(x, float) else f"{k}={x}" for k, x in v.items()
        )
    return v


def write_report(run_path: str | Path) -> Path:
    """Render ``summary.json`` and the PNGs of a run folder into ``report.md`` + ``report.html``."""
    run_path = Path(run_path)
    summary_path = run_path / "summary.json"
    if not summary_path.exists():
        raise StageError(f"{run_path} has no summary.json; run 'ennead sqe optimize' or 'evaluate'")
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    if summary.get("verb") == "tune-study":
        from ennead.sqe.config import SQEConfig
        from ennead.sqe.study import load_result

        cfg_path = run_path / "config.yaml"
        cfg = SQEConfig.model_validate(_yaml(cfg_path)) if cfg_path.exists() else SQEConfig()
        return write_study_report(load_result(run_path), cfg)[1]
    report = Report(f"SQE {summary.get('verb', 'run')}: {run_path.name}", digits=3)
    report.paragraph(_INTRO)
    if summary.get("aggregate"):
        report.heading("Summary").table([{k: _cell(v) for k, v in summary["aggregate"].items()}])
    rows = [{k: _cell(v) for k, v in r.items()} for r in summary.get("sequences", [])]
    report.heading("Per sequence").table(rows)
    images = sorted(run_path.glob("artifacts/*.png"))
    if images:
        report.heading("Plots")
        for img in images:
            report.image(img, caption=img.stem, link=str(img.relative_to(run_path)))
    return report.write(run_path)[1]


def _yaml(path: Path) -> Any:
    import yaml

    return yaml.safe_load(path.read_text(encoding="utf-8"))


def plot_study(result: TuneStudyResult, param: str, path: Path, score: str = "sqe") -> Path:
    """Mean IDF1 per group: default, global (leave-one-out), SQE-tuned and oracle."""
    from ennead.core.io import save_figure
    from ennead.sqe.plots import _plt

    plt = _plt()
    cells = [c for c in result.cells if c.param == param and c.score == score]
    fig, ax = plt.subplots(figsize=(2.8 + 1.3 * len(cells), 3.4))
    width = 0.2
    for k, (label, attr) in enumerate(
        [
            ("default", "default"),
            ("global (LOO)", "global_best"),
            ("SQE-tuned", "tuned"),
            ("oracle", "oracle"),
        ]
    ):
        xs = [i + (k - 1.5) * width for i in range(len(cells))]
        ys = [getattr(c, attr) for c in cells]
        if attr == "tuned":
            err = [
                [c.tuned_minus_default.estimate - c.tuned_minus_default.low for c in cells],
                [c.tuned_minus_default.high - c.tuned_minus_default.estimate for c in cells],
            ]
            ax.bar(xs, ys, width, label=label, yerr=err, capsize=2)
        else:
            ax.bar(xs, ys, width, label=label)
    ax.set_xticks(range(len(cells)), [f"{c.group}\n(n={c.n})" for c in cells])
    lo = min(min(c.default, c.tuned, c.global_best) for c in cells)
    ax.set_ylim(max(0.0, lo - 8), max(c.oracle for c in cells) + 3)
    ax.set_ylabel("mean IDF1 (points)")
    ax.set_title(f"{param} (bar on SQE-tuned: 95% CI of tuned - default)", fontsize=9)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return save_figure(fig, path)


def write_study_report(result: TuneStudyResult, cfg: SQEConfig) -> tuple[Path, Path]:
    """``report.md`` and ``report.html`` of a tuning study (tables, ablation, plots)."""
    from ennead.sqe.study import SCORES, ablation_table, study_table

    assert result.run_dir is not None
    run_path = Path(result.run_dir)
    report = Report("SQE tuning study", subtitle=str(run_path.name), digits=2)
    report.paragraph(
        "Per sequence, each tracker parameter is swept alone (others at their defaults) and "
        "chosen by maximising a score without ground truth (tuned), compared with the default, "
        "the single value best on mean IDF1 over the other sequences of the group (global, "
        "leave-one-out, uses ground truth) and the best IDF1 on the sequence (oracle). IDF1 in "
        "points; intervals are 95% paired bootstrap intervals over sequences (the 'all' row "
        "resamples within each group)."
    )
    report.heading("Tuned vs default vs global vs oracle (full SQE)")
    report.table(study_table(result, "sqe"))
    report.heading("Ablation: which part of SQE carries the signal")
    report.paragraph("; ".join(f"{k}: {v}" for k, v in SCORES.items()) + ".")
    for group in dict.fromkeys(c.group for c in result.cells):
        report.table(ablation_table(result, group), caption=f"group: {group}")
    report.heading("Plots")
    for param in cfg.study.params:
        png = plot_study(result, param, run_path / "artifacts" / f"study-{param}.png")
        report.image(png, caption=f"study-{param}", link=f"artifacts/{png.name}")
    report.heading("Per sequence")
    report.table(
        [
            {
                "group": r.group,
                "sequence": r.sequence,
                "parameter": r.param,
                "default": r.idf1_default,
                "global": f"{r.idf1_global:.2f} @ {r.global_value:g}",
                "oracle": f"{r.idf1_oracle:.2f} @ {r.oracle:g}",
                **{f"tuned[{s}]": f"{r.idf1_tuned[s]:.2f} @ {r.picks[s]:g}" for s in r.idf1_tuned},
                "Spearman SQE": r.spearman.get("sqe"),
            }
            for r in result.rows
        ]
    )
    return report.write(run_path)
