"""``vllm``: the in-process vLLM engine (``pip install 'ennead[gpu]'``) for fast GPU sampling.

vLLM schedules and batches by itself, so every call hands it all prompts at once. Prompts are
tokenized here (chat template applied as in ``hf``) and passed as token ids, so a template that
writes its own BOS does not get a second one. ``options`` go to ``vllm.LLM`` (for example
``gpu_memory_utilization``, ``max_model_len``, ``tensor_parallel_size``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ennead.core.backends.base import (
    BaseLM,
    Completion,
    Message,
    Prompt,
    SamplingParams,
    chat_template_text,
    check_messages,
    check_pairs,
    continuation_length,
    cut_at_stop,
)
from ennead.core.errors import BackendError
from ennead.core.imports import require


class VLLMBackend(BaseLM):
    name = "vllm"

    def __init__(
        self,
        model: str | None = None,
        adapter: str | None = None,
        dtype: str = "auto",
        max_input_tokens: int | None = None,
        options: dict[str, Any] | None = None,
        **_: Any,  # device and batch_size: vLLM places and batches by itself
    ):
        self._vllm = require("vllm", "gpu", "the vllm backend")
        if not model:
            raise BackendError("the vllm backend needs model=<local model folder>")
        opts = dict(options or {})
        self._lora = None
        if adapter is not None:
            from vllm.lora.request import LoRARequest

            opts.setdefault("enable_lora", True)
            self._lora = LoRARequest("adapter", 1, str(adapter))
        self.model_path = str(model)
        self.max_input_tokens = max_input_tokens
        self.llm = self._vllm.LLM(model=str(model), dtype=dtype, **opts)
        self.tokenizer = self.llm.get_tokenizer()

    def apply_chat_template(self, messages: Sequence[Message]) -> str:
        return chat_template_text(self.tokenizer, messages, self.model_path)

    def _tokenize(self, text: str, plain: bool) -> list[int]:
        ids: list[int] = self.tokenizer(text, add_special_tokens=plain)["input_ids"]
        return ids

    def _sampling(self, params: SamplingParams, **extra: Any) -> Any:
        return self._vllm.SamplingParams(
            n=params.n,
            temperature=params.temperature,
            top_p=params.top_p,
            max_tokens=params.max_new_tokens,
            min_tokens=params.min_new_tokens,
            presence_penalty=params.presence_penalty,
            stop=list(params.stop) or None,
            seed=params.seed,
            logprobs=0 if params.return_logprobs else None,
            **extra,
        )

    def generate(
        self, prompts: Sequence[Prompt], params: SamplingParams | None = None
    ) -> list[list[Completion]]:
        params = params or SamplingParams()
        inputs = []
        for i, p in enumerate(prompts):
            check_messages(p, i)
            ids = self._tokenize(self.format_prompt(p), isinstance(p, str))
            if self.max_input_tokens is not None:
                ids = ids[-self.max_input_tokens :]
            inputs.append({"prompt_token_ids": ids})
        outs = self.llm.generate(inputs, self._sampling(params), lora_request=self._lora)
        result = []
        for o in outs:
            row = []
            for c in o.outputs:
                text, hit = cut_at_stop(c.text, params.stop) if params.stop else (c.text, False)
                lps = None
                if params.return_logprobs and c.logprobs:
                    lps = [float(step[tok].logprob) for tok, step in zip(c.token_ids, c.logprobs)]
                finish = "stop" if hit or c.finish_reason == "stop" else "length"
                row.append(Completion(text, list(c.token_ids), lps, finish))
            result.append(row)
        return result

    def token_logprobs(self, pairs: Sequence[tuple[Prompt, str]]) -> list[list[float]]:
        check_pairs(pairs)
        inputs, lengths = [], []
        for i, (prompt, cont) in enumerate(pairs):
            plain = isinstance(prompt, str)
            ctx_text = self.format_prompt(prompt)
            full = self._tokenize(ctx_text + cont, plain)
            lengths.append(continuation_length(self._tokenize(ctx_text, plain), full, i))
            inputs.append({"prompt_token_ids": full})
        # one generated token is the least vLLM allows; only the prompt's log-probs are read
        sp = self._sampling(SamplingParams(max_new_tokens=1), prompt_logprobs=1)
        outs = self.llm.generate(inputs, sp, lora_request=self._lora)
        result = []
        for inp, n, res in zip(inputs, lengths, outs):
            ids = inp["prompt_token_ids"]
            steps = res.prompt_logprobs[len(ids) - n :]
            result.append([float(step[t].logprob) for t, step in zip(ids[len(ids) - n :], steps)])
        return result
