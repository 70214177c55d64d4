"""`import ennead` and `ennead --help` must stay fast: no torch, transformers or faiss."""

import subprocess
import sys

HEAVY = ("torch", "transformers", "sentence_transformers", "faiss", "peft", "trl", "accelerate")


def _loaded_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys\nprint(' '.join(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(out.stdout.split())


def test_import_ennead_is_light():
    loaded = _loaded_after("import ennead")
    assert not loaded & set(HEAVY)


def test_cli_help_is_light():
    code = (
        "import sys\nsys.argv=['ennead','--help']\n"
        "from ennead.core.cli import app as m\n"
        "try:\n    m.app()\nexcept SystemExit:\n    pass"
    )
    loaded = _loaded_after(code)
    assert "typer" in loaded
    heavy = loaded & set(HEAVY)
    assert not heavy, f"--help imported {heavy}"
    facades = {m for m in loaded if m.startswith("ennead.") and m.endswith(".api")}
    assert not facades, f"--help imported system facades {facades}"
    assert "numpy" not in loaded


def test_ls_is_light():
    code = "from ennead.core.catalog import catalog\ncatalog()"
    assert not _loaded_after(code) & set(HEAVY)
