"""DPO and SFT (own loss by default, TRL optional), LoRA via PEFT, checkpoints, accelerate.

>>> from ennead.core.train import DPOConfig, train_dpo   # doctest: +SKIP
>>> result = train_dpo(model, tokenizer, pairs, DPOConfig(max_steps=10))
"""

from ennead.core.train.config import DPOConfig, LoraSettings, SFTConfig, TrainConfig
from ennead.core.train.launcher import launch, launch_config, launch_configs
from ennead.core.train.losses import dpo_loss, sequence_logps
from ennead.core.train.trainer import TrainResult, completion_nll, train_dpo, train_sft

__all__ = [
    "DPOConfig",
    "LoraSettings",
    "SFTConfig",
    "TrainConfig",
    "TrainResult",
    "completion_nll",
    "dpo_loss",
    "launch",
    "launch_config",
    "launch_configs",
    "sequence_logps",
    "train_dpo",
    "train_sft",
]
