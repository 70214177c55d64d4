"""LoRA helpers over PEFT: apply, save adapters only, load, merge."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ennead.core.errors import BackendError
from ennead.core.imports import require
from ennead.core.train.config import LoraSettings


def is_peft_model(model: Any) -> bool:
    """True for a PEFT-wrapped model (without importing PEFT when it is not installed)."""
    return hasattr(model, "peft_config") and hasattr(model, "disable_adapter")


def apply_lora(model: Any, settings: LoraSettings | None = None) -> Any:
    """Wrap ``model`` with fresh LoRA adapters (base weights frozen); a PEFT model is kept as is."""
    if is_peft_model(model):
        return model
    peft = require("peft", "lm", "LoRA")
    try:
        return peft.get_peft_model(model, (settings or LoraSettings()).to_peft())
    except ValueError as exc:  # e.g. no module matches target_modules
        raise BackendError(f"cannot add LoRA adapters: {exc}") from exc


def save_adapter(model: Any, path: str | Path) -> Path:
    """Save only the adapter weights and config (megabytes, not the base model)."""
    if not is_peft_model(model):
        raise BackendError("save_adapter needs a PEFT model; use model.save_pretrained instead")
    path = Path(path)
    model.save_pretrained(str(path))
    return path


def load_adapter(base_model: Any, path: str | Path, trainable: bool = False) -> Any:
    """``base_model`` with the adapter saved in ``path``."""
    peft = require("peft", "lm", "LoRA")
    if not (Path(path) / "adapter_config.json").is_file():
        raise BackendError(f"{path} holds no LoRA adapter (no adapter_config.json)")
    return peft.PeftModel.from_pretrained(base_model, str(path), is_trainable=trainable)


def merge_lora(model: Any) -> Any:
    """Fold the adapters into the base weights (for fast inference or vLLM); the plain model."""
    if not is_peft_model(model):
        raise BackendError("merge_lora needs a PEFT model")
    return model.merge_and_unload()


def lora_parameters(model: Any) -> dict[str, Any]:
    """The adapter parameters by name."""
    return {n: p for n, p in model.named_parameters() if "lora_" in n}
