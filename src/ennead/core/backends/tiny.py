"""``tiny``: a small Llama built in-process (tests, experiments); same engine as ``hf``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ennead.core.backends.hf import HFBackend
from ennead.core.backends.tiny_model import build_tiny_lm
from ennead.core.errors import BackendError

DEFAULT_TEXTS = [
    "the capital of france is paris .",
    "the capital of italy is rome .",
    "what is the capital of spain ? madrid .",
    "hello , how are you ? i am fine .",
]


class TinyBackend(HFBackend):
    """Options: ``texts`` (list) or ``corpus`` (a text file, one line each) to train the tokenizer,
    plus model sizes (``hidden_size``, ``num_layers``, ``num_heads``) and ``seed``."""

    name = "tiny"

    def __init__(
        self,
        model: str | Path | None = None,
        batch_size: int = 16,
        max_input_tokens: int | None = None,
        options: dict[str, Any] | None = None,
        **_: Any,
    ):
        if model is not None:
            raise BackendError(
                "the tiny backend builds its model in-process; use 'hf' for a folder"
            )
        opts = dict(options or {})
        texts = opts.pop("texts", None)
        corpus = opts.pop("corpus", None)
        if texts is None and corpus is not None:
            texts = Path(corpus).read_text(encoding="utf-8").splitlines()
        seed = int(opts.pop("seed", 0))
        model_obj, tok = build_tiny_lm(texts or DEFAULT_TEXTS, seed=seed, **opts)
        built = HFBackend.from_model(model_obj, tok, batch_size=batch_size,
                                     max_input_tokens=max_input_tokens)  # fmt: skip
        self.__dict__.update(built.__dict__)
