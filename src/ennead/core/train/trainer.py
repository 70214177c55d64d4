"""One training loop on ``accelerate.Accelerator`` for DPO and SFT.

The same code runs on one CPU, N CPU processes (gloo), one GPU and DeepSpeed ZeRO-2: only the
accelerate config changes (see :mod:`ennead.core.train.launch`). Reference log-probs for DPO are
computed once before the first step (they never change), so no second copy of the model is kept.
Checkpoints hold model/adapter, optimizer, scheduler and RNG states; they are written to a temporary
folder and renamed, so a crash never leaves a checkpoint that looks complete but is not.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from ennead.core.errors import StageError
from ennead.core.imports import require
from ennead.core.logging import get_logger, progress
from ennead.core.runs import RunDir
from ennead.core.train.config import DPOConfig, SFTConfig, TrainConfig
from ennead.core.train.data import check_records, collate, encode_pair
from ennead.core.train.losses import dpo_loss, sequence_logps

log = get_logger(__name__)


class TrainResult(BaseModel):
    steps: int
    first_loss: float | None = None
    final_loss: float | None = None
    history: list[dict[str, float]] = Field(default_factory=list)
    output_dir: str | None = None
    resumed_from: int | None = None


def _accelerator(cfg: TrainConfig) -> Any:
    accelerate = require("accelerate", "lm", "training")
    # Accumulation is done by hand in the loop (no_sync + loss scaling), so accelerate sees 1.
    return accelerate.Accelerator(mixed_precision=cfg.mixed_precision)


def _apply_lora(model: Any, cfg: TrainConfig) -> Any:
    if not cfg.lora.enabled:
        return model
    peft = require("peft", "lm", "LoRA training")
    if isinstance(model, peft.PeftModel):
        return model  # continue training existing adapters
    return peft.get_peft_model(model, cfg.lora.to_peft())


def _checkpoints(out: Path) -> list[Path]:
    found = [p for p in out.glob("checkpoint-*") if (p / "trainer_state.json").is_file()]
    return sorted(found, key=lambda p: int(p.name.split("-")[1]))


def _run_loop(
    model: Any,
    encoded: list[Any],
    cfg: TrainConfig,
    step_fn: Callable[[Any, list[int], Any], tuple[Any, dict[str, Any]]],
    collate_fn: Callable[[list[int]], Any],
    run_dir: RunDir | None,
    resume: bool,
    tokenizer: Any,
    before_training: Callable[[Any, Any], None] | None = None,
    desc: str = "train",
) -> TrainResult:
    torch = require("torch", "lm", "training")
    accelerate = require("accelerate", "lm", "training")
    accelerate.utils.set_seed(cfg.seed)
    acc = _accelerator(cfg)
    model = _apply_lora(model, cfg)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    if cfg.optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    else:
        opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    n = len(encoded)
    per_step = cfg.batch_size * cfg.grad_accumulation * acc.num_processes
    steps_per_epoch = max(1, math.ceil(n / per_step))
    total = cfg.max_steps or cfg.epochs * steps_per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / cfg.warmup_steps) if cfg.warmup_steps else 1.0
    )
    model, opt, sched = acc.prepare(model, opt, sched)
    if before_training is not None:
        before_training(acc, model)

    out = Path(cfg.output_dir) if cfg.output_dir else (run_dir.path / "train" if run_dir else None)
    step, resumed_from = 0, None
    if resume and out is not None and _checkpoints(out):
        last = _checkpoints(out)[-1]
        acc.load_state(str(last))
        step = json.loads((last / "trainer_state.json").read_text())["step"]
        resumed_from = step
        log.info("resuming from %s (step %d)", last, step)

    history: list[dict[str, float]] = []
    first_loss = None
    bar = iter(progress(range(step, total), total=total - step, desc=desc))
    world, rank = acc.num_processes, acc.process_index
    while step < total:
        epoch, done_in_epoch = divmod(step, steps_per_epoch)
        # A fresh seeded order per epoch (so a resumed run sees the same batches), padded by
        # wrapping to whole steps on every process, then sharded by rank like DistributedSampler.
        gen = torch.Generator().manual_seed(cfg.seed + epoch)
        order = torch.randperm(n, generator=gen).tolist()
        need = steps_per_epoch * per_step
        order = (order * (need // n + 1))[:need]
        local = order[rank::world]
        micro = [local[i : i + cfg.batch_size] for i in range(0, len(local), cfg.batch_size)]
        for s in range(done_in_epoch, steps_per_epoch):
            group = micro[s * cfg.grad_accumulation : (s + 1) * cfg.grad_accumulation]
            tot_loss, tot_stats = 0.0, dict[str, float]()
            for j, idx in enumerate(group):
                batch = {k: v.to(acc.device) for k, v in collate_fn(idx).items()}
                # no gradient all-reduce until the last micro-batch of the step
                sync = j == len(group) - 1 or world == 1
                ctx = contextlib.nullcontext() if sync else acc.no_sync(model)
                with ctx:
                    loss, stats = step_fn(model, idx, batch)
                    acc.backward(loss / len(group))
                tot_loss += float(loss.detach()) / len(group)
                for k, v in stats.items():
                    tot_stats[k] = tot_stats.get(k, 0.0) + float(v) / len(group)
            if cfg.max_grad_norm:
                acc.clip_grad_norm_(params, cfg.max_grad_norm)
            opt.step()
            sched.step()
            opt.zero_grad()
            step += 1
            next(bar, None)
            mean_loss = float(acc.reduce(torch.tensor(tot_loss, device=acc.device), "mean"))
            row = {"step": step, "loss": mean_loss, "lr": sched.get_last_lr()[0], **tot_stats}
            if first_loss is None:
                first_loss = mean_loss
            history.append(row)
            if run_dir is not None and acc.is_main_process and step % cfg.logging_steps == 0:
                run_dir.log_metrics({k: v for k, v in row.items() if k != "step"}, step=step)
            if out is not None and cfg.checkpoint_every and step % cfg.checkpoint_every == 0:
                _save_checkpoint(acc, out, step, cfg.keep_checkpoints)
            if step >= total:
                break
    if out is not None:
        final = out / "final"
        acc.wait_for_everyone()
        if acc.is_main_process:
            tmp = out / ".final-tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            acc.unwrap_model(model).save_pretrained(str(tmp))
            tokenizer.save_pretrained(str(tmp))
            shutil.rmtree(final, ignore_errors=True)
            os.replace(tmp, final)
        acc.wait_for_everyone()
    model.eval()
    return TrainResult(
        steps=step,
        first_loss=first_loss,
        final_loss=history[-1]["loss"] if history else None,
        history=history,
        output_dir=str(out / "final") if out is not None else None,
        resumed_from=resumed_from,
    )


def _save_checkpoint(acc: Any, out: Path, step: int, keep: int) -> None:
    target = out / f"checkpoint-{step}"
    tmp = out / f".checkpoint-{step}-tmp"
    acc.wait_for_everyone()
    if acc.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
    acc.wait_for_everyone()
    acc.save_state(str(tmp))
    acc.wait_for_everyone()
    if acc.is_main_process:
        (tmp / "trainer_state.json").write_text(json.dumps({"step": step}))
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
        for old in _checkpoints(out)[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
    acc.wait_for_everyone()


# -- DPO ---------------------------------------------------------------------------------------
def train_dpo(
    model: Any,
    tokenizer: Any,
    pairs: Sequence[dict[str, Any]],
    config: DPOConfig | None = None,
    run_dir: RunDir | None = None,
    resume: bool = False,
) -> TrainResult:
    """DPO on ``{prompt, chosen, rejected}`` dicts (prompts already chat-formatted if needed).

    With LoRA on, only adapters train and ``model`` is returned wrapped in place by PEFT; the
    reference is the model as given (log-probs computed once before training).
    """
    cfg = config or DPOConfig()
    pairs = list(pairs)
    check_records(pairs, ("prompt", "chosen", "rejected"), "pair")
    if cfg.backend == "trl":
        from ennead.core.train.trl_backend import train_dpo_trl

        return train_dpo_trl(model, tokenizer, pairs, cfg, run_dir)
    torch = require("torch", "lm", "training")
    enc = [
        (
            encode_pair(tokenizer, p["prompt"], p["chosen"], cfg.max_length, cfg.max_prompt_length),
            encode_pair(
                tokenizer, p["prompt"], p["rejected"], cfg.max_length, cfg.max_prompt_length
            ),
        )
        for p in pairs
    ]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    ref = torch.zeros(len(enc), 2)

    def collate_fn(idx: list[int]) -> Any:
        # chosen rows first, then rejected rows: one forward pass for both
        return collate([enc[i][0] for i in idx] + [enc[i][1] for i in idx], pad)

    def precompute(acc: Any, wrapped: Any) -> None:
        was_training = wrapped.training
        wrapped.eval()
        with torch.no_grad():
            for start in range(0, len(enc), cfg.batch_size):
                idx = list(range(start, min(start + cfg.batch_size, len(enc))))
                batch = {k: v.to(acc.device) for k, v in collate_fn(idx).items()}
                lp = sequence_logps(wrapped, batch)
                ref[start : start + len(idx), 0] = lp[: len(idx)].cpu()
                ref[start : start + len(idx), 1] = lp[len(idx) :].cpu()
        wrapped.train(was_training)

    def step_fn(m: Any, idx: list[int], batch: Any) -> tuple[Any, dict[str, Any]]:
        lp = sequence_logps(m, batch)
        k = len(idx)
        r = ref[idx].to(lp.device)
        loss, rc, rr = dpo_loss(lp[:k], lp[k:], r[:, 0], r[:, 1], cfg.beta, cfg.label_smoothing)
        stats = {
            "rewards/chosen": rc.mean(),
            "rewards/rejected": rr.mean(),
            "rewards/accuracy": (rc > rr).float().mean(),
            "rewards/margin": (rc - rr).mean(),
        }
        return loss.mean(), stats

    return _run_loop(model, enc, cfg, step_fn, collate_fn, run_dir, resume, tokenizer,
                     before_training=precompute, desc="DPO")  # fmt: skip


# -- SFT ---------------------------------------------------------------------------------------
def train_sft(
    model: Any,
    tokenizer: Any,
    examples: Sequence[dict[str, Any]],
    config: SFTConfig | None = None,
    run_dir: RunDir | None = None,
    resume: bool = False,
) -> TrainResult:
    """Supervised fine-tuning on ``{prompt, completion}``; loss on completion tokens only."""
    cfg = config or SFTConfig()
    examples = list(examples)
    check_records(examples, ("prompt", "completion"), "example")
    if cfg.backend == "trl":
        raise StageError("SFT through TRL is not wired yet; use backend='ennead'")
    enc = [
        encode_pair(tokenizer, e["prompt"], e["completion"], cfg.max_length, cfg.max_prompt_length)
        for e in examples
    ]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id

    def collate_fn(idx: list[int]) -> Any:
        return collate([enc[i] for i in idx], pad)

    def step_fn(m: Any, idx: list[int], batch: Any) -> tuple[Any, dict[str, Any]]:
        out = m(**batch)
        return out.loss, {}

    return _run_loop(model, enc, cfg, step_fn, collate_fn, run_dir, resume, tokenizer, desc="SFT")


def completion_nll(model: Any, tokenizer: Any, examples: Sequence[dict[str, Any]]) -> float:
    """Mean per-token negative log-likelihood of completions (to check SFT helped)."""
    torch = require("torch", "lm")
    enc = [encode_pair(tokenizer, e["prompt"], e["completion"], 512, 384) for e in examples]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    batch = collate(enc, pad)
    with torch.no_grad():
        lp = sequence_logps(model, batch)
    n_tokens = (batch["labels"][:, 1:] != -100).sum()
    return float(-lp.sum() / n_tokens)
