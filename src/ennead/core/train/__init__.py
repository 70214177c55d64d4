"""One trainer (pluggable loss, callbacks; TRL optional), LoRA via PEFT, checkpoints, accelerate.

>>> from ennead.core.train import DPOConfig, train_dpo   # doctest: +SKIP
>>> result = train_dpo(model, tokenizer, pairs, DPOConfig(max_steps=10, output_dir="out"))
>>> result.final_loss, result.output_dir                  # doctest: +SKIP

``train_dpo`` / ``train_sft`` are ``Trainer(DPOLoss() / SFTLoss(), config).train(...)``; a custom
loss subclasses :class:`TrainLoss`, and callbacks (:class:`Callback`: ``on_train_begin``,
``on_step_end``, ``on_epoch_end``, ``on_train_end``) see a :class:`TrainState` (step, epoch, loss,
metrics, model) and may set ``should_stop``.

Importing this package does not import torch; the functions do when called.
"""

from ennead.core.train.base import Callback, LambdaCallback, TrainResult, TrainState
from ennead.core.train.config import DPOConfig, LoraSettings, SFTConfig, TrainConfig
from ennead.core.train.data import check_examples, check_pairs
from ennead.core.train.dpo import completion_logps, dpo_loss, sequence_logps
from ennead.core.train.launcher import launch, launch_command, launch_config, launch_configs
from ennead.core.train.lora import apply_lora, load_adapter, merge_lora, save_adapter
from ennead.core.train.losses import DPOLoss, SFTLoss, TrainLoss
from ennead.core.train.trainer import Trainer, completion_nll, train_dpo, train_sft

__all__ = [
    "Callback",
    "DPOConfig",
    "DPOLoss",
    "LambdaCallback",
    "LoraSettings",
    "SFTConfig",
    "SFTLoss",
    "TrainConfig",
    "TrainLoss",
    "TrainResult",
    "TrainState",
    "Trainer",
    "apply_lora",
    "check_examples",
    "check_pairs",
    "completion_logps",
    "completion_nll",
    "dpo_loss",
    "launch",
    "launch_command",
    "launch_config",
    "launch_configs",
    "load_adapter",
    "merge_lora",
    "save_adapter",
    "sequence_logps",
    "train_dpo",
    "train_sft",
]
