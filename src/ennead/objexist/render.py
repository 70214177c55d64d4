"""A vectorised NumPy ray caster: one ray per (sub)pixel, nearest hit wins, so occlusion is exact.

The camera sits on a circle of radius 1.0 m around the table centre at height 1.082 m (Pepper's
head camera in the paper) and looks at the centre of the table top. View ``k`` is the camera at
azimuth ``k * 30`` degrees; the start view is ``k = 0`` at (1, 0).

A batch of N scenes is rendered in one call. Each scene is a padded array of primitives (kind,
centre, yaw, half sizes, colour, object type). Ray directions depend only on the view and are
cached. Every (sub)pixel gets an id (object type 0-20, table, floor or background), a depth and a
Lambert-shaded colour; ``supersample`` > 1 renders S x S rays per pixel and averages them, so a
small object far away still tints its pixel and its exact coverage can be counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ennead.objexist.shapes import (
    BOX,
    COLOURS,
    CYLINDER,
    N_OBJECTS,
    SPHERE,
    TABLE_HEIGHT,
    TABLE_RADIUS,
)

TABLE_ID, FLOOR_ID, BACKGROUND_ID = N_OBJECTS, N_OBJECTS + 1, N_OBJECTS + 2
N_IDS = N_OBJECTS + 3
ID_CHANNELS = N_OBJECTS + 1  # the id-map observation: 21 objects + the table; floor/wall = all 0
CAMERA_RADIUS = 1.0
CAMERA_HEIGHT = 1.082
STEP_RAD = np.pi / 6  # 30 degrees per move
_EPS = 1e-6
_LIGHT = np.array([0.4, 0.3, 1.0], dtype=np.float32) / np.linalg.norm([0.4, 0.3, 1.0])
_TABLE_RGB = np.array([0.62, 0.45, 0.30], dtype=np.float32)
_FLOOR_RGB = (np.array([0.42, 0.42, 0.45], np.float32), np.array([0.52, 0.52, 0.55], np.float32))


@dataclass
class Prims:
    """Padded primitives of N scenes: P slots each, ``kind == -1`` marks an empty slot."""

    kind: np.ndarray  # (N, P) int
    centre: np.ndarray  # (N, P, 3) world coordinates
    yaw: np.ndarray  # (N, P)
    size: np.ndarray  # (N, P, 3) half sizes (see shapes.Primitive)
    colour: np.ndarray  # (N, P, 3) in [0, 1]
    obj: np.ndarray  # (N, P) object type index, -1 for empty slots

    def take(self, rows: np.ndarray) -> Prims:
        return Prims(
            self.kind[rows],
            self.centre[rows],
            self.yaw[rows],
            self.size[rows],
            self.colour[rows],
            self.obj[rows],
        )


@dataclass
class Frame:
    """Render output for N views. ``ids_hi`` has the supersampled resolution."""

    rgb: np.ndarray  # (N, H, W, 3) uint8
    depth: np.ndarray  # (N, H, W) float32 metres along the ray, 0 where nothing is hit
    ids: np.ndarray  # (N, H, W) int16: id of the centre sub-pixel
    ids_hi: np.ndarray  # (N, H*S, W*S) int16

    def pixels_of(self, obj_types: np.ndarray) -> np.ndarray:
        """Sub-pixels showing each object: ``obj_types`` (N, K) -> counts (N, K)."""
        flat = self.ids_hi.reshape(len(self.ids_hi), -1)
        out = np.zeros(obj_types.shape, dtype=np.int64)
        for k in range(obj_types.shape[1]):
            t = obj_types[:, k]
            out[:, k] = np.where(t >= 0, (flat == t[:, None]).sum(1), 0)
        return out

    def coverage(self) -> np.ndarray:
        """Per-pixel fraction of each id: (N, N_IDS, H, W) float32 (the ``ids`` observation)."""
        n, hh, ww = self.ids_hi.shape
        h, w = self.ids.shape[1:]
        s = hh // h
        onehot = np.zeros((n, N_IDS, hh, ww), dtype=np.float32)
        np.put_along_axis(onehot, self.ids_hi[:, None].astype(np.int64), 1.0, axis=1)
        return onehot.reshape(n, N_IDS, h, s, w, s).mean((3, 5))

    def idmap(self) -> np.ndarray:
        """The id-map observation: (N, H, W, 22) float32, channel c = share of the pixel's rays
        that hit object c (0-20) or the table (21); floor and wall rays count for no channel.

        With one ray per pixel each pixel is one-hot (or all zero); with S x S rays a pixel holds
        the fractions, so an object covering one sub-pixel still shows. It comes from the same
        ray cast as the RGB image: an occluded object has no rays and is absent.
        """
        n, hh, _ = self.ids_hi.shape
        h, w = self.ids.shape[1:]
        s = hh // h
        # channel per sub-pixel; floor and wall go to a spare column that is dropped
        chan = np.minimum(self.ids_hi, ID_CHANNELS).reshape(n, h, s, w, s)
        out = np.zeros((n * h * w, ID_CHANNELS + 1), np.float32)
        cells = np.arange(n * h * w)
        for a in range(s):
            for b in range(s):
                out[cells, chan[:, :, a, :, b].reshape(-1)] += 1.0 / (s * s)
        return out[:, :ID_CHANNELS].reshape(n, h, w, ID_CHANNELS)


ID_PALETTE = np.concatenate([COLOURS, [_TABLE_RGB]]).astype(np.float32)  # (22, 3)
ID_PALETTE_BACKGROUND = np.array([0.12, 0.12, 0.14], np.float32)


def idmap_picture(idmap: np.ndarray) -> np.ndarray:
    """Draw id-map observations (..., H, W, 22) as uint8 RGB: each channel in its object's flat
    palette colour (the table brown, floor and wall dark), mixed by the pixel's fractions."""
    filled = idmap.sum(-1, keepdims=True)
    rgb = idmap @ ID_PALETTE + (1.0 - filled) * ID_PALETTE_BACKGROUND
    return np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)


def camera_pose(view: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Position, forward, right, up of the camera at view index ``view`` (30-degree units)."""
    a = float(view) * STEP_RAD
    pos = np.array([CAMERA_RADIUS * np.cos(a), CAMERA_RADIUS * np.sin(a), CAMERA_HEIGHT])
    target = np.array([0.0, 0.0, TABLE_HEIGHT])
    fwd = target - pos
    fwd /= np.linalg.norm(fwd)
    right = np.cross(fwd, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, fwd)
    return pos, fwd, right, up


class Renderer:
    """Renders batches of scenes at ``resolution`` pixels with ``supersample``^2 rays each."""

    def __init__(self, resolution: int = 48, fov_deg: float = 56.0, supersample: int = 2):
        if resolution < 8 or supersample < 1 or not 10.0 <= fov_deg <= 120.0:
            raise ValueError(
                f"renderer needs resolution >= 8, supersample >= 1 and 10 <= fov <= 120 degrees; "
                f"got {resolution}, {supersample}, {fov_deg}"
            )
        self.resolution, self.fov_deg, self.supersample = resolution, fov_deg, supersample
        self._rays: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    @property
    def n_rays(self) -> int:
        return (self.resolution * self.supersample) ** 2

    def rays(self, view: int) -> tuple[np.ndarray, np.ndarray]:
        """Origin (3,) and unit directions (R, 3) for a view, cached per view index mod 12."""
        key = int(view) % 12
        if key not in self._rays:
            pos, fwd, right, up = camera_pose(key)
            n = self.resolution * self.supersample
            half = np.tan(np.radians(self.fov_deg) / 2)
            c = (np.arange(n) + 0.5) / n * 2 - 1
            u, v = np.meshgrid(c * half, -c * half)  # rows go down the image
            d = fwd[None] + u.reshape(-1, 1) * right[None] + v.reshape(-1, 1) * up[None]
            d /= np.linalg.norm(d, axis=1, keepdims=True)
            self._rays[key] = (pos.astype(np.float32), d.astype(np.float32))
        return self._rays[key]

    def render(self, prims: Prims, views: np.ndarray, shade: bool = True) -> Frame:
        """Render scene i of ``prims`` from view ``views[i]``.

        ``shade=False`` skips colours and depth (a cheaper id-only pass for visibility tests).
        """
        views = np.asarray(views, dtype=np.int64).reshape(-1)
        n = len(views)
        if prims.kind.shape[0] != n:
            raise ValueError(f"{prims.kind.shape[0]} scenes but {n} views")
        o = np.empty((n, 3), np.float32)
        d = np.empty((n, self.n_rays, 3), np.float32)
        for k in np.unique(views % 12):
            rows = views % 12 == k
            o[rows], d[rows] = self.rays(int(k))
        t_best = np.full(d.shape[:2], np.inf, np.float32)
        slot = np.full(d.shape[:2], -1, np.int16)
        # Table (a 3 cm thick disc) and floor are shared by every scene.
        t = _cylinder_t(
            o - np.array([0, 0, TABLE_HEIGHT - 0.015], np.float32), d, TABLE_RADIUS, 0.015
        )
        _keep(t, t_best, slot, -2)
        with np.errstate(divide="ignore", invalid="ignore"):
            tf = np.where(d[..., 2] < -_EPS, -o[:, None, 2] / d[..., 2], np.inf)
        _keep(tf.astype(np.float32), t_best, slot, -3)
        for p in range(prims.kind.shape[1]):
            tp = np.full(d.shape[:2], np.inf, np.float32)
            for kind, fn in ((BOX, _box_t), (CYLINDER, _cyl_slot_t), (SPHERE, _sphere_t)):
                rows = np.nonzero(prims.kind[:, p] == kind)[0]
                if len(rows):
                    tp[rows] = fn(o[rows], d[rows], prims, rows, p)
            _keep(tp, t_best, slot, p)
        if not shade:
            n, hh = len(views), self.resolution * self.supersample
            ids = np.where(slot == -2, TABLE_ID, np.where(slot == -3, FLOOR_ID, BACKGROUND_ID))
            for p in range(prims.kind.shape[1]):
                ids = np.where(slot == p, prims.obj[:, p : p + 1], ids)
            ids_hi = ids.astype(np.int16).reshape(n, hh, hh)
            s = self.supersample
            empty = np.zeros((n, 0, 0), np.float32)
            return Frame(
                np.zeros((n, 0, 0, 3), np.uint8),
                empty,
                ids_hi[:, s // 2 :: s, s // 2 :: s].copy(),
                ids_hi,
            )
        return self._shade(prims, o, d, t_best, slot)

    def _shade(
        self, prims: Prims, o: np.ndarray, d: np.ndarray, t: np.ndarray, slot: np.ndarray
    ) -> Frame:
        n, r = t.shape
        hit = np.isfinite(t)
        tt = np.where(hit, t, 0.0).astype(np.float32)
        x = o[:, None, :] + d * tt[..., None]
        normal = np.zeros_like(x)
        normal[..., 2] = 1.0  # table top and floor
        rgb = np.empty((n, r, 3), np.float32)
        ids = np.full((n, r), BACKGROUND_ID, np.int16)
        # background: a wall that darkens upwards
        sky = 0.78 - 0.3 * np.clip(d[..., 2:3], 0, 1)
        rgb[:] = sky * np.array([0.85, 0.9, 1.0], np.float32)
        table = slot == -2
        ids[table] = TABLE_ID
        floor = slot == -3
        ids[floor] = FLOOR_ID
        checker = ((np.floor(x[..., 0] / 0.25) + np.floor(x[..., 1] / 0.25)) % 2).astype(bool)
        base = np.where(checker[..., None], _FLOOR_RGB[0], _FLOOR_RGB[1])
        base = np.where(table[..., None], _TABLE_RGB, base)
        for p in range(prims.kind.shape[1]):
            m = slot == p
            if not m.any():
                continue
            rows, cols = np.nonzero(m)
            ids[rows, cols] = prims.obj[rows, p]
            base[rows, cols] = prims.colour[rows, p]
            c = prims.centre[rows, p]
            rel = x[rows, cols] - c
            kind = prims.kind[rows, p]
            size = prims.size[rows, p]
            nrm = np.zeros_like(rel)
            sph = kind == SPHERE
            nrm[sph] = rel[sph]
            cyl = kind == CYLINDER
            top = cyl & (rel[:, 2] > size[:, 2] - 1e-3)
            side = cyl & ~top
            nrm[top] = (0.0, 0.0, 1.0)
            nrm[side, :2] = rel[side, :2]
            box = kind == BOX
            if box.any():
                yaw = prims.yaw[rows[box], p]
                cs, sn = np.cos(yaw), np.sin(yaw)
                lx = cs * rel[box, 0] + sn * rel[box, 1]
                ly = -sn * rel[box, 0] + cs * rel[box, 1]
                loc = np.stack([lx, ly, rel[box, 2]], 1) / size[box]
                axis = np.abs(loc).argmax(1)
                ln = np.zeros_like(loc)
                ln[np.arange(len(ln)), axis] = np.sign(loc[np.arange(len(ln)), axis])
                nrm[box] = np.stack(
                    [cs * ln[:, 0] - sn * ln[:, 1], sn * ln[:, 0] + cs * ln[:, 1], ln[:, 2]], 1
                )
            nrm /= np.maximum(np.linalg.norm(nrm, axis=1, keepdims=True), 1e-9)
            normal[rows, cols] = nrm
        lit = 0.5 + 0.5 * np.clip(normal @ _LIGHT, 0.0, 1.0)
        surf = hit[..., None]
        rgb = np.where(surf, base * lit[..., None], rgb)
        s, res = self.supersample, self.resolution
        hh = res * s
        rgb_img = rgb.reshape(n, res, s, res, s, 3).mean((2, 4))
        depth = tt.reshape(n, res, s, res, s).mean((2, 4))
        ids_hi = ids.reshape(n, hh, hh)
        return Frame(
            rgb=np.clip(rgb_img * 255.0 + 0.5, 0, 255).astype(np.uint8),
            depth=depth.astype(np.float32),
            ids=ids_hi[:, s // 2 :: s, s // 2 :: s].copy(),
            ids_hi=ids_hi,
        )


def _keep(t: np.ndarray, t_best: np.ndarray, slot: np.ndarray, value: int) -> None:
    closer = t < t_best
    t_best[closer] = t[closer]
    slot[closer] = value


def _cylinder_t(
    o: np.ndarray, d: np.ndarray, radius: float | np.ndarray, half_h: float | np.ndarray
) -> np.ndarray:
    """Nearest hit of rays (o relative to the cylinder centre) with an upright capped cylinder."""
    r = np.asarray(radius, np.float32).reshape(-1, 1)
    hz = np.asarray(half_h, np.float32).reshape(-1, 1)
    ox, oy, oz = o[:, 0:1], o[:, 1:2], o[:, 2:3]
    dx, dy, dz = d[..., 0], d[..., 1], d[..., 2]
    a = dx * dx + dy * dy
    b = ox * dx + oy * dy
    c = ox * ox + oy * oy - r * r
    disc = b * b - a * c
    with np.errstate(divide="ignore", invalid="ignore"):
        ts = (-b - np.sqrt(np.maximum(disc, 0))) / a
        z = oz + ts * dz
        side_ok = (disc >= 0) & (ts > _EPS) & (np.abs(z) <= hz)
        tc = np.where(dz < -_EPS, (hz - oz) / dz, np.inf)
        px, py = ox + tc * dx, oy + tc * dy
        cap_ok = (tc > _EPS) & (px * px + py * py <= r * r)
    return np.minimum(np.where(side_ok, ts, np.inf), np.where(cap_ok, tc, np.inf))


def _cyl_slot_t(o: np.ndarray, d: np.ndarray, prims: Prims, rows: np.ndarray, p: int) -> np.ndarray:
    size = prims.size[rows, p]
    return _cylinder_t(o - prims.centre[rows, p], d, size[:, 0], size[:, 2])


def _sphere_t(o: np.ndarray, d: np.ndarray, prims: Prims, rows: np.ndarray, p: int) -> np.ndarray:
    rel = (o - prims.centre[rows, p])[:, None, :]
    r = prims.size[rows, p, 0][:, None]
    b = (rel * d).sum(-1)
    c = (rel * rel).sum(-1) - r * r
    disc = b * b - c
    t = -b - np.sqrt(np.maximum(disc, 0))
    return np.where((disc >= 0) & (t > _EPS), t, np.inf).astype(np.float32)


def _box_t(o: np.ndarray, d: np.ndarray, prims: Prims, rows: np.ndarray, p: int) -> np.ndarray:
    """Slab test in the box's yawed frame."""
    yaw = prims.yaw[rows, p]
    cs, sn = np.cos(yaw)[:, None], np.sin(yaw)[:, None]
    rel = o - prims.centre[rows, p]
    h = prims.size[rows, p]
    olx = cs[:, 0] * rel[:, 0] + sn[:, 0] * rel[:, 1]
    oly = -sn[:, 0] * rel[:, 0] + cs[:, 0] * rel[:, 1]
    dx, dy = d[..., 0], d[..., 1]
    comps = (
        (olx, cs * dx + sn * dy, h[:, 0]),
        (oly, -sn * dx + cs * dy, h[:, 1]),
        (rel[:, 2], d[..., 2], h[:, 2]),
    )
    tnear = tfar = None
    with np.errstate(divide="ignore", invalid="ignore"):
        for oc, dc, hc in comps:
            inv = 1.0 / dc
            t1 = (-hc - oc)[:, None] * inv
            t2 = (hc - oc)[:, None] * inv
            lo, hi = np.minimum(t1, t2), np.maximum(t1, t2)
            tnear = lo if tnear is None else np.maximum(tnear, lo)
            tfar = hi if tfar is None else np.minimum(tfar, hi)
    assert tnear is not None and tfar is not None
    ok = (tnear <= tfar) & (tnear > _EPS)
    return np.where(ok, tnear, np.inf).astype(np.float32)
