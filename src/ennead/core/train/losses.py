"""Loss functions: DPO (Rafailov et al., 2023) and the sequence log-probabilities it needs."""

from __future__ import annotations

from typing import Any


def sequence_logps(model: Any, batch: dict[str, Any]) -> Any:
    """Sum of log p(label tokens) per row; labels are -100 where not scored."""
    import torch

    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    labels = batch["labels"][:, 1:]
    logp = torch.log_softmax(logits[:, :-1].float(), dim=-1)
    mask = labels != -100
    picked = logp.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return (picked * mask).sum(-1)


def dpo_loss(
    policy_chosen: Any,
    policy_rejected: Any,
    ref_chosen: Any,
    ref_rejected: Any,
    beta: float = 0.1,
    label_smoothing: float = 0.0,
) -> tuple[Any, Any, Any]:
    """Sigmoid DPO loss per pair and the implicit rewards.

    loss = -(1 - eps) log sigmoid(beta * m) - eps log sigmoid(-beta * m),
    m = (pi_c - ref_c) - (pi_r - ref_r); eps > 0 is conservative DPO (label smoothing).
    Returns ``(loss[B], chosen_reward[B], rejected_reward[B])``.
    """
    import torch.nn.functional as F

    chosen_logratio = policy_chosen - ref_chosen
    rejected_logratio = policy_rejected - ref_rejected
    margin = beta * (chosen_logratio - rejected_logratio)
    loss = -(1 - label_smoothing) * F.logsigmoid(margin) - label_smoothing * F.logsigmoid(-margin)
    return loss, beta * chosen_logratio.detach(), beta * rejected_logratio.detach()
