"""Training configs: typed subsets of what TRL/PEFT take, with converters instead of copies."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ennead.core.config import BaseConfig


class LoraSettings(BaseConfig):
    enabled: bool = Field(True, description="train LoRA adapters instead of all weights")
    r: int = Field(8, ge=1, description="LoRA rank")
    alpha: int = Field(16, ge=1, description="LoRA scaling numerator (alpha / r)")
    dropout: float = Field(0.0, ge=0.0, lt=1.0, description="dropout on the LoRA input")
    target_modules: list[str] = Field(
        default_factory=lambda: ["q_proj", "v_proj"], description="module names to adapt"
    )

    def to_peft(self) -> Any:
        from ennead.core.imports import require

        peft = require("peft", "lm", "LoRA training")
        return peft.LoraConfig(
            r=self.r,
            lora_alpha=self.alpha,
            lora_dropout=self.dropout,
            target_modules=list(self.target_modules),
            task_type="CAUSAL_LM",
        )


class TrainConfig(BaseConfig):
    """What DPO and SFT share."""

    lr: float = Field(5e-4, gt=0, description="learning rate")
    optimizer: Literal["adamw", "sgd"] = Field("adamw", description="adamw, or plain sgd")
    weight_decay: float = Field(0.0, ge=0)
    epochs: int = Field(1, ge=1, description="passes over the data (unless max_steps is set)")
    max_steps: int | None = Field(None, ge=1, description="optimizer steps; overrides epochs")
    batch_size: int = Field(4, ge=1, description="examples per micro-batch per process")
    grad_accumulation: int = Field(1, ge=1, description="micro-batches per optimizer step")
    warmup_steps: int = Field(0, ge=0, description="linear warm-up steps")
    max_grad_norm: float | None = Field(1.0, gt=0, description="gradient clipping (None: off)")
    max_length: int = Field(512, ge=8, description="prompt + completion tokens at most")
    max_prompt_length: int = Field(384, ge=1, description="prompt tokens kept (cut from the left)")
    lora: LoraSettings = Field(default_factory=LoraSettings)
    seed: int = Field(0, description="seed for init, shuffling and dropout")
    checkpoint_every: int | None = Field(None, ge=1, description="save a checkpoint every k steps")
    keep_checkpoints: int = Field(2, ge=1, description="most recent checkpoints kept")
    logging_steps: int = Field(1, ge=1)
    output_dir: str | None = Field(None, description="where checkpoints and the final model go")
    mixed_precision: Literal["no", "bf16", "fp16"] = Field("no", description="accelerate setting")


class DPOConfig(TrainConfig):
    beta: float = Field(0.1, gt=0, description="DPO temperature on the log-ratio margin")
    label_smoothing: float = Field(0.0, ge=0.0, lt=0.5, description="conservative DPO")
    backend: Literal["ennead", "trl"] = Field("ennead", description="our loop or TRL's DPOTrainer")
    trl_overrides: dict[str, Any] = Field(
        default_factory=dict, description="extra trl.DPOConfig fields, passed through"
    )


class SFTConfig(TrainConfig):
    backend: Literal["ennead", "trl"] = Field("ennead", description="our loop or TRL's SFTTrainer")
    trl_overrides: dict[str, Any] = Field(default_factory=dict)
