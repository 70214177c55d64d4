"""A small molecule pool (the first NCI lines) so tests need not process all 5,000."""

from __future__ import annotations

from pathlib import Path

import pytest

from ennead.chatmol.data import nci_pool_file


@pytest.fixture(scope="session")
def small_pool_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lines = nci_pool_file().read_text(encoding="utf-8").splitlines()[:400]
    path = tmp_path_factory.mktemp("pool") / "pool.smi"
    path.write_text("\n".join(lines) + "\nnot_a_smiles 9999\n", encoding="utf-8")
    return path
