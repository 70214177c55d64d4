"""The LM protocol shared by every system, and the sampling parameters it takes.

A prompt is a plain string or a chat (a list of ``{"role", "content"}`` messages; the backend
applies its chat template with the generation prompt). ``generate`` returns, per prompt, ``n``
:class:`Completion` objects. ``token_logprobs`` and ``loglikelihood`` score a given continuation
after a prompt (the usual multiple-choice and judge primitive).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, Union, runtime_checkable

from pydantic import Field, model_validator

from ennead.core.config import BaseConfig
from ennead.core.errors import BackendError

Message = Mapping[str, str]
Prompt = Union[str, Sequence[Message]]  # noqa: UP007 (a runtime alias must work on 3.10)


class SamplingParams(BaseConfig):
    """How to sample; the same fields as vLLM / the OpenAI API, so every backend can honour them."""

    n: int = Field(1, ge=1, description="completions per prompt")
    temperature: float = Field(0.0, ge=0.0, le=100.0, description="0 means greedy decoding")
    top_p: float = Field(1.0, gt=0.0, le=1.0, description="nucleus sampling mass")
    max_new_tokens: int = Field(64, ge=1, description="new tokens at most")
    min_new_tokens: int = Field(0, ge=0, description="new tokens at least (EOS suppressed before)")
    presence_penalty: float = Field(
        0.0, ge=-2.0, le=2.0, description="subtracted once from logits of tokens already generated"
    )
    stop: list[str] = Field(default_factory=list, description="cut the text at the first of these")
    seed: int | None = Field(None, description="seed for sampling (None: not reseeded)")
    return_logprobs: bool = Field(
        False, description="return the log-probability of each generated token"
    )

    @model_validator(mode="after")
    def _check(self) -> SamplingParams:
        if self.n > 1 and self.temperature == 0.0:
            raise ValueError("n > 1 needs temperature > 0 (greedy decoding gives n equal copies)")
        if self.min_new_tokens > self.max_new_tokens:
            raise ValueError("min_new_tokens must not exceed max_new_tokens")
        if any(not s for s in self.stop):
            raise ValueError("stop strings must be non-empty")
        return self


@dataclass
class Completion:
    text: str
    token_ids: list[int]
    logprobs: list[float] | None = None  # one per token in token_ids, when asked for
    finish_reason: str = "length"  # "stop" (EOS or a stop string) or "length"

    @property
    def cumulative_logprob(self) -> float | None:
        return None if self.logprobs is None else float(sum(self.logprobs))


@runtime_checkable
class LM(Protocol):
    """What systems rely on; implemented by every registered backend."""

    name: str

    def format_prompt(self, prompt: Prompt) -> str: ...

    def generate(
        self, prompts: Sequence[Prompt], params: SamplingParams | None = None
    ) -> list[list[Completion]]: ...

    def token_logprobs(self, pairs: Sequence[tuple[Prompt, str]]) -> list[list[float]]: ...

    def loglikelihood(self, pairs: Sequence[tuple[Prompt, str]]) -> list[float]: ...

    def chat(self, messages: Sequence[Message], params: SamplingParams | None = None) -> str: ...


class BackendConfig(BaseConfig):
    """Which backend to build and how; ``options`` go to the backend's constructor."""

    name: str = Field("smollm2", description="registry name: smollm2, hf, tiny, openai, vllm")
    model: str | None = Field(None, description="model folder (hf) or model name (openai/vllm)")
    adapter: str | None = Field(None, description="LoRA adapter folder (hf, smollm2, vllm)")
    device: str = Field("auto", description="auto, cpu, cuda or cuda:N")
    dtype: str = Field("auto", description="auto, float32, bfloat16 or float16")
    batch_size: int = Field(16, ge=1, description="prompts per forward batch")
    max_input_tokens: int | None = Field(None, ge=1, description="truncate prompts from the left")
    options: dict[str, Any] = Field(default_factory=dict, description="backend-specific options")


class BaseLM:
    """Shared helpers. Subclasses implement ``generate`` and ``token_logprobs``."""

    name = "base"

    def format_prompt(self, prompt: Prompt) -> str:
        if isinstance(prompt, str):
            return prompt
        return self.apply_chat_template(prompt)

    def apply_chat_template(self, messages: Sequence[Message]) -> str:
        raise BackendError(f"backend {self.name!r} has no chat template")

    def generate(
        self, prompts: Sequence[Prompt], params: SamplingParams | None = None
    ) -> list[list[Completion]]:
        raise NotImplementedError

    def token_logprobs(self, pairs: Sequence[tuple[Prompt, str]]) -> list[list[float]]:
        """Log-probability of each continuation token given the prompt, one list per pair."""
        raise NotImplementedError

    def loglikelihood(self, pairs: Sequence[tuple[Prompt, str]]) -> list[float]:
        """Sum of the continuation's token log-probabilities given the prompt, one per pair."""
        return [float(sum(row)) for row in self.token_logprobs(pairs)]

    def chat(self, messages: Sequence[Message], params: SamplingParams | None = None) -> str:
        return self.generate([list(messages)], params)[0][0].text


def chat_template_text(tokenizer: Any, messages: Sequence[Message], source: Any) -> str:
    """The tokenizer's chat template applied with the generation prompt; ``source`` names the
    model in the error when the tokenizer has none."""
    if not getattr(tokenizer, "chat_template", None):
        raise BackendError(
            f"the tokenizer of {source} has no chat template; pass a plain string prompt instead"
        )
    text: str = tokenizer.apply_chat_template(
        [dict(m) for m in messages], tokenize=False, add_generation_prompt=True
    )
    return text


def check_messages(prompt: Prompt, index: int) -> None:
    """A chat must be a list of role/content dicts; say which prompt is wrong."""
    if isinstance(prompt, str):
        return
    if not isinstance(prompt, Sequence) or not prompt:
        raise BackendError(f"prompt {index}: expected a string or a non-empty list of messages")
    for j, m in enumerate(prompt):
        if not isinstance(m, Mapping) or "role" not in m or "content" not in m:
            raise BackendError(
                f"prompt {index}, message {j}: expected a dict with 'role' and 'content', got {m!r}"
            )


def check_pairs(pairs: Sequence[tuple[Prompt, str]]) -> None:
    for i, pair in enumerate(pairs):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise BackendError(f"pair {i}: expected (prompt, continuation), got {pair!r}")
        check_messages(pair[0], i)
        if not isinstance(pair[1], str) or not pair[1]:
            raise BackendError(f"pair {i}: the continuation must be a non-empty string")


def continuation_length(ctx: Sequence[int], full: Sequence[int], index: int) -> int:
    """How many trailing tokens of ``full`` (prompt+continuation tokenized whole) to score.

    The tokens after the common prefix of the prompt's and the whole text's tokenization: a
    tokenizer that merges across the boundary (a space moving into the next word) is scored on the
    tokens it really produces.
    """
    common = 0
    for a, b in zip(ctx, full):
        if a != b:
            break
        common += 1
    if common == 0:
        raise BackendError(
            f"pair {index}: the prompt is empty, so the first continuation token has no context"
        )
    if common == len(full):
        raise BackendError(f"pair {index}: the continuation adds no tokens")
    return len(full) - common


def cut_at_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    """Text up to the earliest stop string, and whether one was found."""
    cut = min((i for i in (text.find(s) for s in stop) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)
