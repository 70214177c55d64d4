"""The DPO loss (Rafailov et al., 2023) and the sequence log-probabilities it is made of.

    loss = -log sigmoid(beta * ((pi_c - ref_c) - (pi_r - ref_r)))

where ``pi_*`` / ``ref_*`` are summed log-probabilities of the chosen / rejected completion given
the prompt under the policy / reference model. The implicit reward of a completion is
``beta * (pi - ref)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ennead.core.imports import require
from ennead.core.train.data import collate, encode, pad_id


def dpo_loss(
    policy_chosen_logps: Any,
    policy_rejected_logps: Any,
    ref_chosen_logps: Any,
    ref_rejected_logps: Any,
    beta: float = 0.1,
    label_smoothing: float = 0.0,
) -> tuple[Any, Any, Any]:
    """Sigmoid DPO loss per pair and implicit rewards: ``(loss, chosen_rewards, rejected_rewards)``.

    ``label_smoothing`` = eps > 0 is conservative DPO: the preference label is taken to be flipped
    with probability eps, ``loss = -(1-eps) log sigmoid(beta m) - eps log sigmoid(-beta m)``.
    All inputs are tensors of shape ``[B]``; the rewards are detached.
    """
    F = require("torch.nn.functional", "lm", "the DPO loss")
    chosen_logratio = policy_chosen_logps - ref_chosen_logps
    rejected_logratio = policy_rejected_logps - ref_rejected_logps
    margin = beta * (chosen_logratio - rejected_logratio)
    loss = -(1.0 - label_smoothing) * F.logsigmoid(margin)
    if label_smoothing:
        loss = loss - label_smoothing * F.logsigmoid(-margin)
    return loss, beta * chosen_logratio.detach(), beta * rejected_logratio.detach()


def sequence_logps(model: Any, batch: dict[str, Any], average: bool = False) -> Any:
    """Per row, the summed (or mean) log-probability of the tokens whose label is not -100.

    ``batch`` has ``input_ids``, ``attention_mask`` and ``labels`` as made by
    :func:`ennead.core.train.data.collate`: prompt and padding positions carry -100 and count for
    nothing. Token t is scored by the logits at t - 1.
    """
    torch = require("torch", "lm", "sequence log-probabilities")
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    logits = logits[:, :-1].float()
    labels = batch["labels"][:, 1:]
    mask = labels != -100
    picked = logits.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    # log_softmax at the picked token only, without materialising a second [B, T, V] tensor
    token_logps = (picked - torch.logsumexp(logits, dim=-1)) * mask
    total = token_logps.sum(-1)
    if average:
        return total / mask.sum(-1).clamp(min=1)
    return total


def completion_logps(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[str],
    completions: Sequence[str],
    *,
    batch_size: int = 8,
    max_length: int = 512,
    max_prompt_length: int = 384,
    add_eos: bool = True,
    average: bool = False,
) -> Any:
    """log p(completion | prompt) for each pair, batched, without gradients.

    Prompts may be chat-formatted strings (from ``apply_chat_template(..., tokenize=False)``);
    they are left-truncated to ``max_prompt_length`` tokens. ``add_eos`` scores the end-of-sequence
    token after the completion too, as training does. Returns a float tensor of shape ``[N]``.
    """
    torch = require("torch", "lm", "sequence log-probabilities")
    if len(prompts) != len(completions):
        raise ValueError(f"{len(prompts)} prompts but {len(completions)} completions")
    rows = [
        encode(tokenizer, p, c, max_length, max_prompt_length, add_eos)
        for p, c in zip(prompts, completions)
    ]
    device = next(model.parameters()).device
    out = []
    with torch.no_grad():
        for start in range(0, len(rows), batch_size):
            batch = collate(rows[start : start + batch_size], pad_id(tokenizer))
            batch = {k: v.to(device) for k, v in batch.items()}
            out.append(sequence_logps(model, batch, average=average).cpu())
    return torch.cat(out) if out else torch.zeros(0)
