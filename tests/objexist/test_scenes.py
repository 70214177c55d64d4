"""Scene composition rules, pixel-exact placement tests, held-out pairs, bad requests."""

import numpy as np
import pytest

from ennead.core.errors import ConfigError, UnknownNameError
from ennead.objexist.scenes import LEVELS, holdout_pairs
from ennead.objexist.shapes import CLASS_OF, N_OBJECTS, OBJECT_NAMES, get_object


def test_catalogue_matches_paper():
    assert len(OBJECT_NAMES) == N_OBJECTS == 21
    assert np.bincount(CLASS_OF).tolist() == [7, 7, 7]
    assert (
        OBJECT_NAMES[:3] == ("box", "cleanser", "laptop") and OBJECT_NAMES[-1] == "button_battery"
    )
    for name in ("marble", "dice", "key"):
        assert get_object(name).height <= 0.035


def test_holdout_pairs_are_cross_class_and_seeded():
    pairs = holdout_pairs(234, 14)
    assert len(pairs) == 42
    types = [tuple(sorted((CLASS_OF[a], CLASS_OF[b]))) for a, b in pairs]
    assert {t: types.count(t) for t in set(types)} == {(0, 1): 14, (0, 2): 14, (1, 2): 14}
    assert holdout_pairs(234, 14) == pairs and holdout_pairs(235, 14) != pairs
    with pytest.raises(ConfigError, match="holdout_per_type"):
        holdout_pairs(0, 50)


@pytest.mark.parametrize("level", LEVELS)
def test_levels_follow_the_rules(sim, level):
    rng = np.random.default_rng(11)
    sc = sim.sampler.sample(96, level, rng)
    n = sc.n_objects
    assert 0.3 < sc.label.mean() < 0.7
    assert (sc.label == (sc.objects == sc.query[:, None]).any(1)).all()
    px = sc.start_pixels
    valid = sc.objects >= 0
    if level == "one_object":
        assert (n == 1).all()
    if level in ("two_visible", "two_occluded"):
        assert (n == 2).all()
    vis = ~sc.occluded
    assert ((px[vis] >= sim.cfg.min_pixels) | ~valid[vis]).all()
    occ = sc.occluded
    if level == "two_occluded":
        assert occ.all()
    if occ.any():
        assert (px[occ, 1] == 0).all() and (px[occ, 0] >= sim.cfg.min_pixels).all()
        assert (CLASS_OF[sc.objects[occ, 0]] < CLASS_OF[sc.objects[occ, 1]]).all()
    if level == "mixed":
        assert 0.15 < (n == 1).mean() < 0.5 and 0.2 < occ.mean() < 0.5
    # no overlap of footprints
    if (n == 2).any():
        two = n == 2
        d = np.linalg.norm(sc.pos[two, 0] - sc.pos[two, 1], axis=1)
        from ennead.objexist.shapes import RADIUS_OF

        assert (d >= RADIUS_OF[sc.objects[two, 0]] + RADIUS_OF[sc.objects[two, 1]]).all()


def test_hidden_objects_show_up_in_the_left_sweep(sim):
    sc = sim.sampler.sample(32, "two_occluded", np.random.default_rng(5))
    seen = np.zeros(32, bool)
    for v in range(-6, 0):
        f = sim.render(sc, np.full(32, v))
        seen |= f.pixels_of(sc.objects[:, 1:2])[:, 0] >= sim.cfg.min_pixels
    assert seen.all()


def test_pair_splits(sim):
    held = sim.sampler.holdout
    rng = np.random.default_rng(2)
    train = sim.sampler.sample(64, "two_visible", rng, "train")
    hold = sim.sampler.sample(64, "two_occluded", rng, "holdout")
    key = lambda s: {(min(a, b), max(a, b)) for a, b in s.objects}  # noqa: E731
    assert not key(train) & held
    assert key(hold) <= held


def test_same_seed_same_scenes(sim):
    a = sim.sampler.sample(8, "mixed", np.random.default_rng(4))
    b = sim.sampler.sample(8, "mixed", np.random.default_rng(4))
    assert a.to_records() == b.to_records()


def test_custom_scene_and_bad_requests(sim):
    rng = np.random.default_rng(0)
    sc = sim.sampler.custom(["marble", "pitcher"], "marble", rng, occluded=True)
    assert sc.label[0] and sc.occluded[0] and sc.start_pixels[0, 1] == 0
    assert OBJECT_NAMES[sc.objects[0, 0]] == "pitcher"  # the larger object comes first
    with pytest.raises(UnknownNameError, match="did you mean 'marble'"):
        sim.sampler.custom(["marbel"], "marble", rng)
    with pytest.raises(UnknownNameError, match="unknown object"):
        sim.sampler.custom(["box"], "spoon", rng)
    with pytest.raises(ConfigError, match="do not fit"):
        sim.sampler.custom(list(OBJECT_NAMES[:8]), "box", rng)
    with pytest.raises(ConfigError, match="different size classes"):
        sim.sampler.custom(["dice", "marble"], "dice", rng, occluded=True)
    with pytest.raises(ConfigError, match="once"):
        sim.sampler.custom(["dice", "dice"], "dice", rng)
    with pytest.raises(UnknownNameError, match="level"):
        sim.sampler.sample(4, "three_objects", rng)
    with pytest.raises(ConfigError, match=">= 1"):
        sim.sampler.sample(0, "mixed", rng)


def test_three_objects_fit(sim):
    sc = sim.sampler.custom(["box", "apple", "dice"], "apple", np.random.default_rng(1))
    assert sc.n_objects[0] == 3 and sc.label[0]
