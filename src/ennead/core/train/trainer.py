"""One training loop on ``accelerate.Accelerator`` for DPO and SFT.

The same code runs on one CPU, N CPU processes (gloo), one GPU and DeepSpeed ZeRO-2; only the
accelerate config changes (see :mod:`ennead.core.train.launcher`)::

    python train.py                                                     # 1 CPU or 1 GPU
    accelerate launch --config_file $(python -c "from ennead.core.train import launch_config;
        print(launch_config('cpu_multi'))") train.py                    # 2 CPU processes
    ... launch_config('multi_gpu_zero2') ...                            # DeepSpeed ZeRO-2

DPO reference log-probs come from the same weights with the LoRA adapters switched off (no second
copy), or from a frozen copy when all weights train. By default they are computed once before
the first step, since they never change, and cached in the output folder for resumed runs.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ennead.core.errors import ConfigError, StageError
from ennead.core.imports import require
from ennead.core.io import atomic_write_bytes
from ennead.core.logging import get_logger, progress
from ennead.core.runs import RunDir
from ennead.core.train.checkpoint import (
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
    register_adapter_hooks,
    save_checkpoint,
)
from ennead.core.train.config import DPOConfig, SFTConfig, TrainConfig
from ennead.core.train.data import check_examples, check_pairs, collate, encode, pad_id
from ennead.core.train.dpo import dpo_loss, sequence_logps
from ennead.core.train.lora import apply_lora, is_peft_model

log = get_logger(__name__)
REF_CACHE = "ref_logps.pt"

StepFn = Callable[[Any, dict[str, Any]], tuple[Any, dict[str, Any]]]


class TrainResult(BaseModel):
    """What a training call did. ``model`` is the trained (possibly PEFT-wrapped) model."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    steps: int = Field(description="optimizer steps done, counting those before a resume")
    first_loss: float | None = Field(None, description="loss of the first step run in this call")
    final_loss: float | None = Field(None, description="loss of the last step")
    history: list[dict[str, float]] = Field(default_factory=list, description="metrics per step")
    output_dir: str | None = Field(None, description="folder with the final adapter or model")
    checkpoint: str | None = Field(None, description="last complete checkpoint")
    resumed_from: int | None = Field(None, description="step of the checkpoint resumed from")
    model: Any = Field(None, exclude=True, repr=False)


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


def _output_dir(cfg: TrainConfig, run_dir: RunDir | None) -> Path | None:
    if cfg.output_dir:
        return Path(cfg.output_dir)
    return run_dir.path / "train" if run_dir is not None else None


def _check_output(cfg: TrainConfig, run_dir: RunDir | None, resume: bool) -> None:
    out = _output_dir(cfg, run_dir)
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


# -- the loop -----------------------------------------------------------------------------------
def _run_loop(
    *,
    acc: Any,
    model: Any,
    tokenizer: Any,
    n: int,
    cfg: TrainConfig,
    collate_fn: Callable[[list[int]], dict[str, Any]],
    step_fn: StepFn,
    run_dir: RunDir | None,
    resume: bool,
    desc: str,
    before_training: Callable[[Any, Path | None], None] | None = None,
) -> TrainResult:
    torch = require("torch", "lm", "training")
    out = _output_dir(cfg, run_dir)
    world = acc.num_processes
    per_step = cfg.batch_size * cfg.grad_accumulation * world
    steps_per_epoch = max(1, math.ceil(n / per_step))
    total = cfg.max_steps or cfg.epochs * steps_per_epoch

    model.train()
    opt, sched = _optimizer_and_scheduler(model, cfg, total)
    hooks = register_adapter_hooks(acc) if is_peft_model(model) else []
    model, opt, sched = acc.prepare(model, opt, sched)
    if before_training is not None:
        before_training(model, out)

    step, resumed_from, last_ckpt = 0, None, None
    if resume and out is not None:
        found = latest_checkpoint(out)
        if found is None:
            log.info("no checkpoint in %s; starting from step 0", out)
        else:
            state = load_checkpoint(acc, found)
            step = resumed_from = int(state["step"])
            last_ckpt = found
            if state.get("examples_per_step", per_step) != per_step:
                log.warning(
                    "resuming with %d examples per step instead of %d: the data order changes",
                    per_step,
                    state.get("examples_per_step"),
                )
            log.info("resumed from %s at step %d", found, step)
    ckpt_state = {"examples_per_step": per_step, "total_steps": total, "world_size": world}

    history: list[dict[str, float]] = []
    bar = progress(range(step, total), total=total - step, desc=desc)
    next(bar, None)  # the bar advances when asked for the next item
    sums: Any = None
    names: list[str] = []
    try:
        while step < total:
            epoch, done = divmod(step, steps_per_epoch)
            # Seeded order per epoch, wrapped to whole steps; a resumed run skips the steps done.
            gen = torch.Generator().manual_seed(cfg.seed + epoch)
            order = torch.randperm(n, generator=gen).tolist()
            need = steps_per_epoch * per_step
            order = (order * (need // n + 1))[done * per_step : need]
            # Own generator: creating the iterator must not draw from the global RNG (dropout).
            loader = torch.utils.data.DataLoader(
                order,
                batch_size=cfg.batch_size,
                shuffle=False,
                collate_fn=collate_fn,
                generator=torch.Generator().manual_seed(cfg.seed),
            )
            for batch in acc.prepare_data_loader(loader):
                with acc.accumulate(model):
                    loss, stats = step_fn(model, batch)
                    acc.backward(loss)
                    if acc.sync_gradients and cfg.max_grad_norm:
                        acc.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
                    opt.step()
                    opt.zero_grad()
                names = ["loss", *stats]
                vals = torch.stack([loss.detach(), *stats.values()]).float().detach()
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
                    run_dir.log_metrics({k: v for k, v in row.items() if k != "step"}, step=step)
                if out is not None and cfg.checkpoint_every and step % cfg.checkpoint_every == 0:
                    last_ckpt = save_checkpoint(acc, out, step, ckpt_state, cfg.keep_checkpoints)
                if step >= total:
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
    return TrainResult(
        steps=step,
        first_loss=history[0]["loss"] if history else None,
        final_loss=history[-1]["loss"] if history else None,
        history=history,
        output_dir=str(final) if final is not None else None,
        checkpoint=str(last_ckpt) if last_ckpt is not None else None,
        resumed_from=resumed_from,
        model=trained,
    )


# -- DPO ----------------------------------------------------------------------------------------
def _fingerprint(rows: Any, model: Any) -> str:
    """Data plus reference weights: a cached reference is reused only for both unchanged."""
    h = hashlib.sha256(json.dumps(rows).encode())
    h.update(type(model).__name__.encode())
    for name, p in model.named_parameters():
        if "lora_" not in name:
            h.update(f"{name}:{float(p.detach().float().sum()):.6e}".encode())
    return h.hexdigest()


def train_dpo(
    model: Any,
    tokenizer: Any,
    pairs: Sequence[dict[str, Any]],
    config: DPOConfig | None = None,
    run_dir: RunDir | None = None,
    *,
    resume: bool = False,
) -> TrainResult:
    """DPO on ``{prompt, chosen, rejected}`` dicts; prompts are plain (maybe chat-formatted) text.

    With ``config.lora.enabled`` only adapters train; ``model`` gets them injected in place and
    ``result.model`` is the PEFT wrapper. ``resume=True`` continues from the last complete
    checkpoint in the output folder. Metrics go to ``run_dir`` when given.
    """
    cfg = config or DPOConfig()
    pairs = check_pairs(pairs)
    _check_output(cfg, run_dir, resume)
    if cfg.backend == "trl":
        from ennead.core.train.trl_backend import train_dpo_trl

        return train_dpo_trl(model, tokenizer, pairs, cfg, run_dir, resume=resume)
    torch = require("torch", "lm", "training")
    accelerate = require("accelerate", "lm", "training")
    acc = _accelerator(cfg)
    accelerate.utils.set_seed(cfg.seed)
    enc = [
        tuple(
            encode(tokenizer, p["prompt"], p[key], cfg.max_length, cfg.max_prompt_length)
            for key in ("chosen", "rejected")
        )
        for p in pairs
    ]
    pid = pad_id(tokenizer)

    def collate_fn(idx: list[int]) -> dict[str, Any]:
        # chosen rows, then rejected rows: one forward pass scores both
        batch = collate([enc[i][0] for i in idx] + [enc[i][1] for i in idx], pid)
        batch["idx"] = torch.tensor(idx, dtype=torch.long)
        return batch

    if cfg.lora.enabled:
        model = apply_lora(model, cfg.lora)
    frozen = None
    if not cfg.precompute_ref and not is_peft_model(model):
        frozen = copy.deepcopy(model).eval().requires_grad_(False).to(acc.device)
    ref = torch.zeros(len(enc), 2, device=acc.device)

    def reference(wrapped: Any, batch: dict[str, Any]) -> Any:
        """Reference log-probs of a collated batch: adapters off, or the frozen copy."""
        net = frozen if frozen is not None else acc.unwrap_model(wrapped)
        off = net.disable_adapter() if is_peft_model(net) else contextlib.nullcontext()
        was_training = net.training
        net.eval()
        with torch.no_grad(), off, acc.autocast():
            lp = sequence_logps(net, batch)
        net.train(was_training)
        return lp

    def precompute(wrapped: Any, out: Path | None) -> None:
        cache = out / REF_CACHE if out is not None else None
        key = _fingerprint(enc, acc.unwrap_model(wrapped))
        if cache is not None and cache.is_file():
            blob = torch.load(cache, map_location="cpu", weights_only=True)
            if blob.get("fingerprint") == key and tuple(blob["logps"].shape) == (len(enc), 2):
                ref.copy_(blob["logps"].to(acc.device))
                return
        # each process scores every world-th pair, then a sum puts the pieces together
        mine = list(range(acc.process_index, len(enc), acc.num_processes))
        for start in range(0, len(mine), cfg.batch_size):
            idx = mine[start : start + cfg.batch_size]
            batch = {k: v.to(acc.device) for k, v in collate_fn(idx).items()}
            lp = reference(wrapped, batch)
            ref[idx, 0], ref[idx, 1] = lp[: len(idx)].float(), lp[len(idx) :].float()
        ref.copy_(acc.reduce(ref, reduction="sum"))
        if cache is not None and acc.is_main_process:
            import io

            buf = io.BytesIO()
            torch.save({"fingerprint": key, "logps": ref.cpu()}, buf)
            atomic_write_bytes(cache, buf.getvalue())

    def step_fn(wrapped: Any, batch: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        idx = batch["idx"]
        k = idx.shape[0]
        lp = sequence_logps(wrapped, batch)
        if cfg.precompute_ref:
            ref_c, ref_r = ref[idx, 0], ref[idx, 1]
        else:
            r = reference(wrapped, batch)
            ref_c, ref_r = r[:k], r[k:]
        loss, rc, rr = dpo_loss(lp[:k], lp[k:], ref_c, ref_r, cfg.beta, cfg.label_smoothing)
        stats = {
            "rewards/chosen": rc.mean(),
            "rewards/rejected": rr.mean(),
            "rewards/accuracy": (rc > rr).float().mean(),
            "rewards/margin": (rc - rr).mean(),
            "logps/chosen": lp[:k].detach().mean(),
            "logps/rejected": lp[k:].detach().mean(),
        }
        return loss.mean(), stats

    return _run_loop(
        acc=acc,
        model=model,
        tokenizer=tokenizer,
        n=len(enc),
        cfg=cfg,
        collate_fn=collate_fn,
        step_fn=step_fn,
        run_dir=run_dir,
        resume=resume,
        desc="DPO",
        before_training=precompute if cfg.precompute_ref else None,
    )


# -- SFT ----------------------------------------------------------------------------------------
def train_sft(
    model: Any,
    tokenizer: Any,
    examples: Sequence[dict[str, Any]],
    config: SFTConfig | None = None,
    run_dir: RunDir | None = None,
    *,
    resume: bool = False,
) -> TrainResult:
    """Supervised fine-tuning on ``{prompt, completion}`` dicts; loss on completion tokens only."""
    cfg = config or SFTConfig()
    examples = check_examples(examples)
    _check_output(cfg, run_dir, resume)
    if cfg.backend == "trl":
        from ennead.core.train.trl_backend import train_sft_trl

        return train_sft_trl(model, tokenizer, examples, cfg, run_dir, resume=resume)
    accelerate = require("accelerate", "lm", "training")
    acc = _accelerator(cfg)
    accelerate.utils.set_seed(cfg.seed)
    enc = [
        encode(
            tokenizer,
            e["prompt"],
            e["completion"],
            cfg.max_length,
            cfg.max_prompt_length,
            add_eos=cfg.add_eos,
        )
        for e in examples
    ]
    pid = pad_id(tokenizer)

    def collate_fn(idx: list[int]) -> dict[str, Any]:
        return collate([enc[i] for i in idx], pid)

    def step_fn(wrapped: Any, batch: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        out = wrapped(**batch)
        return out.loss, {}

    if cfg.lora.enabled:
        model = apply_lora(model, cfg.lora)
    return _run_loop(
        acc=acc,
        model=model,
        tokenizer=tokenizer,
        n=len(enc),
        cfg=cfg,
        collate_fn=collate_fn,
        step_fn=step_fn,
        run_dir=run_dir,
        resume=resume,
        desc="SFT",
    )


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
