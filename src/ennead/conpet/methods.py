"""The methods of one harness: ConPET (Static, Dynamic) and the baselines.

| method | tunable | data per task |
|---|---|---|
| ``sequential`` | one LoRA + growing head | the new task only, ``epochs`` epochs (forgets) |
| ``static`` | one LoRA + growing head | dynamic replay sampler: ``L`` batches, half new, half old |
| ``dynamic`` | a LoRA + head per task, a selector LoRA + head | sampler; top-k routing |
| ``replay`` | one LoRA + growing head | unlimited replay (EMR-style): all data so far, ``epochs`` |
| ``full`` | every backbone weight + head | dynamic replay sampler (as static) |
| ``joint`` | one LoRA + head | all tasks at once after the last task (upper bound) |

Every learner counts its cost: examples forwarded through the backbone, optimizer steps and, for
Dynamic ConPET, forward passes of frozen modules avoided by the logit cache.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ennead.conpet.backbone import Backbone
from ennead.conpet.config import ConPETConfig
from ennead.conpet.sampler import DynamicReplaySampler, epoch_batches
from ennead.conpet.stream import Example, Stream
from ennead.core.errors import DataError
from ennead.core.imports import require


class Cost:
    def __init__(self) -> None:
        self.forwards = 0  # examples through the backbone (any module)
        self.steps = 0  # optimizer steps
        self.avoided = 0  # frozen-module forwards answered by the logit cache
        self.passes = 0  # forward calls of Dynamic ConPET's routed modules (batches, not rows)
        self.seconds = 0.0

    def as_dict(self) -> dict[str, float]:
        return {
            "forwards": self.forwards,
            "steps": self.steps,
            "avoided": self.avoided,
            "passes": self.passes,
            "seconds": round(self.seconds, 4),
        }


class LogitCache:
    """Logits of frozen PET modules per (task, example), in a memory-mapped file."""

    def __init__(self, folder: Path, n_tasks: int, n_rows: int, width: int):
        import numpy as np

        folder.mkdir(parents=True, exist_ok=True)
        shape = (n_tasks, n_rows, width)
        mode: Any = "r+" if (folder / "logits.f32").exists() else "w+"
        self.values = np.memmap(folder / "logits.f32", dtype="float32", mode=mode, shape=shape)
        self.filled = np.memmap(folder / "filled.u8", dtype="uint8", mode=mode, shape=shape[:2])

    def invalidate_from(self, task: int) -> None:
        """Modules ``task`` and later are (re)trained: forget what they gave before."""
        self.filled[task:] = 0
        self.filled.flush()


class Learner:
    name = "base"

    def __init__(self, bb: Backbone, stream: Stream, cfg: ConPETConfig):
        self.torch = require("torch", "conpet", "training")
        self.bb, self.stream, self.cfg = bb, stream, cfg
        self.label_index = {lab: i for i, lab in enumerate(stream.labels)}
        self.offsets = [0]
        for task in stream.tasks:
            self.offsets.append(self.offsets[-1] + len(task.labels))
        self.task_of = stream.label_task()
        self.dist: Any = None  # a parallel.DataParallel under accelerate launch

    def part(self, rows: Sequence[Any]) -> tuple[list[Any], float]:
        """This process's rows of a batch and their share of it (all of it in one process)."""
        if self.dist is None:
            return list(rows), 1.0
        return self.dist.share(rows)  # type: ignore[no-any-return]

    def modules(self) -> list[Any]:
        """Every module with weights (synchronised from the main process when launched)."""
        raise NotImplementedError

    # -- helpers ---------------------------------------------------------------------------
    def targets(self, examples: Sequence[Example]) -> Any:
        return self.torch.tensor(
            [self.label_index[e.label] for e in examples], device=self.bb.device
        )

    def optimizer(self, params: Iterable[Any], lr: float) -> Any:
        params = [p for p in params if p.requires_grad]
        return self.torch.optim.AdamW(
            params, lr=lr, weight_decay=self.cfg.train.weight_decay, eps=1e-6
        )

    def step(self, opt: Any, loss: Any, params: list[Any]) -> None:
        """One update; ``loss`` is None for a process whose share of the batch is empty."""
        opt.zero_grad(set_to_none=True)
        if loss is not None:
            loss.backward()
        if self.dist is not None:
            self.dist.sum_grads(params)
        self.torch.nn.utils.clip_grad_norm_(params, self.cfg.train.grad_clip)
        opt.step()

    def sampler(
        self, t: int, rng: random.Random, batches: int | None = None
    ) -> DynamicReplaySampler[Example]:
        old = [task.train for task in self.stream.tasks[:t]]
        tr = self.cfg.train
        return DynamicReplaySampler(
            self.stream.tasks[t].train,
            old,
            tr.batch_size,
            batches or tr.batches_per_task,
            rng,
            tr.new_old_ratio,
        )

    # -- interface ---------------------------------------------------------------------------
    def train_task(self, t: int, rng: random.Random) -> Cost:
        raise NotImplementedError

    def predict(self, examples: Sequence[Example], t: int) -> tuple[list[int], list[int] | None]:
        raise NotImplementedError

    def state(self) -> dict[str, Any]:
        raise NotImplementedError

    def load_state(self, state: dict[str, Any]) -> None:
        raise NotImplementedError

    def tunable_parameters(self, t: int) -> int:
        raise NotImplementedError

    def start_task(self, t: int) -> None:
        """Called before ``train_task`` (also on resume)."""


class SingleModule(Learner):
    """One PET module (or the whole backbone) and one head over all labels; the methods differ in
    the batches they train on."""

    def __init__(self, bb: Backbone, stream: Stream, cfg: ConPETConfig, method: str):
        super().__init__(bb, stream, cfg)
        self.name = method
        torch = self.torch
        self.full = method == "full"
        self.cost = Cost()
        self.model = bb.full_copy() if self.full else bb.with_adapters(["pet"])
        self.head = torch.nn.Linear(bb.hidden, len(stream.labels)).to(bb.device)

    def batches(self, t: int, rng: random.Random) -> Iterable[list[Example]]:
        tr, tasks = self.cfg.train, self.stream.tasks
        if self.name == "sequential":
            return epoch_batches(tasks[t].train, tr.batch_size, tr.epochs, rng)
        if self.name in ("replay", "joint"):
            data = [e for task in tasks[: t + 1] for e in task.train]
            return epoch_batches(data, tr.batch_size, tr.epochs, rng)
        return self.sampler(t, rng)  # static, full

    def train_task(self, t: int, rng: random.Random) -> Cost:
        torch, cost = self.torch, Cost()
        start = time.perf_counter()
        n_seen = self.offsets[t + 1]
        params = [p for p in self.model.parameters() if p.requires_grad]
        lr = self.cfg.train.full_lr if self.full else self.cfg.train.lr
        groups = [{"params": params, "lr": lr}, {"params": list(self.head.parameters())}]
        opt = torch.optim.AdamW(
            groups, lr=self.cfg.train.lr, weight_decay=self.cfg.train.weight_decay, eps=1e-6
        )
        every = params + list(self.head.parameters())
        self.model.train()
        for full in self.batches(t, rng):
            batch, share = self.part(full)
            loss = None
            if batch:
                h = self.bb.represent(self.model, self.bb.batch(batch))
                logits = self.head(h)[:, :n_seen]
                loss = torch.nn.functional.cross_entropy(logits, self.targets(batch)) * share
            self.step(opt, loss, every)
            cost.forwards += len(batch)
            cost.steps += 1
        self.model.eval()
        cost.seconds = time.perf_counter() - start
        self.cost = cost
        return cost

    def predict(self, examples: Sequence[Example], t: int) -> tuple[list[int], list[int] | None]:
        torch, n_seen = self.torch, self.offsets[t + 1]
        self.cost.forwards += len(examples)
        preds: list[int] = []
        size = self.cfg.train.eval_batch_size
        with torch.no_grad():
            for i in range(0, len(examples), size):
                chunk = examples[i : i + size]
                h = self.bb.represent(self.model, self.bb.batch(chunk))
                preds += self.head(h)[:, :n_seen].argmax(-1).tolist()
        return preds, None

    def modules(self) -> list[Any]:
        return [self.model, self.head]

    def state(self) -> dict[str, Any]:
        params = {n: p.detach().cpu() for n, p in self.model.named_parameters() if p.requires_grad}
        return {"model": params, "head": self.head.state_dict()}

    def load_state(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"], strict=False)
        self.head.load_state_dict(state["head"])

    def tunable_parameters(self, t: int) -> int:
        n_seen = self.offsets[t + 1]
        body = sum(p.numel() for p in self.model.parameters() if p.requires_grad)
        return body + n_seen * (self.bb.hidden + 1)


class DynamicConPET(Learner):
    """One LoRA + head per task, a selector LoRA + head over tasks, top-k routing with the other
    tasks' logits at ``null_logit``, teacher forcing, and a logit cache for frozen modules."""

    name = "dynamic"

    def __init__(self, bb: Backbone, stream: Stream, cfg: ConPETConfig, cache: Path | None):
        super().__init__(bb, stream, cfg)
        torch = self.torch
        T = len(stream.tasks)
        self.experts = [f"task{j + 1}" for j in range(T)]
        self.model = bb.with_adapters(["selector", *self.experts])
        self.heads = torch.nn.ModuleList(
            [torch.nn.Linear(bb.hidden, len(task.labels)) for task in stream.tasks]
        ).to(bb.device)
        self.selector_head = torch.nn.Linear(bb.hidden, T).to(bb.device)
        width = max(len(task.labels) for task in stream.tasks)
        self.cache = (
            LogitCache(cache, T, stream.size, width)
            if cache is not None and cfg.dynamic.logit_cache
            else None
        )
        self.cost = Cost()

    def start_task(self, t: int) -> None:
        if self.cache is not None:
            self.cache.invalidate_from(t)

    def _use(self, adapter: str, train: bool) -> None:
        self.model.set_adapter(adapter, inference_mode=not train)

    def _params(self, adapter: str) -> list[Any]:
        return [p for n, p in self.model.named_parameters() if f".{adapter}." in n and "lora_" in n]

    def _frozen_logits(self, pairs: Sequence[tuple[int, Example]]) -> list[Any]:
        """Logits of frozen modules, one row per (module j, example) pair, over module j's labels:
        from the cache when filled; the rest in one forward whose rows use different adapters
        (PEFT's ``adapter_names=``, ``dynamic.mixed_batches``) or in one forward per module."""
        torch = self.torch
        out: list[Any] = [None] * len(pairs)
        by_module: dict[int, list[int]] = {}
        for i, (j, _) in enumerate(pairs):
            by_module.setdefault(j, []).append(i)
        todo: list[int] = []
        for j, idx in sorted(by_module.items()):
            width = len(self.stream.tasks[j].labels)
            if self.cache is None:
                todo += idx
                continue
            uids = [pairs[i][1].uid for i in idx]
            hit = self.cache.filled[j, uids].astype(bool)
            if hit.any():
                vals = torch.from_numpy(self.cache.values[j, [u for u, h in zip(uids, hit) if h]])
                for i, row in zip([i for i, h in zip(idx, hit) if h], vals):
                    out[i] = row[:width].to(self.bb.device)
                self.cost.avoided += int(hit.sum())
            todo += [i for i, h in zip(idx, hit) if not h]
        if not todo:
            return out
        if self.cfg.dynamic.mixed_batches:
            groups = [todo]
        else:
            groups = [[i for i in todo if pairs[i][0] == j] for j in sorted(by_module)]
        training = self.model.training
        self.model.eval()  # frozen modules: no dropout; PEFT mixes adapters only in eval mode
        with torch.no_grad():
            for group in [g for g in groups if g]:
                batch = self.bb.batch([pairs[i][1] for i in group])
                names = [self.experts[pairs[i][0]] for i in group]
                if self.cfg.dynamic.mixed_batches:
                    h = self.bb.represent(self.model, batch, adapter_names=names)
                else:
                    self._use(names[0], train=False)
                    h = self.bb.represent(self.model, batch)
                self.cost.forwards += len(group)
                self.cost.passes += 1
                for j in sorted({pairs[i][0] for i in group}):
                    rows = [r for r, i in enumerate(group) if pairs[i][0] == j]
                    logits = self.heads[j](h[rows])
                    for r, row in zip(rows, logits):
                        out[group[r]] = row
                    if self.cache is not None:
                        uids = [pairs[group[r]][1].uid for r in rows]
                        width = logits.shape[1]
                        self.cache.values[j, uids, :width] = logits.cpu().numpy()
                        self.cache.filled[j, uids] = 1
        self.model.train(training)
        return out

    def _select(self, examples: Sequence[Example], t: int, k: int) -> Any:
        """Top-k tasks per example by the selector (task 1 alone needs no selector)."""
        torch = self.torch
        if t == 0:
            return torch.zeros((len(examples), 1), dtype=torch.long, device=self.bb.device)
        self._use("selector", train=False)
        training = self.model.training
        self.model.eval()  # routing is deterministic (launched processes must agree on it)
        with torch.no_grad():
            h = self.bb.represent(self.model, self.bb.batch(examples))
            logits = self.selector_head(h)[:, : t + 1]
        self.model.train(training)
        self.cost.forwards += len(examples)
        return logits.topk(min(k, t + 1), dim=-1).indices

    def _route(self, examples: Sequence[Example], t: int, sel: Any, train: bool) -> Any:
        """Logits over all seen labels: the selected modules' columns, ``null_logit`` elsewhere."""
        torch = self.torch
        n_seen = self.offsets[t + 1]
        logits = torch.full(
            (len(examples), n_seen), self.cfg.dynamic.null_logit, device=self.bb.device
        )
        picks = sorted({(i, j) for i, row in enumerate(sel.tolist()) for j in row})
        frozen = [(i, j) for i, j in picks if not (train and j == t)]
        values = self._frozen_logits([(j, examples[i]) for i, j in frozen])
        for (i, j), vals in zip(frozen, values):
            logits[i, self.offsets[j] : self.offsets[j + 1]] = vals
        learn = [i for i, j in picks if train and j == t]
        if learn:  # the new module, with gradients
            self._use(self.experts[t], train=True)
            self.model.train()
            h = self.bb.represent(self.model, self.bb.batch([examples[i] for i in learn]))
            self.cost.forwards += len(learn)
            self.cost.passes += 1
            index = torch.tensor(learn, device=self.bb.device)
            cols = torch.arange(self.offsets[t], self.offsets[t + 1], device=index.device)
            logits = logits.index_put((index[:, None], cols[None, :]), self.heads[t](h))
        return logits

    def train_task(self, t: int, rng: random.Random) -> Cost:
        torch = self.torch
        self.cost = Cost()
        start = time.perf_counter()
        F = torch.nn.functional
        if t > 0:  # stage A: the selector learns which task an example belongs to
            self._use("selector", train=True)
            params = self._params("selector") + list(self.selector_head.parameters())
            dyn = self.cfg.dynamic
            opt = self.optimizer(params, dyn.selector_lr or self.cfg.train.lr)
            self.model.train()
            for full in self.sampler(t, rng, dyn.selector_batches):
                batch, share = self.part(full)
                loss = None
                if batch:
                    h = self.bb.represent(self.model, self.bb.batch(batch))
                    logits = self.selector_head(h)[:, : t + 1]
                    y = [self.task_of[e.label] for e in batch]
                    target = torch.tensor(y, device=self.bb.device)
                    loss = F.cross_entropy(logits, target) * share
                self.step(opt, loss, params)
                self.cost.forwards += len(batch)
                self.cost.steps += 1
        # stage B: the new expert, routed as at inference (teacher forcing keeps the true task)
        self._use(self.experts[t], train=True)
        params = self._params(self.experts[t]) + list(self.heads[t].parameters())
        opt = self.optimizer(params, self.cfg.train.lr)
        dyn = self.cfg.dynamic
        for batch in self.sampler(t, rng):
            true = torch.tensor([self.task_of[e.label] for e in batch], device=self.bb.device)
            if dyn.topk == 1 and dyn.teacher_forcing:  # the forced task replaces the only pick
                sel = true[:, None]
            else:
                sel = self._select(batch, t, dyn.topk)
                if dyn.teacher_forcing:
                    miss = ~(sel == true[:, None]).any(-1)
                    sel[miss, -1] = true[miss]
            # Rows not routed to the new module have a loss that no trainable weight changes
            # (their own columns are frozen logits, the new ones -100): leave them out.
            keep = (sel == t).any(-1).nonzero().flatten().tolist()
            if not keep:  # every process sees the same batch, so all skip it alike
                continue
            keep, share = self.part(keep)
            loss = None
            if keep:
                rows = [batch[i] for i in keep]
                self.model.train()
                logits = self._route(rows, t, sel[keep], train=True)
                loss = F.cross_entropy(logits, self.targets(rows)) * share
            self.step(opt, loss, params)
            self.cost.steps += 1
        self.model.eval()
        self.cost.seconds = time.perf_counter() - start
        return self.cost

    def predict(self, examples: Sequence[Example], t: int) -> tuple[list[int], list[int] | None]:
        preds: list[int] = []
        chosen: list[int] = []
        size = self.cfg.train.eval_batch_size
        self.model.eval()
        with self.torch.no_grad():
            for i in range(0, len(examples), size):
                chunk = examples[i : i + size]
                sel = self._select(chunk, t, self.cfg.dynamic.topk)
                preds += self._route(chunk, t, sel, train=False).argmax(-1).tolist()
                chosen += sel[:, 0].tolist()
        return preds, chosen

    def modules(self) -> list[Any]:
        return [self.model, self.heads, self.selector_head]

    def state(self) -> dict[str, Any]:
        lora = {n: p.detach().cpu() for n, p in self.model.named_parameters() if "lora_" in n}
        return {
            "model": lora,
            "heads": self.heads.state_dict(),
            "selector_head": self.selector_head.state_dict(),
        }

    def load_state(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"], strict=False)
        self.heads.load_state_dict(state["heads"])
        self.selector_head.load_state_dict(state["selector_head"])

    def tunable_parameters(self, t: int) -> int:
        """Tunable while training task t: the new expert + head and the selector + head."""
        expert = sum(p.numel() for p in self._params(self.experts[t]))
        selector = sum(p.numel() for p in self._params("selector"))
        head = len(self.stream.tasks[t].labels) * (self.bb.hidden + 1)
        return expert + head + (selector + (t + 1) * (self.bb.hidden + 1) if t else 0)


def make_learner(
    method: str, bb: Backbone, stream: Stream, cfg: ConPETConfig, cache: Path | None
) -> Learner:
    if method == "dynamic":
        return DynamicConPET(bb, stream, cfg, cache)
    if method in ("sequential", "static", "replay", "full", "joint"):
        return SingleModule(bb, stream, cfg, method)
    raise DataError(f"unknown method {method!r}")
