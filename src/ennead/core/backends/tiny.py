"""``tiny``: a small Llama built in-process (tests, experiments); same engine as ``hf``."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from ennead.core.backends.hf import HFBackend
from ennead.core.backends.tiny_model import build_tiny_lm, build_tiny_model
from ennead.core.errors import BackendError

DEFAULT_TEXTS = [
    "the capital of france is paris .",
    "the capital of italy is rome .",
    "what is the capital of spain ? madrid .",
    "hello , how are you ? i am fine .",
]
SIZE_OPTIONS = tuple(
    p for p in inspect.signature(build_tiny_model).parameters if p not in ("tokenizer", "seed")
)


class TinyBackend(HFBackend):
    """A randomly initialised tiny Llama with a word-level tokenizer trained on some text.

    Options: ``texts`` (a list of strings) or ``corpus`` (a text file, one text per line) for the
    tokenizer's vocabulary; model sizes (``hidden_size``, ``num_layers``, ``num_heads``,
    ``intermediate_size``, ``max_position_embeddings``); ``seed`` for the weights.
    Use :meth:`from_model` to wrap an already built (or trained) ``(model, tokenizer)``.
    """

    name = "tiny"

    def __init__(
        self,
        model: str | Path | None = None,
        batch_size: int = 16,
        max_input_tokens: int | None = None,
        options: dict[str, Any] | None = None,
        device: str = "auto",
        **_: Any,  # adapter and dtype do not apply to a model built here
    ):
        if model is not None:
            raise BackendError(
                "the tiny backend builds its model in-process; use 'hf' for a model folder"
            )
        opts = dict(options or {})
        texts = opts.pop("texts", None)
        corpus = opts.pop("corpus", None)
        seed = int(opts.pop("seed", 0))
        unknown = sorted(set(opts) - set(SIZE_OPTIONS))
        if unknown:
            raise BackendError(
                f"unknown tiny backend options: {', '.join(unknown)}; allowed: texts, corpus, "
                f"seed, {', '.join(SIZE_OPTIONS)}"
            )
        if texts is None and corpus is not None:
            path = Path(corpus)
            if not path.is_file():
                raise BackendError(f"tiny backend corpus file not found: {path}")
            texts = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        if texts is not None and (isinstance(texts, str) or not list(texts)):
            raise BackendError("tiny backend option 'texts' must be a non-empty list of strings")
        model_obj, tok = build_tiny_lm(texts or DEFAULT_TEXTS, seed=seed, **opts)
        if device != "auto":
            from ennead.core.backends.hf import resolve_device

            model_obj.to(resolve_device(device))
        self._setup(model_obj, tok, batch_size, max_input_tokens)
        self.model_path = None
