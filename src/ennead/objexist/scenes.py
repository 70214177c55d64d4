"""Scene generation: the paper's composition rules, placement by rejection with pixel-exact tests.

Levels (the curriculum stages of the paper):

* ``one_object``   (L1): one object; "yes" scenes hold the queried object.
* ``two_visible``  (L2): two objects, both visible from the start view.
* ``two_occluded`` (L3): two objects of different size classes; the smaller one is completely
  hidden behind the larger one from the start view, and visible from at least one view of
  the left sweep (the views the exhaustive baseline visits), so exhaustive search can find it.
* ``mixed``        (L4): one object with probability 1/3, else two, occluded with probability 1/2.

The query is uniform over the 21 names and the label is yes/no with probability 1/2. Unlike the
original, which tests occlusion with a cylinder approximation, visibility here is counted in the
rendered id map: hidden means zero sub-pixels, visible means at least ``min_pixels``.

Held-out pairs: ``holdout_per_type`` cross-class pairs of each type (L-M, L-S, M-S) drawn with
``holdout_seed``; two-object scenes with ``pairs="train"`` never contain them, ``pairs="holdout"``
contains only them.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from ennead.core.errors import ConfigError, UnknownNameError
from ennead.objexist.render import Frame, Prims, Renderer
from ennead.objexist.shapes import (
    CATALOGUE,
    CLASS_OF,
    COLOURS,
    MAX_PARTS,
    N_OBJECTS,
    PLACEMENT_RADIUS,
    RADIUS_OF,
    TABLE_HEIGHT,
    object_index,
)

LEVELS = ("one_object", "two_visible", "two_occluded", "mixed")
PairMode = Literal["train", "holdout", "all"]
PAIR_MODES = ("train", "holdout", "all")
DISCOVERY_VIEWS = (-6, -3, -2, -4, -1, -5)  # the left sweep the exhaustive baseline makes
_GAP = 0.01  # clearance between footprints (m)

# Per-type part tables for vectorised assembly of primitives.
_PK = np.full((N_OBJECTS, MAX_PARTS), -1, np.int64)
_PS = np.zeros((N_OBJECTS, MAX_PARTS, 3))
_PO = np.zeros((N_OBJECTS, MAX_PARTS, 3))
_PC = np.zeros((N_OBJECTS, MAX_PARTS, 3))
for _o in CATALOGUE:
    for _j, _p in enumerate(_o.parts):
        _PK[_o.index, _j] = _p.kind
        _PS[_o.index, _j] = _p.size
        _PO[_o.index, _j] = _p.offset
        _PC[_o.index, _j] = COLOURS[_o.index] * _p.shade


def level_index(level: str) -> int:
    if level not in LEVELS:
        raise UnknownNameError("level", level, LEVELS)
    return LEVELS.index(level)


@dataclass
class Scenes:
    """A batch of N scenes with up to K objects each (``objects == -1`` pads)."""

    query: np.ndarray  # (N,) object type
    label: np.ndarray  # (N,) bool: the query is on the table
    objects: np.ndarray  # (N, K) object types
    pos: np.ndarray  # (N, K, 2) xy of footprint centres
    yaw: np.ndarray  # (N, K)
    occluded: np.ndarray  # (N,) bool: an object is fully hidden from the start view
    level: np.ndarray  # (N,) index into LEVELS (-1 for custom scenes)
    start_pixels: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.int64))

    def __len__(self) -> int:
        return len(self.query)

    @property
    def n_objects(self) -> np.ndarray:
        return (self.objects >= 0).sum(1)

    @property
    def query_hidden(self) -> np.ndarray:
        """The query is on the table but hidden from the start view."""
        hit = self.objects == self.query[:, None]
        return self.label & (hit & (self.start_pixels == 0)).any(1)

    def take(self, rows: np.ndarray) -> Scenes:
        return Scenes(
            self.query[rows],
            self.label[rows],
            self.objects[rows],
            self.pos[rows],
            self.yaw[rows],
            self.occluded[rows],
            self.level[rows],
            self.start_pixels[rows],
        )

    @staticmethod
    def concat(parts: list[Scenes]) -> Scenes:
        k = max(p.objects.shape[1] for p in parts)

        def pad(a: np.ndarray, fill: float) -> np.ndarray:
            if a.shape[1] == k:
                return a
            w = [(0, 0), (0, k - a.shape[1])] + [(0, 0)] * (a.ndim - 2)
            return np.pad(a, w, constant_values=fill)

        return Scenes(
            np.concatenate([p.query for p in parts]),
            np.concatenate([p.label for p in parts]),
            np.concatenate([pad(p.objects, -1) for p in parts]),
            np.concatenate([pad(p.pos, 0.0) for p in parts]),
            np.concatenate([pad(p.yaw, 0.0) for p in parts]),
            np.concatenate([p.occluded for p in parts]),
            np.concatenate([p.level for p in parts]),
            np.concatenate([pad(p.start_pixels, 0) for p in parts]),
        )

    def prims(self) -> Prims:
        """Assemble the padded primitive arrays the renderer needs."""
        n, k = self.objects.shape
        obj = np.where(self.objects >= 0, self.objects, 0)
        valid = self.objects >= 0
        kind = np.where(valid[..., None], _PK[obj], -1)  # (N, K, M)
        off = _PO[obj]
        cs, sn = np.cos(self.yaw)[..., None], np.sin(self.yaw)[..., None]
        cx = self.pos[..., 0:1] + cs * off[..., 0] - sn * off[..., 1]
        cy = self.pos[..., 1:2] + sn * off[..., 0] + cs * off[..., 1]
        cz = TABLE_HEIGHT + off[..., 2]
        centre = np.stack([cx, cy, cz], -1)
        yaw = np.broadcast_to(self.yaw[..., None], kind.shape)
        ids = np.where(kind >= 0, np.broadcast_to(obj[..., None], kind.shape), -1)
        p = k * MAX_PARTS
        return Prims(
            kind=kind.reshape(n, p),
            centre=centre.reshape(n, p, 3).astype(np.float32),
            yaw=yaw.reshape(n, p).astype(np.float32),
            size=_PS[obj].reshape(n, p, 3).astype(np.float32),
            colour=_PC[obj].reshape(n, p, 3).astype(np.float32),
            obj=ids.reshape(n, p),
        )

    def to_records(self) -> list[dict[str, object]]:
        from ennead.objexist.shapes import OBJECT_NAMES

        out = []
        for i in range(len(self)):
            objs = [int(o) for o in self.objects[i] if o >= 0]
            out.append(
                {
                    "query": OBJECT_NAMES[int(self.query[i])],
                    "label": bool(self.label[i]),
                    "objects": [OBJECT_NAMES[o] for o in objs],
                    "pos": self.pos[i, : len(objs)].round(4).tolist(),
                    "yaw": self.yaw[i, : len(objs)].round(4).tolist(),
                    "occluded": bool(self.occluded[i]),
                    "level": LEVELS[int(self.level[i])] if self.level[i] >= 0 else "custom",
                }
            )
        return out


def holdout_pairs(seed: int = 234, per_type: int = 14) -> set[tuple[int, int]]:
    """``per_type`` held-out cross-class pairs of each type (L-M, L-S, M-S), as sorted tuples."""
    if not 0 <= per_type <= 49:
        raise ConfigError(
            f"holdout_per_type must be in 0..49 (7 x 7 pairs per type); got {per_type}"
        )
    rng = np.random.default_rng(seed)
    out: set[tuple[int, int]] = set()
    for a, b in ((0, 1), (0, 2), (1, 2)):
        pairs = [
            tuple(sorted(p))
            for p in itertools.product(
                np.nonzero(a == CLASS_OF)[0].tolist(), np.nonzero(b == CLASS_OF)[0].tolist()
            )
        ]
        for j in rng.choice(len(pairs), size=per_type, replace=False):
            out.add(pairs[int(j)])  # type: ignore[arg-type]
    return out


class SceneSampler:
    """Draws scenes for a level; placement is verified by rendering id maps."""

    def __init__(
        self,
        renderer: Renderer,
        *,
        min_pixels: int = 4,
        holdout_seed: int = 234,
        holdout_per_type: int = 14,
        max_rounds: int = 200,
    ):
        self.renderer = renderer
        self.min_pixels = min_pixels
        self.holdout = holdout_pairs(holdout_seed, holdout_per_type)
        self.max_rounds = max_rounds

    # -- composition -------------------------------------------------------------------------
    def _pair_ok(self, a: int, b: int, pairs: PairMode) -> bool:
        if pairs == "all":
            return True
        held = (min(a, b), max(a, b)) in self.holdout
        return held if pairs == "holdout" else not held

    def _compose(
        self, level: int, rng: np.random.Generator, pairs: PairMode
    ) -> tuple[int, bool, list[int], bool]:
        """(query, label, objects with the bigger first, occluded) for one scene."""
        for _ in range(10_000):
            q = int(rng.integers(N_OBJECTS))
            label = bool(rng.random() < 0.5)
            lv = level
            if lv == 3:  # mixed: 1/3 one object, else two, occluded half the time
                lv = 0 if rng.random() < 1 / 3 else (2 if rng.random() < 0.5 else 1)
            if lv == 0:
                if label:
                    return q, True, [q], False
                other = int(rng.integers(N_OBJECTS - 1))
                return q, False, [other + (other >= q)], False
            occ = lv == 2
            if label:
                a = q
                b = int(rng.integers(N_OBJECTS))
            else:
                a, b = (int(x) for x in rng.choice(N_OBJECTS, size=2, replace=False))
            if b == a or (not label and q in (a, b)):
                continue
            if occ and CLASS_OF[a] == CLASS_OF[b]:
                continue
            if not self._pair_ok(a, b, pairs):
                continue
            objs = sorted([a, b], key=lambda o: CLASS_OF[o])  # larger class (lower index) first
            return q, label, objs, occ
        raise ConfigError(f"cannot compose a {LEVELS[level]} scene with pairs={pairs!r}")

    # -- sampling ----------------------------------------------------------------------------
    def sample(
        self, n: int, level: str, rng: np.random.Generator, pairs: PairMode = "train"
    ) -> Scenes:
        """``n`` scenes of ``level``; ``pairs`` selects training, held-out or all object pairs."""
        lv = level_index(level)
        if pairs not in PAIR_MODES:
            raise UnknownNameError("pair mode", str(pairs), PAIR_MODES)
        if n < 1:
            raise ConfigError(f"number of scenes must be >= 1; got {n}")
        comp = [self._compose(lv, rng, pairs) for _ in range(n)]
        objects = np.full((n, 2), -1, np.int64)
        for i, (_, _, objs, _) in enumerate(comp):
            objects[i, : len(objs)] = objs
        scenes = Scenes(
            query=np.array([c[0] for c in comp], np.int64),
            label=np.array([c[1] for c in comp], bool),
            objects=objects,
            pos=np.zeros((n, 2, 2)),
            yaw=np.zeros((n, 2)),
            occluded=np.array([c[3] for c in comp], bool),
            level=np.full(n, lv, np.int64),
            start_pixels=np.zeros((n, 2), np.int64),
        )
        self.place(scenes, rng)
        return scenes

    def custom(
        self,
        objects: list[str | int],
        query: str | int,
        rng: np.random.Generator,
        occluded: bool | None = None,
    ) -> Scenes:
        """One scene with the given objects. ``occluded`` True hides the smaller of two objects
        from the start view, False keeps all visible, None does not care."""
        objs = [object_index(o) for o in objects]
        q = object_index(query)
        if not objs:
            raise ConfigError("a scene needs at least one object")
        if len(set(objs)) != len(objs):
            raise ConfigError(f"each object may appear once; got {list(objects)}")
        area = float(np.sum(np.pi * (RADIUS_OF[objs] + _GAP) ** 2))
        if len(objs) > 6 or area > 0.6 * np.pi * (PLACEMENT_RADIUS + 0.08) ** 2:
            raise ConfigError(
                f"{len(objs)} objects ({', '.join(map(str, objects))}) do not fit on the table "
                "(at most 6, covering at most 60% of it)"
            )
        if occluded and (len(objs) != 2 or CLASS_OF[objs[0]] == CLASS_OF[objs[1]]):
            raise ConfigError(
                "an occluded scene needs exactly two objects of different size classes "
                f"(the larger hides the smaller); got {list(objects)}"
            )
        objs = sorted(objs, key=lambda o: CLASS_OF[o])
        k = len(objs)
        scenes = Scenes(
            query=np.array([q]),
            label=np.array([q in objs]),
            objects=np.array([objs]),
            pos=np.zeros((1, k, 2)),
            yaw=np.zeros((1, k)),
            occluded=np.array([bool(occluded)]),
            level=np.array([-1]),
            start_pixels=np.zeros((1, k), np.int64),
        )
        self.place(scenes, rng, any_visibility=occluded is None)
        return scenes

    def place(self, scenes: Scenes, rng: np.random.Generator, any_visibility: bool = False) -> None:
        """Draw positions and yaws in place until every scene passes its tests."""
        pending = np.arange(len(scenes))
        for _ in range(self.max_rounds):
            if len(pending) == 0:
                return
            self._propose(scenes, pending, rng)
            sub = scenes.take(pending)
            ok = _no_collision(sub)
            frame = self.renderer.render(sub.prims(), np.zeros(len(pending), np.int64), shade=False)
            px = frame.pixels_of(sub.objects)
            valid = sub.objects >= 0
            visible = ((px >= self.min_pixels) | ~valid).all(1)
            hidden_small = valid[:, 1] & (px[:, 1] == 0) & (px[:, 0] >= self.min_pixels)
            if not any_visibility:
                ok &= np.where(sub.occluded, hidden_small, visible)
            scenes.start_pixels[pending] = px
            if any_visibility:
                scenes.occluded[pending] = (valid & (px == 0)).any(1)
            occ_rows = np.nonzero(ok & sub.occluded)[0]
            if len(occ_rows):
                found = self._discoverable(sub.take(occ_rows))
                ok[occ_rows[~found]] = False
            pending = pending[~ok]
        if len(pending):
            raise ConfigError(
                f"could not place {len(pending)} scene(s) after {self.max_rounds} rounds "
                f"(for example {scenes.take(pending[:1]).to_records()[0]['objects']}); the objects "
                "may not fit or the requested occlusion may be impossible"
            )

    def _discoverable(self, sub: Scenes) -> np.ndarray:
        """The hidden (second) object shows in at least one other view."""
        found = np.zeros(len(sub), bool)
        prims = sub.prims()
        for v in DISCOVERY_VIEWS:
            rows = np.nonzero(~found)[0]
            if len(rows) == 0:
                break
            frame = self.renderer.render(prims.take(rows), np.full(len(rows), v), shade=False)
            px = frame.pixels_of(sub.objects[rows, 1:2])[:, 0]
            found[rows[px >= self.min_pixels]] = True
        return found

    def _propose(self, scenes: Scenes, rows: np.ndarray, rng: np.random.Generator) -> None:
        k = scenes.objects.shape[1]
        m = len(rows)
        pos = _disc(rng, (m, k))
        yaw = rng.uniform(-np.pi, np.pi, (m, k))
        occ = scenes.occluded[rows]
        if occ.any():
            # Propose the hidden object inside the shadow of the big one as seen from the start
            # view; the render test decides.
            r = np.nonzero(occ)[0]
            big = scenes.objects[rows[r], 0]
            small = scenes.objects[rows[r], 1]
            cam = np.array([1.0, 0.0])
            to_big = pos[r, 0] - cam
            dist = np.linalg.norm(to_big, axis=1, keepdims=True)
            u = to_big / dist
            perp = np.stack([-u[:, 1], u[:, 0]], 1)
            gap = RADIUS_OF[big] + RADIUS_OF[small] + _GAP
            behind = gap + rng.uniform(0.0, 0.12, len(r))
            side = rng.uniform(-0.5, 0.5, len(r)) * RADIUS_OF[big]
            pos[r, 1] = pos[r, 0] + u * behind[:, None] + perp * side[:, None]
            flat = np.array([CATALOGUE[b].flat_face for b in big])
            if flat.any():
                # A slab hides something only when its face turns to the camera (as the paper
                # limits the laptop's yaw).
                face = np.arctan2(-u[flat, 1], -u[flat, 0])
                yaw[r[flat], 0] = face - np.pi / 2 + rng.uniform(-np.pi / 4, np.pi / 4, flat.sum())
                # the laptop's keyboard lies on its -y side; keep it towards the camera
        scenes.pos[rows] = pos
        scenes.yaw[rows] = yaw


def _disc(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    r = PLACEMENT_RADIUS * np.sqrt(rng.random(shape))
    a = rng.uniform(-np.pi, np.pi, shape)
    return np.stack([r * np.cos(a), r * np.sin(a)], -1)


def _no_collision(sub: Scenes) -> np.ndarray:
    """Footprint circles apart and every centre inside the placement disc."""
    valid = sub.objects >= 0
    inside = (np.linalg.norm(sub.pos, axis=-1) <= PLACEMENT_RADIUS) | ~valid
    ok = inside.all(1)
    k = sub.objects.shape[1]
    rad = np.where(valid, RADIUS_OF[np.where(valid, sub.objects, 0)], 0.0)
    for i in range(k):
        for j in range(i + 1, k):
            d = np.linalg.norm(sub.pos[:, i] - sub.pos[:, j], axis=1)
            both = valid[:, i] & valid[:, j]
            ok &= ~both | (d >= rad[:, i] + rad[:, j] + _GAP)
    return ok


def render_views(renderer: Renderer, scenes: Scenes, views: np.ndarray) -> Frame:
    return renderer.render(scenes.prims(), views)
