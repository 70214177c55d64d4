"""PersLLM training: chat formatting with stage tokens, SFT on the mixture, automatic DPO.

Prompt forms (``mode``):

- ``persllm``: system ``you are NAME .``, user ``<TIME-s> question`` (stage token added to the
  tokenizer as a special token, embeddings resized);
- ``b1`` (stylised SFT): the same without the stage token;
- ``b0`` (prompt-only): system ``you are NAME . DESCRIPTION``, user ``question``; never trained.

SFT trains on assistant tokens only (core.train's SFT loss). DPO pairs: chosen = the persona's
answer; rejected = another persona's answer ranked by similarity to it past the ``skip_top``
near-duplicates, and the same persona's answer to the same question at another stage.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ennead.persllm import language as L
from ennead.persllm.materials import Persona

MODES = ("b0", "b1", "persllm")


def add_stage_tokens(model: Any, tokenizer: Any, stages: Sequence[str]) -> int:
    """Add ``<TIME-s>`` special tokens and resize the embeddings; returns how many were new."""
    new = [L.stage_token(s) for s in stages if L.stage_token(s) not in tokenizer.get_vocab()]
    if not new:
        return 0
    tokenizer.add_special_tokens(
        {"additional_special_tokens": new}, replace_extra_special_tokens=False
    )
    model.resize_token_embeddings(len(tokenizer))
    return len(new)


def messages(
    mode: str, name: str, stage: str | None, question: str, description: str = ""
) -> list[dict[str, str]]:
    if mode == "b0":
        system = f"you are {name} . {description}".strip()
        return [{"role": "system", "content": system}, {"role": "user", "content": question}]
    user = f"{L.stage_token(stage)} {question}" if mode == "persllm" and stage else question
    return [{"role": "system", "content": f"you are {name} ."}, {"role": "user", "content": user}]


def chat_prompt(tokenizer: Any, msgs: list[dict[str, str]]) -> str:
    return str(tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True))


def general_prompt(tokenizer: Any, row: dict[str, str]) -> str:
    msgs = [{"role": "user", "content": row["prompt"]}]
    if row.get("system"):
        msgs.insert(0, {"role": "system", "content": row["system"]})
    return chat_prompt(tokenizer, msgs)


def sft_rows(
    tokenizer: Any,
    items: Sequence[dict[str, Any]],
    general: Sequence[dict[str, str]],
    mode: str,
    repeat: int,
    seed: int,
) -> list[dict[str, str]]:
    """The SFT mixture: persona items ``repeat`` times plus general items, shuffled."""
    rows = []
    for it in items:
        if mode == "b1" and it["kind"] != "ordinary":
            continue  # stylised SFT: fact and style items only
        p = chat_prompt(tokenizer, messages(mode, it["name"], it["stage"], it["question"]))
        rows += [{"prompt": p, "completion": it["answer"]}] * repeat
    rows += [{"prompt": general_prompt(tokenizer, g), "completion": g["answer"]} for g in general]
    random.Random(seed).shuffle(rows)
    return rows


def dpo_pairs(
    tokenizer: Any,
    items: Sequence[dict[str, Any]],
    embedder: Any,
    skip_top: int = 5,
    cross_persona: bool = True,
    cross_stage: bool = True,
    only: str | None = None,
) -> list[dict[str, str]]:
    """Automatic preference pairs (see the module doc); ``only``: pairs of that persona only."""
    import numpy as np

    items = list(items)
    pairs: list[dict[str, str]] = []
    emb = embedder.encode([it["answer"] for it in items]) if cross_persona and items else None
    for i, it in enumerate(items):
        if only is not None and it["persona"] != only:
            continue
        prompt = chat_prompt(
            tokenizer, messages("persllm", it["name"], it["stage"], it["question"])
        )
        chosen = it["answer"]
        if cross_stage:
            for _, neg in sorted((it.get("negatives") or {}).items()):
                if L.norm(neg) != L.norm(chosen):
                    pairs.append({"prompt": prompt, "chosen": chosen, "rejected": neg})
        if emb is not None:
            others = [j for j, o in enumerate(items) if o["persona"] != it["persona"]]
            if not others:
                continue
            sims = emb[others] @ emb[i]
            order = [others[k] for k in np.argsort(-sims, kind="stable")]
            for j in order[skip_top:]:
                if L.norm(items[j]["answer"]) != L.norm(chosen):
                    pairs.append(
                        {"prompt": prompt, "chosen": chosen, "rejected": items[j]["answer"]}
                    )
                    break
    return pairs


def train_sft_model(
    model: Any, tokenizer: Any, rows: list[dict[str, str]], cfg: Any, out: Path
) -> Any:
    """SFT (core.train); LoRA adapters are merged so the result is a plain model."""
    from ennead.core.train import merge_lora, train_sft
    from ennead.core.train.lora import is_peft_model

    cfg = cfg.model_copy(update={"output_dir": str(out)})
    res = train_sft(model, tokenizer, rows, cfg)
    trained = res.model
    if is_peft_model(trained):
        trained = merge_lora(trained)
    trained.eval()
    return trained, res


def train_dpo_model(
    model: Any, tokenizer: Any, pairs: list[dict[str, str]], cfg: Any, out: Path
) -> Any:
    from ennead.core.train import merge_lora, train_dpo
    from ennead.core.train.lora import is_peft_model

    cfg = cfg.model_copy(update={"output_dir": str(out)})
    res = train_dpo(model, tokenizer, pairs, cfg)
    trained = res.model
    if is_peft_model(trained):
        trained = merge_lora(trained)
    trained.eval()
    return trained, res


def save_model(model: Any, tokenizer: Any, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def load_model(folder: Path, device: str = "auto") -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(folder)
    tok.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(folder)
    if device not in ("auto", "cpu"):
        model.to(device)  # type: ignore[arg-type]
    model.eval()
    return model, tok


def persona_prompts(p: Persona) -> list[str]:
    """Every question a persona's known answers cover (used for chat examples)."""
    out = []
    for s in p.stages:
        out += [L.FACT_TRAIN[0].format(key=k) for k in p.facts.get(s, {})]
        out += [L.OPINION_TRAIN[0].format(topic=t) for t in p.stances.get(s, {})]
    return sorted(set(out))
