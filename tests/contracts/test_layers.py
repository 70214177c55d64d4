"""Imports point one way: core imports no system; a system imports no other system.

import-linter checks the same in `make quality` for the systems that exist; this test covers every
package found under src/ennead automatically, including ones added later.
"""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "ennead"
SYSTEMS = sorted(
    p.name
    for p in SRC.iterdir()
    if p.is_dir() and p.name != "core" and (p / "__init__.py").exists()
)


def _ennead_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "ennead" and len(parts) > 1:
                found.add(parts[1])
    return found


def test_core_imports_no_system():
    bad = {
        str(p.relative_to(SRC)): sorted(_ennead_imports(p) - {"core"})
        for p in (SRC / "core").rglob("*.py")
        if _ennead_imports(p) - {"core"}
    }
    assert not bad, f"core modules import systems: {bad}"


@pytest.mark.parametrize("system", SYSTEMS or ["(none yet)"])
def test_system_imports_only_core_and_itself(system):
    if system == "(none yet)":
        pytest.skip("no system packages yet")
    bad = {}
    for p in (SRC / system).rglob("*.py"):
        others = _ennead_imports(p) - {"core", system}
        if others:
            bad[str(p.relative_to(SRC))] = sorted(others)
    assert not bad, f"{system} imports other systems: {bad}"


def test_detector_sees_a_cross_import(tmp_path):
    probe = tmp_path / "x.py"
    probe.write_text("from ennead.ddr.api import DDR\nimport ennead.core.io\n")
    assert _ennead_imports(probe) == {"ddr", "core"}
