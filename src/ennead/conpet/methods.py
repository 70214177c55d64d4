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
        self.seconds = 0.0

    def as_dict(self) -> dict[str, float]:
        return {
            "forwards": self.forwards,
            "steps": self.steps,
            "avoided": self.avoided,
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
        opt.zero_grad(set_to_none=True)
        loss.backward()
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
        for batch in self.batches(t, rng):
            h = self.bb.represent(self.model, self.bb.batch(batch))
            logits = self.head(h)[:, :n_seen]
            loss = torch.nn.functional.cross_entropy(logits, self.targets(batch))
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

    def _expert_logits(self, j: int, examples: Sequence[Example]) -> Any:
        """Frozen module j's logits over its labels (from the cache when filled)."""
        torch = self.torch
        width = len(self.stream.tasks[j].labels)
        out = torch.empty((len(examples), width), device=self.bb.device)
        todo = list(range(len(examples)))
        if self.cache is not None:
            uids = [e.uid for e in examples]
            hit = self.cache.filled[j, uids].astype(bool)
            if hit.any():
                rows = [i for i in todo if hit[i]]
                vals = self.cache.values[j, [uids[i] for i in rows], :width]
                out[rows] = torch.from_numpy(vals.copy()).to(out.device)
                self.cost.avoided += len(rows)
            todo = [i for i in todo if not hit[i]]
        if todo:
            self._use(self.experts[j], train=False)
            with torch.no_grad():
                h = self.bb.represent(self.model, self.bb.batch([examples[i] for i in todo]))
                logits = self.heads[j](h)
            out[todo] = logits
            self.cost.forwards += len(todo)
            if self.cache is not None:
                uids_todo = [examples[i].uid for i in todo]
                self.cache.values[j, uids_todo, :width] = logits.cpu().numpy()
                self.cache.filled[j, uids_todo] = 1
        return out

    def _select(self, examples: Sequence[Example], t: int, k: int) -> Any:
        """Top-k tasks per example by the selector (task 1 alone needs no selector)."""
        torch = self.torch
        if t == 0:
            return torch.zeros((len(examples), 1), dtype=torch.long, device=self.bb.device)
        self._use("selector", train=False)
        with torch.no_grad():
            h = self.bb.represent(self.model, self.bb.batch(examples))
            logits = self.selector_head(h)[:, : t + 1]
        self.cost.forwards += len(examples)
        return logits.topk(min(k, t + 1), dim=-1).indices

    def _route(self, examples: Sequence[Example], t: int, sel: Any, train: bool) -> Any:
        """Logits over all seen labels: the selected modules' columns, ``null_logit`` elsewhere."""
        torch = self.torch
        n_seen = self.offsets[t + 1]
        logits = torch.full(
            (len(examples), n_seen), self.cfg.dynamic.null_logit, device=self.bb.device
        )
        for j in sorted(set(sel.flatten().tolist())):
            rows = (sel == j).any(-1).nonzero().flatten().tolist()
            sub = [examples[i] for i in rows]
            lo, hi = self.offsets[j], self.offsets[j + 1]
            if train and j == t:
                self._use(self.experts[t], train=True)
                h = self.bb.represent(self.model, self.bb.batch(sub))
                vals = self.heads[t](h)
                self.cost.forwards += len(sub)
            else:
                vals = self._expert_logits(j, sub)
            index = torch.tensor(rows, device=self.bb.device)
            logits = logits.index_put(
                (index[:, None], torch.arange(lo, hi, device=index.device)[None, :]), vals
            )
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
            for batch in self.sampler(t, rng, dyn.selector_batches):
                h = self.bb.represent(self.model, self.bb.batch(batch))
                logits = self.selector_head(h)[:, : t + 1]
                y = torch.tensor([self.task_of[e.label] for e in batch], device=self.bb.device)
                self.step(opt, F.cross_entropy(logits, y), params)
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
            if not keep:
                continue
            rows = [batch[i] for i in keep]
            self.model.train()
            logits = self._route(rows, t, sel[keep], train=True)
            self.step(opt, F.cross_entropy(logits, self.targets(rows)), params)
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
