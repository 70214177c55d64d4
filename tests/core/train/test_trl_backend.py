"""TRL's trainers behind backend="trl", configured from our typed configs."""

import math

import pytest

from ennead.core.errors import ConfigError
from ennead.core.train import DPOConfig, SFTConfig, train_dpo, train_sft

pytest.importorskip("trl")


def test_to_trl_converts_and_checks_overrides(tmp_path):
    cfg = DPOConfig(
        beta=0.25,
        lr=3e-4,
        batch_size=2,
        grad_accumulation=3,
        max_steps=7,
        trl_overrides={"loss_type": ["ipo"], "logging_first_step": True},
    )
    trl_cfg = cfg.to_trl(str(tmp_path))
    assert trl_cfg.beta == 0.25 and trl_cfg.learning_rate == 3e-4
    assert trl_cfg.per_device_train_batch_size == 2 and trl_cfg.gradient_accumulation_steps == 3
    assert trl_cfg.max_steps == 7 and trl_cfg.loss_type == ["ipo"] and trl_cfg.use_cpu
    with pytest.raises(ConfigError, match=r"no field 'betaa'.*did you mean 'beta'"):
        DPOConfig(trl_overrides={"betaa": 1.0}).to_trl(str(tmp_path))
    assert SFTConfig(max_length=64, max_prompt_length=32).to_trl(str(tmp_path)).max_length == 64


def test_trl_dpo_two_steps_start_at_log2(tiny_lm, pairs, tmp_path):
    model, tok = tiny_lm
    cfg = DPOConfig(
        backend="trl", max_steps=2, batch_size=2, lr=1e-3, output_dir=str(tmp_path / "trl")
    )
    res = train_dpo(model, tok, pairs, cfg)
    assert res.steps == 2 and len(res.history) == 2
    assert math.isclose(res.first_loss, math.log(2), abs_tol=1e-4)
    assert "rewards/accuracy" in res.history[0]
    assert (tmp_path / "trl" / "final" / "adapter_config.json").is_file()


def test_trl_sft_two_steps(tiny_lm, tmp_path):
    model, tok = tiny_lm
    examples = [
        {"prompt": "is ice cold ? answer :", "completion": "yes"},
        {"prompt": "is fire cold ? answer :", "completion": "no"},
    ]
    cfg = SFTConfig(
        backend="trl", max_steps=2, batch_size=2, lr=1e-3, output_dir=str(tmp_path / "sft")
    )
    res = train_sft(model, tok, examples, cfg)
    assert res.steps == 2 and math.isfinite(res.final_loss)
