from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ennead.core.config import load_config
from ennead.core.errors import ConfigError
from ennead.sqe import SQE, SQEConfig

CONFIGS = Path(__file__).parents[2] / "src" / "ennead" / "sqe" / "configs"


def test_default_yaml_equals_pydantic_defaults():
    data = yaml.safe_load((CONFIGS / "default.yaml").read_text())
    assert data == SQEConfig().model_dump(mode="json")


def test_presets_load_and_round_trip(tmp_path):
    for name in ("tiny", "default", "paper", "study-ci"):
        cfg = load_config(SQEConfig, name, package="ennead.sqe")
        path = tmp_path / f"{name}.yaml"
        path.write_text(cfg.to_yaml())
        assert load_config(SQEConfig, str(path)) == cfg
    paper = load_config(SQEConfig, "paper", package="ennead.sqe")
    assert "tud:campus" in paper.sequences and paper.search.space["appearance_thresh"][2] == 0.05


def test_bad_keys_and_values_name_the_key():
    with pytest.raises(
        ConfigError, match=r"unknown key 'metric\.gap_scal'.*did you mean 'gap_scale'"
    ):
        load_config(SQEConfig, "tiny", ["metric.gap_scal=2"], package="ennead.sqe")
    with pytest.raises(ConfigError, match=r"metric\.t_dif"):
        load_config(SQEConfig, None, ["metric.t_dif=big"], package="ennead.sqe")
    with pytest.raises(ConfigError, match="not a tracker parameter"):
        load_config(SQEConfig, None, ["search.space={speed: [0, 1, 0.1]}"], package="ennead.sqe")
    with pytest.raises(ConfigError, match=r"want \[low, high, step>0\]"):
        load_config(SQEConfig, None, ["search.space={max_age: [5, 1, 1]}"], package="ennead.sqe")


def test_facade_constructor_only_stores_config():
    cfg = SQEConfig()
    assert SQE(cfg).config is cfg
