"""The tiny T5: a word/SMILES-token tokenizer, the pre-training tasks, training and decoding.

The tokenizer is a real ``transformers.PreTrainedTokenizerFast`` (a ``tokenizers`` WordLevel model
over whitespace-split pieces): text is lower-cased words, SMILES are the regex tokens of
:mod:`ennead.chatmol.chem`, so SMILES round-trip exactly (no ``<unk>`` backslashes as with the
authors' t5-base SentencePiece). The model is ``T5ForConditionalGeneration`` built from a config
(no download), trained from scratch: knowledge pre-training (property text, text->SMILES,
2-D spatial task, SMILES span masking) then dialogue fine-tuning; at test time each turn's input is
the cumulative text plus the model's own previous answer ("it looks like <SMILES> .").
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ennead.chatmol.chem import mol_from_smiles, smiles_tokens, spatial_task
from ennead.chatmol.data import Dialogue, Pool

SPECIALS = ["<pad>", "</s>", "<unk>", "<t2m>", "<m2t>", "<spatial>", "<span>"]
SENTINELS = [f"<mask_{i}>" for i in range(30)]
_WORD = re.compile(r"[a-z]+(?:-[a-z]+)*|[+-]?\d+(?:\.\d+)?|[^\sa-z0-9]")


def text_pieces(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def smiles_text(smiles: str) -> str:
    return " ".join(smiles_tokens(smiles))


def target_text(smiles: str, output: str = "smiles") -> str:
    """The decoder's target: SMILES tokens, or SELFIES tokens (``output="selfies"``)."""
    if output == "selfies":
        import selfies as sf

        return " ".join(sf.split_selfies(sf.encoder(smiles)))
    return smiles_text(smiles)


def dialogue_input(turns: list[str], prev: str | None) -> str:
    """Model input for a turn: the cumulative requirement text (+ the previous molecule)."""
    text = "<t2m> " + " ".join(" ".join(text_pieces(t)) for t in turns)
    if prev:
        text += " it looks like " + smiles_text(prev) + " ."
    return text


def build_tokenizer(texts: list[str]) -> Any:
    """A WordLevel tokenizer over every piece of ``texts`` (already space-separated)."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab: dict[str, int] = {t: i for i, t in enumerate(SPECIALS + SENTINELS)}
    for text in texts:
        for piece in text.split():
            vocab.setdefault(piece, len(vocab))
    # every SMILES token an output may need, even if the training molecules lack it
    for tok in ["Br", "Cl", "N", "O", "S", "P", "F", "I", "b", "c", "n", "o", "s", "p", "(", ")"]:
        vocab.setdefault(tok, len(vocab))
    for tok in ["=", "#", "-", "+", "\\", "/", ":", "@", "[nH]", "[N+]", "[O-]", "[n+]"]:
        vocab.setdefault(tok, len(vocab))
    for d in range(10):
        vocab.setdefault(str(d), len(vocab))
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    from tokenizers.processors import TemplateProcessing

    core.post_processor = TemplateProcessing(
        single="$A </s>", special_tokens=[("</s>", vocab["</s>"])]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        pad_token="<pad>",
        eos_token="</s>",
        unk_token="<unk>",
        additional_special_tokens=SPECIALS[3:] + SENTINELS,
    )


def decode_smiles(tokenizer: Any, ids: Any, output: str = "smiles") -> str:
    """Token ids back to a SMILES string (pieces joined without spaces; SELFIES decoded)."""
    text = "".join(tokenizer.decode(ids, skip_special_tokens=True).split())
    if output == "selfies":
        import selfies as sf

        try:
            return str(sf.decoder(text))
        except Exception:  # a malformed SELFIES string counts as invalid output
            return text
    return text


# ---- pre-training tasks ----------------------------------------------------------------------
def pretraining_examples(
    pool: Pool, idx: list[int], seed: int, output: str = "smiles"
) -> list[tuple[str, str]]:
    """Per molecule: property text (M2T), text->SMILES, spatial, and SMILES span masking."""
    import numpy as np

    rng = np.random.default_rng(seed)
    out: list[tuple[str, str]] = []
    for i in idx:
        smi = pool.smiles[i]
        facts = sorted(pool.facts[i], key=lambda f: f.sentence())
        order = rng.permutation(len(facts))
        some = [facts[j].sentence() for j in order[: int(rng.integers(1, 5))]]
        desc = [facts[j].sentence() for j in order[:6]]
        out.append(("<m2t> " + smiles_text(smi), " ".join(" ".join(text_pieces(s)) for s in desc)))
        out.append((dialogue_input(some, None), target_text(smi, output)))
        mol = mol_from_smiles(smi)
        n = mol.GetNumAtoms()
        k = min(n, max(2, int(0.3 * n)))
        picked = [int(a) for a in rng.choice(n, k, replace=False)]
        marked, target = spatial_task(mol, picked)
        out.append(("<spatial> " + " ".join(marked), " ".join(text_pieces(target))))
        out.append(span_mask(smiles_tokens(smi), rng))
    return out


def span_mask(tokens: list[str], rng: Any, p: float = 0.15) -> tuple[str, str]:
    """T5 span corruption on SMILES tokens (chunks of 1-2, rate ``p``, at most 30 sentinels)."""
    src: list[str] = ["<span>"]
    tgt: list[str] = []
    i = used = 0
    while i < len(tokens):
        r = int(rng.integers(1, 3))
        chunk = tokens[i : i + r]
        if used < len(SENTINELS) and rng.random() < p:
            src.append(SENTINELS[used])
            tgt += [SENTINELS[used], *chunk]
            used += 1
        else:
            src += chunk
        i += r
    if not tgt:  # always mask something
        src = ["<span>", SENTINELS[0], *tokens[1:]]
        tgt = [SENTINELS[0], tokens[0]]
    return " ".join(src), " ".join(tgt)


def dialogue_examples(
    dialogues: list[Dialogue], history: bool, output: str = "smiles"
) -> list[tuple[str, str]]:
    """Every (cumulative turn text [+ gold previous molecule], turn target) pair."""
    out = []
    for d in dialogues:
        for t in range(len(d.turns)):
            prev = d.targets[t - 1] if history and t > 0 else None
            out.append((dialogue_input(d.turns[: t + 1], prev), target_text(d.targets[t], output)))
    return out


# ---- model, training, decoding ---------------------------------------------------------------
def build_model(tokenizer: Any, cfg: Any) -> Any:
    from transformers import T5Config, T5ForConditionalGeneration

    conf = T5Config(  # type: ignore[call-arg]
        vocab_size=len(tokenizer),
        d_model=cfg.d_model,
        d_kv=cfg.d_model // cfg.heads,
        d_ff=cfg.d_ff,
        num_layers=cfg.layers,
        num_decoder_layers=cfg.layers,
        num_heads=cfg.heads,
        relative_attention_num_buckets=16,
        dropout_rate=cfg.dropout,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id,
    )
    return T5ForConditionalGeneration(conf)


def _batch(tokenizer: Any, pairs: list[tuple[str, str]], max_len: int) -> dict[str, Any]:
    # the input keeps its LAST max_len tokens, as the authors truncate the dialogue history
    tokenizer.truncation_side = "left"
    enc = tokenizer(
        [a for a, _ in pairs],
        padding=True,
        truncation=True,
        max_length=max_len,
        return_tensors="pt",
    )
    tokenizer.truncation_side = "right"
    lab = tokenizer(
        [b for _, b in pairs],
        padding=True,
        truncation=True,
        max_length=max_len,
        return_tensors="pt",
    )["input_ids"]
    lab[lab == tokenizer.pad_token_id] = -100
    return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"], "labels": lab}


def train_steps(
    model: Any,
    tokenizer: Any,
    pairs: list[tuple[str, str]],
    steps: int,
    cfg: Any,
    seed: int,
    log: list[dict[str, float]] | None = None,
    device: str = "cpu",
) -> float:
    """``steps`` AdamW steps on random batches of ``pairs``; returns the last logged loss."""
    import numpy as np
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model.to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.01)
    warm = max(1, steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.1, 1 - s / max(1, steps))
    )
    running = float("nan")
    for step in range(steps):
        idx = rng.integers(0, len(pairs), cfg.batch_size)
        batch = {
            k: v.to(device)
            for k, v in _batch(tokenizer, [pairs[i] for i in idx], cfg.max_len).items()
        }
        loss = model(**batch).loss
        if not torch.isfinite(loss):  # skipped, as the authors' loop does
            opt.zero_grad()
            continue
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        running = loss.item() if running != running else 0.95 * running + 0.05 * loss.item()
        if log is not None and (step + 1) % max(1, steps // 20) == 0:
            log.append({"step": step + 1, "loss": running})
    model.eval()
    return running


def generate(
    model: Any,
    tokenizer: Any,
    inputs: list[str],
    beams: int,
    max_len: int,
    batch_size: int = 64,
    max_new: int = 64,
    device: str = "cpu",
    output: str = "smiles",
) -> list[list[str]]:
    """Beam search, ``beams`` candidates per input (SMILES strings, best first)."""
    import torch

    out: list[list[str]] = []
    tokenizer.truncation_side = "left"
    for s in range(0, len(inputs), batch_size):
        enc = tokenizer(
            inputs[s : s + batch_size],
            padding=True,
            truncation=True,
            max_length=max_len,
            return_tensors="pt",
        ).to(device)
        with torch.no_grad():
            gen = model.generate(
                **enc,
                num_beams=beams,
                num_return_sequences=beams,
                max_new_tokens=max_new,
                do_sample=False,
            )
        texts = [decode_smiles(tokenizer, g, output) for g in gen]
        out += [texts[j : j + beams] for j in range(0, len(texts), beams)]
    tokenizer.truncation_side = "right"
    return out


def self_fed_decode(
    model: Any,
    tokenizer: Any,
    dialogues: list[Dialogue],
    cfg: Any,
    history: bool,
    device: str = "cpu",
) -> list[list[list[str]]]:
    """Candidates per dialogue per turn; turn t sees the model's own top-1 of turn t-1."""
    model.to(device)
    cands: list[list[list[str]]] = [[] for _ in dialogues]
    prev: list[str | None] = [None] * len(dialogues)
    for t in range(max(len(d.turns) for d in dialogues)):
        live = [i for i, d in enumerate(dialogues) if len(d.turns) > t]
        inputs = [
            dialogue_input(dialogues[i].turns[: t + 1], prev[i] if history else None) for i in live
        ]
        outs = generate(
            model,
            tokenizer,
            inputs,
            cfg.beams,
            cfg.max_len,
            max_new=cfg.max_new,
            device=device,
            output=cfg.output,
        )
        for i, c in zip(live, outs, strict=True):
            cands[i].append(c)
            prev[i] = c[0]
    return cands


def save(model: Any, tokenizer: Any, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def load(folder: Path) -> tuple[Any, Any]:
    from transformers import PreTrainedTokenizerFast, T5ForConditionalGeneration

    model = T5ForConditionalGeneration.from_pretrained(folder)
    tok = PreTrainedTokenizerFast.from_pretrained(folder)
    return model.eval(), tok


def write_log(path: Path, log: list[dict[str, float]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in log), encoding="utf-8")
