"""Data-parallel training of one stream over several processes (``accelerate launch``).

Every process draws the same batches (same seeds), forwards its share of the rows
(``batch[rank::world]``), scales its loss by that share and sums the gradients of the tunable
parameters over the processes before clipping and the optimizer step: the update equals the
single-process one up to float rounding. The gradient sum is one ``all_reduce`` of the flattened
tunable gradients (LoRA + heads: a few MB), so a ZeRO-2 launch config only starts the processes;
its optimizer-state sharding does not apply.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ennead.core.imports import require


class DataParallel:
    """This process's place in the launched group (accelerate's ``PartialState``)."""

    def __init__(self, cpu: bool) -> None:
        accelerate = require("accelerate", "conpet", "training under accelerate launch")
        self.torch = require("torch", "conpet", "training under accelerate launch")
        # cpu: a gloo group over the launched processes (without it accelerate sees no GPU and
        # leaves each process alone)
        self.state = accelerate.PartialState(cpu=cpu or not self.torch.cuda.is_available())
        self.rank = int(self.state.process_index)
        self.world = int(self.state.num_processes)
        self.device = str(self.state.device)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def share(self, rows: Sequence[Any]) -> tuple[list[Any], float]:
        """This process's rows of a batch every process drew alike, and their share of it."""
        mine = list(rows)[self.rank :: self.world]
        return mine, len(mine) / max(1, len(rows))

    def sum_grads(self, params: Sequence[Any]) -> None:
        torch = self.torch
        if self.world == 1 or not params:
            return
        flat = torch.cat(
            [(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) for p in params]
        )
        torch.distributed.all_reduce(flat)
        offset = 0
        for p in params:
            n = p.numel()
            p.grad = flat[offset : offset + n].view_as(p).clone()
            offset += n

    def broadcast(self, modules: Iterable[Any], tunable_only: bool = False) -> None:
        """Start every process from the main process's weights (the frozen base once; then each
        learner's tunable ones)."""
        if self.world == 1:
            return
        with self.torch.no_grad():
            for module in modules:
                tensors = [p for p in module.parameters() if p.requires_grad or not tunable_only]
                if not tunable_only:
                    tensors += list(module.buffers())
                for tensor in tensors:
                    self.torch.distributed.broadcast(tensor.data, 0)

    def barrier(self) -> None:
        self.state.wait_for_everyone()
