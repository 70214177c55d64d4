"""transformers backends: any local model folder (``hf``) and the embedded SmolLM2 (``smollm2``).

Generation is batched: prompts go in chunks of ``batch_size`` with left padding and the KV cache
(``model.generate``). Token log-probabilities are those of the model's own distribution (raw logits,
before temperature, top-p or penalties), as vLLM reports them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
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
from ennead.core.logging import get_logger

log = get_logger(__name__)


def resolve_device(device: str) -> str:
    torch = require("torch", "lm")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise BackendError(f"device {device!r} requested but CUDA is not available")
    return device


def resolve_dtype(dtype: str, device: str) -> Any:
    torch = require("torch", "lm")
    if dtype == "auto":
        if device.startswith("cuda"):
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    try:
        return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[
            dtype
        ]
    except KeyError:
        raise BackendError(
            f"dtype {dtype!r} unknown; use auto, float32, bfloat16 or float16"
        ) from None


class HFBackend(BaseLM):
    """A causal LM from a local transformers folder, optionally with a LoRA adapter."""

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
        self.batch_size = batch_size
        self.max_input_tokens = max_input_tokens
        self.options = dict(options or {})
        self.model_path = None if model is None else str(model)
        if model is None:
            raise BackendError("the hf backend needs model=<path to a local transformers folder>")
        self.device = resolve_device(device)
        self.model, self.tokenizer = self._load(
            Path(model), adapter, resolve_dtype(dtype, self.device)
        )
        self._prepare_tokenizer()

    def _load(self, path: Path, adapter: str | Path | None, dtype: Any) -> tuple[Any, Any]:
        transformers = require("transformers", "lm", "the hf backend")
        if not path.is_dir():
            raise BackendError(f"model folder not found: {path}")
        if not (path / "config.json").is_file():
            raise BackendError(f"{path} is not a transformers model folder (no config.json)")
        try:
            tok = transformers.AutoTokenizer.from_pretrained(str(path))
            model = transformers.AutoModelForCausalLM.from_pretrained(str(path), dtype=dtype)
        except (OSError, ValueError) as exc:
            raise BackendError(f"cannot load a causal LM from {path}: {exc}") from exc
        if adapter is not None:
            peft = require("peft", "lm", "loading a LoRA adapter")
            if not Path(adapter).is_dir():
                raise BackendError(f"adapter folder not found: {adapter}")
            model = peft.PeftModel.from_pretrained(model, str(adapter))
        model.to(self.device)
        model.eval()
        return model, tok

    @classmethod
    def from_model(cls, model: Any, tokenizer: Any, batch_size: int = 16, **kw: Any) -> HFBackend:
        """Wrap an in-memory model (for example one just trained) without reloading it."""
        self = cls.__new__(cls)
        self.batch_size = batch_size
        self.max_input_tokens = kw.get("max_input_tokens")
        self.options = dict(kw.get("options") or {})
        self.model_path = None
        self.model, self.tokenizer = model, tokenizer
        self.device = str(next(model.parameters()).device)
        self._prepare_tokenizer()
        return self

    def _prepare_tokenizer(self) -> None:
        tok = self.tokenizer
        if tok.pad_token_id is None:
            tok.pad_token = tok.eos_token
        tok.padding_side = "left"

    # -- prompts --------------------------------------------------------------------------------
    def apply_chat_template(self, messages: Sequence[Message]) -> str:
        if not getattr(self.tokenizer, "chat_template", None):
            raise BackendError(
                f"the tokenizer of {self.model_path or self.name} has no chat template"
            )
        text: str = self.tokenizer.apply_chat_template(
            [dict(m) for m in messages], tokenize=False, add_generation_prompt=True
        )
        return text

    def _encode(self, prompt: Prompt) -> list[int]:
        # Chat templates carry their own special tokens; plain prompts get the tokenizer's.
        text = self.format_prompt(prompt)
        ids: list[int] = self.tokenizer(text, add_special_tokens=isinstance(prompt, str))[
            "input_ids"
        ]
        if self.max_input_tokens is not None and len(ids) > self.max_input_tokens:
            ids = ids[-self.max_input_tokens :]
        return ids

    def _left_pad(self, rows: list[list[int]]) -> tuple[Any, Any]:
        torch = require("torch", "lm")
        width = max(len(r) for r in rows)
        pad = self.tokenizer.pad_token_id
        ids = torch.full((len(rows), width), pad, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):
            if r:
                ids[i, width - len(r) :] = torch.tensor(r, dtype=torch.long)
                mask[i, width - len(r) :] = 1
        return ids.to(self.device), mask.to(self.device)

    # -- generation ----------------------------------------------------------------------------
    def generate(
        self, prompts: Sequence[Prompt], params: SamplingParams | None = None
    ) -> list[list[Completion]]:
        torch = require("torch", "lm")
        from ennead.core.backends.processors import make_presence_penalty, make_stop_criteria

        params = params or SamplingParams()
        for i, p in enumerate(prompts):
            check_messages(p, i)
        encoded = [self._encode(p) for p in prompts]
        if any(not e for e in encoded):
            raise BackendError("an empty prompt cannot be continued (it has no tokens)")
        eos = self._eos_ids()
        results: list[list[Completion]] = []
        for start in range(0, len(encoded), self.batch_size):
            chunk = encoded[start : start + self.batch_size]
            input_ids, mask = self._left_pad(chunk)
            width = input_ids.shape[1]
            processors = []
            if params.presence_penalty:
                processors.append(make_presence_penalty(params.presence_penalty, width))
            kwargs: dict[str, Any] = {
                "max_new_tokens": params.max_new_tokens,
                "min_new_tokens": params.min_new_tokens or None,
                "num_return_sequences": params.n,
                "pad_token_id": self.tokenizer.pad_token_id,
                "eos_token_id": eos,
                "return_dict_in_generate": True,
                "output_logits": params.logprobs,
            }
            if params.temperature > 0:
                kwargs.update(do_sample=True, temperature=params.temperature, top_p=params.top_p)
            else:
                kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
            if params.stop:
                from transformers import StoppingCriteriaList

                kwargs["stopping_criteria"] = StoppingCriteriaList(
                    [make_stop_criteria(list(params.stop), self.tokenizer, width)]
                )
            if processors:
                from transformers import LogitsProcessorList

                kwargs["logits_processor"] = LogitsProcessorList(processors)
            if params.seed is not None:
                torch.manual_seed(params.seed + start)
            with torch.inference_mode():
                out = self.model.generate(input_ids=input_ids, attention_mask=mask, **kwargs)
            new = out.sequences[:, width:]
            token_lp = None
            if params.logprobs:
                logits = torch.stack(out.logits, dim=1).float()  # (B*n, T, V)
                lp = torch.log_softmax(logits, dim=-1)
                token_lp = lp.gather(-1, new[:, : lp.shape[1], None]).squeeze(-1)
            for b in range(len(chunk)):
                row = []
                for k in range(params.n):
                    idx = b * params.n + k
                    row.append(self._completion(new[idx], token_lp, idx, eos, params))
                results.append(row)
        return results

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

    def _completion(
        self, seq: Any, token_lp: Any, idx: int, eos: list[int], params: SamplingParams
    ) -> Completion:
        tokens = seq.tolist()
        finish = "length"
        end = len(tokens)
        for j, t in enumerate(tokens):
            if t in eos:
                end, finish = j, "stop"
                break
        if finish == "length":
            # after a sequence stops, generate() fills the batch with padding
            pad = self.tokenizer.pad_token_id
            while end > 0 and tokens[end - 1] == pad and pad not in eos:
                end -= 1
        kept = tokens[:end]
        text = self.tokenizer.decode(kept, skip_special_tokens=True)
        if params.stop:
            text, hit = cut_at_stop(text, params.stop)
            if hit:
                finish = "stop"
        lps = None
        if token_lp is not None:
            lps = [float(x) for x in token_lp[idx, :end].tolist()]
        return Completion(text=text, token_ids=kept, logprobs=lps, finish_reason=finish)

    # -- scoring -------------------------------------------------------------------------------
    def loglikelihood(self, pairs: Sequence[tuple[Prompt, str]]) -> list[float]:
        """Sum of log p(continuation tokens | prompt), one batched forward pass per chunk."""
        torch = require("torch", "lm")
        rows: list[tuple[list[int], int]] = []
        for i, (prompt, cont) in enumerate(pairs):
            check_messages(prompt, i)
            ctx = self._encode(prompt)
            tgt = self.tokenizer(cont, add_special_tokens=False)["input_ids"]
            if not tgt:
                raise BackendError(f"pair {i}: the continuation {cont!r} has no tokens")
            rows.append((ctx + tgt, len(tgt)))
        out: list[float] = []
        pad = self.tokenizer.pad_token_id
        for start in range(0, len(rows), self.batch_size):
            chunk = rows[start : start + self.batch_size]
            width = max(len(ids) for ids, _ in chunk)
            ids = torch.full((len(chunk), width), pad, dtype=torch.long)
            mask = torch.zeros((len(chunk), width), dtype=torch.long)
            for i, (r, _) in enumerate(chunk):  # right padding: positions stay 0..len-1
                ids[i, : len(r)] = torch.tensor(r)
                mask[i, : len(r)] = 1
            with torch.inference_mode():
                logits = self.model(
                    input_ids=ids.to(self.device), attention_mask=mask.to(self.device)
                ).logits.float()
            lp = torch.log_softmax(logits[:, :-1], dim=-1)
            target = ids[:, 1:].to(self.device)
            tok_lp = lp.gather(-1, target[..., None]).squeeze(-1)
            for i, (r, n_tgt) in enumerate(chunk):
                end = len(r) - 1
                out.append(float(tok_lp[i, end - n_tgt : end].sum()))
        return out


class SmolLM2Backend(HFBackend):
    """The embedded default: SmolLM2-135M-Instruct prepared once into the cache."""

    name = "smollm2"

    def __init__(self, model: str | Path | None = None, **kw: Any):
        from ennead.core.assets import smollm2_path

        super().__init__(model=model or smollm2_path(), **kw)
