"""Logits processors and stopping criteria that transformers does not ship with our semantics.

Imported only by the transformers backends, so importing torch here is fine.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ennead.core.imports import require

# a missing extra surfaces as MissingExtraError with the pip line, not a bare ImportError
require("torch", "lm", "the transformers backends")
require("transformers", "lm", "the transformers backends")
import torch  # noqa: E402
from transformers import LogitsProcessor, StoppingCriteria  # noqa: E402


class PresencePenaltyLogitsProcessor(LogitsProcessor):
    """OpenAI/vLLM presence penalty: subtract ``penalty`` once from the logit of every token that
    already appears in the *generated* part (positions from ``prompt_length`` on).

    transformers' ``RepetitionPenaltyLogitsProcessor`` is multiplicative and counts the prompt too,
    which is not what the OpenAI API, vLLM or the papers' sampling settings mean.
    """

    def __init__(self, penalty: float, prompt_length: int):
        self.penalty = float(penalty)
        self.prompt_length = int(prompt_length)

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        generated = input_ids[:, self.prompt_length :]
        if generated.shape[1] == 0 or self.penalty == 0.0:
            return scores
        seen = torch.zeros(scores.shape, dtype=torch.bool, device=scores.device)
        seen.scatter_(1, generated.to(scores.device), True)  # repeats still count once
        return scores - self.penalty * seen.to(scores.dtype)


class StopStringCriteria(StoppingCriteria):
    """Marks a sequence finished once its new text contains a stop string; ``generate`` ends when
    every sequence in the batch is finished (by EOS or by this).

    transformers' own ``StopStringCriteria`` precomputes token-string tables that break on
    word-level tokenizers (our ``tiny`` backend). Decoding works for any tokenizer; only a short
    tail is decoded because a stop string completed at this step lies within its last tokens.
    """

    def __init__(self, stop: Sequence[str], tokenizer: Any, prompt_length: int):
        self.stop = list(stop)
        self.tokenizer = tokenizer
        self.prompt_length = int(prompt_length)
        # every token decodes to at least one character, so this many tokens hold any stop string
        self.window = max(len(s) for s in self.stop) + 2

    def __call__(self, input_ids: torch.Tensor, scores: Any, **kwargs: Any) -> torch.Tensor:
        start = max(self.prompt_length, input_ids.shape[1] - self.window)
        tails = self.tokenizer.batch_decode(input_ids[:, start:], skip_special_tokens=True)
        done = [any(s in t for s in self.stop) for t in tails]
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)


def make_presence_penalty(penalty: float, prompt_length: int) -> PresencePenaltyLogitsProcessor:
    return PresencePenaltyLogitsProcessor(penalty, prompt_length)


def make_stop_criteria(stop: Sequence[str], tokenizer: Any, prompt_length: int) -> Any:
    return StopStringCriteria(stop, tokenizer, prompt_length)
