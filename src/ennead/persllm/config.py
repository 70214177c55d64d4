"""PersLLM configs. Field descriptions are the documentation (``ennead persllm config``)."""

from __future__ import annotations

from pydantic import Field

from ennead.core.config import BaseConfig


class PersLLMConfig(BaseConfig):
    seed: int = Field(0, description="seed of the world, the data split and training")
