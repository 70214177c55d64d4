"""How many pixels an object gets in the RGB view, per size class, at several resolutions and
fields of view (issue 19: what would let the RGB agent see small objects). Render-only, seconds.

The same 512 mixed (L4) scenes (seed 7) are rendered from the start view with one ray per pixel;
counted are the objects the sampler calls visible there (>= 2 of 96x96 rays). A narrower field of
view is a crop around the table: objects get bigger, but too narrow a view cuts some out (0 px).
Run: python examples/objexist/pixel_coverage.py
"""

import numpy as np

from ennead.objexist.config import SimConfig
from ennead.objexist.env import Tabletop
from ennead.objexist.render import Renderer
from ennead.objexist.shapes import CLASS_OF

SETTINGS = [(48, 56), (48, 44), (48, 36), (64, 56), (64, 44), (96, 56)]  # (pixels, fov degrees)

ref = Tabletop(SimConfig(resolution=48, supersample=2, observation="rgb"))
scenes = ref.sampler.sample(512, "mixed", np.random.default_rng(7), "all")
prims, start = scenes.prims(), np.zeros(512, np.int64)
visible = (ref.renderer.render(prims, start, shade=False).pixels_of(scenes.objects) >= 2) & (
    scenes.objects >= 0
)
size = np.where(scenes.objects >= 0, CLASS_OF[np.maximum(scenes.objects, 0)], -1)
print("| pixels | fov | class | median px | >= 2 px | 0 px (cut out or lost) |")
print("|---|---|---|---|---|---|")
for res, fov in SETTINGS:
    px = Renderer(res, fov, 1).render(prims, start, shade=False).pixels_of(scenes.objects)
    for c, name in enumerate(("large", "medium", "small")):
        m = visible & (size == c)
        print(
            f"| {res} | {fov} | {name} | {np.median(px[m]):.0f} | {100 * np.mean(px[m] >= 2):.0f}% "
            f"| {100 * np.mean(px[m] == 0):.0f}% |"
        )
