"""TRL's DPOTrainer and SFTTrainer as an optional backend (``backend="trl"``).

The trainer is configured from our typed config through ``to_trl()``. Prompts are left-truncated to
``max_prompt_length`` here, on a token boundary, because TRL only keeps the start of long sequences.
With LoRA on, TRL's reference is the adapter-disabled base model, as in ours. Shared pieces
(result, callbacks, output folder) come from :mod:`ennead.core.train.base`, not the ennead loop.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ennead.core.train.base as base
from ennead.core.errors import ConfigError
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
    out = base.output_dir(cfg, run_dir)
    return str(out) if out is not None else tempfile.mkdtemp(prefix=f"ennead-trl-{kind}-")


def _row(rec: dict[str, Any]) -> dict[str, float] | None:
    """One of TRL's log records as our metrics row; None for records without a step loss."""
    if "loss" not in rec or "step" not in rec:
        return None  # the closing summary row has train_loss, not loss
    row = {"step": float(rec["step"])}
    for key, value in rec.items():
        key = _RENAME.get(key, key)
        if key in _KEEP and isinstance(value, (int, float)):
            row["lr" if key == "learning_rate" else key] = float(value)
    return row


def _bridge(callbacks: list[Any], state: base.TrainState) -> Any:
    """Our callbacks as one ``transformers.TrainerCallback``.

    TRL reports a step's loss when it logs, so ``on_step_end`` fires at each logging step
    (every step with the default ``logging_steps=1``).
    """
    transformers = require("transformers", "lm", "training")

    class Bridge(transformers.TrainerCallback):  # type: ignore[misc,name-defined]
        def _sync(self, hf_state: Any, model: Any) -> None:
            state.step = int(hf_state.global_step)
            state.total_steps = int(hf_state.max_steps)
            state.is_main_process = bool(hf_state.is_world_process_zero)
            if model is not None:
                state.model = model

        def on_train_begin(self, args: Any, hf_state: Any, control: Any, **kw: Any) -> None:
            self._sync(hf_state, kw.get("model"))
            base.fire(callbacks, "on_train_begin", state)

        def on_log(self, args: Any, hf_state: Any, control: Any, **kw: Any) -> None:
            row = _row({**(kw.get("logs") or {}), "step": hf_state.global_step})
            if row is None:
                return
            self._sync(hf_state, kw.get("model"))
            state.loss, state.metrics = row["loss"], row
            state.history.append(row)
            base.fire(callbacks, "on_step_end", state)
            if state.should_stop:
                control.should_training_stop = True

        def on_epoch_end(self, args: Any, hf_state: Any, control: Any, **kw: Any) -> None:
            self._sync(hf_state, kw.get("model"))
            state.epoch = round(hf_state.epoch or 0)
            base.fire(callbacks, "on_epoch_end", state)
            if state.should_stop:
                control.should_training_stop = True

    return Bridge()


def _train(
    trainer: Any,
    out: str,
    tokenizer: Any,
    run_dir: RunDir | None,
    resume: bool,
    callbacks: list[Any],
    state: base.TrainState,
) -> base.TrainResult:
    transformers = require("transformers", "lm", "training")
    last = transformers.trainer_utils.get_last_checkpoint(out) if resume else None
    trainer.train(resume_from_checkpoint=last)
    final = Path(out) / "final"
    trainer.save_model(str(final))
    if tokenizer is not None and trainer.accelerator.is_main_process:
        tokenizer.save_pretrained(str(final))
    history = [row for rec in trainer.state.log_history if (row := _row(rec)) is not None]
    if run_dir is not None and trainer.accelerator.is_main_process:
        for row in history:
            run_dir.log_metrics(
                {k: v for k, v in row.items() if k != "step"}, step=int(row["step"]), backend="trl"
            )
    model = trainer.accelerator.unwrap_model(trainer.model)
    model.eval()
    if callbacks:
        state.model = model
        base.fire(callbacks, "on_train_end", state)
    return base.result_from_history(
        history,
        steps=int(trainer.state.global_step),
        final=final,
        checkpoint=transformers.trainer_utils.get_last_checkpoint(out),
        resumed_from=int(Path(last).name.split("-")[-1]) if last else None,
        model=model,
    )


def train_trl(
    kind: str,
    model: Any,
    tokenizer: Any,
    rows: Sequence[dict[str, Any]],
    cfg: TrainConfig,
    run_dir: RunDir | None = None,
    *,
    resume: bool = False,
    callbacks: Sequence[Any] | None = None,
) -> base.TrainResult:
    """``kind`` ``"dpo"`` (``trl.DPOTrainer``) or ``"sft"`` (``trl.SFTTrainer``, completion-only
    loss) on checked rows, configured by ``cfg.to_trl()``; callbacks as in the ennead loop."""
    if kind not in ("dpo", "sft"):
        raise ConfigError(f"the TRL backend trains 'dpo' or 'sft', not {kind!r}")
    expected = DPOConfig if kind == "dpo" else SFTConfig
    if not isinstance(cfg, expected):
        raise ConfigError(f"the TRL {kind} backend needs a {expected.__name__}")
    trl = require("trl", "train", f"the TRL {kind.upper()} backend")
    datasets = require("datasets", "train", f"the TRL {kind.upper()} backend")
    keys = ("chosen", "rejected") if kind == "dpo" else ("completion",)
    data = [
        {
            "prompt": truncate_prompt_text(tokenizer, r["prompt"], cfg.max_prompt_length),
            **{k: r[k] for k in keys},
        }
        for r in rows
    ]
    out = _output(cfg, run_dir, kind)
    cbs = base.check_callbacks(callbacks)
    state = base.TrainState(model=model, output_dir=Path(out), backend="trl")
    use_lora = cfg.lora.enabled and not is_peft_model(model)
    trainer = (trl.DPOTrainer if kind == "dpo" else trl.SFTTrainer)(
        model=model,
        args=cfg.to_trl(out),
        train_dataset=datasets.Dataset.from_list(data),
        processing_class=tokenizer,
        peft_config=cfg.lora.to_peft() if use_lora else None,
        callbacks=[_bridge(cbs, state)] if cbs else None,
    )
    return _train(trainer, out, tokenizer, run_dir, resume, cbs, state)
