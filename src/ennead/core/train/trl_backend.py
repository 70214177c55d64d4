"""TRL's DPOTrainer and SFTTrainer as an optional backend (``backend="trl"``).

The trainer is configured from our typed config through ``to_trl()``. Prompts are left-truncated to
``max_prompt_length`` here, on a token boundary, because TRL only keeps the start of long sequences.
With LoRA on, TRL's reference is the adapter-disabled base model, as in ours.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ennead.core.imports import require
from ennead.core.runs import RunDir
from ennead.core.train.config import DPOConfig, SFTConfig, TrainConfig
from ennead.core.train.data import truncate_prompt_text
from ennead.core.train.lora import is_peft_model

# TRL's metric names -> ours (as logged by the ennead loop)
_RENAME = {"rewards/accuracies": "rewards/accuracy", "rewards/margins": "rewards/margin"}
_KEEP = {
    "loss",
    "learning_rate",
    "rewards/chosen",
    "rewards/rejected",
    "rewards/accuracy",
    "rewards/margin",
    "logps/chosen",
    "logps/rejected",
    "mean_token_accuracy",
    "grad_norm",
}


def _output(cfg: TrainConfig, run_dir: RunDir | None, kind: str) -> str:
    if cfg.output_dir:
        return cfg.output_dir
    if run_dir is not None:
        return str(run_dir.path / "train")
    return tempfile.mkdtemp(prefix=f"ennead-trl-{kind}-")


def _train(trainer: Any, out: str, tokenizer: Any, run_dir: RunDir | None, resume: bool) -> Any:
    from ennead.core.train.trainer import TrainResult

    transformers = require("transformers", "lm", "training")
    last = transformers.trainer_utils.get_last_checkpoint(out) if resume else None
    trainer.train(resume_from_checkpoint=last)
    final = Path(out) / "final"
    trainer.save_model(str(final))
    if tokenizer is not None and trainer.accelerator.is_main_process:
        tokenizer.save_pretrained(str(final))
    history = []
    for rec in trainer.state.log_history:
        if "loss" not in rec or "step" not in rec:
            continue  # the closing summary row has train_loss, not loss
        row = {"step": float(rec["step"])}
        for key, value in rec.items():
            key = _RENAME.get(key, key)
            if key in _KEEP and isinstance(value, (int, float)):
                row["lr" if key == "learning_rate" else key] = float(value)
        history.append(row)
    if run_dir is not None and trainer.accelerator.is_main_process:
        for row in history:
            run_dir.log_metrics(
                {k: v for k, v in row.items() if k != "step"}, step=int(row["step"]), backend="trl"
            )
    model = trainer.accelerator.unwrap_model(trainer.model)
    model.eval()
    return TrainResult(
        steps=int(trainer.state.global_step),
        first_loss=history[0]["loss"] if history else None,
        final_loss=history[-1]["loss"] if history else None,
        history=history,
        output_dir=str(final),
        checkpoint=transformers.trainer_utils.get_last_checkpoint(out),
        resumed_from=int(Path(last).name.split("-")[-1]) if last else None,
        model=model,
    )


def train_dpo_trl(
    model: Any,
    tokenizer: Any,
    pairs: Sequence[dict[str, Any]],
    cfg: DPOConfig,
    run_dir: RunDir | None = None,
    *,
    resume: bool = False,
) -> Any:
    """DPO through ``trl.DPOTrainer``; returns a :class:`~ennead.core.train.TrainResult`."""
    trl = require("trl", "train", "the TRL DPO backend")
    datasets = require("datasets", "train", "the TRL DPO backend")
    out = _output(cfg, run_dir, "dpo")
    rows = [
        {
            "prompt": truncate_prompt_text(tokenizer, p["prompt"], cfg.max_prompt_length),
            "chosen": p["chosen"],
            "rejected": p["rejected"],
        }
        for p in pairs
    ]
    use_lora = cfg.lora.enabled and not is_peft_model(model)
    trainer = trl.DPOTrainer(
        model=model,
        args=cfg.to_trl(out),
        train_dataset=datasets.Dataset.from_list(rows),
        processing_class=tokenizer,
        peft_config=cfg.lora.to_peft() if use_lora else None,
    )
    return _train(trainer, out, tokenizer, run_dir, resume)


def train_sft_trl(
    model: Any,
    tokenizer: Any,
    examples: Sequence[dict[str, Any]],
    cfg: SFTConfig,
    run_dir: RunDir | None = None,
    *,
    resume: bool = False,
) -> Any:
    """SFT through ``trl.SFTTrainer`` (completion-only loss); returns a TrainResult."""
    trl = require("trl", "train", "the TRL SFT backend")
    datasets = require("datasets", "train", "the TRL SFT backend")
    out = _output(cfg, run_dir, "sft")
    rows = [
        {
            "prompt": truncate_prompt_text(tokenizer, e["prompt"], cfg.max_prompt_length),
            "completion": e["completion"],
        }
        for e in examples
    ]
    use_lora = cfg.lora.enabled and not is_peft_model(model)
    trainer = trl.SFTTrainer(
        model=model,
        args=cfg.to_trl(out),
        train_dataset=datasets.Dataset.from_list(rows),
        processing_class=tokenizer,
        peft_config=cfg.lora.to_peft() if use_lora else None,
    )
    return _train(trainer, out, tokenizer, run_dir, resume)
