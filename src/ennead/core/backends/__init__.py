"""Language-model backends behind one protocol (see :mod:`ennead.core.backends.base`).

Registered lazily so that listing them imports no torch.
"""

from __future__ import annotations

from typing import Any

from ennead.core.registry import Registry

backends: Registry[Any] = Registry("backend")
backends.register("smollm2", "ennead.core.backends.hf:SmolLM2Backend",
                  summary="SmolLM2-135M-Instruct, the embedded default (CPU-friendly)")  # fmt: skip
backends.register("hf", "ennead.core.backends.hf:HFBackend",
                  summary="any local transformers folder, optional LoRA adapter")  # fmt: skip
backends.register("tiny", "ennead.core.backends.tiny:TinyBackend",
                  summary="small Llama built in-process with a word-level tokenizer (tests)")  # fmt: skip
backends.register("openai", "ennead.core.backends.openai:OpenAIBackend",
                  summary="any OpenAI-compatible HTTP server (vLLM, Ollama, llama.cpp server)")  # fmt: skip
backends.register("vllm", "ennead.core.backends.vllm:VLLMBackend",
                  summary="in-process vLLM engine (GPU extra)")  # fmt: skip
