"""ConPET configs. Field descriptions are the documentation (``ennead conpet config``)."""

from __future__ import annotations

from pydantic import Field

from ennead.core.config import BaseConfig


class ConPETConfig(BaseConfig):
    seed: int = Field(0, description="seed of the stream split and of training")
