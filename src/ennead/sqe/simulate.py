"""Seeded sequences: people walking across a street, a noisy detector and noisy identity embeddings.

What is simulated (all from one seed):
- **people**: enter and leave at random times, walk left or right in a shared band with small
  vertical wander, so paths cross (``motion: crowd``: any heading, random turns, bouncing off the
  border); nearer people (lower feet) occlude farther ones;
- **detector**: a visible person is detected with ``p_detect`` (scaled down by occlusion), boxes are
  jittered by ``jitter x height``; clutter objects appear (Poisson per frame) for a few frames;
- **appearance** (the stand-in for a ReID network): each identity has a unit prototype; a share
  of identities get a look-alike twin; prototypes drift by a mean-reverting (Ornstein-Uhlenbeck)
  walk with time constant ``drift_time`` frames (``None``: an unbounded random walk, which lets a
  long track's look wander off until a clean long track looks like two people); optionally
  (``shared_look``) identities share a common "person" look, as post-ReLU ReID embeddings of
  different people do (off by default; SQE is much weaker there, see docs/systems/sqe.md);
  ``appearance: reid`` sets that shared look and the box noise from target cosine similarities
  (``reid_same`` for one person, the ``reid_diff`` range for two) with a per-box quality factor,
  so same-person and different-person similarities overlap as a ReID network's do. Each
  detection's feature is the prototype plus per-identity noise, more noise when occluded, and a
  leak of the occluder's prototype. Clutter gets a random prototype that survives in each of its
  boxes with a random strength (inconsistent features, the paper's false-track signature).

The same detector and appearance model turn boxes-only ground truth (TUD) into a tracking input.
These embeddings are **simulated**: they are keyed to ground-truth ids, not computed from pixels.
"""

from __future__ import annotations

import itertools

import numpy as np

from ennead.sqe.config import SimulatorConfig
from ennead.sqe.mot import Boxes, Sequence


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def simulate_people(cfg: SimulatorConfig, rng: np.random.Generator) -> Boxes:
    """Ground-truth boxes of ``n_people`` walkers over ``n_frames`` frames."""
    T, W, H = cfg.n_frames, cfg.width, cfg.height
    frames, ids, boxes = [], [], []
    for pid in range(1, cfg.n_people + 1):
        start = int(np.clip(rng.uniform(-0.3, 0.7) * T, 0, T - 10))
        length = int(rng.uniform(0.3, 0.9) * T)
        end = min(T, start + max(length, 10))
        h = rng.uniform(0.25, 0.45) * H
        w = 0.4 * h
        direction = rng.choice([-1.0, 1.0])
        speed = rng.uniform(1.5, 4.0) * (W / 1280)
        # people present at the start are already inside the image; others walk in from an edge
        x0 = rng.uniform(0, W - w) if start == 0 else (-0.5 * w if direction > 0 else W - 0.5 * w)
        y0 = rng.uniform(0.1, 0.5) * H
        n = end - start
        if cfg.motion == "crowd":
            xs, ys = _crowd_path(n, w, h, speed, (W, H), rng)
        else:
            vy = np.cumsum(rng.normal(0, 0.3, n))
            vy -= np.linspace(0, vy[-1], n)  # wander, but come back to the band
            xs = x0 + direction * speed * np.arange(n)
            ys = y0 + vy
        t = np.arange(start, end) + 1
        inside = (xs + w > 0) & (xs < W)
        frames.append(t[inside])
        ids.append(np.full(int(inside.sum()), pid))
        boxes.append(np.stack([xs, ys, np.full(n, w), np.full(n, h)], axis=1)[inside])
    frame = np.concatenate(frames)
    return Boxes(frame, np.concatenate(ids), np.concatenate(boxes), np.ones(len(frame)))


def _bounce(z: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Reflect a path at the walls ``lo`` and ``hi``."""
    span = max(hi - lo, 1e-6)
    z = np.mod(z - lo, 2 * span)
    return lo + np.where(z > span, 2 * span - z, z)


def _crowd_path(
    n: int, w: float, h: float, speed: float, size: tuple[int, int], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """'crowd' motion: start anywhere, any heading, slow random turns, bounce off the borders."""
    W, H = size
    heading = rng.uniform(0, 2 * np.pi) + np.cumsum(rng.normal(0, 0.06, n))
    x = rng.uniform(0, W - w) + np.cumsum(speed * np.cos(heading))
    y = rng.uniform(0, H - h) + np.cumsum(0.5 * speed * np.sin(heading))  # depth moves slower
    return _bounce(x, 0, W - w), _bounce(y, 0, max(H - h, 1.0))


def reid_noise(cfg: SimulatorConfig) -> float:
    """'reid' appearance: noise norm for which two boxes of one person have cosine reid_same.

    A box's feature is ``unit(u + sigma e)`` with ``|e|`` about 1 in high dimension, so two
    independent boxes of one prototype ``u`` have cosine about ``1 / (1 + sigma^2)``.
    """
    return float(np.sqrt(1.0 / cfg.reid_same - 1.0))


def _intersection(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise intersection areas of xywh boxes, (len(a), len(b))."""
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 0] + a[:, None, 2], b[None, :, 0] + b[None, :, 2])
    y2 = np.minimum(a[:, None, 1] + a[:, None, 3], b[None, :, 1] + b[None, :, 3])
    return np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)


def visibility(gt: Boxes) -> tuple[np.ndarray, np.ndarray]:
    """Per box: visible share (1 = free) and the row of its main occluder (-1 = none).

    A box is occluded by boxes whose bottom edge is lower in the image (nearer to the camera).
    """
    vis = np.ones(len(gt))
    occluder = np.full(len(gt), -1)
    bounds = np.searchsorted(gt.frame, np.unique(gt.frame), side="left").tolist() + [len(gt)]
    for lo, hi in itertools.pairwise(bounds):
        b = gt.xywh[lo:hi]
        inter = _intersection(b, b)
        np.fill_diagonal(inter, 0)
        bottom = b[:, 1] + b[:, 3]
        inter = inter * (bottom[None, :] > bottom[:, None])
        area = b[:, 2] * b[:, 3]
        vis[lo:hi] = 1 - np.clip(inter.sum(axis=1) / area, 0, 1)
        has = inter.max(axis=1) > 0
        occluder[lo:hi] = np.where(has, lo + inter.argmax(axis=1), -1)
    return vis, occluder


def identity_embeddings(
    n_ids: int, n_frames: int, cfg: SimulatorConfig, rng: np.random.Generator
) -> np.ndarray:
    """(n_ids, n_frames, dim) drifting unit prototypes; some identities have a look-alike twin."""
    base = _unit(rng.normal(size=(n_ids, cfg.dim)))
    lo, hi = cfg.shared_look
    if cfg.appearance == "reid":
        # prototypes share s_a, s_b of a common look -> cosine sqrt(s_a s_b); after box noise
        # that shrinks by reid_same, so the box-level different-person cosine spans reid_diff
        lo, hi = (v / cfg.reid_same for v in cfg.reid_diff)
    if hi > 0:
        # real ReID embeddings of different people are far from orthogonal (post-ReLU pooled
        # features share a common "person" direction): mix in a shared look per identity
        common = _unit(rng.normal(size=cfg.dim))
        s = rng.uniform(lo, hi, size=(n_ids, 1))
        base = _unit(np.sqrt(s) * common + np.sqrt(1 - s) * base)
    n_twins = round(cfg.lookalike * n_ids)
    if n_twins and n_ids > 1:
        copies = rng.choice(n_ids, size=n_twins, replace=False)
        for c in copies:
            src = int(rng.choice([i for i in range(n_ids) if i != c]))
            noise = rng.normal(size=cfg.dim) / np.sqrt(cfg.dim)
            base[c] = _unit(base[src] + cfg.lookalike_noise * noise)
    steps = rng.normal(size=(n_ids, n_frames, cfg.dim)) * (cfg.drift / np.sqrt(cfg.dim))
    if cfg.drift_time is None:
        walk = np.cumsum(steps, axis=1)
    else:
        # mean-reverting (Ornstein-Uhlenbeck) drift: pose and light change a look, but a person
        # does not wander away from their own appearance without bound
        a = float(np.exp(-1.0 / cfg.drift_time))
        walk = np.empty_like(steps)
        walk[:, 0] = steps[:, 0]
        for t in range(1, n_frames):
            walk[:, t] = a * walk[:, t - 1] + steps[:, t]
    return _unit(base[:, None, :] + walk).astype(np.float32)


def simulate_detections(
    gt: Boxes, cfg: SimulatorConfig, rng: np.random.Generator, size: tuple[int, int]
) -> tuple[Boxes, np.ndarray]:
    """Detections with features from ground truth, and each detection's GT id (-1 = false)."""
    W, H = size
    vis, occluder = visibility(gt)
    p = cfg.p_detect * np.clip((vis - 0.1) / 0.4, 0, 1)
    keep = rng.random(len(gt)) < p
    uid, inv = np.unique(gt.ids, return_inverse=True)
    n_frames = int(gt.frame.max()) + 1
    protos = identity_embeddings(len(uid), n_frames, cfg, rng)
    sigma = cfg.noise * rng.uniform(0.7, 1.3, size=len(uid))

    idx = np.nonzero(keep)[0]
    t = gt.frame[idx]
    h = gt.xywh[idx, 3]
    xywh = gt.xywh[idx].copy()
    xywh[:, :2] += rng.normal(0, 1, (len(idx), 2)) * cfg.jitter * h[:, None]
    xywh[:, 2:] *= np.exp(rng.normal(0, cfg.jitter, (len(idx), 2)))
    occ_v = 1 - vis[idx]
    feat = protos[inv[idx], t].astype(np.float64)
    occ = occluder[idx]
    has_occ = occ >= 0
    feat[has_occ] += (cfg.occlusion_mix * occ_v[has_occ])[:, None] * protos[
        inv[occ[has_occ]], t[has_occ]
    ]
    noise = rng.normal(size=feat.shape) / np.sqrt(cfg.dim)
    if cfg.appearance == "reid":
        # per-box quality (blur, crop, pose) with a heavy upper tail, not per identity
        q = cfg.reid_quality  # mean-preserving: E[exp(2x - 2q^2)] = 1 keeps E[sigma^2]
        box_sigma = reid_noise(cfg) * np.exp(rng.normal(0, q, len(idx)) - q * q)
    else:
        box_sigma = sigma[inv[idx]]
    feat += (box_sigma * (1 + 2 * occ_v))[:, None] * noise
    conf = np.clip(rng.normal(0.8, 0.1, len(idx)) * (0.5 + 0.5 * vis[idx]), 0.05, 1.0)
    true_ids = gt.ids[idx]

    # clutter: short-lived false objects with their own (noisy) look
    fr, fb, ff = [], [], []
    births = rng.poisson(cfg.false_per_frame, size=n_frames - 1)
    for f0, k in enumerate(births, start=1):
        for _ in range(int(k)):
            life = int(min(rng.geometric(0.35), n_frames - f0))
            hh = rng.uniform(0.15, 0.45) * H
            x, y = rng.uniform(0, W - 0.4 * hh), rng.uniform(0.1 * H, H - hh)
            proto = _unit(rng.normal(size=cfg.dim))
            for j in range(life):
                fr.append(f0 + j)
                fb.append([x + rng.normal(0, 3), y + rng.normal(0, 3), 0.4 * hh, hh])
                # background patches look inconsistent: how much of the clutter's own look
                # survives varies from box to box
                ff.append(
                    rng.uniform(0.0, 1.5) * proto + rng.normal(size=cfg.dim) / np.sqrt(cfg.dim)
                )
    n_false = len(fr)
    if n_false:
        t = np.concatenate([t, np.asarray(fr)])
        xywh = np.concatenate([xywh, np.asarray(fb)])
        feat = np.concatenate([feat, np.asarray(ff)])
        conf = np.concatenate([conf, rng.uniform(0.1, 0.6, n_false)])
        true_ids = np.concatenate([true_ids, np.full(n_false, -1)])
    order = np.argsort(t, kind="stable")
    dets = Boxes(
        t[order],
        np.full(len(t), -1),
        xywh[order],
        conf[order],
        _unit(feat[order]).astype(np.float32),
    )
    return dets, true_ids[order]


def simulate_sequence(
    seed: int, cfg: SimulatorConfig | None = None, name: str | None = None
) -> Sequence:
    """A full sequence: ground truth plus detections with simulated features."""
    cfg = cfg or SimulatorConfig()
    rng = np.random.default_rng(seed)
    gt = simulate_people(cfg, rng)
    dets, true_ids = simulate_detections(gt, cfg, rng, (cfg.width, cfg.height))
    return Sequence(
        name=name or f"sim-{seed}",
        detections=dets,
        gt=gt,
        fps=cfg.fps,
        size=(cfg.width, cfg.height),
        info={"source": "simulated", "seed": seed, "det_gt_ids": true_ids},
    )


def tud_sequence(name: str, seed: int = 0, cfg: SimulatorConfig | None = None) -> Sequence:
    """TUD-Campus / TUD-Stadtmitte ground truth with simulated detections and embeddings."""
    from ennead.sqe.mot import tud_gt

    cfg = cfg or SimulatorConfig()
    gt = tud_gt(name)
    rng = np.random.default_rng(seed)
    size = (640, 480)
    dets, true_ids = simulate_detections(gt, cfg, rng, size)
    return Sequence(
        name=f"TUD-{name.capitalize()}",
        detections=dets,
        gt=gt,
        fps=25.0,
        size=size,
        info={
            "source": "motmetrics TUD gt + simulated detector and embeddings",
            "seed": seed,
            "det_gt_ids": true_ids,
        },
    )
