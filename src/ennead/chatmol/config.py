"""ChatMol configs. Field descriptions are the documentation (``ennead chatmol config``)."""

from __future__ import annotations

from pydantic import Field

from ennead.core.config import BaseConfig


class ChatMolConfig(BaseConfig):
    seed: int = Field(0, description="seed of data generation and training")
