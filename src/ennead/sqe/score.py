"""The SQE score: tracker quality from the tracks' own appearance features, without ground truth.

``SQE = n L / (n + k1 L + k2 (fp + dif + sim))`` (Huang et al., CVPR 2020), where

- ``n`` tracks of mean length ``L`` (detections per track);
- ``fp``: tracks that are short (< T_len) and noisy (std of within-track distances > T_std);
- ``dif``: tracks whose within-track distances form two modes (a 2-component mixture with mean gap
  > T_dif and both weights > w_min): the track holds more than one identity (ID switch);
- ``sim``: pairs of non-false tracks whose between-track distances have a low mode (mixture mean gap
  > T_sim), i.e. part of both tracks is one target, or whose distances are all low (mean below
  T_same: pure fragments of one target).

Distances are cosine distances ``1 - <a, b>`` on L2-normalised features.

Thresholds set to ``auto`` come from :func:`embedding_scales`, measured on the boxes themselves
without ground truth: *inter* = median distance between two boxes in the same frame (two boxes
in one frame are two people), *intra* = median distance between boxes in consecutive frames that
overlap with IoU >= 0.7 (almost surely one person). Then ``T_dif = T_sim = gap_scale x (inter -
intra)`` (the spec's rule) and ``T_same = intra + same_scale x (inter - intra)``.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, Field, computed_field

from ennead.core.errors import DataError
from ennead.sqe.config import MetricConfig
from ennead.sqe.gmm import Mixture2, fit_gmm2, fit_gmm2_sklearn
from ennead.sqe.mot import Boxes


class Scales(BaseModel):
    """Typical same-person (intra) and different-person (inter) feature distances."""

    intra: float
    inter: float
    intra_std: float = 0.0
    n_intra: int = 0
    n_inter: int = 0


class Thresholds(BaseModel):
    t_std: float
    t_dif: float
    t_sim: float
    t_same: float | None


class TrackDiagnosis(BaseModel):
    """Why one track is (or is not) suspected."""

    id: int
    length: int
    start: int
    end: int
    intra_mean: float
    intra_std: float
    gap: float | None = None
    min_weight: float | None = None
    fp: bool = False
    dif: bool = False
    reasons: list[str] = Field(default_factory=list)


class PairDiagnosis(BaseModel):
    """A pair of tracks judged to share an identity."""

    a: int
    b: int
    mean: float
    gap: float | None
    min_weight: float | None
    reason: str


class ScoreResult(BaseModel):
    """SQE of one tracker output: the score, its parts, the thresholds and every diagnosis.

    The one result of scoring (``SQE.score`` returns it; the search keeps ``summary()``).
    """

    sqe: float
    n: int
    L: float
    fp: int
    dif: int
    sim: int
    thresholds: Thresholds
    scales: Scales
    tracks: list[TrackDiagnosis] = Field(description="every track, suspected or not.")
    pairs: list[PairDiagnosis] = Field(description="track pairs judged to share an identity.")
    k1: float
    k2: float

    def summary(self) -> dict[str, float]:
        return {
            "sqe": self.sqe,
            "n": self.n,
            "L": self.L,
            "fp": self.fp,
            "dif": self.dif,
            "sim": self.sim,
        }

    @computed_field  # type: ignore[prop-decorator]
    @property
    def suspects(self) -> list[TrackDiagnosis]:
        """Tracks judged false or switched, with why."""
        return [t for t in self.tracks if t.fp or t.dif]


def sqe_formula(n: int, L: float, errors: float, k1: float = 1.0, k2: float = 10.0) -> float:
    """``n L / (n + k1 L + k2 errors)``; 0 for an empty output."""
    if n == 0:
        return 0.0
    return float(n * L / (n + k1 * L + k2 * errors))


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return 1.0 - a @ b.T


def embedding_scales(boxes: Boxes, max_pairs: int = 20000, seed: int = 0) -> Scales:
    """Median same-person and different-person distances, estimated without identities."""
    from ennead.sqe.tracker import iou_matrix

    if boxes.features is None:
        raise DataError("SQE needs appearance features for every box")
    rng = np.random.default_rng(seed)
    feats = boxes.features.astype(np.float64)
    frames = np.unique(boxes.frame)
    lo = np.searchsorted(boxes.frame, frames, side="left")
    hi = np.searchsorted(boxes.frame, frames, side="right")
    inter: list[np.ndarray] = []
    intra: list[np.ndarray] = []
    prev: tuple[int, int, int] | None = None
    for f, a, b in zip(frames.tolist(), lo.tolist(), hi.tolist()):
        if b - a > 1:
            d = _cosine(feats[a:b], feats[a:b])
            inter.append(d[np.triu_indices(b - a, 1)])
        if prev is not None and prev[0] == f - 1:
            pa, pb = prev[1], prev[2]
            iou = iou_matrix(boxes.xywh[pa:pb], boxes.xywh[a:b])
            i, j = np.nonzero(iou >= 0.7)
            if len(i):
                intra.append(np.einsum("nd,nd->n", feats[pa + i], feats[a + j]) * -1 + 1)
        prev = (f, a, b)
    x = np.concatenate(inter) if inter else np.zeros(0)
    y = np.concatenate(intra) if intra else np.zeros(0)
    if len(x) > max_pairs:
        x = rng.choice(x, max_pairs, replace=False)
    if len(y) > max_pairs:
        y = rng.choice(y, max_pairs, replace=False)
    if len(x) == 0 or len(y) == 0:
        raise DataError(
            "cannot set 'auto' thresholds: need frames with two or more boxes and boxes that "
            "overlap across consecutive frames; give t_dif/t_sim/t_same/t_std as numbers"
        )
    return Scales(
        intra=float(np.median(y)),
        inter=float(np.median(x)),
        intra_std=float(1.4826 * np.median(np.abs(y - np.median(y)))),
        n_intra=len(y),
        n_inter=len(x),
    )


def _subsample(n: int, m: int) -> np.ndarray:
    """``m`` evenly spaced indices of ``range(n)`` (all when n <= m)."""
    if n <= m:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, m).round().astype(np.int64))


def _fit(samples: list[np.ndarray], cfg: MetricConfig) -> Mixture2:
    if cfg.gmm == "sklearn":
        return fit_gmm2_sklearn(samples, seed=cfg.seed)
    return fit_gmm2(samples, iters=cfg.gmm_iters)


def resolve_thresholds(
    cfg: MetricConfig, scales: Scales, long_track_stds: np.ndarray
) -> Thresholds:
    span = max(scales.inter - scales.intra, 1e-6)
    t_dif = cfg.gap_scale * span if cfg.t_dif == "auto" else float(cfg.t_dif)
    t_sim = cfg.gap_scale * span if cfg.t_sim == "auto" else float(cfg.t_sim)
    if cfg.t_same is None:
        t_same = None
    else:
        t_same = scales.intra + cfg.same_scale * span if cfg.t_same == "auto" else float(cfg.t_same)
    if cfg.t_std == "long_tracks":
        # the spec's rule: 90th percentile over long tracks of the scored output; it moves with
        # the output being scored, so "auto" (fixed per sequence) is the default
        t_std = float(np.percentile(long_track_stds, 90)) if len(long_track_stds) else 0.25 * span
    elif cfg.t_std == "auto":
        t_std = cfg.std_scale * scales.intra_std
    else:
        t_std = float(cfg.t_std)
    return Thresholds(t_std=t_std, t_dif=t_dif, t_sim=t_sim, t_same=t_same)


def score_tracks(
    tracks: Boxes, config: MetricConfig | None = None, scales: Scales | None = None
) -> ScoreResult:
    """Score one sequence's tracker output (boxes with track ids and features).

    ``scales`` (for ``auto`` thresholds) default to :func:`embedding_scales` of ``tracks``; when
    comparing several outputs of one sequence pass the scales of its detections, so that all
    outputs are judged by the same thresholds.
    """
    cfg = config or MetricConfig()
    if tracks.features is None:
        raise DataError("SQE needs appearance features for every box (none given)")
    if len(tracks) and tracks.ids.min() < 0:
        raise DataError("tracker output has boxes without a track id (id < 0)")
    tracks.check_unique_ids("tracker output")
    needs_scales = "auto" in (cfg.t_std, cfg.t_dif, cfg.t_sim, cfg.t_same)
    if scales is None:
        scales = (
            embedding_scales(tracks, seed=cfg.seed)
            if needs_scales and len(tracks)
            else (Scales(intra=0.0, inter=1.0, intra_std=0.1))
        )
    order = np.lexsort((tracks.frame, tracks.ids))
    ids_sorted = tracks.ids[order]
    uids, starts, counts = np.unique(ids_sorted, return_index=True, return_counts=True)
    feats = tracks.features.astype(np.float64)
    rows = [order[s : s + c] for s, c in zip(starts, counts)]
    sub = [r[_subsample(len(r), cfg.max_features)] for r in rows]
    intra: list[np.ndarray] = []
    for r in sub:
        F = feats[r]
        d = _cosine(F, F)
        intra.append(d[np.triu_indices(len(r), 1)])
    means = np.array([d.mean() if len(d) else 0.0 for d in intra])
    stds = np.array([d.std() if len(d) else 0.0 for d in intra])
    lengths = counts.astype(np.int64)
    long = lengths >= 2 * cfg.t_len
    th = resolve_thresholds(cfg, scales, stds[long])

    diags: list[TrackDiagnosis] = []
    short = lengths < cfg.t_len
    noisy = stds > th.t_std
    is_fp = (short & noisy) if cfg.fp_rule == "and" else (short | noisy)
    for k, tid in enumerate(uids.tolist()):
        r = rows[k]
        diag = TrackDiagnosis(
            id=int(tid),
            length=int(lengths[k]),
            start=int(tracks.frame[r].min()),
            end=int(tracks.frame[r].max()),
            intra_mean=float(means[k]),
            intra_std=float(stds[k]),
        )
        if is_fp[k]:
            diag.fp = True
            diag.reasons.append(
                f"false positive: {lengths[k]} boxes (< {cfg.t_len}) and distance std "
                f"{stds[k]:.3f} (> {th.t_std:.3f})"
                if cfg.fp_rule == "and"
                else f"false positive: short ({lengths[k]}) or noisy (std {stds[k]:.3f})"
            )
        diags.append(diag)

    # ID switches: two modes inside a track
    fit_idx = [k for k in range(len(uids)) if not is_fp[k] and len(intra[k]) >= cfg.min_pairs]
    if fit_idx:
        mix = _fit([intra[k] for k in fit_idx], cfg)
        for j, k in enumerate(fit_idx):
            gap, wmin = float(mix.gap[j]), float(mix.min_weight[j])
            diags[k].gap, diags[k].min_weight = gap, wmin
            if gap > th.t_dif and wmin > cfg.w_min:
                diags[k].dif = True
                diags[k].reasons.append(
                    f"identity switch: within-track distances have two modes "
                    f"{mix.means[j, 0]:.3f} / {mix.means[j, 1]:.3f} (gap {gap:.3f} > "
                    f"{th.t_dif:.3f}, smaller weight {wmin:.2f})"
                )

    pairs = _similar_pairs(uids, sub, feats, diags, is_fp, th, cfg)
    kept = ~is_fp
    if cfg.count_after_fp:
        n, L = int(kept.sum()), float(lengths[kept].mean()) if kept.any() else 0.0
    else:
        n, L = len(uids), float(lengths.mean()) if len(uids) else 0.0
    fp, dif, sim = int(is_fp.sum()), sum(d.dif for d in diags), len(pairs)
    return ScoreResult(
        sqe=sqe_formula(n, L, fp + dif + sim, cfg.k1, cfg.k2),
        n=n,
        L=L,
        fp=fp,
        dif=dif,
        sim=sim,
        thresholds=th,
        scales=scales,
        tracks=diags,
        pairs=pairs,
        k1=cfg.k1,
        k2=cfg.k2,
    )


def _similar_pairs(
    uids: np.ndarray,
    sub: list[np.ndarray],
    feats: np.ndarray,
    diags: list[TrackDiagnosis],
    is_fp: np.ndarray,
    th: Thresholds,
    cfg: MetricConfig,
) -> list[PairDiagnosis]:
    kept = np.nonzero(~is_fp)[0]
    if len(kept) < 2:
        return []
    start = np.array([diags[k].start for k in kept])
    end = np.array([diags[k].end for k in kept])
    ia, ib = np.triu_indices(len(kept), 1)
    gap = np.maximum(start[ib] - end[ia], start[ia] - end[ib])  # < 0 means shared frames
    ok = np.ones(len(ia), dtype=bool)
    if cfg.max_gap is not None:
        ok &= gap <= cfg.max_gap
    if cfg.max_overlap is not None:
        ok &= -gap + 1 <= cfg.max_overlap
    ia, ib = kept[ia[ok]], kept[ib[ok]]
    if not len(ia):
        return []
    # padded (n, m, D) features of the kept tracks, subsampled for the pair stage
    m = min(cfg.max_features, cfg.pair_features)
    psub = [r[_subsample(len(r), m)] for r in sub]
    dim = feats.shape[1]
    Fp = np.zeros((len(psub), m, dim))
    Mk = np.zeros((len(psub), m), dtype=bool)
    for k, r in enumerate(psub):
        Fp[k, : len(r)] = feats[r]
        Mk[k, : len(r)] = True
    mid = th.t_same if th.t_same is not None else np.inf
    flagged: dict[int, tuple[float, float | None, float | None, str]] = {}
    cand_pairs: list[int] = []
    cand_means: list[float] = []
    cand_samples: list[np.ndarray] = []
    step = max(1, 4_000_000 // (m * m * max(dim, 1)))
    for c0 in range(0, len(ia), step):
        a, b = ia[c0 : c0 + step], ib[c0 : c0 + step]
        d = 1.0 - np.einsum("pid,pjd->pij", Fp[a], Fp[b])
        mask = Mk[a][:, :, None] & Mk[b][:, None, :]
        cnt = mask.sum(axis=(1, 2))
        mean = (d * mask).sum(axis=(1, 2)) / cnt
        same = mean < mid
        for p in np.nonzero(same)[0].tolist():
            why = f"same target: mean distance {mean[p]:.3f} < {mid:.3f}"
            flagged[c0 + p] = (float(mean[p]), None, None, why)
        # a shared identity must leave some low distances: only such pairs get a mixture fit
        low = ((d < mid) & mask).sum(axis=(1, 2)) / cnt if np.isfinite(mid) else np.ones(len(a))
        cand = np.nonzero(~same & (low >= cfg.w_min / 2) & (cnt >= cfg.min_pairs))[0]
        for p in cand.tolist():
            cand_pairs.append(c0 + p)
            cand_means.append(float(mean[p]))
            cand_samples.append(d[p][mask[p]])
    if cand_samples:
        mix = _fit(cand_samples, cfg)
        for j, p in enumerate(cand_pairs):
            g, w = float(mix.gap[j]), float(mix.min_weight[j])
            if g > th.t_sim and w > cfg.w_min:
                why = (
                    f"shared identity: between-track distances have a low mode "
                    f"{mix.means[j, 0]:.3f} (gap {g:.3f} > {th.t_sim:.3f})"
                )
                flagged[p] = (cand_means[j], g, w, why)
    return [
        PairDiagnosis(
            a=int(uids[ia[p]]),
            b=int(uids[ib[p]]),
            mean=v[0],
            gap=v[1],
            min_weight=v[2],
            reason=v[3],
        )
        for p, v in sorted(flagged.items())
    ]


def track_distances(tracks: Boxes, track_id: int, config: MetricConfig | None = None) -> np.ndarray:
    """The within-track distances SQE fits its mixture to (same subsampling), for plots."""
    cfg = config or MetricConfig()
    if tracks.features is None:
        raise DataError("SQE needs appearance features for every box (none given)")
    rows = np.nonzero(tracks.ids == track_id)[0]
    if not len(rows):
        raise DataError(f"no track with id {track_id}")
    rows = rows[np.argsort(tracks.frame[rows], kind="stable")]
    F = tracks.features[rows[_subsample(len(rows), cfg.max_features)]].astype(np.float64)
    return _cosine(F, F)[np.triu_indices(len(F), 1)]
