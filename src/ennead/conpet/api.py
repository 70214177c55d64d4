"""The ConPET facade."""

from __future__ import annotations

from pathlib import Path

from ennead.conpet.config import ConPETConfig
from ennead.core.errors import StageError
from ennead.core.results import RunResult


class ConPET:
    def __init__(self, config: ConPETConfig | None = None):
        self.config = config or ConPETConfig()

    def demo(self, run_dir: str | Path | None = None) -> RunResult:
        raise StageError("conpet demo is not built yet")
