"""Build the configured stream (``stream.kind``)."""

from __future__ import annotations

from ennead.conpet.config import ConPETConfig
from ennead.conpet.stream import (
    Stream,
    load_conpet_json,
    load_fewrel,
    load_jsonl_stream,
    load_stream,
)
from ennead.core.errors import ConfigError


def build_stream(cfg: ConPETConfig) -> Stream:
    s = cfg.stream
    if s.kind == "controlled":
        from ennead.conpet.synthetic import controlled_stream

        return controlled_stream(
            seed=cfg.seed,
            n_tasks=s.n_tasks,
            labels_per_task=s.labels_per_task,
            nouns_per_label=s.nouns_per_label,
            train_per_label=s.train_per_label,
            valid_per_label=s.valid_per_label,
            test_per_label=s.test_per_label,
            noise=s.noise,
        )
    if s.kind == "clothing":
        from ennead.conpet.clothing import clothing_stream

        return clothing_stream(s.n_tasks, s.split_seed, s.max_per_label)
    if s.path is None:
        raise ConfigError(f"stream.kind {s.kind} needs stream.path")
    if s.kind == "jsonl":
        return load_jsonl_stream(s.path, s.n_tasks, s.split_seed)
    if s.kind == "conpet_json":
        return load_conpet_json(s.path, s.dataset)
    if s.kind == "fewrel":
        return load_fewrel(s.path, s.n_tasks, s.split_seed, s.max_per_label)
    return load_stream(s.path)
