"""Golden cases of the ray caster: exact occlusion, ids, depth order, batch consistency."""

import numpy as np
import pytest

from ennead.objexist.render import BACKGROUND_ID, FLOOR_ID, TABLE_ID, Renderer, camera_pose
from ennead.objexist.scenes import Scenes
from ennead.objexist.shapes import CATALOGUE, object_index

from .conftest import make_scene


def _pixels(sim, scene, view):
    frame = sim.render(scene, np.array([view]))
    return frame, frame.pixels_of(scene.objects)[0]


def test_camera_faces_table_centre():
    pos, fwd, right, up = camera_pose(0)
    assert np.allclose(pos, [1.0, 0.0, 1.082])
    assert np.degrees(np.arcsin(-fwd[2])) == pytest.approx(19.9, abs=0.1)  # pitch ~20 degrees
    pos3, *_ = camera_pose(3)
    assert np.allclose(pos3[:2], [0.0, 1.0], atol=1e-9)  # +90 degrees after three right moves
    assert np.allclose(np.cross(up, right), fwd, atol=1e-9)  # a right-handed camera frame


def test_box_hides_marble_from_start_view_only(sim):
    # a box broadside to the camera at the centre, a marble 15 cm behind it (away from the camera)
    scene = make_scene(["box", "marble"], [[0.0, 0.0], [-0.15, 0.0]], [np.pi / 2, 0.0])
    _, px0 = _pixels(sim, scene, 0)
    assert px0[0] > 60 and px0[1] == 0  # marble fully hidden at the start
    _, px6 = _pixels(sim, scene, 6)  # camera on the other side: marble in front
    assert px6[1] >= 2
    _, px_left = _pixels(sim, scene, -3)  # side view: both visible
    assert px_left[0] > 0 and px_left[1] > 0


def test_marble_alone_is_visible_and_in_front_of_table(sim):
    scene = make_scene(["marble"], [[-0.15, 0.0]])
    frame, px = _pixels(sim, scene, 0)
    assert px[0] >= 2  # the visibility threshold (min_pixels) of the tiny camera
    ids = frame.ids_hi[0]
    rows, cols = np.nonzero(ids == object_index("marble"))
    # the marble sits in the image centre column, between table pixels
    assert abs(cols.mean() - 23.5) < 2.5
    assert (ids == TABLE_ID).sum() > 300 and (ids[0] == BACKGROUND_ID).all()
    assert (ids == FLOOR_ID).sum() > 0
    # depth: the marble is nearer than the table just behind it
    r, c = rows[0], cols[0]
    assert frame.depth[0, r, c] < frame.depth[0, r - 1, c] or ids[r - 1, c] == object_index(
        "marble"
    )


def test_small_does_not_hide_large(sim):
    scene = make_scene(["pitcher", "dice"], [[-0.2, 0.0], [0.1, 0.0]])
    _, px = _pixels(sim, scene, 0)
    assert px[0] > 25 and px[1] > 0


def test_every_large_hides_every_medium_and_small(sim):
    """Size classes are meaningful: each larger object can fully hide each smaller one."""
    from ennead.objexist.shapes import CLASS_OF

    for big in CATALOGUE:
        for small in CATALOGUE:
            if CLASS_OF[big.index] >= CLASS_OF[small.index]:
                continue
            gap = big.radius + small.radius + 0.02
            yaw = np.pi / 2 if not big.flat_face else 0.0
            scene = make_scene([big.name, small.name], [[0.1, 0.0], [0.1 - gap, 0.0]], [yaw, 0.0])
            _, px = _pixels(sim, scene, 0)
            assert px[1] == 0, f"{big.name} does not hide {small.name}"


def test_batch_equals_single_and_is_deterministic(sim):
    rng = np.random.default_rng(3)
    scenes = sim.sampler.sample(6, "mixed", rng)
    views = np.array([0, -1, 2, 6, -3, 1])
    batch = sim.render(scenes, views)
    for i in range(6):
        one = sim.render(scenes.take(np.array([i])), views[i : i + 1])
        assert np.array_equal(one.rgb[0], batch.rgb[i])
        assert np.array_equal(one.ids_hi[0], batch.ids_hi[i])
    again = sim.render(scenes, views)
    assert np.array_equal(again.rgb, batch.rgb)


def test_supersampling_counts_more_rays_and_keeps_image_size():
    r1, r2 = Renderer(32, 56, 1), Renderer(32, 56, 2)
    scene = make_scene(["box"], [[0.0, 0.0]])
    f1 = r1.render(scene.prims(), np.array([0]))
    f2 = r2.render(scene.prims(), np.array([0]))
    assert f1.rgb.shape == f2.rgb.shape == (1, 32, 32, 3)
    assert f2.ids_hi.shape == (1, 64, 64)
    n1, n2 = f1.pixels_of(scene.objects)[0, 0], f2.pixels_of(scene.objects)[0, 0]
    assert 3.0 < n2 / n1 < 5.0  # area scales with the square of the rays per side
    cov = f2.coverage()
    assert cov.shape == (1, 24, 32, 32) and np.allclose(cov.sum(1), 1.0)


def test_bad_renderer_settings():
    with pytest.raises(ValueError, match="resolution"):
        Renderer(4)
    r = Renderer(16)
    scene = make_scene(["box"], [[0.0, 0.0]])
    with pytest.raises(ValueError, match="views"):
        r.render(scene.prims(), np.array([0, 1]))


def test_empty_slots_render_nothing(sim):
    scene = make_scene(["box"], [[0.0, 0.0]])
    padded = Scenes.concat([scene, make_scene(["box", "dice"], [[0.0, 0.0], [0.3, 0.1]])])
    f = sim.render(padded.take(np.array([0])), np.array([0]))
    g = sim.render(scene, np.array([0]))
    assert np.array_equal(f.rgb, g.rgb)
