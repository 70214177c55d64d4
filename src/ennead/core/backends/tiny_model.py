"""A small Llama built in-process, with a word-level tokenizer trained on given text.

Used by tests and controlled experiments: no download, seconds to build, real transformers
classes so every code path (generation, LoRA, DPO) is the one users run on real checkpoints.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ennead.core.imports import require

SPECIALS = ["<pad>", "<unk>", "<s>", "</s>", "<|user|>", "<|assistant|>", "<|system|>"]
# A plain chat template over the special role tokens; the tiny vocabulary has no ChatML.
TINY_CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} </s> {% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def build_tiny_tokenizer(texts: Iterable[str], vocab_size: int = 2000) -> Any:
    """Train a lower-cased word-level tokenizer on ``texts`` and wrap it for transformers."""
    tokenizers = require("tokenizers", "lm", "the tiny backend")
    transformers = require("transformers", "lm", "the tiny backend")
    from tokenizers import models, normalizers, pre_tokenizers, trainers

    tok = tokenizers.Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.normalizer = normalizers.Lowercase()
    # Whitespace + punctuation split so "Paris." gives "paris" and "."
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation()]
    )
    from tokenizers import decoders

    tok.decoder = decoders.WordPiece(prefix="##", cleanup=True)
    trainer = trainers.WordLevelTrainer(vocab_size=vocab_size, special_tokens=SPECIALS)
    tok.train_from_iterator(list(texts), trainer=trainer)
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="<unk>",
        pad_token="<pad>",
        bos_token="<s>",
        eos_token="</s>",
        additional_special_tokens=["<|user|>", "<|assistant|>", "<|system|>"],
    )
    fast.chat_template = TINY_CHAT_TEMPLATE
    fast.padding_side = "left"
    return fast


def build_tiny_model(
    tokenizer: Any,
    hidden_size: int = 64,
    num_layers: int = 2,
    num_heads: int = 4,
    intermediate_size: int | None = None,
    max_position_embeddings: int = 512,
    tie_word_embeddings: bool = True,
    seed: int = 0,
) -> Any:
    """A randomly initialised ``LlamaForCausalLM`` sized for ``tokenizer``.

    ``tie_word_embeddings=False`` gives the output layer its own weights; at these sizes tied
    weights learned closed-book facts several times slower in our runs (ddr synthetic world).
    """
    torch = require("torch", "lm", "the tiny backend")
    transformers = require("transformers", "lm", "the tiny backend")
    torch.manual_seed(seed)
    cfg = transformers.LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=intermediate_size or 2 * hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        num_key_value_heads=num_heads,
        max_position_embeddings=max_position_embeddings,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=tie_word_embeddings,
    )
    model = transformers.LlamaForCausalLM(cfg)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.eval()
    return model


def build_tiny_lm(texts: Iterable[str], seed: int = 0, **model_kwargs: Any) -> tuple[Any, Any]:
    """Tokenizer trained on ``texts`` plus a fresh tiny Llama: ``(model, tokenizer)``."""
    texts = list(texts)
    tokenizer = build_tiny_tokenizer(texts)
    return build_tiny_model(tokenizer, seed=seed, **model_kwargs), tokenizer
