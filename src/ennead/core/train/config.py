"""Training configs: typed subsets of what TRL and PEFT take, with converters instead of copies.

``DPOConfig().to_trl(out)`` and ``LoraSettings().to_peft()`` build the library objects; anything
else TRL accepts goes in ``trl_overrides`` (checked against TRL's own fields).
"""

from __future__ import annotations

import dataclasses
import difflib
from typing import Any, Literal

from pydantic import Field, model_validator

from ennead.core.config import BaseConfig
from ennead.core.errors import ConfigError
from ennead.core.imports import require


class LoraSettings(BaseConfig):
    """LoRA adapters (PEFT). Defaults follow PEFT's Llama targets: q_proj and v_proj."""

    enabled: bool = Field(True, description="train LoRA adapters instead of all weights")
    r: int = Field(8, ge=1, description="LoRA rank")
    alpha: int = Field(16, ge=1, description="LoRA scaling numerator (scale = alpha / r)")
    dropout: float = Field(0.0, ge=0.0, lt=1.0, description="dropout on the LoRA input")
    target_modules: list[str] = Field(
        default_factory=lambda: ["q_proj", "v_proj"], description="names of the modules to adapt"
    )

    def to_peft(self) -> Any:
        """The equivalent ``peft.LoraConfig`` for a causal LM."""
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

    lr: float = Field(5e-5, gt=0, description="peak learning rate")
    optimizer: Literal["adamw", "sgd"] = Field("adamw", description="AdamW, or plain SGD")
    weight_decay: float = Field(0.0, ge=0, description="decoupled weight decay")
    lr_scheduler: Literal["constant", "linear", "cosine"] = Field(
        "constant", description="learning-rate shape after warm-up"
    )
    warmup_steps: int = Field(0, ge=0, description="linear warm-up steps")
    epochs: int = Field(1, ge=1, description="passes over the data (unless max_steps is set)")
    max_steps: int | None = Field(None, ge=1, description="optimizer steps; overrides epochs")
    batch_size: int = Field(4, ge=1, description="examples per micro-batch on each process")
    grad_accumulation: int = Field(1, ge=1, description="micro-batches per optimizer step")
    max_grad_norm: float | None = Field(1.0, gt=0, description="gradient clipping (None: off)")
    max_length: int = Field(512, ge=2, description="prompt + completion tokens at most")
    max_prompt_length: int = Field(
        384, ge=1, description="prompt tokens kept; longer prompts lose their beginning"
    )
    lora: LoraSettings = Field(default_factory=LoraSettings, description="LoRA adapters")
    seed: int = Field(0, description="seed for adapter init, data order and dropout")
    checkpoint_every: int | None = Field(
        None, ge=1, description="save a checkpoint every k optimizer steps (and one at the end)"
    )
    keep_checkpoints: int = Field(2, ge=1, description="most recent checkpoints kept")
    logging_steps: int = Field(1, ge=1, description="log metrics every k steps")
    output_dir: str | None = Field(
        None, description="checkpoints and the final model (default: <run_dir>/train, or none)"
    )
    mixed_precision: Literal["auto", "no", "bf16", "fp16"] = Field(
        "auto", description="autocast dtype; auto: as the accelerate launch config says (else no)"
    )
    use_cpu: bool = Field(False, description="train on the CPU even when a GPU is present")
    backend: Literal["ennead", "trl"] = Field(
        "ennead", description="ennead's own loop, or TRL's trainer (pip install 'ennead[train]')"
    )
    trl_overrides: dict[str, Any] = Field(
        default_factory=dict, description="extra TRL config fields, passed through as given"
    )

    @model_validator(mode="after")
    def _lengths_fit(self) -> TrainConfig:
        if self.max_prompt_length >= self.max_length:
            raise ValueError(
                f"max_prompt_length ({self.max_prompt_length}) must be below max_length "
                f"({self.max_length}) so that at least one completion token is trained"
            )
        return self

    def _trl_common(self, output_dir: str) -> dict[str, Any]:
        torch = require("torch", "lm", "training")
        from ennead.core.logging import progress_enabled

        scheduler = {"constant": "constant_with_warmup", "linear": "linear", "cosine": "cosine"}
        return {
            "output_dir": output_dir,
            "learning_rate": self.lr,
            "optim": "sgd" if self.optimizer == "sgd" else "adamw_torch",
            "weight_decay": self.weight_decay,
            "lr_scheduler_type": scheduler[self.lr_scheduler],
            "warmup_steps": self.warmup_steps,
            "num_train_epochs": self.epochs,
            "max_steps": self.max_steps or -1,
            "per_device_train_batch_size": self.batch_size,
            "gradient_accumulation_steps": self.grad_accumulation,
            "max_grad_norm": self.max_grad_norm or 0.0,
            "max_length": self.max_length,
            "seed": self.seed,
            "logging_steps": self.logging_steps,
            "save_strategy": "steps" if self.checkpoint_every else "no",
            "save_steps": self.checkpoint_every or 500,
            "save_total_limit": self.keep_checkpoints,
            "bf16": self.mixed_precision == "bf16",
            "fp16": self.mixed_precision == "fp16",
            "use_cpu": self.use_cpu or not torch.cuda.is_available(),
            "report_to": "none",
            "disable_tqdm": not progress_enabled(),
        }


def _build_trl(cls: Any, kwargs: dict[str, Any], overrides: dict[str, Any]) -> Any:
    known = {f.name for f in dataclasses.fields(cls)}
    for key in overrides:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"trl_overrides: {cls.__name__} has no field {key!r}{hint}")
    try:
        return cls(**{**kwargs, **overrides})
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"TRL rejected the converted config: {exc}") from exc


class DPOConfig(TrainConfig):
    """Direct Preference Optimization (sigmoid loss of Rafailov et al., 2023)."""

    beta: float = Field(0.1, gt=0, description="DPO temperature on the log-ratio margin")
    label_smoothing: float = Field(
        0.0, ge=0.0, lt=0.5, description="assumed share of flipped labels (conservative DPO)"
    )
    precompute_ref: bool = Field(
        True,
        description="compute reference log-probs once before training (they never change) "
        "instead of a reference forward pass every step",
    )

    def to_trl(self, output_dir: str | None = None) -> Any:
        """The equivalent ``trl.DPOConfig``; ``trl_overrides`` win over converted fields."""
        trl = require("trl", "train", "the TRL DPO backend")
        kwargs = self._trl_common(output_dir or self.output_dir or "trl-dpo")
        kwargs.update(
            beta=self.beta,
            label_smoothing=self.label_smoothing,
            loss_type=["sigmoid"],
            precompute_ref_log_probs=self.precompute_ref,
        )
        return _build_trl(trl.DPOConfig, kwargs, self.trl_overrides)


class SFTConfig(TrainConfig):
    """Supervised fine-tuning on prompt/completion pairs (loss on completion tokens only)."""

    add_eos: bool = Field(
        True,
        description="append EOS to each completion and train it (off: the loss is on the "
        "completion's own tokens only, e.g. one-token answers cut by max_new_tokens)",
    )

    def to_trl(self, output_dir: str | None = None) -> Any:
        """The equivalent ``trl.SFTConfig`` (completion-only loss)."""
        trl = require("trl", "train", "the TRL SFT backend")
        kwargs = self._trl_common(output_dir or self.output_dir or "trl-sft")
        kwargs.update(completion_only_loss=True, packing=False)
        return _build_trl(trl.SFTConfig, kwargs, self.trl_overrides)
