"""Configs of the CUGE system (field descriptions are the docs)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ennead.core.config import BaseConfig
from ennead.cuge.boards import BoardSpec


class RunnerConfig(BaseConfig):
    """Which model produces predictions."""

    kind: Literal["rule", "lm"] = Field("rule", description="rule baseline, or a core LM backend.")
    backend: str = Field("smollm2", description="core backend name (smollm2, hf, openai, ...).")
    model: str | None = Field(None, description="model folder/name for hf, openai or vllm.")
    batch_size: int = Field(8, ge=1, description="prompts per generate call.")
    max_new_tokens: int | None = Field(
        None, ge=1, description="override the templates' max_new_tokens."
    )
    chat: bool = Field(True, description="wrap prompts as a chat (uses the model's template).")
    cache: str | None = Field(
        None, description="SQLite completion cache (default <data_dir>/cache.sqlite; '' = off)."
    )
    datasets: list[str] = Field(default_factory=list, description="only these datasets.")
    lite: bool = Field(False, description="only the lite datasets.")
    limit: int | None = Field(None, ge=1, description="first N test items per dataset.")
    seed: int = Field(0, description="decoding seed (greedy decoding ignores it).")


class ServiceConfig(BaseConfig):
    """The leaderboard service (`ennead cuge serve`)."""

    host: str = Field("127.0.0.1", description="bind address.")
    port: int = Field(8765, ge=1, le=65535, description="port.")
    db: str = Field("runs/cuge-board.sqlite", description="SQLite database file.")
    max_upload_mb: float = Field(20.0, gt=0, description="largest accepted prediction file.")


class CUGEConfig(BaseConfig):
    """Benchmark, data, board and runner settings."""

    benchmark: str = Field("standin", description="registry: cuge, standin or a YAML path.")
    data_dir: str = Field("data/cuge-standin", description="datasets folder (test labels here).")
    max_items: int = Field(300, ge=10, description="stand-in test items per dataset.")
    max_train: int = Field(1000, ge=0, description="stand-in train items per dataset.")
    seed: int = Field(0, description="recorded; every split is hash-based and deterministic.")
    baseline: str | None = Field(
        None,
        description="baseline table name or YAML file; default: the rule baseline measured "
        "on this data (stand-in) or the registry's default table.",
    )
    board: BoardSpec = Field(default_factory=BoardSpec, description="the board to render.")
    runner: RunnerConfig = Field(default_factory=RunnerConfig, description="predict settings.")
    service: ServiceConfig = Field(default_factory=ServiceConfig, description="serve settings.")
    out: str = Field("runs", description="where run folders go.")
