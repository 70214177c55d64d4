"""An online multi-object tracker in the DeepSORT family, vectorised over tracks with NumPy.

Per frame:
1. predict every track with a constant-velocity Kalman filter on ``(cx, cy, w, h)``;
2. cost = ``a x cosine(track feature, det feature) + (1 - a) x (1 - IoU)``; a pair is allowed when
   the cosine distance is at most ``appearance_thresh`` and either IoU >= ``iou_thresh`` or the
   squared Mahalanobis distance is inside ``gating`` (that reaches tracks lost for some frames);
   Hungarian assignment (``scipy.optimize.linear_sum_assignment``);
3. optional IoU-only second pass for tracks that were matched in the previous frame;
4. matched tracks update their filter and their feature (exponential moving average);
   leftover detections start tentative tracks; a track is confirmed after ``min_hits``
   consecutive hits and dies after ``max_age`` missed frames (tentative ones at the first miss).

Output: the detections assigned to tracks that were ever confirmed, with track ids and the
detections' features (SQE reads them), including the hits before confirmation.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from ennead.sqe.config import TrackerConfig
from ennead.sqe.mot import Boxes

_BIG = 1e6


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of xywh boxes, (len(a), len(b))."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 0] + a[:, None, 2], b[None, :, 0] + b[None, :, 2])
    y2 = np.minimum(a[:, None, 1] + a[:, None, 3], b[None, :, 1] + b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = a[:, 2] * a[:, 3]
    area_b = b[:, 2] * b[:, 3]
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-12)


class _Kalman:
    """Constant-velocity filter on (cx, cy, w, h); noise scales with box height (DeepSORT-style)."""

    pos_w, vel_w = 1.0 / 20, 1.0 / 160

    def __init__(self) -> None:
        self.F = np.eye(8)
        self.F[:4, 4:] = np.eye(4)
        self.H = np.eye(4, 8)

    def initiate(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = len(z)
        x = np.concatenate([z, np.zeros((n, 4))], axis=1)
        h = z[:, 3:4]
        std = np.concatenate(
            [2 * self.pos_w * h * np.ones((n, 4)), 10 * self.vel_w * h * np.ones((n, 4))], 1
        )
        P = np.einsum("ni,ij->nij", std**2, np.eye(8))
        return x, P

    def predict(self, x: np.ndarray, P: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        h = x[:, 3:4]
        std = np.concatenate(
            [self.pos_w * h * np.ones((1, 4)), self.vel_w * h * np.ones((1, 4))], 1
        )
        Q = np.einsum("ni,ij->nij", std**2, np.eye(8))
        x = x @ self.F.T
        P = self.F @ P @ self.F.T + Q
        return x, P

    def project(self, x: np.ndarray, P: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        h = x[:, 3:4]
        R = np.einsum("ni,ij->nij", (self.pos_w * h * np.ones((1, 4))) ** 2, np.eye(4))
        return x[:, :4], P[:, :4, :4] + R

    def update(self, x: np.ndarray, P: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean, S = self.project(x, P)
        PHt = P[:, :, :4]
        K = np.linalg.solve(S, np.transpose(PHt, (0, 2, 1))).transpose(0, 2, 1)
        x = x + np.einsum("nij,nj->ni", K, z - mean)
        P = P - K @ np.transpose(PHt, (0, 2, 1))
        return x, P

    def mahalanobis(self, x: np.ndarray, P: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Squared Mahalanobis distances of detections z (N,4) to tracks, (T, N)."""
        mean, S = self.project(x, P)
        d = z[None, :, :] - mean[:, None, :]
        L = np.linalg.cholesky(S)
        sol = np.linalg.solve(L[:, None, :, :], d[..., None])[..., 0]
        return np.sum(sol**2, axis=-1)


def _to_cxcywh(xywh: np.ndarray) -> np.ndarray:
    out = xywh.copy()
    out[:, :2] += out[:, 2:] / 2
    return out


def _to_xywh(z: np.ndarray) -> np.ndarray:
    out = z[:, :4].copy()
    out[:, 2:] = np.maximum(out[:, 2:], 1e-3)
    out[:, :2] -= out[:, 2:] / 2
    return out


class Tracker:
    """Run with :meth:`run` on a sequence's detections; the config holds the tunable parameters."""

    def __init__(self, config: TrackerConfig | None = None):
        self.config = config or TrackerConfig()

    def _assign(self, cost: np.ndarray) -> list[tuple[int, int]]:
        if cost.size == 0:
            return []
        rows, cols = linear_sum_assignment(cost)
        return [(int(r), int(c)) for r, c in zip(rows, cols) if cost[r, c] < _BIG]

    def run(self, dets: Boxes) -> Boxes:
        """Track ``dets`` (which must carry features); returns the confirmed tracks' boxes."""
        from ennead.core.errors import DataError

        if dets.features is None:
            raise DataError("the tracker needs appearance features for every detection")
        cfg = self.config
        kf = _Kalman()
        dim = dets.features.shape[1]
        keep = dets.conf >= cfg.det_thresh
        dets = dets.subset(keep) if not keep.all() else dets
        x = np.zeros((0, 8))
        P = np.zeros((0, 8, 8))
        feat = np.zeros((0, dim))
        tid = np.zeros(0, dtype=np.int64)
        hits = np.zeros(0, dtype=np.int64)
        since = np.zeros(0, dtype=np.int64)
        confirmed = np.zeros(0, dtype=bool)
        next_id = 1
        assigned = np.full(len(dets), -1, dtype=np.int64)
        ever_confirmed: set[int] = set()
        frames = np.unique(dets.frame)
        starts = np.searchsorted(dets.frame, frames, side="left")
        ends = np.searchsorted(dets.frame, frames, side="right")
        a = cfg.appearance_weight
        for lo, hi in zip(starts.tolist(), ends.tolist()):
            z = _to_cxcywh(dets.xywh[lo:hi])
            f = dets.features[lo:hi].astype(np.float64)
            n_t, n_d = len(x), hi - lo
            matches: list[tuple[int, int]] = []
            if n_t:
                x, P = kf.predict(x, P)
                iou = iou_matrix(_to_xywh(x), dets.xywh[lo:hi])
                app = 1.0 - feat @ f.T
                maha = kf.mahalanobis(x, P, z)
                ok = (app <= cfg.appearance_thresh) & (
                    (iou >= cfg.iou_thresh) | (maha <= cfg.gating)
                )
                cost = np.where(ok, a * app + (1 - a) * (1 - iou), _BIG)
                matches = self._assign(cost)
                if cfg.iou_fallback:
                    mt = {m[0] for m in matches}
                    md = {m[1] for m in matches}
                    rows = [t for t in range(n_t) if t not in mt and since[t] == 0]
                    cols = [d for d in range(n_d) if d not in md]
                    if rows and cols:
                        sub = iou[np.ix_(rows, cols)]
                        c2 = np.where(sub >= cfg.iou_thresh, 1 - sub, _BIG)
                        matches += [(rows[r], cols[c]) for r, c in self._assign(c2)]
                since += 1
            if matches:
                mt = np.array([m[0] for m in matches])
                md = np.array([m[1] for m in matches])
                x[mt], P[mt] = kf.update(x[mt], P[mt], z[md])
                newf = cfg.ema * feat[mt] + (1 - cfg.ema) * f[md]
                feat[mt] = newf / np.linalg.norm(newf, axis=1, keepdims=True)
                hits[mt] = np.where(since[mt] == 1, hits[mt] + 1, 1)
                since[mt] = 0
                confirmed[mt] |= hits[mt] >= cfg.min_hits
                assigned[lo + md] = tid[mt]
                ever_confirmed.update(tid[mt][confirmed[mt]].tolist())
            # death: tentative tracks at their first miss, confirmed ones after max_age misses
            alive = np.where(confirmed, since <= cfg.max_age, since == 0)
            if n_t and not alive.all():
                x, P, feat, tid = x[alive], P[alive], feat[alive], tid[alive]
                hits, since, confirmed = hits[alive], since[alive], confirmed[alive]
            # birth
            used = {m[1] for m in matches}
            new = np.array([d for d in range(n_d) if d not in used], dtype=np.int64)
            if len(new):
                nx, nP = kf.initiate(z[new])
                ids = np.arange(next_id, next_id + len(new))
                next_id += len(new)
                x = np.concatenate([x, nx])
                P = np.concatenate([P, nP])
                feat = np.concatenate([feat, f[new]])
                tid = np.concatenate([tid, ids])
                hits = np.concatenate([hits, np.ones(len(new), dtype=np.int64)])
                since = np.concatenate([since, np.zeros(len(new), dtype=np.int64)])
                born_confirmed = np.full(len(new), cfg.min_hits <= 1)
                confirmed = np.concatenate([confirmed, born_confirmed])
                assigned[lo + new] = ids
                if cfg.min_hits <= 1:
                    ever_confirmed.update(ids.tolist())
        keep = np.isin(
            assigned, np.fromiter(ever_confirmed, dtype=np.int64, count=len(ever_confirmed))
        )
        out = dets.subset(keep)
        out.ids = assigned[keep]
        return out


def track(dets: Boxes, config: TrackerConfig | None = None) -> Boxes:
    """Convenience: ``Tracker(config).run(dets)``."""
    return Tracker(config).run(dets)
