"""Language-model backends behind one protocol (see :mod:`ennead.core.backends.base`).

Registered lazily so that listing them imports no torch.
"""

from __future__ import annotations

from typing import Any

from ennead.core.registry import Registry

backends: Registry[Any] = Registry("backend")
for _name, _target, _summary in (
    ("smollm2", "hf:SmolLM2Backend", "SmolLM2-135M-Instruct, the embedded default (CPU-friendly)"),
    ("hf", "hf:HFBackend", "any local transformers folder, optional LoRA adapter"),
    ("ct2", "ct2:CT2Backend", "CTranslate2 sampling of a transformers folder (SmolLM2 if none)"),
    ("tiny", "tiny:TinyBackend", "small Llama built in-process with a word tokenizer (tests)"),
    ("openai", "openai:OpenAIBackend", "OpenAI-compatible HTTP server (vLLM, Ollama, llama.cpp)"),
    ("vllm", "vllm:VLLMBackend", "in-process vLLM engine (GPU extra)"),
    ("ray", "replicas:RayReplicas", "data-parallel replicas of another backend as Ray actors"),
):
    backends.register(_name, f"ennead.core.backends.{_target}", summary=_summary)


def load_backend(config: Any = "smollm2", **overrides: Any) -> Any:
    """Build a backend from a :class:`BackendConfig`, a dict or a registry name plus keywords.

    >>> lm = load_backend("tiny", options={"texts": ["hello world"]})  # doctest: +SKIP
    """
    from pydantic import ValidationError

    from ennead.core.backends.base import BackendConfig
    from ennead.core.config import validation_to_config_error

    try:
        if isinstance(config, str):
            cfg = BackendConfig(name=config, **overrides)
        elif isinstance(config, dict):
            cfg = BackendConfig(**{**config, **overrides})
        else:
            cfg = BackendConfig.model_validate({**config.model_dump(), **overrides})
    except ValidationError as exc:
        raise validation_to_config_error(BackendConfig, exc) from None
    cls = backends.get(cfg.name)
    return cls(**cfg.model_dump(exclude={"name"}))
