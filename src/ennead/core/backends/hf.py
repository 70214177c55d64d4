"""transformers backends: any local model folder (``hf``) and the embedded SmolLM2 (``smollm2``).

The engine here is shared by ``hf``, ``smollm2`` and ``tiny``:

- Generation is batched: prompts are sorted by length (less padding), cut into chunks of
  ``batch_size``, left-padded and decoded with the KV cache (``model.generate``). ``n`` samples per
  prompt use ``num_return_sequences``. A seed makes sampling reproducible without touching the
  caller's global RNG state.
- Token log-probabilities are those of the model's own distribution: log-softmax of the *raw*
  logits, before temperature, top-p or presence penalty (what vLLM reports by default), so they
  match :meth:`HFBackend.token_logprobs` for the same tokens.
- Scoring (``token_logprobs`` / ``loglikelihood``) tokenizes the prompt and prompt+continuation,
  scores the tokens after their common prefix, and runs one forward pass per chunk, computing
  logits only for the last positions (left padding puts every continuation at the end).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
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
from ennead.core.logging import get_logger

log = get_logger(__name__)
DTYPES = ("auto", "float32", "bfloat16", "float16")


class ModelLoadError(BackendError):
    """A model folder exists but does not load (corrupt weights, unknown architecture, ...)."""


def resolve_device(device: str) -> str:
    torch = require("torch", "lm")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise BackendError(f"device {device!r} requested but CUDA is not available")
    if device != "cpu" and not device.startswith(("cuda", "mps", "xpu")):
        raise BackendError(f"device {device!r} unknown; use auto, cpu, cuda or cuda:N")
    return device


def resolve_dtype(dtype: str, device: str) -> Any:
    torch = require("torch", "lm")
    if dtype not in DTYPES:
        raise BackendError(f"dtype {dtype!r} unknown; use {', '.join(DTYPES)}")
    if dtype == "auto":
        if device.startswith("cuda"):
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    return getattr(torch, dtype)


class HFBackend(BaseLM):
    """A causal LM from a local transformers folder, optionally with a LoRA adapter.

    ``options`` are passed to ``AutoModelForCausalLM.from_pretrained`` (for example
    ``attn_implementation``).
    """

    name = "hf"

    def __init__(
        self,
        model: str | Path | None = None,
        adapter: str | Path | None = None,
        device: str = "auto",
        dtype: str = "auto",
        batch_size: int = 16,
        max_input_tokens: int | None = None,
        options: dict[str, Any] | None = None,
    ):
        if model is None:
            raise BackendError("the hf backend needs model=<path to a local transformers folder>")
        dev = resolve_device(device)
        torch_dtype = resolve_dtype(dtype, dev)
        model_obj, tok = self._load(Path(model), adapter, torch_dtype, dev, dict(options or {}))
        self._setup(model_obj, tok, batch_size, max_input_tokens)
        self.model_path: str | None = str(model)

    @staticmethod
    def _load(
        path: Path, adapter: str | Path | None, dtype: Any, device: str, options: dict[str, Any]
    ) -> tuple[Any, Any]:
        transformers = require("transformers", "lm", "the hf backend")
        if not path.is_dir():
            raise BackendError(f"model folder not found: {path}")
        if not (path / "config.json").is_file():
            raise BackendError(f"{path} is not a transformers model folder (no config.json)")
        try:
            tok = transformers.AutoTokenizer.from_pretrained(str(path))
            model = transformers.AutoModelForCausalLM.from_pretrained(
                str(path), dtype=dtype, **options
            )
        except Exception as exc:  # corrupt weights, unknown architecture, bad options, ...
            raise ModelLoadError(
                f"cannot load a causal LM from {path}: {type(exc).__name__}: {exc}"
            ) from exc
        if adapter is not None:
            peft = require("peft", "lm", "loading a LoRA adapter")
            if not (Path(adapter) / "adapter_config.json").is_file():
                raise BackendError(f"{adapter} is not a LoRA adapter (no adapter_config.json)")
            model = peft.PeftModel.from_pretrained(model, str(adapter))
        model.to(device)
        model.eval()
        return model, tok

    @classmethod
    def from_model(
        cls,
        model: Any,
        tokenizer: Any,
        batch_size: int = 16,
        max_input_tokens: int | None = None,
        **_: Any,
    ) -> HFBackend:
        """Wrap an in-memory model (for example one just trained) without reloading it.

        Neither the model nor the tokenizer is changed; generation and scoring switch the model to
        eval mode and back, so a model still being trained can be wrapped too.
        """
        self = cls.__new__(cls)
        self._setup(model, tokenizer, batch_size, max_input_tokens)
        self.model_path = None
        return self

    def _setup(
        self, model: Any, tokenizer: Any, batch_size: int, max_input_tokens: int | None
    ) -> None:
        if batch_size < 1:
            raise BackendError(f"batch_size must be >= 1, got {batch_size}")
        self.model, self.tokenizer = model, tokenizer
        self.batch_size = int(batch_size)
        self.max_input_tokens = max_input_tokens
        self.device = str(next(model.parameters()).device)
        pad = tokenizer.pad_token_id
        if pad is None:
            pad = tokenizer.eos_token_id
        if pad is None:
            raise BackendError("the tokenizer has neither a pad nor an eos token")
        self.pad_id = int(pad)
        self.eos_ids = self._eos_ids()

    def _eos_ids(self) -> list[int]:
        ids = set()
        if self.tokenizer.eos_token_id is not None:
            ids.add(int(self.tokenizer.eos_token_id))
        gen_eos = getattr(getattr(self.model, "generation_config", None), "eos_token_id", None)
        if isinstance(gen_eos, int):
            ids.add(gen_eos)
        elif isinstance(gen_eos, list):
            ids.update(int(i) for i in gen_eos)
        return sorted(ids)

    # -- prompts --------------------------------------------------------------------------------
    def apply_chat_template(self, messages: Sequence[Message]) -> str:
        return chat_template_text(self.tokenizer, messages, self.model_path or self.name)

    def _tokenize(self, text: str, plain: bool) -> list[int]:
        # A chat template writes its own special tokens; plain text gets the tokenizer's (BOS).
        ids: list[int] = self.tokenizer(text, add_special_tokens=plain)["input_ids"]
        return ids

    def _encode(self, prompt: Prompt, index: int) -> list[int]:
        ids = self._tokenize(self.format_prompt(prompt), isinstance(prompt, str))
        if not ids:
            raise BackendError(f"prompt {index} is empty: there is nothing to continue from")
        if self.max_input_tokens is not None and len(ids) > self.max_input_tokens:
            ids = ids[-self.max_input_tokens :]
        return ids

    def _left_pad(self, rows: Sequence[Sequence[int]]) -> tuple[Any, Any]:
        torch = require("torch", "lm")
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, width - len(r) :] = torch.tensor(list(r), dtype=torch.long)
            mask[i, width - len(r) :] = 1
        return ids.to(self.device), mask.to(self.device)

    @contextlib.contextmanager
    def _inference(self) -> Iterator[None]:
        """No autograd, dropout off; a model that was training is put back into training mode."""
        torch = require("torch", "lm")
        was_training = bool(getattr(self.model, "training", False))
        self.model.eval()
        try:
            with torch.inference_mode():
                yield
        finally:
            if was_training:
                self.model.train()

    @contextlib.contextmanager
    def _seeded(self, seed: int | None) -> Iterator[None]:
        """Seed sampling inside, restoring the caller's RNG state afterwards."""
        if seed is None:
            yield
            return
        torch = require("torch", "lm")
        devices = [torch.device(self.device)] if self.device.startswith("cuda") else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            yield

    # -- generation ----------------------------------------------------------------------------
    def generate(
        self, prompts: Sequence[Prompt], params: SamplingParams | None = None
    ) -> list[list[Completion]]:
        params = params or SamplingParams()
        for i, p in enumerate(prompts):
            check_messages(p, i)
        encoded = [self._encode(p, i) for i, p in enumerate(prompts)]
        # Similar lengths share a batch, so little compute goes to padding; order is restored.
        order = sorted(range(len(encoded)), key=lambda i: -len(encoded[i]))
        results: list[list[Completion]] = [[] for _ in encoded]
        with self._seeded(params.seed), self._inference():
            for start in range(0, len(order), self.batch_size):
                chunk = order[start : start + self.batch_size]
                rows = self._generate_batch([encoded[i] for i in chunk], params)
                for i, row in zip(chunk, rows):
                    results[i] = row
        return results

    def _generate_batch(
        self, rows: list[list[int]], params: SamplingParams
    ) -> list[list[Completion]]:
        torch = require("torch", "lm")
        transformers = require("transformers", "lm")
        from ennead.core.backends.processors import (
            PresencePenaltyLogitsProcessor,
            StopStringCriteria,
        )

        input_ids, mask = self._left_pad(rows)
        width = input_ids.shape[1]
        kwargs: dict[str, Any] = {
            "max_new_tokens": params.max_new_tokens,
            "num_return_sequences": params.n,
            "pad_token_id": self.pad_id,
            "eos_token_id": self.eos_ids,
            "return_dict_in_generate": True,
            "output_logits": params.return_logprobs,
            "use_cache": True,
            # SamplingParams alone decides: neutralise knobs a model's generation_config may set
            "num_beams": 1,
            "top_k": None,
            "min_p": None,
            "typical_p": None,
            "repetition_penalty": None,
            "no_repeat_ngram_size": None,
        }
        if params.min_new_tokens:
            kwargs["min_new_tokens"] = params.min_new_tokens
        if params.temperature > 0:
            kwargs.update(do_sample=True, temperature=params.temperature, top_p=params.top_p)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None)
        if params.presence_penalty:
            kwargs["logits_processor"] = transformers.LogitsProcessorList(
                [PresencePenaltyLogitsProcessor(params.presence_penalty, width)]
            )
        if params.stop:
            kwargs["stopping_criteria"] = transformers.StoppingCriteriaList(
                [StopStringCriteria(params.stop, self.tokenizer, width)]
            )
        out = self.model.generate(input_ids=input_ids, attention_mask=mask, **kwargs)
        new = out.sequences[:, width:]
        token_lp = None
        if params.return_logprobs:
            # One step at a time keeps memory at (rows, vocab) instead of (rows, steps, vocab).
            steps = [
                torch.log_softmax(step.float(), dim=-1).gather(-1, new[:, t, None]).squeeze(-1)
                for t, step in enumerate(out.logits)
            ]
            token_lp = torch.stack(steps, dim=1).cpu()
        new = new.cpu()
        return [
            [
                self._completion(new[b * params.n + k], token_lp, b * params.n + k, params)
                for k in range(params.n)
            ]
            for b in range(len(rows))
        ]

    def _completion(self, seq: Any, token_lp: Any, idx: int, params: SamplingParams) -> Completion:
        tokens = seq.tolist()
        finish = "length"
        end = len(tokens)
        for j, t in enumerate(tokens):
            if t in self.eos_ids:
                end, finish = j, "stop"
                break
        if finish == "length" and self.pad_id not in self.eos_ids:
            # a sequence stopped by a stop string is followed by padding up to the batch's end
            while end > 0 and tokens[end - 1] == self.pad_id:
                end -= 1
        text = self._decode(tokens[:end])
        if params.stop:
            text, hit = cut_at_stop(text, params.stop)
            if hit:
                finish = "stop"
                end = self._tokens_until_stop(tokens, end, params.stop)
        lps = None
        if token_lp is not None:
            lps = [float(x) for x in token_lp[idx, :end].tolist()]
        return Completion(text=text, token_ids=tokens[:end], logprobs=lps, finish_reason=finish)

    def _decode(self, tokens: Sequence[int]) -> str:
        text: str = self.tokenizer.decode(list(tokens), skip_special_tokens=True)
        return text

    def _tokens_until_stop(self, tokens: list[int], end: int, stop: Sequence[str]) -> int:
        """Fewest leading tokens whose text contains a stop string (binary search: text grows)."""
        lo, hi = 1, end
        while lo < hi:
            mid = (lo + hi) // 2
            if cut_at_stop(self._decode(tokens[:mid]), stop)[1]:
                hi = mid
            else:
                lo = mid + 1
        return hi

    # -- scoring -------------------------------------------------------------------------------
    def _encode_pair(self, prompt: Prompt, cont: str, index: int) -> tuple[list[int], int]:
        """Ids of prompt+continuation and how many trailing ones are the continuation."""
        plain = isinstance(prompt, str)
        ctx_text = self.format_prompt(prompt)
        full = self._tokenize(ctx_text + cont, plain)
        n_cont = continuation_length(self._tokenize(ctx_text, plain), full, index)
        if self.max_input_tokens is not None and len(full) > self.max_input_tokens:
            if n_cont >= self.max_input_tokens:
                raise BackendError(
                    f"pair {index}: the continuation alone has {n_cont} tokens, more than "
                    f"max_input_tokens={self.max_input_tokens}"
                )
            full = full[-self.max_input_tokens :]
        return full, n_cont

    def token_logprobs(self, pairs: Sequence[tuple[Prompt, str]]) -> list[list[float]]:
        """Per continuation token, log p(token | everything before it); one forward per chunk."""
        torch = require("torch", "lm")
        check_pairs(pairs)
        rows = [self._encode_pair(p, c, i) for i, (p, c) in enumerate(pairs)]
        order = sorted(range(len(rows)), key=lambda i: -len(rows[i][0]))
        out: list[list[float]] = [[] for _ in rows]
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            ids, mask = self._left_pad([rows[i][0] for i in chunk])
            keep = max(rows[i][1] for i in chunk) + 1  # logits at the last positions only
            position_ids = (mask.cumsum(-1) - 1).clamp(min=0)
            with self._inference():
                logits = self._last_logits(ids, mask, position_ids, keep)
            lp = torch.log_softmax(logits[:, :-1].float(), dim=-1)
            target = ids[:, -(keep - 1) :]
            tok_lp = lp.gather(-1, target[..., None]).squeeze(-1).cpu()
            for b, i in enumerate(chunk):
                n = rows[i][1]
                out[i] = [float(x) for x in tok_lp[b, -n:].tolist()]
        return out

    def _last_logits(self, ids: Any, mask: Any, position_ids: Any, keep: int) -> Any:
        try:
            out = self.model(
                input_ids=ids, attention_mask=mask, position_ids=position_ids, logits_to_keep=keep
            )
        except TypeError:  # an architecture without logits_to_keep: compute all, keep the tail
            out = self.model(input_ids=ids, attention_mask=mask, position_ids=position_ids)
        return out.logits[:, -keep:]


class SmolLM2Backend(HFBackend):
    """The embedded default: SmolLM2-135M-Instruct prepared once into the cache.

    A cached folder that fails to load is treated as corrupt: it is prepared again, once.
    """

    name = "smollm2"

    def __init__(self, model: str | Path | None = None, **kw: Any):
        from ennead.core import assets

        if model is not None:
            super().__init__(model=model, **kw)
            return
        try:
            super().__init__(model=assets.smollm2_path(), **kw)
        except ModelLoadError as exc:
            log.warning("the cached SmolLM2 folder does not load (%s); preparing it again", exc)
            super().__init__(model=assets.prepare_smollm2(force=True), **kw)
