"""TRL's DPOTrainer as an optional backend, configured from our typed DPOConfig."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from typing import Any

from ennead.core.imports import require
from ennead.core.runs import RunDir
from ennead.core.train.config import DPOConfig


def to_trl(cfg: DPOConfig, output_dir: str) -> Any:
    """Our DPOConfig as ``trl.DPOConfig``; ``trl_overrides`` are passed through unchanged."""
    trl = require("trl", "train", "the TRL DPO backend")
    torch = require("torch", "lm")
    kwargs: dict[str, Any] = {
        "output_dir": output_dir,
        "learning_rate": cfg.lr,
        "weight_decay": cfg.weight_decay,
        "per_device_train_batch_size": cfg.batch_size,
        "gradient_accumulation_steps": cfg.grad_accumulation,
        "num_train_epochs": cfg.epochs,
        "max_steps": cfg.max_steps or -1,
        "warmup_steps": cfg.warmup_steps,
        "max_grad_norm": cfg.max_grad_norm or 0.0,
        "max_length": cfg.max_length,
        "beta": cfg.beta,
        "label_smoothing": cfg.label_smoothing,
        "seed": cfg.seed,
        "logging_steps": cfg.logging_steps,
        "save_strategy": "no",
        "report_to": [],
        "use_cpu": not torch.cuda.is_available(),
        "bf16": cfg.mixed_precision == "bf16",
        "fp16": cfg.mixed_precision == "fp16",
        "disable_tqdm": True,
    }
    kwargs.update(cfg.trl_overrides)
    return trl.DPOConfig(**kwargs)


def train_dpo_trl(
    model: Any,
    tokenizer: Any,
    pairs: Sequence[dict[str, Any]],
    cfg: DPOConfig,
    run_dir: RunDir | None = None,
) -> Any:
    from ennead.core.train.trainer import TrainResult

    trl = require("trl", "train", "the TRL DPO backend")
    datasets = require("datasets", "train", "the TRL DPO backend")
    out = cfg.output_dir or (str(run_dir.path / "train-trl") if run_dir else tempfile.mkdtemp())
    data = datasets.Dataset.from_list(
        [{"prompt": p["prompt"], "chosen": p["chosen"], "rejected": p["rejected"]} for p in pairs]
    )
    trainer = trl.DPOTrainer(
        model=model,
        args=to_trl(cfg, out),
        train_dataset=data,
        processing_class=tokenizer,
        peft_config=cfg.lora.to_peft() if cfg.lora.enabled else None,
    )
    trainer.train()
    logs = [r for r in trainer.state.log_history if "loss" in r]
    history = [{"step": float(r["step"]), "loss": float(r["loss"])} for r in logs]
    if run_dir is not None:
        for r in history:
            run_dir.log_metrics({"loss": r["loss"]}, step=int(r["step"]), backend="trl")
    return TrainResult(
        steps=int(trainer.state.global_step),
        first_loss=history[0]["loss"] if history else None,
        final_loss=history[-1]["loss"] if history else None,
        history=history,
        output_dir=out,
    )
