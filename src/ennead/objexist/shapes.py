"""The object catalogue: 21 tabletop objects in three size classes, built from primitives.

Names and classes follow the paper (Li et al., IROS 2021). Each object is one to three
primitives (an upright cylinder, a yawed box or a sphere) with its own colour. Sizes follow the
YCB models loosely; what matters is that every large object can hide every medium and small one,
and every medium object can hide every small one (``tests/objexist`` checks this).
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import numpy as np

from ennead.core.errors import UnknownNameError

BOX, CYLINDER, SPHERE = 0, 1, 2
SIZE_CLASSES = ("large", "medium", "small")

TABLE_HEIGHT = 0.72  # top of the table (m)
TABLE_RADIUS = 0.5
PLACEMENT_RADIUS = 0.42  # object centres are drawn in this disc (0.5 - 0.08, as in the paper)


@dataclass(frozen=True)
class Primitive:
    """One solid. ``offset`` is its centre relative to the object's footprint centre on the
    table (x, y in the object's yawed frame, z above the table top). ``size`` is
    (half-x, half-y, half-z) for a box, (radius, -, half-height) for a cylinder, (radius, -, -)
    for a sphere. ``shade`` scales the object colour (two-tone objects)."""

    kind: int
    size: tuple[float, float, float]
    offset: tuple[float, float, float]
    shade: float = 1.0


@dataclass(frozen=True)
class ObjectType:
    name: str
    size_class: str
    parts: tuple[Primitive, ...]
    flat_face: bool = False  # a slab (laptop screen) hides things only when it faces the camera

    @property
    def index(self) -> int:
        return OBJECT_NAMES.index(self.name)

    @property
    def class_index(self) -> int:
        return SIZE_CLASSES.index(self.size_class)

    @property
    def radius(self) -> float:
        """Footprint radius: the largest horizontal reach of any part from the centre."""
        r = 0.0
        for p in self.parts:
            ox, oy, _ = p.offset
            if p.kind == BOX:
                reach = float(np.hypot(abs(ox) + p.size[0], abs(oy) + p.size[1]))
            else:
                reach = float(np.hypot(ox, oy)) + p.size[0]
            r = max(r, reach)
        return r

    @property
    def height(self) -> float:
        top = 0.0
        for p in self.parts:
            half = p.size[0] if p.kind == SPHERE else p.size[2]
            top = max(top, p.offset[2] + half)
        return top


def _box(
    w: float, d: float, h: float, x: float = 0, y: float = 0, z0: float = 0, shade: float = 1.0
) -> Primitive:
    """A box of full size w x d x h standing on height z0."""
    return Primitive(BOX, (w / 2, d / 2, h / 2), (x, y, z0 + h / 2), shade)


def _cyl(
    r: float, h: float, x: float = 0, y: float = 0, z0: float = 0, shade: float = 1.0
) -> Primitive:
    return Primitive(CYLINDER, (r, r, h / 2), (x, y, z0 + h / 2), shade)


def _sph(r: float, x: float = 0, y: float = 0, z0: float = 0, shade: float = 1.0) -> Primitive:
    return Primitive(SPHERE, (r, r, r), (x, y, z0 + r), shade)


# fmt: off
CATALOGUE: tuple[ObjectType, ...] = (
    # large: 0.10-0.30 m wide, 0.20-0.32 m tall
    ObjectType("box", "large", (_box(0.16, 0.07, 0.24),)),
    ObjectType("cleanser", "large", (_box(0.10, 0.07, 0.22),
                                     _cyl(0.015, 0.05, 0.02, 0, 0.22, 0.6))),
    ObjectType("laptop", "large", (_box(0.30, 0.02, 0.22, 0, 0.0, 0.0),
                                   _box(0.30, 0.20, 0.02, 0, -0.10, 0.0, 0.7)), flat_face=True),
    ObjectType("pitcher", "large", (_cyl(0.065, 0.22),
                                    _box(0.02, 0.03, 0.12, 0.075, 0, 0.05, 0.7))),
    ObjectType("plant", "large", (_cyl(0.055, 0.10, shade=0.55), _sph(0.09, 0, 0, 0.09))),
    ObjectType("wine", "large", (_cyl(0.05, 0.20), _cyl(0.016, 0.09, 0, 0, 0.20, 0.8))),
    ObjectType("stuffed_animal", "large", (_sph(0.085), _sph(0.06, 0, 0, 0.15, 0.85))),
    # medium: 0.05-0.08 m wide, up to 0.11 m tall
    ObjectType("apple", "medium", (_sph(0.036),)),
    ObjectType("baseball", "medium", (_sph(0.037),)),
    ObjectType("foam_brick", "medium", (_box(0.075, 0.05, 0.05),)),
    ObjectType("mug", "medium", (_cyl(0.038, 0.085), _box(0.015, 0.02, 0.05, 0.045, 0, 0.02, 0.7))),
    ObjectType("rubiks_cube", "medium", (_box(0.057, 0.057, 0.057),)),
    ObjectType("meat_can", "medium", (_box(0.08, 0.05, 0.075),)),
    ObjectType("master_chef_can", "medium", (_cyl(0.04, 0.11),)),
    # small: 0.03-0.06 m wide, at most 0.03 m tall
    ObjectType("bolt", "small", (_box(0.055, 0.016, 0.016), _box(0.012, 0.026, 0.026, -0.025))),
    ObjectType("dice", "small", (_box(0.03, 0.03, 0.03),)),
    ObjectType("key", "small", (_box(0.055, 0.03, 0.01),)),
    ObjectType("marble", "small", (_sph(0.016),)),
    ObjectType("card", "small", (_box(0.07, 0.05, 0.008),)),
    ObjectType("battery", "small", (_box(0.044, 0.016, 0.016), _box(0.008, 0.01, 0.01, 0.026))),
    ObjectType("button_battery", "small", (_cyl(0.02, 0.012),)),
)
# fmt: on

OBJECT_NAMES: tuple[str, ...] = tuple(o.name for o in CATALOGUE)
N_OBJECTS = len(OBJECT_NAMES)
_BY_NAME = {o.name: o for o in CATALOGUE}
CLASS_OF = np.array([o.class_index for o in CATALOGUE], dtype=np.int64)
RADIUS_OF = np.array([o.radius for o in CATALOGUE])
HEIGHT_OF = np.array([o.height for o in CATALOGUE])
MAX_PARTS = max(len(o.parts) for o in CATALOGUE)


def _palette() -> np.ndarray:
    """21 colours: seven hues per class, offset between classes, so neighbours differ."""
    cols = np.zeros((N_OBJECTS, 3))
    sat_val = {"large": (0.75, 0.85), "medium": (0.9, 0.95), "small": (0.55, 1.0)}
    for i, obj in enumerate(CATALOGUE):
        k = i % 7
        hue = (k / 7.0 + obj.class_index / 21.0) % 1.0
        s, v = sat_val[obj.size_class]
        cols[i] = colorsys.hsv_to_rgb(hue, s, v)
    return cols


COLOURS = _palette()


def get_object(name: str) -> ObjectType:
    """The catalogue entry for ``name``; unknown names raise with suggestions."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnknownNameError("object", str(name), OBJECT_NAMES) from None


def object_index(name: str | int) -> int:
    if isinstance(name, (int, np.integer)):
        if not 0 <= int(name) < N_OBJECTS:
            raise UnknownNameError("object index", str(name), [str(i) for i in range(N_OBJECTS)])
        return int(name)
    return get_object(name).index


def objects_in_class(size_class: str) -> list[int]:
    if size_class not in SIZE_CLASSES:
        raise UnknownNameError("size class", size_class, SIZE_CLASSES)
    return [o.index for o in CATALOGUE if o.size_class == size_class]
