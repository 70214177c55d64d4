"""Pictures: within-track distance histograms with the fitted mixture, and SQE vs IDF1 sweeps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ennead.core.imports import require
from ennead.core.io import save_figure
from ennead.sqe.config import MetricConfig
from ennead.sqe.gmm import fit_gmm2
from ennead.sqe.mot import Boxes
from ennead.sqe.score import ScoreResult, track_distances


def _plt() -> Any:
    matplotlib = require("matplotlib", "sqe", "the SQE plots")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_track_histograms(
    tracks: Boxes,
    result: ScoreResult,
    path: str | Path,
    cfg: MetricConfig | None = None,
    max_tracks: int = 6,
) -> Path:
    """Histograms of within-track distances for suspected and a few clean tracks."""
    plt = _plt()
    cfg = cfg or MetricConfig()
    suspects = [t for t in result.tracks if t.dif or t.fp]
    clean = sorted((t for t in result.tracks if not (t.dif or t.fp)), key=lambda t: -t.length)
    chosen = (suspects[: max_tracks // 2] + clean)[:max_tracks]
    cols = min(3, max(len(chosen), 1))
    rows = max(1, int(np.ceil(len(chosen) / cols)))
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows), squeeze=False)
    for ax in axes.ravel()[len(chosen) :]:
        ax.axis("off")
    for ax, diag in zip(axes.ravel(), chosen):
        d = track_distances(tracks, diag.id, cfg)
        ax.hist(
            d,
            bins=30,
            range=(0, max(1.2, float(d.max(initial=0)))),
            density=True,
            color="#9ab",
            alpha=0.8,
        )
        if len(d) >= cfg.min_pairs:
            mix = fit_gmm2([d])
            xs = np.linspace(0, max(1.2, float(d.max())), 200)
            for k in range(2):
                mu, var, w = mix.means[0, k], mix.variances[0, k], mix.weights[0, k]
                pdf = w * np.exp(-0.5 * (xs - mu) ** 2 / var) / np.sqrt(2 * np.pi * var)
                ax.plot(xs, pdf, lw=1.5, label=f"mu={mu:.2f} w={w:.2f}")
            ax.legend(fontsize=7)
        tag = "ID switch?" if diag.dif else ("false track?" if diag.fp else "clean")
        ax.set_title(f"track {diag.id} ({diag.length} boxes): {tag}", fontsize=9)
        ax.set_xlabel("cosine distance", fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_sweep(trials: list[dict[str, Any]], param: str, path: str | Path, title: str = "") -> Path:
    """SQE (left axis) and IDF1/MOTA (right axis) against one swept parameter."""
    plt = _plt()
    rows = sorted(trials, key=lambda r: r["params"][param])
    x = [r["params"][param] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 3.4))
    ax.plot(x, [r["sqe"] for r in rows], "o-", color="#c33", label="SQE (no GT)")
    ax.set_xlabel(param)
    ax.set_ylabel("SQE", color="#c33")
    best = int(np.argmax([r["sqe"] for r in rows]))
    ax.axvline(x[best], color="#c33", ls=":", lw=1)
    if "idf1" in rows[0]:
        ax2 = ax.twinx()
        ax2.plot(x, [r["idf1"] for r in rows], "s-", color="#36c", label="IDF1")
        ax2.plot(x, [r["mota"] for r in rows], "^--", color="#6a6", label="MOTA", alpha=0.7)
        ax2.set_ylabel("IDF1 / MOTA")
        ax2.legend(loc="lower right", fontsize=8)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)
