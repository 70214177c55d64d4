"""``openai``: any server speaking the OpenAI HTTP API (vLLM, Ollama, llama.cpp server, ...).

Plain prompts go to ``/completions`` (``batch_size`` prompts per request, as a list), chats to
``/chat/completions`` (one request per chat). Up to ``concurrency`` requests are in flight at once,
so a server that batches (vLLM) is kept busy. Scoring uses ``/completions`` with
``echo=true, max_tokens=0, logprobs=1`` (supported by vLLM); a server that does not return prompt
log-probabilities raises a BackendError saying so. Chats cannot be scored here, because the chat
template lives on the server: format them first.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from ennead.core.backends.base import (
    BaseLM,
    Completion,
    Prompt,
    SamplingParams,
    check_messages,
    check_pairs,
    cut_at_stop,
)
from ennead.core.errors import BackendError
from ennead.core.imports import require

T = TypeVar("T")
OPTIONS = ("base_url", "api_key", "timeout", "retries", "backoff", "concurrency")


class OpenAIBackend(BaseLM):
    """Options: ``base_url`` (default ``http://127.0.0.1:8000/v1``), ``api_key``, ``timeout``
    (seconds), ``retries`` and ``backoff`` (for 5xx and connection errors), ``concurrency``."""

    name = "openai"

    def __init__(
        self,
        model: str | None = None,
        options: dict[str, Any] | None = None,
        batch_size: int = 16,
        **_: Any,  # device, dtype, adapter: the server decides
    ):
        opts = dict(options or {})
        unknown = sorted(set(opts) - set(OPTIONS))
        if unknown:
            raise BackendError(
                f"unknown openai backend options: {', '.join(unknown)}; "
                f"allowed: {', '.join(OPTIONS)}"
            )
        if not model:
            raise BackendError("the openai backend needs model=<served model name>")
        self.model = model
        self.batch_size = batch_size
        self.base_url = str(opts.get("base_url", "http://127.0.0.1:8000/v1")).rstrip("/")
        self.api_key = opts.get("api_key")
        self.timeout = float(opts.get("timeout", 120.0))
        self.retries = int(opts.get("retries", 3))
        self.backoff = float(opts.get("backoff", 0.5))
        self.concurrency = max(1, int(opts.get("concurrency", 8)))
        httpx = require("httpx", "openai", "the openai backend")
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        self._client = httpx.Client(base_url=self.base_url, timeout=self.timeout, headers=headers)

    # -- HTTP ------------------------------------------------------------------------------------
    def _post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST with retries (exponential backoff) on connection errors and 5xx answers."""
        httpx = require("httpx", "openai")
        url = f"{self.base_url}{path}"
        last = ""
        for attempt in range(self.retries + 1):
            try:
                resp = self._client.post(path, json=payload)
            except httpx.TransportError as exc:  # refused, reset, timed out
                last = f"{type(exc).__name__}: {exc}"
            else:
                if resp.status_code < 400:
                    try:
                        data: dict[str, Any] = resp.json()
                    except ValueError:
                        raise BackendError(
                            f"{url} answered non-JSON: {resp.text[:200]!r}"
                        ) from None
                    return data
                if resp.status_code < 500:  # the request is wrong: retrying will not help
                    raise BackendError(f"{url} answered {resp.status_code}: {resp.text[:500]}")
                last = f"status {resp.status_code}: {resp.text[:500]}"
            if attempt < self.retries:
                time.sleep(self.backoff * 2**attempt)
        raise BackendError(f"{url} failed after {self.retries + 1} tries; last error: {last}")

    def _parallel(self, fn: Callable[[Any], T], jobs: Sequence[Any]) -> list[T]:
        if len(jobs) <= 1 or self.concurrency == 1:
            return [fn(j) for j in jobs]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(jobs))) as pool:
            return list(pool.map(fn, jobs))

    # -- generation ------------------------------------------------------------------------------
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
        for i, p in enumerate(prompts):
            check_messages(p, i)
        plain = [i for i, p in enumerate(prompts) if isinstance(p, str)]
        chats = [i for i, p in enumerate(prompts) if not isinstance(p, str)]
        jobs: list[tuple[str, list[int]]] = [
            ("plain", plain[s : s + self.batch_size]) for s in range(0, len(plain), self.batch_size)
        ]
        jobs += [("chat", [i]) for i in chats]

        def run(job: tuple[str, list[int]]) -> list[list[Completion]]:
            kind, idx = job
            body = self._payload(params)
            if kind == "plain":
                body["prompt"] = [prompts[i] for i in idx]
                if params.return_logprobs:
                    body["logprobs"] = 1
                data = self._post("/completions", body)
            else:
                chat = prompts[idx[0]]
                assert not isinstance(chat, str)
                body["messages"] = [dict(m) for m in chat]
                if params.return_logprobs:
                    body["logprobs"] = True
                data = self._post("/chat/completions", body)
            choices = data.get("choices")
            if not isinstance(choices, list) or len(choices) != len(idx) * params.n:
                got = len(choices) if isinstance(choices, list) else 0
                raise BackendError(
                    f"asked {self.base_url} for {len(idx)} prompt(s) x n={params.n} completions, "
                    f"got {got} choices"
                )
            # choice i*n + k belongs to prompt i of the request (the OpenAI and vLLM convention)
            choices = sorted(choices, key=lambda c: c.get("index", 0))
            done = [self._choice(c, params) for c in choices]
            return [done[j * params.n : (j + 1) * params.n] for j in range(len(idx))]

        out: list[list[Completion]] = [[] for _ in prompts]
        for (_, idx), rows in zip(jobs, self._parallel(run, jobs)):
            for i, row in zip(idx, rows):
                out[i] = row
        return out

    @staticmethod
    def _choice(choice: dict[str, Any], params: SamplingParams) -> Completion:
        text = choice.get("text")
        if text is None:
            text = (choice.get("message") or {}).get("content") or ""
        # servers honour `stop` already; cutting again covers ones that return the stop string
        text, hit = cut_at_stop(text, params.stop) if params.stop else (text, False)
        lps = None
        raw = choice.get("logprobs")
        if isinstance(raw, dict) and raw.get("token_logprobs") is not None:  # /completions
            lps = [float(x) for x in raw["token_logprobs"] if x is not None]
        elif isinstance(raw, dict) and raw.get("content") is not None:  # /chat/completions
            lps = [float(t["logprob"]) for t in raw["content"]]
        finish = "stop" if hit or choice.get("finish_reason") == "stop" else "length"
        return Completion(text=text, token_ids=[], logprobs=lps, finish_reason=finish)

    # -- scoring ---------------------------------------------------------------------------------
    def token_logprobs(self, pairs: Sequence[tuple[Prompt, str]]) -> list[list[float]]:
        check_pairs(pairs)
        for i, (prompt, _) in enumerate(pairs):
            if not isinstance(prompt, str):
                raise BackendError(
                    f"pair {i}: the openai backend scores plain-text prompts only (the server "
                    "applies chat templates on its side); format the chat into a string first"
                )
        chunks = [
            list(range(s, min(s + self.batch_size, len(pairs))))
            for s in range(0, len(pairs), self.batch_size)
        ]

        def run(idx: list[int]) -> list[list[float]]:
            texts = [str(pairs[i][0]) + pairs[i][1] for i in idx]
            body = {
                "model": self.model,
                "prompt": texts,
                "max_tokens": 0,
                "echo": True,
                "logprobs": 1,
                "temperature": 0.0,
            }
            data = self._post("/completions", body)
            choices = sorted(data.get("choices") or [], key=lambda c: c.get("index", 0))
            if len(choices) != len(idx):
                raise BackendError(
                    f"{self.base_url} returned {len(choices)} choices for {len(idx)} prompts"
                )
            return [
                self._continuation_logprobs(c, len(str(pairs[i][0])), len(t), i)
                for c, i, t in zip(choices, idx, texts)
            ]

        return [row for rows in self._parallel(run, chunks) for row in rows]

    def _continuation_logprobs(
        self, choice: dict[str, Any], start: int, end: int, index: int
    ) -> list[float]:
        lp = choice.get("logprobs") or {}
        offsets, values = lp.get("text_offset"), lp.get("token_logprobs")
        if not offsets or values is None or len(offsets) != len(values):
            raise BackendError(
                f"{self.base_url} returned no prompt log-probs; scoring needs a server that "
                "supports echo=true with logprobs on /completions (for example vLLM)"
            )
        tokens = lp.get("tokens") or [""] * len(offsets)
        out = []
        for off, tok, val in zip(offsets, tokens, values):
            # a token that straddles the boundary belongs to the continuation (it holds some of it)
            if off >= end or off + max(len(tok), 1) <= start:
                continue
            if val is None:
                raise BackendError(f"pair {index}: the server gave no log-prob for token {tok!r}")
            out.append(float(val))
        if not out:
            raise BackendError(f"pair {index}: no continuation tokens in the server's answer")
        return out

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> OpenAIBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
