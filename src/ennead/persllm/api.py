"""The PersLLM facade."""

from __future__ import annotations

from pathlib import Path

from ennead.core.errors import StageError
from ennead.core.results import RunResult
from ennead.persllm.config import PersLLMConfig


class PersLLM:
    def __init__(self, config: PersLLMConfig | None = None):
        self.config = config or PersLLMConfig()

    def demo(self, run_dir: str | Path | None = None) -> RunResult:
        raise StageError("persllm demo is not built yet")
