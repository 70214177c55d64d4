"""Logits processors that transformers does not ship with the semantics we need."""

from __future__ import annotations

from typing import Any


def make_presence_penalty(penalty: float, prompt_length: int) -> Any:
    """A transformers ``LogitsProcessor`` with OpenAI/vLLM presence-penalty semantics.

    transformers' ``RepetitionPenaltyLogitsProcessor`` is multiplicative and counts the prompt;
    the presence penalty that vLLM and the OpenAI API (and the DDR paper's sampling) use subtracts a
    constant once from every token that already appears in the *generated* part.
    """
    import torch
    from transformers import LogitsProcessor

    class PresencePenaltyLogitsProcessor(LogitsProcessor):  # type: ignore[misc]
        def __init__(self, penalty: float, prompt_length: int):
            self.penalty = float(penalty)
            self.prompt_length = int(prompt_length)

        def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
            generated = input_ids[:, self.prompt_length :]
            if generated.shape[1] == 0 or self.penalty == 0.0:
                return scores
            seen = torch.zeros_like(scores, dtype=torch.bool)
            seen.scatter_(1, generated, True)
            return scores - self.penalty * seen.to(scores.dtype)

    return PresencePenaltyLogitsProcessor(penalty, prompt_length)


def make_stop_criteria(stop: list[str], tokenizer: Any, prompt_length: int) -> Any:
    """Stop each sequence once its decoded new text contains a stop string.

    transformers' own ``StopStringCriteria`` precomputes token-string tables that break on
    word-level tokenizers (our ``tiny`` backend); decoding the new tokens works for any tokenizer,
    and the cost is small next to a forward pass.
    """
    import torch
    from transformers import StoppingCriteria

    class StopOnStrings(StoppingCriteria):  # type: ignore[misc]
        def __call__(self, input_ids: torch.Tensor, scores: Any, **kwargs: Any) -> torch.Tensor:
            texts = tokenizer.batch_decode(input_ids[:, prompt_length:], skip_special_tokens=True)
            done = [any(s in t for s in stop) for t in texts]
            return torch.tensor(done, dtype=torch.bool, device=input_ids.device)

    return StopOnStrings()
