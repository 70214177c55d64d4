"""The frozen backbone: any Hugging Face encoder or decoder, its representation of an example
(the hidden state at the [MASK] token, else at the last token) and PEFT LoRA modules on it."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from ennead.conpet.config import BackboneSettings, LoraOptions
from ennead.conpet.stream import Example, Stream
from ennead.core.errors import ConfigError
from ennead.core.imports import require

MARKERS = ["[MASK]", "[E]", "[/E]", "[E1]", "[/E1]", "[E2]", "[/E2]"]


def _tiny(settings: BackboneSettings, texts: list[str], seed: int) -> tuple[Any, Any]:
    """A 2-layer BERT built from a config over a word-level vocabulary of ``texts``."""
    torch = require("torch", "conpet", "the tiny backbone")
    transformers = require("transformers", "conpet", "the tiny backbone")
    from ennead.core.backends.tiny_model import build_tiny_tokenizer

    tok = build_tiny_tokenizer(texts, vocab_size=4000)
    tok.add_special_tokens({"mask_token": "[MASK]", "additional_special_tokens": MARKERS[1:]})
    tok.padding_side = "right"
    torch.manual_seed(seed)
    cfg = transformers.BertConfig(
        vocab_size=len(tok),
        hidden_size=settings.hidden,
        num_hidden_layers=settings.layers,
        num_attention_heads=settings.heads,
        intermediate_size=2 * settings.hidden,
        max_position_embeddings=max(64, settings.max_length),
        pad_token_id=tok.pad_token_id,
    )
    mlm = transformers.BertForMaskedLM(cfg)
    if settings.pretrain_steps:
        _pretrain(mlm, tok, texts, settings.pretrain_steps, seed)
    for p in mlm.parameters():
        p.requires_grad_(False)
    return mlm.bert, tok


def _pretrain(mlm: Any, tok: Any, texts: list[str], steps: int, seed: int) -> None:
    """Masked-LM pre-training on the stream's text (no labels), so the frozen backbone carries
    features: the cloze [MASK] is trained to name the marked mention (the word after [E]; no
    label is used; adding 15% random masking kept it from learning that in 300 steps). A
    pretrained LM's [MASK] state knows what a mention is; this gives the tiny one the same
    start, so the stream tests continual learning rather than reading."""
    import random

    torch = require("torch", "conpet", "the tiny backbone")
    rng = random.Random(seed)
    torch.manual_seed(seed)
    enc = [tok(t)["input_ids"] for t in texts]
    marker = tok.convert_tokens_to_ids("[E]")

    def marker_at(row: list[int]) -> int:
        return row.index(marker) + 1

    opt = torch.optim.AdamW(mlm.parameters(), lr=5e-3)
    mlm.train()
    for _ in range(steps):
        rows = [enc[rng.randrange(len(enc))] for _ in range(32)]
        width = max(map(len, rows))
        ids = torch.full((len(rows), width), tok.pad_token_id)
        labels = torch.full((len(rows), width), -100)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = torch.tensor(row)
            if marker in row and tok.mask_token_id in row[marker_at(row) :]:
                labels[i, len(row) - 1 - row[::-1].index(tok.mask_token_id)] = row[marker_at(row)]
        loss = mlm(
            input_ids=ids, attention_mask=(ids != tok.pad_token_id).long(), labels=labels
        ).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    mlm.eval()


class Backbone:
    """Tokenised examples (cached by uid) and fresh copies of the frozen base for each method."""

    def __init__(self, base: Any, tokenizer: Any, settings: BackboneSettings, lora: LoraOptions):
        torch = require("torch", "conpet", "the backbone")
        self.torch = torch
        self.settings, self.lora = settings, lora
        self.tokenizer = tokenizer
        self.device = torch.device(settings.device)
        self.base = base.to(self.device)
        for p in self.base.parameters():
            p.requires_grad_(False)
        self.base.eval()
        self.hidden = int(base.config.hidden_size)
        self.mask_id = tokenizer.mask_token_id if tokenizer.mask_token else None
        self.is_decoder = not getattr(base.config, "is_encoder_decoder", False) and getattr(
            base.config, "model_type", ""
        ) not in (
            "bert",
            "roberta",
            "deberta",
            "deberta-v2",
            "electra",
            "xlm-roberta",
            "distilbert",
        )
        self._ids: dict[int, tuple[list[int], int]] = {}

    @classmethod
    def build(
        cls, settings: BackboneSettings, lora: LoraOptions, stream: Stream, seed: int = 0
    ) -> Backbone:
        torch = require("torch", "conpet", "the backbone")
        transformers = require("transformers", "conpet", "the backbone")
        if settings.threads:
            torch.set_num_threads(settings.threads)
        dtype = getattr(torch, settings.dtype)
        if settings.kind == "tiny":
            texts = [
                e.text for t in stream.tasks for s in ("train", "valid", "test") for e in t.split(s)
            ]
            base, tok = _tiny(settings, texts, seed)
        else:
            if settings.kind == "minilm":
                from ennead.core.assets import minilm_path

                path = str(minilm_path())
            elif settings.kind == "smollm2":
                from ennead.core.assets import smollm2_path

                path = str(smollm2_path())
            elif settings.path:
                path = settings.path
            else:
                raise ConfigError("backbone.kind hf needs backbone.path (a model folder or id)")
            tok = transformers.AutoTokenizer.from_pretrained(path)
            if tok.pad_token is None:
                tok.pad_token = tok.eos_token
            tok.padding_side = "right"
            base = transformers.AutoModel.from_pretrained(path, dtype=dtype)
        return cls(base, tok, settings, lora)

    # -- inputs ------------------------------------------------------------------------------
    def _encode(self, ex: Example) -> tuple[list[int], int]:
        got = self._ids.get(ex.uid)
        if got is None:
            text = ex.text
            if self.mask_id is None:  # a decoder without a mask token reads up to the cloze gap
                text = text.replace("[MASK]", "").rstrip(" .")
            ids = self.tokenizer(text, truncation=False)["input_ids"]
            limit = self.settings.max_length
            pos = ids.index(self.mask_id) if self.mask_id in ids else len(ids) - 1
            if len(ids) > limit:  # keep the window that holds the read position (the suffix)
                start = max(0, min(pos + 1 + 8, len(ids)) - limit)
                ids = ids[start : start + limit]
                pos -= start
            got = (ids, pos)
            self._ids[ex.uid] = got
        return got

    def batch(self, examples: Sequence[Example]) -> dict[str, Any]:
        torch = self.torch
        enc = [self._encode(e) for e in examples]
        width = max(len(ids) for ids, _ in enc)
        pad = self.tokenizer.pad_token_id or 0
        ids = torch.full((len(enc), width), pad, dtype=torch.long)
        att = torch.zeros((len(enc), width), dtype=torch.long)
        for i, (row, _) in enumerate(enc):
            ids[i, : len(row)] = torch.tensor(row)
            att[i, : len(row)] = 1
        pos = torch.tensor([p for _, p in enc])
        return {
            "input_ids": ids.to(self.device),
            "attention_mask": att.to(self.device),
            "pos": pos.to(self.device),
        }

    # -- models ------------------------------------------------------------------------------
    def targets(self) -> list[str]:
        if self.lora.target_modules:
            return list(self.lora.target_modules)
        names = {n.rsplit(".", 1)[-1] for n, _ in self.base.named_modules()}
        if {"q_proj", "v_proj"} <= names:
            return ["q_proj", "v_proj"]
        if {"query", "value"} <= names:
            return ["query", "value"]
        raise ConfigError(
            "cannot guess the LoRA target modules of this backbone; set lora.target_modules"
        )

    def lora_config(self) -> Any:
        peft = require("peft", "conpet", "LoRA modules")
        return peft.LoraConfig(
            r=self.lora.r,
            lora_alpha=self.lora.alpha,
            lora_dropout=self.lora.dropout,
            target_modules=self.targets(),
        )

    def with_adapters(self, names: Sequence[str]) -> Any:
        """A copy of the frozen base with one fresh LoRA per name (named PEFT adapters)."""
        peft = require("peft", "conpet", "LoRA modules")
        model = peft.get_peft_model(
            copy.deepcopy(self.base), self.lora_config(), adapter_name=names[0]
        )
        for name in names[1:]:
            model.add_adapter(name, self.lora_config())
        for n, p in model.named_parameters():
            p.requires_grad_("lora_" in n)
        return model

    def full_copy(self) -> Any:
        model = copy.deepcopy(self.base)
        for p in model.parameters():
            p.requires_grad_(True)
        return model

    def represent(self, model: Any, batch: dict[str, Any], **kwargs: Any) -> Any:
        """Hidden state at each row's read position, as float32."""
        out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], **kwargs)
        h = out.last_hidden_state
        rows = self.torch.arange(h.shape[0], device=h.device)
        return h[rows, batch["pos"]].float()

    def total_parameters(self) -> int:
        return sum(p.numel() for p in self.base.parameters())
