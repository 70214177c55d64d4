"""Validate and tokenize preference pairs and SFT examples."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ennead.core.errors import DataError


def check_records(rows: Sequence[dict[str, Any]], keys: tuple[str, ...], what: str) -> None:
    if not rows:
        raise DataError(f"no {what} to train on")
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise DataError(f"{what} {i}: expected a dict with {', '.join(keys)}, got {row!r}")
        for key in keys:
            if key not in row:
                raise DataError(f"{what} {i}: missing key {key!r} (needs {', '.join(keys)})")
            if not isinstance(row[key], str):
                raise DataError(
                    f"{what} {i}: {key!r} must be a string, got {type(row[key]).__name__}"
                )
        if not all(row[k] for k in keys[1:]):
            raise DataError(f"{what} {i}: empty {' or '.join(keys[1:])}")


def encode_pair(
    tokenizer: Any, prompt: str, completion: str, max_length: int, max_prompt_length: int
) -> tuple[list[int], int]:
    """``prompt + completion + eos`` ids and the prompt length; the prompt is cut from the left."""
    p = tokenizer(prompt, add_special_tokens=True)["input_ids"][-max_prompt_length:]
    c = tokenizer(completion, add_special_tokens=False)["input_ids"]
    if tokenizer.eos_token_id is not None:
        c = [*c, tokenizer.eos_token_id]
    c = c[: max(1, max_length - len(p))]
    return p + c, len(p)


def collate(rows: list[tuple[list[int], int]], pad_id: int) -> dict[str, Any]:
    """Right-padded ids, attention mask and labels (-100 on prompt and padding)."""
    import torch

    width = max(len(ids) for ids, _ in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    labels = torch.full((len(rows), width), -100, dtype=torch.long)
    for i, (seq, plen) in enumerate(rows):
        ids[i, : len(seq)] = torch.tensor(seq)
        mask[i, : len(seq)] = 1
        labels[i, plen : len(seq)] = torch.tensor(seq[plen:])
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}
