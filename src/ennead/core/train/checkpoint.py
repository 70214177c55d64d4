"""Atomic training checkpoints on top of ``accelerate.save_state``.

A checkpoint folder ``checkpoint-<step>`` holds the optimizer, scheduler, per-process RNG states,
``trainer_state.json`` and the weights: only the adapter (``adapter/``, PEFT format) with LoRA,
the whole model otherwise, DeepSpeed's own files under DeepSpeed. It is written as
``.checkpoint-<step>.tmp`` and renamed when complete, and only folders with ``trainer_state.json``
count, so a crash mid-save leaves nothing that looks like a checkpoint.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

from ennead.core.errors import StageError
from ennead.core.imports import require
from ennead.core.io import atomic_write_json
from ennead.core.train.lora import is_peft_model

STATE_FILE = "trainer_state.json"
_NAME = re.compile(r"^checkpoint-(\d+)$")


def list_checkpoints(out: str | Path) -> list[Path]:
    """Complete checkpoints under ``out``, oldest first."""
    out = Path(out)
    if not out.is_dir():
        return []
    found = [
        (int(m.group(1)), p)
        for p in out.iterdir()
        if (m := _NAME.match(p.name)) and (p / STATE_FILE).is_file()
    ]
    return [p for _, p in sorted(found)]


def latest_checkpoint(out: str | Path) -> Path | None:
    found = list_checkpoints(out)
    return found[-1] if found else None


def _adapter_dir(folder: str | Path, i: int) -> Path:
    return Path(folder) / ("adapter" if i == 0 else f"adapter_{i}")


def register_adapter_hooks(acc: Any) -> list[Any]:
    """Make ``save_state``/``load_state`` store PEFT models as adapters only.

    Without this accelerate would write the frozen base weights into every checkpoint.
    """
    peft = require("peft", "lm", "LoRA checkpoints")

    def save_hook(models: list[Any], weights: list[Any], output_dir: str) -> None:
        # ``weights`` is empty under DeepSpeed, which saves its engines itself.
        for i in reversed(range(min(len(models), len(weights)))):
            model = acc.unwrap_model(models[i])
            if not is_peft_model(model):
                continue
            if acc.is_main_process:
                model.save_pretrained(str(_adapter_dir(output_dir, i)))
            weights.pop(i)

    def load_hook(models: list[Any], input_dir: str) -> None:
        for i in reversed(range(len(models))):
            model = acc.unwrap_model(models[i])
            folder = _adapter_dir(input_dir, i)
            if not (is_peft_model(model) and folder.is_dir()):
                continue
            state = peft.load_peft_weights(str(folder), device="cpu")
            result = peft.set_peft_model_state_dict(model, state)
            missing = [k for k in result.missing_keys if "lora_" in k]
            if result.unexpected_keys or missing:
                raise StageError(
                    f"{folder} does not match the model's adapters "
                    f"(unexpected: {result.unexpected_keys[:3]}, missing: {missing[:3]})"
                )
            models.pop(i)

    return [
        acc.register_save_state_pre_hook(save_hook),
        acc.register_load_state_pre_hook(load_hook),
    ]


def save_checkpoint(acc: Any, out: Path, step: int, state: dict[str, Any], keep: int) -> Path:
    """Save everything needed to resume at ``step``; every process must call this."""
    target = out / f"checkpoint-{step}"
    tmp = out / f".checkpoint-{step}.tmp"
    acc.wait_for_everyone()
    if acc.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
        out.mkdir(parents=True, exist_ok=True)
    acc.wait_for_everyone()
    acc.save_state(str(tmp))
    acc.wait_for_everyone()
    if acc.is_main_process:
        atomic_write_json(tmp / STATE_FILE, {**state, "step": step})
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
        for old in list_checkpoints(out)[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
    acc.wait_for_everyone()
    return target


def load_checkpoint(acc: Any, folder: Path) -> dict[str, Any]:
    """Restore model/adapter, optimizer, scheduler and RNG states; returns the trainer state."""
    state_file = folder / STATE_FILE
    if not state_file.is_file():
        raise StageError(f"{folder} is not a complete checkpoint (no {STATE_FILE})")
    acc.load_state(str(folder))
    data: dict[str, Any] = json.loads(state_file.read_text(encoding="utf-8"))
    return data
