"""``ct2``: fast CPU sampling with CTranslate2, on the same protocol as ``hf``.

The transformers folder (``model``; the embedded SmolLM2 when none is given) is converted once
into the cache (:func:`ennead.core.assets.ct2_model`, keyed by the weights' hash and the compute
type) and served by a ``ctranslate2.Generator``. Prompts are tokenized exactly as ``hf`` does (the
same methods), so greedy float32 outputs match ``hf`` token for token.

- Sampling: ``temperature`` 0 is greedy (top-k 1); otherwise the whole vocabulary with
  ``top_p``. ``n`` samples per prompt are the prompt repeated ``n`` times in one batch.
- Seeds: CTranslate2 seeds a worker thread's random state once, when it first samples
  (``set_random_seed`` afterwards changes nothing; upstream issue OpenNMT/CTranslate2#1757). With
  ``seeding: call`` (default) every seeded sampling call is repeatable as with ``hf``: a generator
  that has sampled already is started again first (about 1 s of CPU for SmolLM2 float32). With
  ``seeding: stream`` only the first seeded call seeds: cheaper, and a fresh process making the
  same calls gets the same samples, but one call repeated gives new samples.
- Presence penalty: CTranslate2 has no additive penalty, only the CTRL repetition penalty (the
  logit of a token already in the sequence is divided by ``r`` when positive, multiplied when
  negative). A presence penalty ``p`` maps to ``r = 1 + p / 10``: on logits near 10, the usual
  size of a small model's top candidates, that removes about ``p`` from them. Option
  ``repetition_penalty`` sets ``r`` directly instead.
- Stop strings end a row early (a step callback) and cut the text as ``hf`` does.
- Token log-probabilities (generation with ``return_logprobs`` and scoring) come from
  ``Generator.score_batch``: the model's raw distribution, as ``hf`` reports them.
- Option ``exact: hf`` splits the work by what it needs: sampling (temperature > 0) runs on
  CTranslate2 at ``compute_type`` (int8 for speed), while greedy generation and every scoring
  call (``token_logprobs``, log-likelihoods) run on an ``hf`` copy of the same weights, so
  evaluation and judging give exactly the ``hf`` numbers. ``reload`` renews both. Log-probabilities
  returned with sampled rows still come from the CTranslate2 model.
- There are no gradients and no torch model here: training stays on ``hf`` (DDR trains a
  transformers copy of the weights and calls :meth:`CT2Backend.reload` on the merged result).

Options: ``compute_type`` (float32, int8, int8_float32, bfloat16, ... as the device supports;
default float32 on CPU), ``intra_threads`` (threads per batch; default the CPUs this process may
use, at most 8), ``inter_threads`` (batches at once, default 1), ``fallback`` (``hf``: serve with
the ``hf`` backend when ctranslate2 is missing or cannot convert the folder; default: raise),
``repetition_penalty``, ``seeding`` (call or stream, see above), ``exact`` (``hf``: greedy and
scoring on hf, see above; default: everything on CTranslate2).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ennead.core.assets import CT2ConversionError
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
from ennead.core.backends.hf import HFBackend
from ennead.core.errors import BackendError, MissingExtraError
from ennead.core.imports import require
from ennead.core.logging import get_logger

log = get_logger(__name__)

__all__ = ["COMPUTE_TYPES", "CT2Backend", "CT2ConversionError"]

OPTIONS = (
    "compute_type",
    "intra_threads",
    "inter_threads",
    "fallback",
    "repetition_penalty",
    "seeding",
    "exact",
)
COMPUTE_TYPES = (
    "float32",
    "int8",
    "int8_float32",
    "bfloat16",
    "int8_bfloat16",
    "float16",
    "int8_float16",
    "int16",
)


def default_threads() -> int:
    """Threads for one generator: OMP_NUM_THREADS when set (Ray sets it per actor), else the CPUs
    this process may run on, at most 8."""
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(8, cpus))


class CT2Backend(BaseLM):
    """A causal LM served by CTranslate2 (see the module docstring)."""

    name = "ct2"

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
        opts = dict(options or {})
        unknown = sorted(set(opts) - set(OPTIONS))
        if unknown:
            raise BackendError(
                f"unknown ct2 backend options: {', '.join(unknown)}; allowed: {', '.join(OPTIONS)}"
            )
        if batch_size < 1:
            raise BackendError(f"batch_size must be >= 1, got {batch_size}")
        fallback = opts.get("fallback")
        if fallback not in (None, "hf"):
            raise BackendError(f"ct2 option 'fallback' must be 'hf' or absent, got {fallback!r}")
        self.fallback: str | None = fallback
        exact = opts.get("exact")
        if exact not in (None, "hf"):
            raise BackendError(f"ct2 option 'exact' must be 'hf' or absent, got {exact!r}")
        self.exact: str | None = exact
        self._exact: HFBackend | None = None
        self.device_arg, self.dtype = device, dtype
        self.batch_size = int(batch_size)
        self.max_input_tokens = max_input_tokens
        self.compute_type = str(opts.get("compute_type") or self._default_compute_type(dtype))
        if self.compute_type not in COMPUTE_TYPES:
            raise BackendError(
                f"ct2 compute_type {self.compute_type!r} unknown; use {', '.join(COMPUTE_TYPES)}"
            )
        self.intra_threads = int(opts.get("intra_threads") or default_threads())
        self.inter_threads = int(opts.get("inter_threads") or 1)
        if self.intra_threads < 1 or self.inter_threads < 1:
            raise BackendError("ct2 options intra_threads and inter_threads must be >= 1")
        self.seeding = str(opts.get("seeding", "call"))
        if self.seeding not in ("call", "stream"):
            raise BackendError(f"ct2 option 'seeding' must be call or stream, got {self.seeding!r}")
        self._sampled = False
        rp = opts.get("repetition_penalty")
        self.repetition_penalty = None if rp is None else float(rp)
        self.embedded = model is None
        self._hf: HFBackend | None = None
        self.generator: Any = None
        self.load_seconds = 0.0
        self._load(self._source(model), adapter)

    @staticmethod
    def _default_compute_type(dtype: str) -> str:
        if dtype in ("float32", "bfloat16", "float16"):
            return dtype
        if dtype != "auto":
            raise BackendError(f"dtype {dtype!r} unknown; use auto, float32, bfloat16 or float16")
        return "float32"

    @staticmethod
    def _source(model: str | Path | None) -> Path:
        if model is not None:
            return Path(model)
        from ennead.core import assets

        return assets.smollm2_path()

    # -- loading -------------------------------------------------------------------------------
    def _load(self, source: Path, adapter: str | Path | None) -> None:
        """Convert (or find the cached conversion of) ``source`` and start a generator on it."""
        from ennead.core import assets

        t0 = time.perf_counter()
        if not source.is_dir():
            raise BackendError(f"model folder not found: {source}")
        self.model_path: str | None = str(source)
        self.adapter = None if adapter is None else str(adapter)
        try:
            ct2 = require("ctranslate2", "lm", "the ct2 backend")
            device = self._device(ct2)
            self._check_compute_type(ct2, device)
            path = assets.ct2_model(source, self.compute_type, adapter)
        except (MissingExtraError, CT2ConversionError) as exc:
            if self.fallback != "hf":
                raise
            log.warning("ct2 backend: %s; serving %s with the hf backend instead", exc, source)
            self._start_fallback(source, adapter)
            return
        transformers = require("transformers", "lm", "the ct2 backend's tokenizer")
        self.generator = None  # free the old weights before loading new ones
        self.device, self.converted_path = device, str(path)
        self.generator = self._new_generator(ct2)
        self.tokenizer = transformers.AutoTokenizer.from_pretrained(str(source))
        self.engine = "ct2"
        self._hf = None
        self._exact = None  # free the old hf copy before loading the new one
        if self.exact == "hf":
            self._exact = self._hf_backend(source, adapter)
        pad = self.tokenizer.pad_token_id
        self.pad_id = int(pad if pad is not None else (self.tokenizer.eos_token_id or 0))
        self.eos_ids = self._eos_ids(source)
        self.load_seconds = time.perf_counter() - t0

    def _hf_backend(self, source: Path, adapter: str | Path | None) -> HFBackend:
        return HFBackend(
            model=source,
            adapter=adapter,
            device=self.device_arg,
            dtype=self.dtype,
            batch_size=self.batch_size,
            max_input_tokens=self.max_input_tokens,
        )

    def _start_fallback(self, source: Path, adapter: str | Path | None) -> None:
        self._hf = self._hf_backend(source, adapter)
        self._exact = None
        self.generator = None
        self.tokenizer = self._hf.tokenizer
        self.engine = "hf"
        self.device = self._hf.device

    def _device(self, ct2: Any) -> str:
        """CTranslate2's device name; ``cuda:N`` sets ``device_index`` (ct2 takes it apart)."""
        dev = self.device_arg
        self.device_index = 0
        if dev == "auto":
            return "cuda" if ct2.get_cuda_device_count() > 0 else "cpu"
        if dev.startswith("cuda"):
            count = ct2.get_cuda_device_count()
            if count == 0:
                raise BackendError(f"device {dev!r} requested but CTranslate2 sees no CUDA device")
            index = dev.partition(":")[2]
            if index and (not index.isdigit() or int(index) >= count):
                raise BackendError(
                    f"device {dev!r} unknown for ct2: CTranslate2 sees {count} CUDA device(s), "
                    f"use cuda or cuda:0..cuda:{count - 1}"
                )
            self.device_index = int(index or 0)
            return "cuda"
        if dev != "cpu":
            raise BackendError(f"device {dev!r} unknown for ct2; use auto, cpu or cuda")
        return dev

    def _check_compute_type(self, ct2: Any, device: str) -> None:
        supported = sorted(ct2.get_supported_compute_types(device))
        if self.compute_type not in supported:
            raise BackendError(
                f"ct2 compute_type {self.compute_type!r} is not supported on this {device} "
                f"(CTranslate2 {ct2.__version__} offers {', '.join(supported)})"
            )

    def _eos_ids(self, source: Path) -> list[int]:
        import json

        ids = set()
        if self.tokenizer.eos_token_id is not None:
            ids.add(int(self.tokenizer.eos_token_id))
        gen_cfg = source / "generation_config.json"
        if gen_cfg.is_file():
            gen_eos = json.loads(gen_cfg.read_text(encoding="utf-8")).get("eos_token_id")
            if isinstance(gen_eos, int):
                ids.add(gen_eos)
            elif isinstance(gen_eos, list):
                ids.update(int(i) for i in gen_eos)
        return sorted(ids)

    def reload(self, model: str | Path, adapter: str | Path | None = None) -> None:
        """Serve new weights (for example DPO's merged folder): converted again, then loaded.
        ``load_seconds`` says how long conversion and loading took."""
        self._load(Path(model), adapter)
        log.info("ct2 backend: reloaded %s in %.1f s", model, self.load_seconds)

    def release(self) -> None:
        """Free the weights' memory (for example while DPO trains); the next call loads them."""
        if self.generator is not None and self.generator.model_is_loaded:
            self.generator.unload_model()

    def _seed(self, seed: int | None) -> None:
        """Before a sampling call. CTranslate2 seeds a worker thread's random state once, when the
        thread first samples (``set_random_seed`` later has no effect on it): a generator that
        has sampled already is started again (``seeding: call``), else seeded in place."""
        ct2 = require("ctranslate2", "lm")
        if seed is not None:
            if self._sampled and self.seeding == "call":
                self.generator = None
                self.generator = self._new_generator(ct2)
            if not self._sampled:
                ct2.set_random_seed(int(seed))
        self._sampled = True

    def _new_generator(self, ct2: Any) -> Any:
        self._sampled = False  # new worker threads: their random state is not seeded yet
        return ct2.Generator(
            self.converted_path,
            device=self.device,
            device_index=self.device_index if self.device == "cuda" else 0,
            compute_type=self.compute_type,
            intra_threads=self.intra_threads,
            inter_threads=self.inter_threads,
        )

    def _ready(self) -> Any:
        if not self.generator.model_is_loaded:
            try:
                self.generator.load_model()
            except RuntimeError:  # its cached conversion was pruned meanwhile: convert again
                self._load(Path(str(self.model_path)), self.adapter)
        return self.generator

    # -- prompts (tokenized by the same rules as hf) --------------------------------------------
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

    def _decode(self, tokens: Sequence[int]) -> str:
        text: str = self.tokenizer.decode(list(tokens), skip_special_tokens=True)
        return text

    def _tokens_until_stop(self, tokens: list[int], end: int, stop: Sequence[str]) -> int:
        """Fewest leading tokens whose text holds a stop string (binary search: text grows)."""
        lo, hi = 1, end
        while lo < hi:
            mid = (lo + hi) // 2
            if cut_at_stop(self._decode(tokens[:mid]), stop)[1]:
                hi = mid
            else:
                lo = mid + 1
        return hi

    def format_prompt(self, prompt: Prompt) -> str:
        if self._hf is not None:
            return self._hf.format_prompt(prompt)
        return super().format_prompt(prompt)

    def apply_chat_template(self, messages: Sequence[Message]) -> str:
        return chat_template_text(self.tokenizer, messages, self.model_path or self.name)

    def _tokens(self, ids: Sequence[int]) -> list[str]:
        tokens: list[str] = self.tokenizer.convert_ids_to_tokens(list(ids))
        return tokens

    # -- generation ----------------------------------------------------------------------------
    def _penalty(self, params: SamplingParams) -> float:
        if self.repetition_penalty is not None:
            return self.repetition_penalty
        return max(0.1, 1.0 + params.presence_penalty / 10.0)

    def generate(
        self, prompts: Sequence[Prompt], params: SamplingParams | None = None
    ) -> list[list[Completion]]:
        params = params or SamplingParams()
        if self._hf is not None:
            return self._hf.generate(prompts, params)
        if self._exact is not None and params.temperature == 0.0:
            return self._exact.generate(prompts, params)
        for i, p in enumerate(prompts):
            check_messages(p, i)
        encoded = [self._encode(p, i) for i, p in enumerate(prompts)]
        if params.temperature > 0:
            self._seed(params.seed)
        order = sorted(range(len(encoded)), key=lambda i: -len(encoded[i]))
        results: list[list[Completion]] = [[] for _ in encoded]
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            rows = self._generate_batch([encoded[i] for i in chunk], params)
            for i, row in zip(chunk, rows):
                results[i] = row
        return results

    def _generate_batch(
        self, prompts: list[list[int]], params: SamplingParams
    ) -> list[list[Completion]]:
        rows = [ids for ids in prompts for _ in range(params.n)]
        greedy = params.temperature == 0.0
        kwargs: dict[str, Any] = {
            "max_length": params.max_new_tokens,
            "min_length": params.min_new_tokens,
            "include_prompt_in_result": False,
            "end_token": self.eos_ids,
            "return_end_token": True,
            "sampling_topk": 1 if greedy else 0,  # 0: the whole vocabulary
            "sampling_topp": 1.0 if greedy else params.top_p,
            "sampling_temperature": 1.0 if greedy else params.temperature,
            "repetition_penalty": self._penalty(params),
        }
        if params.stop:
            kwargs["callback"] = self._stop_callback(params.stop, len(rows))
        out = self._ready().generate_batch([self._tokens(r) for r in rows], **kwargs)
        done = [self._completion(list(res.sequences_ids[0]), params) for res in out]
        if params.return_logprobs:
            self._add_logprobs(rows, done)
        return [done[b * params.n : (b + 1) * params.n] for b in range(len(prompts))]

    def _stop_callback(self, stop: Sequence[str], n_rows: int) -> Callable[[Any], bool]:
        """Ends a row once the text of its last tokens holds a stop string (the final cut is on
        the whole text; a stop missed here only costs steps up to max_new_tokens)."""
        generated: list[list[int]] = [[] for _ in range(n_rows)]
        tail = max(len(s) for s in stop) + 4  # every token carries at least one character

        def callback(step: Any) -> bool:
            ids = generated[step.batch_id]
            ids.append(int(step.token_id))
            text = self._decode(ids[-tail:])
            return any(s in text for s in stop)

        return callback

    def _completion(self, tokens: list[int], params: SamplingParams) -> Completion:
        finish, end = "length", len(tokens)
        for j, t in enumerate(tokens):
            if t in self.eos_ids:
                end, finish = j, "stop"
                break
        text = self._decode(tokens[:end])
        if params.stop:
            text, hit = cut_at_stop(text, params.stop)
            if hit:
                finish = "stop"
                end = self._tokens_until_stop(tokens, end, params.stop)
        return Completion(text=text, token_ids=tokens[:end], finish_reason=finish)

    def _add_logprobs(self, rows: list[list[int]], done: list[Completion]) -> None:
        """The raw model's log-probabilities of the generated tokens (one scoring pass)."""
        todo = [i for i, c in enumerate(done) if c.token_ids]
        for c in done:
            c.logprobs = []
        if not todo:
            return
        scored = self._score([rows[i] + done[i].token_ids for i in todo])
        for i, lps in zip(todo, scored):
            done[i].logprobs = lps[-len(done[i].token_ids) :]

    def _score(self, rows: list[list[int]]) -> list[list[float]]:
        """log p(token t | tokens before t) for t = 1 .. len-1 of each row."""
        out = self._ready().score_batch(
            [self._tokens(r) for r in rows], max_batch_size=self.batch_size, max_input_length=0
        )
        return [[float(x) for x in res.log_probs] for res in out]

    # -- scoring -------------------------------------------------------------------------------
    def token_logprobs(self, pairs: Sequence[tuple[Prompt, str]]) -> list[list[float]]:
        """Per continuation token, log p(token | everything before it)."""
        if self._hf is not None:
            return self._hf.token_logprobs(pairs)
        if self._exact is not None:
            return self._exact.token_logprobs(pairs)
        check_pairs(pairs)
        encoded = [self._encode_pair(p, c, i) for i, (p, c) in enumerate(pairs)]
        scored = self._score([full for full, _ in encoded])
        return [lps[-n:] for lps, (_, n) in zip(scored, encoded)]
