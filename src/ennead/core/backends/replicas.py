"""Data-parallel sampling: replicas of another backend as Ray actors, one per GPU by default.

``load_backend("ray", model=..., options={"backend": "vllm", "replicas": 8})`` starts eight
actors, each holding the inner backend on its own GPU (Ray sets ``CUDA_VISIBLE_DEVICES`` per
actor), and splits every ``generate`` / ``token_logprobs`` call into contiguous shards, one per
replica, run at the same time; results come back in prompt order. Ray does the scheduling,
placement and process lifetime; this class only shards calls and keeps the weights of all
replicas the same.

``release()`` ends the actors (their GPUs are free again, for example for DPO) and the next call
starts them again; ``reload(model)`` does the same on new weights. On one machine without GPUs the
replicas are CPU processes, which is how the tests run it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Any

from ennead.core.backends.base import (
    BaseLM,
    Completion,
    Message,
    Prompt,
    SamplingParams,
    chat_template_text,
)
from ennead.core.errors import BackendError
from ennead.core.imports import require
from ennead.core.logging import get_logger

log = get_logger(__name__)

OPTIONS = (
    "backend",
    "replicas",
    "gpus_per_replica",
    "cpus_per_replica",
    "address",
    "init",
    "options",
    "start_timeout",
)


class Replica:
    """Runs inside a Ray actor: one inner backend."""

    def __init__(self, name: str, kwargs: dict[str, Any]):
        from ennead.core.backends import load_backend

        self.lm = load_backend(name, **kwargs)

    def generate(self, prompts: Sequence[Prompt], params: SamplingParams | None) -> Any:
        return self.lm.generate(prompts, params)

    def token_logprobs(self, pairs: Sequence[tuple[Prompt, str]]) -> list[list[float]]:
        result: list[list[float]] = self.lm.token_logprobs(pairs)
        return result

    def tokenizer(self) -> Any:
        return getattr(self.lm, "tokenizer", None)

    def info(self) -> dict[str, Any]:
        return {"pid": os.getpid(), "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES")}


def _reason(exc: BaseException) -> str:
    """The replica's own error, not Ray's wrapper with the remote traceback."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, BaseException) and not cause.__class__.__module__.startswith("ray"):
        return f"{type(cause).__name__}: {cause}"
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return re.sub(r"\x1b\[[0-9;]*m", "", lines[-1]) if lines else type(exc).__name__


def shards(n: int, parts: int) -> list[tuple[int, int]]:
    """Contiguous, balanced [start, end) ranges; no empty range unless n == 0."""
    parts = max(1, min(parts, n))
    size, extra = divmod(n, parts)
    out, start = [], 0
    for i in range(parts):
        end = start + size + (i < extra)
        out.append((start, end))
        start = end
    return out


class RayReplicas(BaseLM):
    name = "ray"

    def __init__(
        self,
        model: str | None = None,
        adapter: str | None = None,
        device: str = "auto",
        dtype: str = "auto",
        batch_size: int = 16,
        max_input_tokens: int | None = None,
        options: dict[str, Any] | None = None,
    ):
        self._ray = require("ray", "ray", "the ray backend")
        opts = dict(options or {})
        unknown = sorted(set(opts) - set(OPTIONS))
        if unknown:
            raise BackendError(
                f"unknown ray backend options: {', '.join(unknown)}; allowed: {', '.join(OPTIONS)}"
            )
        self.inner = str(opts.get("backend", "hf"))
        if self.inner == "ray":
            raise BackendError(
                "the ray backend's option 'backend' names the replicated backend; "
                "it cannot be 'ray' itself"
            )
        self.model_path = model
        self.adapter = adapter
        self._inner_kwargs = {
            "device": device,
            "dtype": dtype,
            "batch_size": batch_size,
            "max_input_tokens": max_input_tokens,
            "options": dict(opts.get("options") or {}),
        }
        self.start_timeout = float(opts.get("start_timeout", 900))
        if not self._ray.is_initialized():
            init = dict(opts.get("init") or {})
            init.setdefault("include_dashboard", False)
            self._ray.init(address=opts.get("address"), **init)
        gpus_total = float(self._ray.cluster_resources().get("GPU", 0))
        gpus = opts.get("gpus_per_replica", "auto")
        self.gpus = (1.0 if gpus_total else 0.0) if gpus == "auto" else float(gpus)
        self.cpus = float(opts.get("cpus_per_replica", 1))
        replicas = opts.get("replicas", "auto")
        if replicas == "auto":
            # one replica per GPU (or per gpus_per_replica GPUs); one CPU replica without GPUs
            replicas = max(1, int(gpus_total // max(self.gpus, 1.0))) if self.gpus else 1
        if not isinstance(replicas, int) or replicas < 1:
            raise BackendError(
                f"ray backend option 'replicas' must be 'auto' or an integer >= 1, got {replicas!r}"
            )
        if self.gpus < 0 or self.cpus < 0:
            raise BackendError("gpus_per_replica and cpus_per_replica must be >= 0")
        self.replicas = replicas
        self._check_resources()
        self._actors: list[Any] = []
        self._start()
        self.tokenizer = self._ray.get(self._actors[0].tokenizer.remote())

    # -- actors ------------------------------------------------------------------------------
    def _check_resources(self) -> None:
        """Refuse at once what Ray would otherwise leave pending forever."""
        free = self._ray.available_resources()
        for key, per in (("GPU", self.gpus), ("CPU", self.cpus)):
            need, have = per * self.replicas, float(free.get(key, 0))
            if need > have + 1e-9:
                raise BackendError(
                    f"the ray backend needs {need:g} {key} for {self.replicas} replicas x {per:g}, "
                    f"but the cluster has {have:g} free; lower 'replicas' or '{key.lower()}s_per_"
                    "replica' (fractions let two pools, e.g. judge and generator, share GPUs)"
                )

    def _start(self) -> None:
        remote = self._ray.remote(Replica)
        kwargs = {**self._inner_kwargs, "model": self.model_path, "adapter": self.adapter}
        self._actors = [
            remote.options(num_gpus=self.gpus, num_cpus=self.cpus).remote(self.inner, kwargs)
            for _ in range(self.replicas)
        ]
        try:
            self._infos = self._get([a.info.remote() for a in self._actors], self.start_timeout)
        except BackendError:
            self.release()
            raise
        log.info(
            "ray backend: %d %s replicas of %s (pids %s)",
            self.replicas,
            self.inner,
            self.model_path,
            [i["pid"] for i in self._infos],
        )

    def _get(self, refs: list[Any], timeout: float | None = None) -> list[Any]:
        try:
            return list(self._ray.get(refs, timeout=timeout))
        except self._ray.exceptions.GetTimeoutError:
            raise BackendError(
                f"ray backend: replicas of {self.model_path} did not start within "
                f"{timeout:g} s (see the Ray logs)"
            ) from None
        except self._ray.exceptions.RayError as exc:
            raise BackendError(
                f"ray backend: a {self.inner} replica failed: {_reason(exc)}"
            ) from exc

    def _ensure(self) -> None:
        if not self._actors:
            self._start()

    def replica_info(self) -> list[dict[str, Any]]:
        """Process id and visible GPUs of each replica (starts them if released)."""
        self._ensure()
        return list(self._infos)

    def release(self) -> None:
        """End the replicas (frees their GPUs); the next call starts them again."""
        for actor in self._actors:
            self._ray.kill(actor, no_restart=True)
        self._actors = []

    def reload(self, model: str, adapter: str | None = None) -> None:
        """Serve new weights: the replicas restart on ``model`` at the next call."""
        self.release()
        self.model_path, self.adapter = str(model), adapter

    # -- LM protocol -------------------------------------------------------------------------
    def apply_chat_template(self, messages: Sequence[Message]) -> str:
        return chat_template_text(self.tokenizer, messages, self.model_path)

    def generate(
        self, prompts: Sequence[Prompt], params: SamplingParams | None = None
    ) -> list[list[Completion]]:
        prompts = list(prompts)
        if not prompts:
            return []
        self._ensure()
        params = params or SamplingParams()
        refs = []
        for i, (a, b) in enumerate(shards(len(prompts), len(self._actors))):
            # shard i samples with seed + i: replicas do not repeat one random stream, and one
            # replica gives exactly what the inner backend gives in-process
            p = (
                params
                if params.seed is None
                else params.model_copy(update={"seed": params.seed + i})
            )
            refs.append(self._actors[i].generate.remote(prompts[a:b], p))
        return [row for part in self._get(refs) for row in part]

    def token_logprobs(self, pairs: Sequence[tuple[Prompt, str]]) -> list[list[float]]:
        pairs = list(pairs)
        if not pairs:
            return []
        self._ensure()
        refs = [
            self._actors[i].token_logprobs.remote(pairs[a:b])
            for i, (a, b) in enumerate(shards(len(pairs), len(self._actors)))
        ]
        return [row for part in self._get(refs) for row in part]
