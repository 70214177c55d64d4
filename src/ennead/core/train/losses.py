"""Losses the one training loop plugs in: SFT, DPO, or your own.

A loss turns rows (dicts) into batches and a batch into ``(loss, stats)``; the loop in
:mod:`~ennead.core.train.trainer` does the rest (optimizer, accumulation, processes,
checkpoints, logging, callbacks). A custom loss subclasses :class:`TrainLoss` (or one of the
two here) and overrides what differs, usually ``compute``::

    class MeanTokenNLL(SFTLoss):
        name = "sft-mean"

        def compute(self, model, batch):
            return -sequence_logps(model, batch, average=True).mean(), {}

    Trainer(MeanTokenNLL(), SFTConfig(max_steps=10)).train(model, tok, examples)

``stats`` values are scalar tensors; they are averaged like the loss and logged per step.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ennead.core.imports import require
from ennead.core.io import atomic_write_bytes
from ennead.core.train.config import TrainConfig
from ennead.core.train.data import check_examples, check_pairs, collate, encode, pad_id
from ennead.core.train.dpo import dpo_loss, sequence_logps
from ennead.core.train.lora import is_peft_model

REF_CACHE = "ref_logps.pt"


class TrainLoss:
    """A pluggable loss. The loop calls, in order:

    1. ``check(rows)`` -- validate the rows (typed errors naming the bad row);
    2. ``prepare(tokenizer, rows, cfg, acc)`` -- encode them; returns the number of rows;
    3. ``setup(model, acc)`` -- after LoRA is applied, before ``accelerate.prepare``;
    4. ``before_training(model, acc, output_dir)`` -- after ``prepare``, before the first step;
    5. ``collate(idx)`` -- the batch of the rows at ``idx``;
    6. ``compute(model, batch)`` -- ``(scalar loss tensor, {name: scalar tensor})``.

    ``trl_kind`` names the TRL trainer computing the same loss (``"dpo"`` or ``"sft"``);
    a loss without one trains only with ``backend="ennead"``.
    """

    name: str = "train"
    trl_kind: str | None = None

    @staticmethod
    def check(rows: Sequence[Any], /) -> list[dict[str, Any]]:
        return [dict(r) for r in rows]

    def prepare(
        self, tokenizer: Any, rows: list[dict[str, Any]], cfg: TrainConfig, acc: Any
    ) -> int:
        raise NotImplementedError

    def setup(self, model: Any, acc: Any) -> None:
        """Nothing by default."""

    def before_training(self, model: Any, acc: Any, output_dir: Path | None) -> None:
        """Nothing by default."""

    def collate(self, idx: list[int]) -> dict[str, Any]:
        raise NotImplementedError

    def compute(self, model: Any, batch: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        raise NotImplementedError


def _encode(
    tokenizer: Any, rows: list[dict[str, Any]], key: str, cfg: TrainConfig, add_eos: bool = True
) -> list[tuple[list[int], int]]:
    """Every row's prompt + ``row[key]`` as ``(ids, prompt length)``."""
    limits = (cfg.max_length, cfg.max_prompt_length)
    return [encode(tokenizer, r["prompt"], r[key], *limits, add_eos=add_eos) for r in rows]


class SFTLoss(TrainLoss):
    """Next-token cross-entropy on ``{prompt, completion}`` rows, completion tokens only."""

    name, trl_kind = "SFT", "sft"
    check = staticmethod(check_examples)

    def prepare(
        self, tokenizer: Any, rows: list[dict[str, Any]], cfg: TrainConfig, acc: Any
    ) -> int:
        self.enc = _encode(tokenizer, rows, "completion", cfg, bool(getattr(cfg, "add_eos", True)))
        self.pad = pad_id(tokenizer)
        return len(self.enc)

    def collate(self, idx: list[int]) -> dict[str, Any]:
        return collate([self.enc[i] for i in idx], self.pad)

    def compute(self, model: Any, batch: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        return model(**batch).loss, {}


def _fingerprint(rows: Any, model: Any) -> str:
    """Data plus reference weights: a cached reference is reused only for both unchanged."""
    h = hashlib.sha256(json.dumps(rows).encode())
    h.update(type(model).__name__.encode())
    for name, p in model.named_parameters():
        if "lora_" not in name:
            h.update(f"{name}:{float(p.detach().float().sum()):.6e}".encode())
    return h.hexdigest()


class DPOLoss(TrainLoss):
    """Sigmoid DPO on ``{prompt, chosen, rejected}`` rows; ``beta``, ``label_smoothing`` and
    ``precompute_ref`` come from the :class:`~ennead.core.train.DPOConfig`.

    The reference is the same weights with the LoRA adapters off, or a frozen copy when all
    weights train. With ``precompute_ref`` its log-probs are computed once before the first step
    and cached in the output folder (``ref_logps.pt``) for resumed runs.
    """

    name, trl_kind = "DPO", "dpo"
    check = staticmethod(check_pairs)

    def prepare(
        self, tokenizer: Any, rows: list[dict[str, Any]], cfg: TrainConfig, acc: Any
    ) -> int:
        torch = require("torch", "lm", "training")
        self.beta = float(getattr(cfg, "beta", 0.1))
        self.label_smoothing = float(getattr(cfg, "label_smoothing", 0.0))
        self.precompute_ref = bool(getattr(cfg, "precompute_ref", True))
        self.batch_size = cfg.batch_size
        chosen, rejected = (_encode(tokenizer, rows, key, cfg) for key in ("chosen", "rejected"))
        self.enc = list(zip(chosen, rejected))
        self.pad = pad_id(tokenizer)
        self.ref = torch.zeros(len(self.enc), 2, device=acc.device)
        self.frozen: Any = None
        self.acc = acc
        return len(self.enc)

    def collate(self, idx: list[int]) -> dict[str, Any]:
        torch = require("torch", "lm", "training")
        # chosen rows, then rejected rows: one forward pass scores both
        batch = collate([self.enc[i][0] for i in idx] + [self.enc[i][1] for i in idx], self.pad)
        batch["idx"] = torch.tensor(idx, dtype=torch.long)
        return batch

    def setup(self, model: Any, acc: Any) -> None:
        if not self.precompute_ref and not is_peft_model(model):
            self.frozen = copy.deepcopy(model).eval().requires_grad_(False).to(acc.device)

    def reference(self, wrapped: Any, batch: dict[str, Any]) -> Any:
        """Reference log-probs of a collated batch: adapters off, or the frozen copy."""
        torch = require("torch", "lm", "training")
        acc = self.acc
        net = self.frozen if self.frozen is not None else acc.unwrap_model(wrapped)
        off = net.disable_adapter() if is_peft_model(net) else contextlib.nullcontext()
        was_training = net.training
        net.eval()
        with torch.no_grad(), off, acc.autocast():
            lp = sequence_logps(net, batch)
        net.train(was_training)
        return lp

    def before_training(self, model: Any, acc: Any, output_dir: Path | None) -> None:
        if not self.precompute_ref:
            return
        torch = require("torch", "lm", "training")
        enc, ref = self.enc, self.ref
        cache = output_dir / REF_CACHE if output_dir is not None else None
        key = _fingerprint(enc, acc.unwrap_model(model))
        if cache is not None and cache.is_file():
            blob = torch.load(cache, map_location="cpu", weights_only=True)
            if blob.get("fingerprint") == key and tuple(blob["logps"].shape) == (len(enc), 2):
                ref.copy_(blob["logps"].to(acc.device))
                return
        # each process scores every world-th pair, then a sum puts the pieces together
        mine = list(range(acc.process_index, len(enc), acc.num_processes))
        for start in range(0, len(mine), self.batch_size):
            idx = mine[start : start + self.batch_size]
            batch = {k: v.to(acc.device) for k, v in self.collate(idx).items()}
            lp = self.reference(model, batch)
            ref[idx, 0], ref[idx, 1] = lp[: len(idx)].float(), lp[len(idx) :].float()
        ref.copy_(acc.reduce(ref, reduction="sum"))
        if cache is not None and acc.is_main_process:
            buf = io.BytesIO()
            torch.save({"fingerprint": key, "logps": ref.cpu()}, buf)
            atomic_write_bytes(cache, buf.getvalue())

    def compute(self, model: Any, batch: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        idx = batch["idx"]
        k = idx.shape[0]
        lp = sequence_logps(model, batch)
        if self.precompute_ref:
            ref_c, ref_r = self.ref[idx, 0], self.ref[idx, 1]
        else:
            r = self.reference(model, batch)
            ref_c, ref_r = r[:k], r[k:]
        loss, rc, rr = dpo_loss(lp[:k], lp[k:], ref_c, ref_r, self.beta, self.label_smoothing)
        stats = {
            "rewards/chosen": rc.mean(),
            "rewards/rejected": rr.mean(),
            "rewards/accuracy": (rc > rr).float().mean(),
            "rewards/margin": (rc - rr).mean(),
            "logps/chosen": lp[:k].detach().mean(),
            "logps/rejected": lp[k:].detach().mean(),
        }
        return loss.mean(), stats
