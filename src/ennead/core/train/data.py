"""Validate and tokenize preference pairs and SFT examples.

Prompts are plain strings, chat-formatted or not. The prompt and the completion are tokenized
separately, so the model is trained on exactly the prompt tokens it is given at generation time;
the prompt gets the tokenizer's special tokens (BOS) unless its text already starts with BOS.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ennead.core.errors import DataError

PAIR_KEYS = ("prompt", "chosen", "rejected")
SFT_KEYS = ("prompt", "completion")


def check_records(rows: Sequence[Any], keys: tuple[str, ...], what: str) -> list[dict[str, Any]]:
    """Every row is a dict with string ``keys``; all but the first (the prompt) non-empty."""
    rows = list(rows)
    if not rows:
        raise DataError(f"no {what}s to train on")
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise DataError(
                f"{what} {i}: expected a dict with keys {', '.join(keys)}, got {type(row).__name__}"
            )
        for key in keys:
            if key not in row:
                raise DataError(f"{what} {i}: missing key {key!r} (needs {', '.join(keys)})")
            if not isinstance(row[key], str):
                raise DataError(
                    f"{what} {i}: {key!r} must be a string, got {type(row[key]).__name__}"
                )
        for key in keys[1:]:
            if not row[key].strip():
                raise DataError(f"{what} {i}: {key!r} is empty")
    return rows


def check_pairs(pairs: Sequence[Any]) -> list[dict[str, Any]]:
    """Validate ``{prompt, chosen, rejected}`` dicts; DataError names the index and key."""
    return check_records(pairs, PAIR_KEYS, "pair")


def check_examples(examples: Sequence[Any]) -> list[dict[str, Any]]:
    """Validate ``{prompt, completion}`` dicts; DataError names the index and key."""
    return check_records(examples, SFT_KEYS, "example")


def prompt_ids(tokenizer: Any, prompt: str) -> list[int]:
    bos = getattr(tokenizer, "bos_token", None)
    add_special = not (bos and prompt.startswith(bos))  # a chat template may have added BOS
    ids = list(tokenizer(prompt, add_special_tokens=add_special)["input_ids"])
    if not ids:
        # The first completion token needs something to be predicted from.
        start = tokenizer.bos_token_id
        if start is None:
            start = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else 0
        ids = [start]
    return ids


def completion_ids(tokenizer: Any, completion: str, add_eos: bool = True) -> list[int]:
    ids = list(tokenizer(completion, add_special_tokens=False)["input_ids"])
    eos = tokenizer.eos_token_id
    if add_eos and eos is not None and (not ids or ids[-1] != eos):
        ids.append(eos)
    return ids


def encode(
    tokenizer: Any,
    prompt: str,
    completion: str,
    max_length: int,
    max_prompt_length: int,
    add_eos: bool = True,
) -> tuple[list[int], int]:
    """``(prompt + completion ids, prompt length)``.

    The prompt keeps its last ``max_prompt_length`` tokens (its end says what to answer);
    the completion is then cut to fit ``max_length``.
    """
    p = prompt_ids(tokenizer, prompt)[-max_prompt_length:]
    c = completion_ids(tokenizer, completion, add_eos)[: max(1, max_length - len(p))]
    return p + c, len(p)


def truncate_prompt_text(tokenizer: Any, prompt: str, max_prompt_length: int) -> str:
    """The end of ``prompt`` that fits in ``max_prompt_length`` tokens, cut on a token boundary.

    For trainers that tokenize text themselves (TRL keeps the start of long sequences).
    """
    enc = tokenizer(prompt, add_special_tokens=False, return_offsets_mapping=True)
    offsets = enc.get("offset_mapping")
    if len(enc["input_ids"]) <= max_prompt_length:
        return prompt
    if offsets is None:  # slow tokenizer: decode the kept ids instead
        return str(tokenizer.decode(enc["input_ids"][-max_prompt_length:]))
    return prompt[offsets[-max_prompt_length][0] :]


def collate(rows: Sequence[tuple[list[int], int]], pad_id: int) -> dict[str, Any]:
    """Right-padded ``input_ids``, ``attention_mask``, ``labels`` (-100 on prompt and padding)."""
    import torch

    width = max(len(ids) for ids, _ in rows)
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    labels = torch.full((len(rows), width), -100, dtype=torch.long)
    for i, (seq, plen) in enumerate(rows):
        n = len(seq)
        input_ids[i, :n] = torch.tensor(seq, dtype=torch.long)
        mask[i, :n] = 1
        labels[i, plen:n] = input_ids[i, plen:n]
    return {"input_ids": input_ids, "attention_mask": mask, "labels": labels}


def pad_id(tokenizer: Any) -> int:
    for tid in (tokenizer.pad_token_id, tokenizer.eos_token_id):
        if tid is not None:
            return int(tid)
    return 0
