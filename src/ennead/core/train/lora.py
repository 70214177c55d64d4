"""LoRA helpers over PEFT: apply, save adapters only, load, merge."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ennead.core.errors import BackendError
from ennead.core.imports import require
from ennead.core.train.config import LoraSettings


def apply_lora(model: Any, settings: LoraSettings | None = None) -> Any:
    peft = require("peft", "lm", "LoRA")
    return peft.get_peft_model(model, (settings or LoraSettings()).to_peft())


def save_adapter(model: Any, path: str | Path) -> Path:
    """Save only the adapter weights (megabytes, not the base model)."""
    path = Path(path)
    model.save_pretrained(str(path))
    return path


def load_adapter(base_model: Any, path: str | Path, trainable: bool = False) -> Any:
    peft = require("peft", "lm", "LoRA")
    if not (Path(path) / "adapter_config.json").is_file():
        raise BackendError(f"{path} holds no LoRA adapter (no adapter_config.json)")
    return peft.PeftModel.from_pretrained(base_model, str(path), is_trainable=trainable)


def merge(model: Any) -> Any:
    """Fold adapters into the base weights for fast inference; returns the plain model."""
    return model.merge_and_unload()


def lora_parameters(model: Any) -> dict[str, Any]:
    return {n: p for n, p in model.named_parameters() if "lora_" in n}
