"""Small persona folders for the PersLLM tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from ennead.persllm import world as W


@pytest.fixture
def world_personas(tmp_path: Path) -> Path:
    """Two generated personas (6 topics, 2 stages) as persona folders."""
    return W.write_personas(W.make_personas(5, n_personas=2, n_topics=6), tmp_path / "personas")


def _write_persona(root: Path, yaml_text: str, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "persona.yaml").write_text(yaml_text, encoding="utf-8")
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def write_persona():
    """``write_persona(folder, yaml_text, {relative path: text})`` -> the folder."""
    return _write_persona
