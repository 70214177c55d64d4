"""Tool-use training at small scale (ToolLLaMA's idea): solution traces -> LoRA SFT -> evaluation.

``build_traces`` runs a teacher (the rule policy, or any policy: an OpenAI-compatible model for the
paper preset) through DFSDT on the training tasks and keeps the chains that passed;
``sft_rows`` turns each step of a kept chain into a ``{prompt, completion}`` row in the ReAct
format the :class:`~ennead.tools.policies.LMPolicy` reads; ``train_lora`` fine-tunes a backend's
model with ``ennead.core.train`` (SFT loss, LoRA adapters) and returns a backend around it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ennead.tools.evaluate import run_task
from ennead.tools.policies import Context, Policy, react_messages
from ennead.tools.tasks import Task
from ennead.tools.toolbox import build_registry


def build_traces(
    teacher: Policy, tasks: Sequence[Task], budget: int = 12, max_steps: int = 8, width: int = 2
) -> list[dict[str, Any]]:
    out = []
    for t in tasks:
        tr, passed = run_task(teacher, t, "dfsdt", max_steps, budget, width)
        if passed and tr.status in ("finish", "give_up"):  # a clean ending to imitate
            out.append(tr.to_dict() | {"passed": True, "chain": [s.to_dict() for s in tr.chain()]})
    return out


def _step_text(step: dict[str, Any]) -> str:
    args = step["args"] if isinstance(step["args"], str) else json.dumps(step["args"])
    return f"Thought: {step['thought']}\nAction: {step['tool']}\nAction Input: {args}"


def sft_rows(
    traces: Sequence[dict[str, Any]], lm: Any, retrieve_k: int = 0
) -> list[dict[str, str]]:
    """One row per step: the prompt the policy would see there, the teacher's step as completion."""
    from ennead.tools.evaluate import retrieve_tools
    from ennead.tools.policies import Action, Step

    full = build_registry(None)
    rows = []
    for tr in traces:
        # the tools the policy will be shown at evaluation time
        reg = (
            full.subset(retrieve_tools(full, tr["instruction"], retrieve_k)) if retrieve_k else full
        )
        history: list[Step] = []
        for st in tr["chain"]:
            ctx = Context(tr["task_id"], tr["instruction"], reg, list(history))
            msgs = react_messages(ctx)
            prompt = lm.format_prompt(msgs) if _chat(lm) else _flat(msgs)
            rows.append({"prompt": prompt, "completion": _step_text(st)})
            history.append(
                Step(Action(st["tool"], st["args"], st["thought"]), st["status"], st["observation"])
            )
    return rows


def _chat(lm: Any) -> bool:
    return bool(getattr(getattr(lm, "tokenizer", None), "chat_template", None))


def _flat(msgs: list[dict[str, str]]) -> str:
    from ennead.tools.policies import _flat as flat

    return flat(msgs)


def train_lora(
    lm: Any,
    rows: Sequence[dict[str, str]],
    steps: int,
    lr: float,
    batch_size: int,
    max_length: int,
    lora_r: int,
    seed: int,
    run_dir: Any = None,
) -> tuple[Any, Any]:
    """LoRA SFT of ``lm``'s model on ``rows``; returns (a backend around the trained model, the
    core TrainResult)."""
    from ennead.core.train import Trainer
    from ennead.core.train.config import LoraSettings, SFTConfig
    from ennead.core.train.losses import SFTLoss

    cfg = SFTConfig(
        lr=lr,
        max_steps=steps,
        batch_size=batch_size,
        max_length=max_length,
        max_prompt_length=max(1, max_length - 96),
        seed=seed,
        lora=LoraSettings(r=lora_r, alpha=2 * lora_r),
    )
    res = Trainer(SFTLoss(), cfg, run_dir=run_dir).train(lm.model, lm.tokenizer, list(rows))
    trained = type(lm).from_model(res.model, lm.tokenizer)
    return trained, res
