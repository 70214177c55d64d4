"""``vllm``: the in-process vLLM engine (``pip install 'ennead[gpu]'``) for fast GPU sampling."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ennead.core.backends.base import (
    BaseLM,
    Completion,
    Message,
    Prompt,
    SamplingParams,
    check_messages,
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
        options: dict[str, Any] | None = None,
        **_: Any,
    ):
        vllm = require("vllm", "gpu", "the vllm backend")
        if not model:
            raise BackendError("the vllm backend needs model=<local folder>")
        opts = dict(options or {})
        self._lora = None
        if adapter is not None:
            from vllm.lora.request import LoRARequest

            opts.setdefault("enable_lora", True)
            self._lora = LoRARequest("adapter", 1, str(adapter))
        self.llm = vllm.LLM(model=str(model), dtype=dtype, **opts)
        self.tokenizer = self.llm.get_tokenizer()

    def apply_chat_template(self, messages: Sequence[Message]) -> str:
        text: str = self.tokenizer.apply_chat_template(
            [dict(m) for m in messages], tokenize=False, add_generation_prompt=True
        )
        return text

    def _sampling(self, params: SamplingParams, **extra: Any) -> Any:
        from vllm import SamplingParams as VSP

        return VSP(
            n=params.n, temperature=params.temperature, top_p=params.top_p,
            max_tokens=params.max_new_tokens, min_tokens=params.min_new_tokens,
            presence_penalty=params.presence_penalty, stop=list(params.stop) or None,
            seed=params.seed, logprobs=0 if params.logprobs else None, **extra,
        )  # fmt: skip

    def generate(
        self, prompts: Sequence[Prompt], params: SamplingParams | None = None
    ) -> list[list[Completion]]:
        params = params or SamplingParams()
        for i, p in enumerate(prompts):
            check_messages(p, i)
        texts = [self.format_prompt(p) for p in prompts]
        outs = self.llm.generate(texts, self._sampling(params), lora_request=self._lora)
        result = []
        for o in outs:
            row = []
            for c in o.outputs:
                text, hit = cut_at_stop(c.text, params.stop) if params.stop else (c.text, False)
                lps = None
                if params.logprobs and c.logprobs:
                    lps = [float(step[tok].logprob) for tok, step in zip(c.token_ids, c.logprobs)]
                finish = "stop" if hit or c.finish_reason == "stop" else "length"
                row.append(Completion(text, list(c.token_ids), lps, finish))
            result.append(row)
        return result

    def loglikelihood(self, pairs: Sequence[tuple[Prompt, str]]) -> list[float]:
        out = []
        for prompt, cont in pairs:
            ctx = self.format_prompt(prompt)
            ctx_ids = self.tokenizer(ctx)["input_ids"]
            cont_ids = self.tokenizer(cont, add_special_tokens=False)["input_ids"]
            sp = self._sampling(SamplingParams(max_new_tokens=1), prompt_logprobs=0)
            res = self.llm.generate(
                [{"prompt_token_ids": ctx_ids + cont_ids}], sp, lora_request=self._lora
            )[0]
            plp = res.prompt_logprobs[len(ctx_ids) :]
            out.append(float(sum(step[t].logprob for t, step in zip(cont_ids, plp))))
        return out
