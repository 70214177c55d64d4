"""Presets, defaults, bad keys."""

from pathlib import Path

import pytest
import yaml

from ennead.core.config import load_config
from ennead.core.errors import ConfigError
from ennead.objexist.config import ObjExistConfig

CONFIGS = Path(__file__).parents[2] / "src" / "ennead" / "objexist" / "configs"


def test_default_yaml_equals_pydantic_defaults():
    data = yaml.safe_load((CONFIGS / "default.yaml").read_text())
    assert data == ObjExistConfig().model_dump(mode="json")


@pytest.mark.parametrize("preset", ["tiny", "tiny_rgb", "default", "paper"])
def test_presets_load_and_round_trip(preset):
    cfg = load_config(ObjExistConfig, preset, package="ennead.objexist")
    again = ObjExistConfig.model_validate(yaml.safe_load(cfg.to_yaml()))
    assert again == cfg


def test_paper_preset_has_paper_sizes():
    cfg = load_config(ObjExistConfig, "paper", package="ennead.objexist")
    assert [s.episodes for s in cfg.train.curriculum] == [900_000, 900_000, 400_000, 400_000]
    assert cfg.train.curriculum[-1].w_rl == 1e-4 and cfg.train.lr == 1e-4
    assert cfg.train.batch_size == 1 and cfg.model.hidden == 256 and cfg.model.core == "rnn"
    assert cfg.eval.episodes == 10_000 and cfg.eval.seed == 1234 and cfg.sim.max_moves == 6


def test_bad_keys_and_values_name_the_key():
    with pytest.raises(ConfigError, match=r"train\.batchsize.*did you mean 'batch_size'"):
        load_config(ObjExistConfig, "tiny", ["train.batchsize=3"], package="ennead.objexist")
    with pytest.raises(ConfigError, match=r"sim\.resolution"):
        load_config(ObjExistConfig, "tiny", ["sim.resolution=3"], package="ennead.objexist")
    with pytest.raises(ConfigError, match="level"):
        load_config(
            ObjExistConfig,
            "tiny",
            ["train.curriculum=[{level: L9, episodes: 5}]"],
            package="ennead.objexist",
        )
    with pytest.raises(ConfigError, match="stride-2"):
        load_config(
            ObjExistConfig,
            "tiny",
            ["sim.resolution=16", "sim.supersample=4", "model.channels=[4,4,4,4,4]"],
            package="ennead.objexist",
        )
    with pytest.raises(ConfigError, match="rays per side"):
        load_config(ObjExistConfig, "tiny_rgb", ["sim.resolution=24"], package="ennead.objexist")
    with pytest.raises(ConfigError, match="unknown preset"):
        load_config(ObjExistConfig, "huge", package="ennead.objexist")


def test_max_moves_zero_is_refused_with_the_key_and_the_allowed_range():
    with pytest.raises(ConfigError, match=r"sim\.max_moves.*greater than or equal to 1.*got 0"):
        load_config(ObjExistConfig, "tiny", ["sim.max_moves=0"], package="ennead.objexist")
    # the environment refuses it the same way (it validates its keyword arguments as SimConfig)
    from ennead.objexist.env import ObjExistEnv

    with pytest.raises(ConfigError, match=r"max_moves.*greater than or equal to 1"):
        ObjExistEnv(max_moves=0)
    assert load_config(ObjExistConfig, "tiny", ["sim.max_moves=1"], package="ennead.objexist")
