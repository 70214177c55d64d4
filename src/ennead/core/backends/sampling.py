"""Sampling from a model a system has just trained, on the backend its config names.

PersLLM and tools train a transformers model in process and then sample from that object.
:func:`sampling_backend` turns ``(model, tokenizer)`` and the config's :class:`SamplerConfig`
into a core backend, so moving a system's sampling to CTranslate2 is a config change:

- ``hf``: the object itself (:meth:`HFBackend.from_model`); nothing is saved or copied.
- ``ct2``: the weights are hashed in memory; a folder ``<work>/sampler-<hash>`` is written once
  (LoRA adapters merged on a copy, so the caller's model is untouched; written into a temporary
  folder and renamed into place), converted by :mod:`ennead.core.backends.ct2` (cached by the
  weights' hash and compute type) and served by CTranslate2. Evaluating the same weights again
  reuses both. With ``exact: hf`` greedy generation and scoring run on the in-memory object (no
  second copy is loaded), so they give the ``hf`` numbers; with ``fallback: hf`` a model
  CTranslate2 cannot convert (or a missing ctranslate2) is served by that object too, otherwise
  :class:`~ennead.core.assets.CT2ConversionError` is raised.

The backend's ``prepare_seconds`` says what the switch cost (hash, merge, save, convert+load).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from ennead.core.backends.ct2 import OPTIONS as CT2_OPTIONS
from ennead.core.backends.ct2 import CT2Backend
from ennead.core.backends.hf import HFBackend
from ennead.core.config import BaseConfig
from ennead.core.imports import require
from ennead.core.io import atomic_write_json
from ennead.core.logging import get_logger

log = get_logger(__name__)

__all__ = ["SamplerConfig", "TrainedCT2Backend", "sampling_backend", "weights_digest"]

MARKER = "sampler.json"
CONFIG_NOISE = {"architectures", "dtype", "torch_dtype", "transformers_version", "_name_or_path"}


class SamplerConfig(BaseConfig):
    """Which engine samples from a trained model; a bare name (``hf``, ``ct2``) is accepted."""

    name: Literal["hf", "ct2"] = Field(
        "hf", description="hf: the trained object; ct2: CTranslate2 on a saved, merged copy"
    )
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="ct2 options: compute_type, exact (hf), fallback (hf), intra_threads, ...",
    )

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _check_options(self) -> SamplerConfig:
        if self.name == "hf" and self.options:
            raise ValueError(f"options apply to the ct2 sampler only, got {sorted(self.options)}")
        unknown = sorted(set(self.options) - set(CT2_OPTIONS))
        if unknown:
            raise ValueError(
                f"unknown ct2 sampler options: {', '.join(unknown)}; "
                f"allowed: {', '.join(CT2_OPTIONS)}"
            )
        return self


class TrainedCT2Backend(CT2Backend):
    """CTranslate2 over a saved copy of an in-memory model; the ``hf`` side (``exact: hf`` and
    ``fallback: hf``) is the in-memory object itself rather than a second copy from disk."""

    def __init__(
        self,
        twin: HFBackend,
        folder: Path,
        device: str,
        batch_size: int,
        max_input_tokens: int | None,
        options: dict[str, Any],
    ):
        self.twin, self.folder = twin, Path(folder)
        self.prepare_seconds: dict[str, Any] = {}
        super().__init__(
            model=folder,
            device=device,
            batch_size=batch_size,
            max_input_tokens=max_input_tokens,
            options=options,
        )

    def _hf_backend(self, source: Path, adapter: str | Path | None) -> HFBackend:
        if adapter is None and Path(source) == self.folder:
            return self.twin
        return super()._hf_backend(source, adapter)


def weights_digest(model: Any, tokenizer: Any) -> str:
    """sha256 of the model's config, every tensor (name, dtype, shape, bytes), a PEFT model's
    adapter settings and the tokenizer's vocabulary and chat template."""
    torch = require("torch", "lm")
    h = hashlib.sha256()
    h.update(type(model).__name__.encode())
    cfg = getattr(model, "config", None)
    if cfg is not None and hasattr(cfg, "to_dict"):
        # save_pretrained fills in these keys (architectures, dtype): leave them out so a model
        # hashes the same before and after its first save
        keep = {k: v for k, v in cfg.to_dict().items() if k not in CONFIG_NOISE}
        h.update(json.dumps(keep, sort_keys=True, default=str).encode())
    peft_cfg = getattr(model, "peft_config", None)
    if peft_cfg is not None:
        h.update(repr(sorted((k, repr(v)) for k, v in peft_cfg.items())).encode())
    with torch.no_grad():
        for name, t in sorted(model.state_dict().items()):
            h.update(f"{name}\0{t.dtype}\0{tuple(t.shape)}\0".encode())
            h.update(t.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy())
    vocab = sorted(tokenizer.get_vocab().items())
    h.update(json.dumps([vocab, getattr(tokenizer, "chat_template", None)]).encode())
    return h.hexdigest()


def _plain_model(model: Any) -> Any:
    """A model without adapters: a PEFT model's merged copy (the caller's stays as it is)."""
    # the test of core.train.lora.is_peft_model (core.train imports backends, not the reverse)
    if not (hasattr(model, "peft_config") and hasattr(model, "disable_adapter")):
        return model
    return copy.deepcopy(model).merge_and_unload()


def _save_weights(model: Any, tokenizer: Any, work: Path, digest: str) -> tuple[Path, dict]:
    """``<work>/sampler-<digest>`` holding the plain weights (written once; reused after)."""
    folder = work / f"sampler-{digest[:16]}"
    times: dict[str, Any] = {"merge_s": 0.0, "save_s": 0.0, "reused": True}
    if (folder / MARKER).is_file():
        return folder, times
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    plain = _plain_model(model)
    times["merge_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(dir=work, prefix=".tmp-sampler-"))
    try:
        plain.save_pretrained(str(tmp))
        tokenizer.save_pretrained(str(tmp))
        atomic_write_json(tmp / MARKER, {"digest": digest, "merged": plain is not model})
        if folder.exists() and not (folder / MARKER).is_file():  # left half-written: replace
            shutil.rmtree(folder, ignore_errors=True)
        try:
            os.replace(tmp, folder)
        except OSError:
            if not (folder / MARKER).is_file():  # not another process that finished first
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    del plain
    times["save_s"] = time.perf_counter() - t0
    times["reused"] = False
    return folder, times


def _device_of(model: Any) -> str:
    """CTranslate2's device for where the model lives (``cuda:N`` or ``cpu``)."""
    with contextlib.suppress(StopIteration, AttributeError):
        dev = str(next(model.parameters()).device)
        if dev.startswith("cuda"):
            return dev
    return "cpu"


def sampling_backend(
    model: Any,
    tokenizer: Any,
    sampler: SamplerConfig | str | dict[str, Any] | None,
    work: str | Path,
    batch_size: int = 16,
    max_input_tokens: int | None = None,
    hf_class: type[HFBackend] = HFBackend,
) -> Any:
    """A core backend sampling from ``(model, tokenizer)`` on the engine ``sampler`` names
    (see the module docstring); ``work`` holds the saved weights for ``ct2``. ``hf_class``
    wraps the object on the hf side (a subclass such as the tiny or smollm2 backend keeps its
    name, which response caches key on)."""
    spec = (
        sampler
        if isinstance(sampler, SamplerConfig)
        else SamplerConfig.model_validate(sampler or "hf")
    )
    twin = hf_class.from_model(
        model, tokenizer, batch_size=batch_size, max_input_tokens=max_input_tokens
    )
    if spec.name == "hf":
        return twin
    options = dict(spec.options)
    if options.get("fallback") == "hf":
        import importlib.util

        if importlib.util.find_spec("ctranslate2") is None:
            log.warning("sampler ct2: ctranslate2 is not installed; sampling with hf instead")
            return twin
    t0 = time.perf_counter()
    digest = weights_digest(model, tokenizer)
    hash_s = time.perf_counter() - t0
    folder, times = _save_weights(model, tokenizer, Path(work), digest)
    lm = TrainedCT2Backend(twin, folder, _device_of(model), batch_size, max_input_tokens, options)
    lm.prepare_seconds = {
        "hash_s": round(hash_s, 3),
        "merge_s": round(times["merge_s"], 3),
        "save_s": round(times["save_s"], 3),
        "convert_load_s": round(lm.load_seconds, 3),
        "reused": times["reused"],
    }
    log.info(
        "sampler ct2 (%s, engine %s) on %s: hash %.1f s, merge %.1f s, save %.1f s%s, "
        "convert+load %.1f s",
        lm.compute_type,
        lm.engine,
        folder,
        hash_s,
        times["merge_s"],
        times["save_s"],
        " (reused)" if times["reused"] else "",
        lm.load_seconds,
    )
    return lm
