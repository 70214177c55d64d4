"""One training loop on ``accelerate.Accelerator``; the loss is a plug-in (SFT, DPO, your own).

The same code runs on one CPU, N CPU processes (gloo), one GPU and DeepSpeed ZeRO-2; only the
accelerate config changes (see :mod:`ennead.core.train.launcher`)::

    python train.py                                                     # 1 CPU or 1 GPU
    accelerate launch --config_file $(python -c "from ennead.core.train import launch_config;
        print(launch_config('cpu_multi'))") train.py                    # 2 CPU processes
    ... launch_config('multi_gpu_zero2') ...                            # DeepSpeed ZeRO-2

:class:`Trainer` takes a loss (:mod:`ennead.core.train.losses`) and callbacks
(:mod:`ennead.core.train.base`); ``train_dpo`` and ``train_sft`` are it with ``DPOLoss`` and
``SFTLoss``. ``backend="trl"`` hands the DPO and SFT losses to TRL instead
(:mod:`ennead.core.train.trl_backend`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ennead.core.errors import ConfigError, StageError
from ennead.core.imports import require
from ennead.core.logging import get_logger, progress
from ennead.core.runs import RunDir
from ennead.core.train.base import (
    Callback,
    TrainResult,
    TrainState,
    check_callbacks,
    fire,
    output_dir,
    result_from_history,
)
from ennead.core.train.checkpoint import (
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
    register_adapter_hooks,
    save_checkpoint,
)
from ennead.core.train.config import DPOConfig, SFTConfig, TrainConfig
from ennead.core.train.data import check_examples, collate, encode, pad_id
from ennead.core.train.dpo import sequence_logps
from ennead.core.train.lora import apply_lora, is_peft_model
from ennead.core.train.losses import REF_CACHE, DPOLoss, SFTLoss, TrainLoss

__all__ = [
    "REF_CACHE",
    "Callback",
    "TrainResult",
    "TrainState",
    "Trainer",
    "completion_nll",
    "train_dpo",
    "train_sft",
]

log = get_logger(__name__)


# -- setup --------------------------------------------------------------------------------------
def _has_gpu(torch: Any) -> bool:
    acc_api = getattr(torch, "accelerator", None)
    if acc_api is not None and hasattr(acc_api, "is_available"):
        return bool(acc_api.is_available())
    return bool(torch.cuda.is_available())


def _accelerator(cfg: TrainConfig) -> Any:
    accelerate = require("accelerate", "lm", "training")
    torch = require("torch", "lm", "training")
    kwargs = {
        "gradient_accumulation_steps": cfg.grad_accumulation,
        "mixed_precision": None if cfg.mixed_precision == "auto" else cfg.mixed_precision,
        # CPU-only torchrun workers must be told, or each one trains alone as rank 0.
        "cpu": cfg.use_cpu or not _has_gpu(torch),
        # the scheduler is stepped once per optimizer step, not once per process
        "step_scheduler_with_optimizer": False,
    }
    try:
        acc = accelerate.Accelerator(**kwargs)
    except ValueError as exc:
        if "already been initialized" not in str(exc):
            raise
        if accelerate.PartialState().num_processes > 1:
            raise ConfigError(
                f"this process already trained with other accelerate settings: {exc}"
            ) from exc
        # A single process may switch settings between trainings (e.g. precision).
        accelerate.state.AcceleratorState._reset_state()
        acc = accelerate.Accelerator(**kwargs)
    plugin = getattr(acc.state, "deepspeed_plugin", None)
    if plugin is not None:
        # Batches are built per epoch, not handed to prepare(); tell DeepSpeed the sizes.
        ds = plugin.deepspeed_config
        if ds.get("train_micro_batch_size_per_gpu", "auto") == "auto":
            ds["train_micro_batch_size_per_gpu"] = cfg.batch_size
        if ds.get("gradient_clipping", "auto") == "auto":
            ds["gradient_clipping"] = cfg.max_grad_norm or 0.0
    return acc


def _optimizer_and_scheduler(model: Any, cfg: TrainConfig, total: int) -> tuple[Any, Any]:
    torch = require("torch", "lm", "training")
    transformers = require("transformers", "lm", "training")
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ConfigError("the model has no trainable parameters")
    if cfg.optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    else:
        opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    name = {"constant": "constant_with_warmup", "linear": "linear", "cosine": "cosine"}
    sched = transformers.get_scheduler(
        name[cfg.lr_scheduler], opt, num_warmup_steps=cfg.warmup_steps, num_training_steps=total
    )
    return opt, sched


def _check_output(cfg: TrainConfig, run_dir: RunDir | None, resume: bool) -> None:
    out = output_dir(cfg, run_dir)
    if out is not None and not resume and list_checkpoints(out):
        raise StageError(
            f"{out} holds checkpoints of an earlier run; pass resume=True to continue it, "
            "or use another output_dir"
        )


def _export_final(acc: Any, model: Any, tokenizer: Any, out: Path) -> Path:
    """Adapter (LoRA) or full model plus tokenizer in ``out/final``, swapped in whole."""
    import os
    import shutil

    final, tmp = out / "final", out / ".final.tmp"
    acc.wait_for_everyone()
    if acc.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
        acc.unwrap_model(model).save_pretrained(str(tmp))
        if tokenizer is not None:
            tokenizer.save_pretrained(str(tmp))
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
    acc.wait_for_everyone()
    return final


# -- the trainer --------------------------------------------------------------------------------
class Trainer:
    """One loop for every loss: ``Trainer(loss, config, callbacks=..., run_dir=...).train(...)``.

    With ``config.lora.enabled`` only adapters train; the model gets them injected in place and
    ``result.model`` is the PEFT wrapper. ``resume=True`` continues from the last complete
    checkpoint in the output folder. Metrics go to ``run_dir`` when given. ``callbacks`` get
    ``on_train_begin``, ``on_step_end``, ``on_epoch_end`` and ``on_train_end`` with a
    :class:`~ennead.core.train.base.TrainState` (step, epoch, loss, metrics, model).
    """

    def __init__(
        self,
        loss: TrainLoss,
        config: TrainConfig | None = None,
        *,
        callbacks: Sequence[Any] | None = None,
        run_dir: RunDir | None = None,
    ):
        if not isinstance(loss, TrainLoss):
            raise TypeError(f"loss must be a TrainLoss, got {type(loss).__name__}")
        self.loss = loss
        self.config = config or TrainConfig()
        self.callbacks = check_callbacks(callbacks)
        self.run_dir = run_dir

    def train(
        self, model: Any, tokenizer: Any, rows: Sequence[Any], *, resume: bool = False
    ) -> TrainResult:
        cfg, loss, run_dir = self.config, self.loss, self.run_dir
        rows = loss.check(rows)
        _check_output(cfg, run_dir, resume)
        if cfg.backend == "trl":
            if loss.trl_kind is None:
                raise ConfigError(
                    f"backend 'trl' trains the DPO and SFT losses only, not {type(loss).__name__};"
                    " use backend 'ennead'"
                )
            from ennead.core.train.trl_backend import train_trl

            return train_trl(
                loss.trl_kind,
                model,
                tokenizer,
                rows,
                cfg,
                run_dir,
                resume=resume,
                callbacks=self.callbacks,
            )
        accelerate = require("accelerate", "lm", "training")
        acc = _accelerator(cfg)
        accelerate.utils.set_seed(cfg.seed)
        n = loss.prepare(tokenizer, rows, cfg, acc)
        if cfg.lora.enabled:
            model = apply_lora(model, cfg.lora)
        loss.setup(model, acc)
        return self._loop(acc, model, tokenizer, n, resume)

    def _loop(self, acc: Any, model: Any, tokenizer: Any, n: int, resume: bool) -> TrainResult:
        torch = require("torch", "lm", "training")
        cfg, loss, run_dir, callbacks = self.config, self.loss, self.run_dir, self.callbacks
        out = output_dir(cfg, run_dir)
        world = acc.num_processes
        per_step = cfg.batch_size * cfg.grad_accumulation * world
        steps_per_epoch = max(1, math.ceil(n / per_step))
        total = cfg.max_steps or cfg.epochs * steps_per_epoch

        model.train()
        opt, sched = _optimizer_and_scheduler(model, cfg, total)
        hooks = register_adapter_hooks(acc) if is_peft_model(model) else []
        model, opt, sched = acc.prepare(model, opt, sched)
        loss.before_training(model, acc, out)

        step, resumed_from, last_ckpt = 0, None, None
        if resume and out is not None:
            found = latest_checkpoint(out)
            if found is None:
                log.info("no checkpoint in %s; starting from step 0", out)
            else:
                ckpt = load_checkpoint(acc, found)
                step = resumed_from = int(ckpt["step"])
                last_ckpt = found
                if ckpt.get("examples_per_step", per_step) != per_step:
                    log.warning(
                        "resuming with %d examples per step instead of %d: the data order changes",
                        per_step,
                        ckpt.get("examples_per_step"),
                    )
                log.info("resumed from %s at step %d", found, step)
        ckpt_state = {"examples_per_step": per_step, "total_steps": total, "world_size": world}

        history: list[dict[str, float]] = []
        state = TrainState(
            model=acc.unwrap_model(model),
            step=step,
            epoch=step // steps_per_epoch,
            total_steps=total,
            steps_per_epoch=steps_per_epoch,
            history=history,
            output_dir=out,
            is_main_process=acc.is_main_process,
        )

        def notify(event: str) -> None:
            if callbacks:
                fire(callbacks, event, state)
                model.train()  # a callback may have evaluated the model

        notify("on_train_begin")
        bar = progress(range(step, total), total=total - step, desc=loss.name)
        next(bar, None)  # the bar advances when asked for the next item
        sums: Any = None
        names: list[str] = []
        try:
            while step < total and not state.should_stop:
                epoch, done = divmod(step, steps_per_epoch)
                # Seeded order per epoch, wrapped to whole steps; a resumed run skips steps done.
                gen = torch.Generator().manual_seed(cfg.seed + epoch)
                order = torch.randperm(n, generator=gen).tolist()
                need = steps_per_epoch * per_step
                order = (order * (need // n + 1))[done * per_step : need]
                # Own generator: creating the iterator must not draw from the global RNG (dropout).
                loader = torch.utils.data.DataLoader(
                    order,
                    batch_size=cfg.batch_size,
                    shuffle=False,
                    collate_fn=loss.collate,
                    generator=torch.Generator().manual_seed(cfg.seed),
                )
                for batch in acc.prepare_data_loader(loader):
                    with acc.accumulate(model):
                        value, stats = loss.compute(model, batch)
                        acc.backward(value)
                        if acc.sync_gradients and cfg.max_grad_norm:
                            acc.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
                        opt.step()
                        opt.zero_grad()
                    names = ["loss", *stats]
                    vals = torch.stack([value.detach(), *stats.values()]).float().detach()
                    vals = vals / cfg.grad_accumulation
                    sums = vals if sums is None else sums + vals
                    if not acc.sync_gradients:
                        continue
                    lr = float(sched.get_last_lr()[0])  # the rate this step used
                    sched.step()
                    step += 1
                    next(bar, None)
                    means = acc.reduce(sums, reduction="mean").tolist()
                    sums = None
                    row = {"step": float(step), **dict(zip(names, means)), "lr": lr}
                    history.append(row)
                    if (
                        run_dir is not None
                        and acc.is_main_process
                        and (step % cfg.logging_steps == 0 or step == total)
                    ):
                        run_dir.log_metrics(
                            {k: v for k, v in row.items() if k != "step"}, step=step
                        )
                    if (
                        out is not None
                        and cfg.checkpoint_every
                        and step % cfg.checkpoint_every == 0
                    ):
                        last_ckpt = save_checkpoint(
                            acc, out, step, ckpt_state, cfg.keep_checkpoints
                        )
                    state.step, state.loss, state.metrics = step, row["loss"], row
                    notify("on_step_end")
                    if step % steps_per_epoch == 0:
                        state.epoch = step // steps_per_epoch
                        notify("on_epoch_end")
                    if step >= total or state.should_stop:
                        break
        finally:
            bar.close()  # type: ignore[attr-defined]
        final = None
        if out is not None:
            if last_ckpt is None or last_ckpt.name != f"checkpoint-{step}":
                last_ckpt = save_checkpoint(acc, out, step, ckpt_state, cfg.keep_checkpoints)
            final = _export_final(acc, model, tokenizer, out)
        for handle in hooks:
            handle.remove()
        trained = acc.unwrap_model(model)
        trained.eval()
        if callbacks:
            state.model = trained
            fire(callbacks, "on_train_end", state)
        return result_from_history(
            history,
            steps=step,
            final=final,
            checkpoint=last_ckpt,
            resumed_from=resumed_from,
            model=trained,
        )


# -- the two losses everyone uses ---------------------------------------------------------------
def train_dpo(
    model: Any,
    tokenizer: Any,
    pairs: Sequence[dict[str, Any]],
    config: DPOConfig | None = None,
    run_dir: RunDir | None = None,
    *,
    resume: bool = False,
    callbacks: Sequence[Any] | None = None,
) -> TrainResult:
    """DPO on ``{prompt, chosen, rejected}`` dicts; prompts are plain (maybe chat-formatted) text.

    ``Trainer(DPOLoss(), config, callbacks=callbacks, run_dir=run_dir)`` (see :class:`Trainer`).
    """
    trainer = Trainer(DPOLoss(), config or DPOConfig(), callbacks=callbacks, run_dir=run_dir)
    return trainer.train(model, tokenizer, pairs, resume=resume)


def train_sft(
    model: Any,
    tokenizer: Any,
    examples: Sequence[dict[str, Any]],
    config: SFTConfig | None = None,
    run_dir: RunDir | None = None,
    *,
    resume: bool = False,
    callbacks: Sequence[Any] | None = None,
) -> TrainResult:
    """Supervised fine-tuning on ``{prompt, completion}`` dicts; loss on completion tokens only.

    ``Trainer(SFTLoss(), config, callbacks=callbacks, run_dir=run_dir)`` (see :class:`Trainer`).
    """
    trainer = Trainer(SFTLoss(), config or SFTConfig(), callbacks=callbacks, run_dir=run_dir)
    return trainer.train(model, tokenizer, examples, resume=resume)


def completion_nll(
    model: Any, tokenizer: Any, examples: Sequence[dict[str, Any]], batch_size: int = 8
) -> float:
    """Mean negative log-likelihood per completion token (EOS included) over ``examples``."""
    torch = require("torch", "lm")
    examples = check_examples(examples)
    rows = [encode(tokenizer, e["prompt"], e["completion"], 512, 384) for e in examples]
    device = next(model.parameters()).device
    total, tokens = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(rows), batch_size):
            batch = collate(rows[start : start + batch_size], pad_id(tokenizer))
            batch = {k: v.to(device) for k, v in batch.items()}
            total -= float(sequence_logps(model, batch).sum())
            tokens += int((batch["labels"][:, 1:] != -100).sum())
    return total / max(tokens, 1)
