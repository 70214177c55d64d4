"""The ChatMol facade."""

from __future__ import annotations

from pathlib import Path

from ennead.chatmol.config import ChatMolConfig
from ennead.core.errors import StageError
from ennead.core.results import RunResult


class ChatMol:
    def __init__(self, config: ChatMolConfig | None = None):
        self.config = config or ChatMolConfig()

    def demo(self, run_dir: str | Path | None = None) -> RunResult:
        raise StageError("chatmol demo is not built yet")
