"""``openai``: any server speaking the OpenAI HTTP API (vLLM, Ollama, llama.cpp server, ...).

Plain prompts go to ``/completions``, chats to ``/chat/completions``. Log-likelihood uses
``/completions`` with ``echo=true, max_tokens=0, logprobs=1`` (supported by vLLM); servers without
prompt log-probs raise a BackendError saying so.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from ennead.core.backends.base import (
    BaseLM,
    Completion,
    Prompt,
    SamplingParams,
    check_messages,
    cut_at_stop,
)
from ennead.core.errors import BackendError
from ennead.core.imports import require


class OpenAIBackend(BaseLM):
    name = "openai"

    def __init__(
        self,
        model: str | None = None,
        options: dict[str, Any] | None = None,
        batch_size: int = 16,
        **_: Any,
    ):
        opts = dict(options or {})
        self.base_url = str(opts.pop("base_url", "http://127.0.0.1:8000/v1")).rstrip("/")
        self.api_key = opts.pop("api_key", None)
        self.timeout = float(opts.pop("timeout", 120.0))
        self.retries = int(opts.pop("retries", 3))
        self.backoff = float(opts.pop("backoff", 0.5))
        if opts:
            raise BackendError(
                f"unknown openai backend options: {', '.join(sorted(opts))}; allowed: "
                "base_url, api_key, timeout, retries, backoff"
            )
        if not model:
            raise BackendError("the openai backend needs model=<served model name>")
        self.model = model
        self.batch_size = batch_size
        httpx = require("httpx", "openai", "the openai backend")
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        self._client = httpx.Client(base_url=self.base_url, timeout=self.timeout, headers=headers)

    def _post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        httpx = require("httpx", "openai")
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            try:
                resp = self._client.post(path, json=payload)
            except httpx.TransportError as exc:  # connection refused, reset, timeout
                last = exc
            else:
                if resp.status_code < 500:
                    if resp.status_code >= 400:
                        raise BackendError(
                            f"{self.base_url}{path} answered {resp.status_code}: {resp.text[:500]}"
                        )
                    data: dict[str, Any] = resp.json()
                    return data
                last = BackendError(f"{self.base_url}{path} answered {resp.status_code}")
            if attempt < self.retries:
                time.sleep(self.backoff * 2**attempt)
        raise BackendError(f"{self.base_url}{path} failed after {self.retries + 1} tries: {last}")

    def _payload(self, params: SamplingParams) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "n": params.n,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "max_tokens": params.max_new_tokens,
            "presence_penalty": params.presence_penalty,
        }
        if params.stop:
            body["stop"] = list(params.stop)
        if params.seed is not None:
            body["seed"] = params.seed
        if params.min_new_tokens:
            body["min_tokens"] = params.min_new_tokens  # vLLM extension
        return body

    def generate(
        self, prompts: Sequence[Prompt], params: SamplingParams | None = None
    ) -> list[list[Completion]]:
        params = params or SamplingParams()
        out: list[list[Completion]] = []
        for i, prompt in enumerate(prompts):
            check_messages(prompt, i)
            body = self._payload(params)
            if isinstance(prompt, str):
                body["prompt"] = prompt
                if params.logprobs:
                    body["logprobs"] = 1
                data = self._post("/completions", body)
            else:
                body["messages"] = [dict(m) for m in prompt]
                if params.logprobs:
                    body["logprobs"] = True
                data = self._post("/chat/completions", body)
            out.append([self._choice(c, params) for c in data.get("choices", [])])
            if len(out[-1]) != params.n:
                raise BackendError(f"asked the server for n={params.n}, got {len(out[-1])}")
        return out

    @staticmethod
    def _choice(choice: dict[str, Any], params: SamplingParams) -> Completion:
        text = choice.get("text")
        if text is None:
            text = (choice.get("message") or {}).get("content") or ""
        text, hit = cut_at_stop(text, params.stop) if params.stop else (text, False)
        lps = None
        raw = choice.get("logprobs")
        if isinstance(raw, dict) and raw.get("token_logprobs") is not None:
            lps = [float(x) for x in raw["token_logprobs"] if x is not None]
        elif isinstance(raw, dict) and raw.get("content") is not None:
            lps = [float(t["logprob"]) for t in raw["content"]]
        finish = "stop" if hit or choice.get("finish_reason") == "stop" else "length"
        return Completion(text=text, token_ids=[], logprobs=lps, finish_reason=finish)

    def loglikelihood(self, pairs: Sequence[tuple[Prompt, str]]) -> list[float]:
        out = []
        for i, (prompt, cont) in enumerate(pairs):
            if not isinstance(prompt, str):
                raise BackendError(
                    f"pair {i}: the openai backend scores plain-text prompts only (the server "
                    "applies chat templates on its side); format the chat first"
                )
            body = {"model": self.model, "prompt": prompt + cont, "max_tokens": 0,
                    "echo": True, "logprobs": 1}  # fmt: skip
            data = self._post("/completions", body)
            lp = (data["choices"][0].get("logprobs") or {}) if data.get("choices") else {}
            offsets, values = lp.get("text_offset"), lp.get("token_logprobs")
            if not offsets or values is None:
                raise BackendError(
                    f"{self.base_url} returned no prompt log-probs (needs echo + logprobs support)"
                )
            start = len(prompt)
            total = sum(v for o, v in zip(offsets, values) if o >= start and v is not None)
            out.append(float(total))
        return out

    def close(self) -> None:
        self._client.close()
