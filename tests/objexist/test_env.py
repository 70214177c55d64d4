"""The Gymnasium contract: check_env, registration, rewards, truncation, vector env, errors."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from ennead.core.errors import ConfigError, UnknownNameError
from ennead.objexist.env import ENV_ID, ObjExistEnv, ObjExistVecEnv, register_envs


def test_registered_env_passes_check_env():
    assert register_envs() == ENV_ID == "ennead/ObjExist-v0"
    env = gym.make(ENV_ID, resolution=32)
    check_env(env.unwrapped, skip_render_check=True)
    check_env(
        ObjExistEnv(level="two_occluded", resolution=32, supersample=2, depth=True),
        skip_render_check=True,
    )
    obs, info = env.reset(seed=3)
    assert obs["image"].shape == (32, 32, 3) and obs["image"].dtype == np.uint8
    assert set(info) >= {"label", "occluded", "n_objects", "query_visible_now", "action_mask"}


def test_import_does_not_register():
    import subprocess
    import sys

    code = (
        "import gymnasium as gym, ennead, ennead.objexist; "
        "print('ennead/ObjExist-v0' in gym.registry)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_rewards_and_answers():
    env = ObjExistEnv(level="one_object", resolution=32, supersample=2)
    for seed in range(6):
        _obs, info = env.reset(seed=seed)
        right = 3 if info["label"] else 2
        _, r, term, trunc, info2 = env.step(right)
        assert (r, term, trunc, info2["correct"]) == (1.5, True, False, True)
        env.reset(seed=seed)
        env.step(0)
        env.step(1)
        _, r, *_ = env.step(5 - right)  # wrong answer after two moves
        assert r == pytest.approx(-1 + 1 / 4)


def test_one_reward_function_serves_env_vector_env_and_training():
    import numpy as np

    from ennead.objexist.env import ObjExistVecEnv, answer_reward
    from ennead.objexist.rollout import rollout

    assert answer_reward(True, 0) == 1.5 and answer_reward(False, 5) == pytest.approx(-1 + 1 / 7)
    assert answer_reward(np.array([True, False]), np.array([1, 2])).tolist() == [
        pytest.approx(1 + 1 / 3),
        pytest.approx(-1 + 1 / 4),
    ]
    venv = ObjExistVecEnv(4, level="one_object", resolution=32, supersample=2)
    _, infos = venv.reset(seed=0)
    _, r, *_ = venv.step(np.where(infos["label"], 3, 2))  # every answer right, no move
    assert r.tolist() == [1.5] * 4
    venv.close()
    env = ObjExistEnv(level="one_object", resolution=32, supersample=2)
    scenes = env.sim.sampler.sample(8, "one_object", np.random.default_rng(0))
    ep = rollout(None, env.sim, scenes, "oracle")
    assert np.allclose(ep.reward, answer_reward(ep.correct, ep.moves))


def test_move_budget_truncates_and_views_wrap():
    env = ObjExistEnv(level="mixed", resolution=32, supersample=2, max_moves=6)
    env.reset(seed=0)
    for i in range(6):
        obs, r, term, trunc, info = env.step(0)
        assert r == 0.0 and not term and not trunc and obs["moves"] == i + 1
    assert info["view"] == -6 and info["action_mask"].tolist() == [0, 0, 1, 1]
    _, r, term, trunc, _ = env.step(1)
    assert (r, term, trunc) == (-1.0, False, True)
    with pytest.raises(ConfigError, match="reset"):
        env.step(2)


def test_left_then_right_returns_to_start_view():
    env = ObjExistEnv(level="two_visible", resolution=32, supersample=2)
    obs0, _ = env.reset(seed=1)
    env.step(0)
    obs2, *_ = env.step(1)
    assert np.array_equal(obs0["image"], obs2["image"])


@pytest.mark.parametrize("bad", [4, -1, 1.5, "left", None])
def test_invalid_actions(bad):
    env = ObjExistEnv(resolution=32, supersample=2)
    env.reset(seed=0)
    with pytest.raises(ConfigError, match="invalid action"):
        env.step(bad)


def test_bad_constructor_and_reset_options():
    with pytest.raises(UnknownNameError, match="level"):
        ObjExistEnv(level="L9")
    with pytest.raises(ConfigError, match="resolution"):
        ObjExistEnv(resolution=2)
    with pytest.raises(ConfigError, match="unknown key"):
        ObjExistEnv(colour=True)
    env = ObjExistEnv(resolution=32, supersample=2)
    with pytest.raises(ConfigError, match="reset"):
        env.step(0)
    with pytest.raises(ConfigError, match="unknown reset options"):
        env.reset(seed=0, options={"weather": "rain"})
    with pytest.raises(ConfigError, match="query"):
        env.reset(seed=0, options={"objects": ["box"]})
    _obs, info = env.reset(
        seed=0, options={"objects": ["laptop", "key"], "query": "key", "occluded": True}
    )
    assert info["label"] and info["occluded"] and not info["query_visible_now"]


def test_vector_env_steps_all_and_autoresets():
    venv = gym.make_vec(
        ENV_ID,
        num_envs=5,
        vectorization_mode="vector_entry_point",
        resolution=32,
        supersample=2,
        level="mixed",
    )
    assert isinstance(venv, ObjExistVecEnv)
    obs, _ = venv.reset(seed=0)
    assert obs["image"].shape == (5, 32, 32, 3)
    acts = np.array([0, 1, 2, 3, 0])
    obs, r, term, _, _ = venv.step(acts)
    assert obs["moves"].tolist() == [1, 1, 0, 0, 1]
    assert term.tolist() == [False, False, True, True, False]
    assert r[2] in (1.5, -0.5) and r[3] in (1.5, -0.5) and r[2] != r[3]
    obs, r, term, _trunc, _info = venv.step(np.array([2, 2, 0, 0, 2]))  # slots 2, 3 reset
    assert obs["moves"].tolist() == [1, 1, 0, 0, 1] and term.tolist() == [1, 1, 0, 0, 1]
    with pytest.raises(ConfigError, match="expected 5 actions"):
        venv.step(np.array([0, 0]))
    with pytest.raises(ConfigError, match="invalid action"):
        venv.step(np.array([0, 0, 9, 0, 0]))


def test_vector_env_matches_single_env_images(sim):
    venv = ObjExistVecEnv(num_envs=3, resolution=48, supersample=1)
    obs, _ = venv.reset(seed=7)
    scenes = venv._scenes
    for i in range(3):
        img = sim.render(scenes.take(np.array([i])), np.array([0])).rgb[0]
        assert np.array_equal(img, obs["image"][i])


def test_idmap_observation_is_ray_cast_with_occlusion():
    """The fast path: a 22-channel one-hot id map from the same ray caster, occlusion included."""
    from ennead.objexist.render import ID_CHANNELS, idmap_picture
    from ennead.objexist.shapes import object_index

    env = ObjExistEnv(level="two_occluded", resolution=32, supersample=2, observation="idmap")
    check_env(env, skip_render_check=True)
    assert "image" not in env.observation_space.spaces
    assert env.observation_space["idmap"].shape == (32, 32, ID_CHANNELS) == (32, 32, 22)
    obs, info = env.reset(
        seed=0, options={"objects": ["laptop", "key"], "query": "key", "occluded": True}
    )
    ids = obs["idmap"]
    assert ids.dtype == np.float32 and ids.shape == (32, 32, 22)
    assert np.all(ids >= 0) and np.allclose(ids.sum(-1)[ids.sum(-1) > 0].max(), 1.0)
    key, laptop = object_index("key"), object_index("laptop")
    # hidden behind the laptop in the start view: no ray reaches the key
    assert ids[..., key].sum() == 0 and not info["query_visible_now"]
    assert ids[..., laptop].sum() > 5 and ids[..., 21].sum() > 50  # laptop and table
    found = []
    for _ in range(6):  # the left sweep reveals it
        obs, *_ = env.step(0)
        found.append(obs["idmap"][..., key].sum() > 0)
    assert any(found)
    assert idmap_picture(obs["idmap"]).shape == (32, 32, 3)
    # vector env: same observation key and shapes
    venv = ObjExistVecEnv(4, level="mixed", resolution=32, supersample=2, observation="idmap")
    vobs, _ = venv.reset(seed=1)
    assert vobs["idmap"].shape == (4, 32, 32, 22) and vobs["idmap"].dtype == np.float32
    vobs, *_ = venv.step(np.zeros(4, int))
    assert venv.observation_space.contains(vobs)
    depth = ObjExistEnv(
        level="mixed", resolution=32, supersample=2, observation="idmap", depth=True
    )
    check_env(depth, skip_render_check=True)


def test_idmap_network_and_rollout(tmp_path):
    from ennead.core.config import load_config
    from ennead.objexist import ObjExistConfig
    from ennead.objexist.env import Tabletop
    from ennead.objexist.rollout import rollout
    from ennead.objexist.train import build_net

    cfg = load_config(ObjExistConfig, "tiny", package="ennead.objexist")
    assert cfg.sim.observation == "idmap"
    sim = Tabletop(cfg.sim)
    net = build_net(cfg)
    # 22 id-map channels + the queried object's channel again (model.query_channel)
    assert cfg.model.query_channel and net.conv[0].in_channels == 23 and sim.channels == 22
    with pytest.raises(ConfigError, match="query_channel"):
        load_config(ObjExistConfig, "tiny", ["sim.observation=rgb"], package="ennead.objexist")
    scenes = sim.sampler.sample(6, "mixed", np.random.default_rng(0))
    ep = rollout(net, sim, scenes, "exhaustive")
    assert ep.answer_logits.shape == (6, 2) and (ep.moves == 6).all()
