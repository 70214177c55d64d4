from pathlib import Path

import pytest
from pydantic import Field

from ennead.core.config import BaseConfig, load_config, parse_override
from ennead.core.errors import ConfigError


class Optim(BaseConfig):
    lr: float = Field(1e-3, gt=0, description="learning rate")
    steps: int = 10


class Demo(BaseConfig):
    name: str = "demo"
    seed: int = 0
    optim: Optim = Optim()
    tags: list[str] = []


def test_layers_user_yaml_then_overrides(tmp_path: Path):
    user = tmp_path / "user.yaml"
    user.write_text("seed: 3\noptim:\n  steps: 50\n")
    cfg = load_config(Demo, user, ["optim.lr=0.5", "tags=[a, b]"])
    assert cfg.seed == 3
    assert cfg.optim.steps == 50
    assert cfg.optim.lr == 0.5
    assert cfg.tags == ["a", "b"]
    assert cfg.name == "demo"


def test_unknown_key_names_key_and_allowed(tmp_path: Path):
    user = tmp_path / "bad.yaml"
    user.write_text("optim:\n  lrr: 0.1\n")
    with pytest.raises(ConfigError) as info:
        load_config(Demo, user)
    msg = str(info.value)
    assert "optim.lrr" in msg
    assert "did you mean 'lr'" in msg
    assert "allowed keys: lr, steps" in msg
    assert str(user) in msg


def test_unknown_top_level_override_lists_allowed():
    with pytest.raises(
        ConfigError, match=r"unknown key 'sed'.*allowed keys: name, optim, seed, tags"
    ):
        load_config(Demo, None, ["sed=1"])


def test_bad_value_names_key():
    with pytest.raises(ConfigError, match=r"optim.lr: .*greater than 0"):
        load_config(Demo, None, ["optim.lr=-1"])


def test_override_syntax_error():
    with pytest.raises(ConfigError, match="key=value"):
        parse_override("nonsense")


def test_malformed_yaml_names_file_and_line(tmp_path: Path):
    bad = tmp_path / "broken.yaml"
    bad.write_text("seed: 1\noptim: [unclosed\n")
    with pytest.raises(ConfigError, match=r"broken.yaml:\d+: not valid YAML"):
        load_config(Demo, bad)


def test_missing_file_and_unknown_preset(tmp_path: Path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(Demo, tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="neither a YAML file nor a known preset"):
        load_config(Demo, "tiny")


def test_yaml_round_trip():
    cfg = Demo(seed=7)
    import yaml

    assert Demo.model_validate(yaml.safe_load(cfg.to_yaml())) == cfg


def test_validate_assignment():
    cfg = Demo()
    with pytest.raises(ValueError, match="greater than 0"):
        cfg.optim.lr = -2.0


def test_a_folder_named_like_a_preset_is_not_read_as_config(tmp_path: Path, monkeypatch):
    """``runs/tiny`` beside the user used to shadow the ``tiny`` preset ("is a folder")."""
    from ennead.sqe.config import SQEConfig

    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny").mkdir()
    assert load_config(SQEConfig, "tiny", package="ennead.sqe") == load_config(
        SQEConfig, str(Path(__file__).parents[2] / "src/ennead/sqe/configs/tiny.yaml")
    )
    (tmp_path / "mine").mkdir()
    with pytest.raises(ConfigError, match="is a folder"):
        load_config(SQEConfig, "mine", package="ennead.sqe")
