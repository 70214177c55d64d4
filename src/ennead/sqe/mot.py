"""MOTChallenge data: boxes with frames, ids and appearance features; readers and writers.

Row format (``det.txt``, ``gt.txt``, tracker output): ``frame,id,x,y,w,h,conf,...`` with 1-based
frames, ``id = -1`` for detections and boxes as top-left x, y plus width and height in pixels.
Features live beside the text file as ``<name>.npy`` with one row per box, in file order.

Handling of odd input (documented, tested):
- width or height <= 0, non-finite numbers, fewer than 6 columns: :class:`DataError` with file:line;
- frames out of order: rows are sorted by frame (stable), features follow their rows;
- a (frame, id) pair twice in ground truth or tracker output: :class:`DataError`;
- NaN/inf features or a feature count that does not match the rows: :class:`DataError`;
- ground-truth rows with ``conf == 0`` (MOTChallenge "ignore") are dropped when reading gt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ennead.core.errors import DataError
from ennead.core.io import atomic_write_bytes, atomic_write_text


@dataclass
class Boxes:
    """Boxes of one sequence as parallel arrays, sorted by frame.

    ``frame`` (N,) int, ``ids`` (N,) int (-1 = unassigned detection), ``xywh`` (N, 4) float,
    ``conf`` (N,) float, ``features`` (N, D) float32 L2-normalised or None.
    """

    frame: np.ndarray
    ids: np.ndarray
    xywh: np.ndarray
    conf: np.ndarray
    features: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.frame = np.asarray(self.frame, dtype=np.int64).reshape(-1)
        n = len(self.frame)
        self.ids = np.asarray(self.ids, dtype=np.int64).reshape(-1)
        self.xywh = np.asarray(self.xywh, dtype=np.float64).reshape(n, 4)
        self.conf = np.asarray(self.conf, dtype=np.float64).reshape(-1)
        if len(self.ids) != n or len(self.conf) != n:
            raise DataError(
                f"frame/ids/conf lengths differ: {n}, {len(self.ids)}, {len(self.conf)}"
            )
        if self.features is not None:
            self.features = check_features(self.features, n)
        check_boxes(self.xywh, self.frame)
        if n and np.any(np.diff(self.frame) < 0):
            order = np.argsort(self.frame, kind="stable")
            self.frame, self.ids = self.frame[order], self.ids[order]
            self.xywh, self.conf = self.xywh[order], self.conf[order]
            if self.features is not None:
                self.features = self.features[order]

    def __len__(self) -> int:
        return len(self.frame)

    def subset(self, mask: np.ndarray) -> Boxes:
        feats = None if self.features is None else self.features[mask]
        return Boxes(self.frame[mask], self.ids[mask], self.xywh[mask], self.conf[mask], feats)

    @property
    def track_ids(self) -> np.ndarray:
        return np.unique(self.ids[self.ids >= 0])

    @property
    def n_frames(self) -> int:
        return int(self.frame.max()) if len(self) else 0

    def check_unique_ids(self, what: str = "boxes") -> None:
        """Each (frame, id) at most once: a tracker cannot be in two places at one time."""
        if not len(self):
            return
        key = self.frame * (int(self.ids.max()) + 2) + (self.ids + 1)
        uniq, counts = np.unique(key, return_counts=True)
        if np.any(counts > 1):
            k = uniq[np.argmax(counts > 1)]
            i = int(np.nonzero(key == k)[0][0])
            raise DataError(f"{what}: id {self.ids[i]} appears twice in frame {self.frame[i]}")


@dataclass
class Sequence:
    """One video's detections (with features), optional ground truth and metadata."""

    name: str
    detections: Boxes
    gt: Boxes | None = None
    fps: float = 25.0
    size: tuple[int, int] = (1920, 1080)
    info: dict[str, object] = field(default_factory=dict)

    @property
    def n_frames(self) -> int:
        ends = [self.detections.n_frames] + ([self.gt.n_frames] if self.gt is not None else [])
        return max(ends)


def check_boxes(xywh: np.ndarray, frame: np.ndarray, path: str | Path | None = None) -> None:
    bad = ~np.isfinite(xywh).all(axis=1)
    if bad.any():
        i = int(np.argmax(bad))
        raise DataError(f"box {i} has a non-finite value {xywh[i].tolist()}", path, None)
    small = (xywh[:, 2] <= 0) | (xywh[:, 3] <= 0)
    if small.any():
        i = int(np.argmax(small))
        raise DataError(
            f"box {i} (frame {int(frame[i])}) has non-positive size w={xywh[i, 2]:g} "
            f"h={xywh[i, 3]:g}; width and height must be > 0",
            path,
        )
    if len(frame) and frame.min() < 1:
        i = int(np.argmin(frame))
        raise DataError(f"box {i} has frame {int(frame[i])}; MOTChallenge frames start at 1", path)


def check_features(features: np.ndarray, n_rows: int, path: str | Path | None = None) -> np.ndarray:
    """Validate and L2-normalise features: shape (n_rows, D), finite, non-zero rows."""
    feats = np.asarray(features, dtype=np.float32)
    if feats.ndim != 2:
        raise DataError(f"features must be a 2-D array (rows, dim), got shape {feats.shape}", path)
    if feats.shape[0] != n_rows:
        raise DataError(
            f"{feats.shape[0]} feature rows for {n_rows} boxes; need exactly one row per box", path
        )
    finite = np.isfinite(feats).all(axis=1)
    if not finite.all():
        i = int(np.argmin(finite))
        raise DataError(f"feature row {i} holds NaN or inf; fix or drop that box", path)
    norms = np.linalg.norm(feats, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise DataError(f"feature row {int(np.argmin(norms))} is all zeros", path)
    return feats / norms


def read_mot(path: str | Path, kind: str = "tracks", features: str | Path | None = None) -> Boxes:
    """Read a MOTChallenge text file; ``kind`` is ``det``, ``gt`` or ``tracks``.

    ``features`` is an ``.npy`` file (default: ``<path without .txt>.npy`` when it exists).
    """
    path = Path(path)
    if not path.exists():
        raise DataError("file not found", path)
    rows: list[list[float]] = []
    lines: list[int] = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            text = line.strip()
            if not text:
                continue
            parts = text.replace(" ", "").split(",") if "," in text else text.split()
            if len(parts) < 6:
                raise DataError(
                    f"expected >= 6 comma-separated values, got {len(parts)}", path, lineno
                )
            try:
                vals = [float(p) for p in parts[:7]]
            except ValueError:
                raise DataError(f"not a number in {text!r}", path, lineno) from None
            if not all(np.isfinite(vals[:6])):
                raise DataError(f"non-finite value in {text!r}", path, lineno)
            if vals[4] <= 0 or vals[5] <= 0:
                raise DataError(
                    f"box has non-positive size w={vals[4]:g} h={vals[5]:g}; must be > 0",
                    path,
                    lineno,
                )
            if vals[0] < 1 or vals[0] != int(vals[0]):
                raise DataError(f"frame must be an integer >= 1, got {parts[0]}", path, lineno)
            rows.append(vals if len(vals) == 7 else [*vals, 1.0])
            lines.append(lineno)
    arr = np.asarray(rows, dtype=np.float64).reshape(-1, 7)
    feats = None
    fpath = Path(features) if features is not None else path.with_suffix(".npy")
    if features is not None or fpath.exists():
        if not fpath.exists():
            raise DataError("feature file not found", fpath)
        feats = check_features(np.load(fpath), len(arr), fpath)
    keep = np.ones(len(arr), dtype=bool)
    if kind == "gt":
        keep = arr[:, 6] != 0
    ids = arr[:, 1].astype(np.int64) if kind != "det" else np.full(len(arr), -1, dtype=np.int64)
    boxes = Boxes(
        arr[keep, 0],
        ids[keep],
        arr[keep, 2:6],
        arr[keep, 6],
        None if feats is None else feats[keep],
    )
    if kind in ("gt", "tracks"):
        try:
            boxes.check_unique_ids(kind)
        except DataError as exc:
            raise DataError(str(exc), path) from None
    return boxes


def format_mot(boxes: Boxes) -> str:
    out = [
        f"{f},{i},{x:.2f},{y:.2f},{w:.2f},{h:.2f},{c:.4g},-1,-1,-1\n"
        for f, i, (x, y, w, h), c in zip(
            boxes.frame.tolist(), boxes.ids.tolist(), boxes.xywh.tolist(), boxes.conf.tolist()
        )
    ]
    return "".join(out)


def write_mot(path: str | Path, boxes: Boxes, features: bool = True) -> Path:
    """Write a MOTChallenge text file (and ``<name>.npy`` features when present), atomically."""
    path = Path(path)
    atomic_write_text(path, format_mot(boxes))
    if features and boxes.features is not None:
        import io

        buf = io.BytesIO()
        np.save(buf, boxes.features.astype(np.float32))
        atomic_write_bytes(path.with_suffix(".npy"), buf.getvalue())
    return path


def write_sequence(folder: str | Path, seq: Sequence) -> Path:
    """MOTChallenge layout: ``seqinfo.ini``, ``det/det.txt`` (+ ``det.npy``), ``gt/gt.txt``."""
    folder = Path(folder)
    write_mot(folder / "det" / "det.txt", seq.detections)
    if seq.gt is not None:
        write_mot(folder / "gt" / "gt.txt", seq.gt, features=False)
    w, h = seq.size
    atomic_write_text(
        folder / "seqinfo.ini",
        f"[Sequence]\nname={seq.name}\nframeRate={seq.fps:g}\nseqLength={seq.n_frames}\n"
        f"imWidth={w}\nimHeight={h}\n",
    )
    return folder


def read_sequence(folder: str | Path) -> Sequence:
    """Read a MOTChallenge sequence folder; detections need features in ``det/det.npy``."""
    import configparser

    folder = Path(folder)
    det_path = folder / "det" / "det.txt"
    if not det_path.exists():
        raise DataError("not a MOTChallenge sequence folder (no det/det.txt)", folder)
    dets = read_mot(det_path, "det")
    if dets.features is None:
        raise DataError(
            "detections have no appearance features; put one row per detection in det/det.npy",
            det_path,
        )
    gt_path = folder / "gt" / "gt.txt"
    gt = read_mot(gt_path, "gt", features=None) if gt_path.exists() else None
    name, fps, size = folder.name, 25.0, (1920, 1080)
    ini = folder / "seqinfo.ini"
    if ini.exists():
        cp = configparser.ConfigParser()
        cp.read(ini)
        sec = cp["Sequence"] if cp.has_section("Sequence") else {}
        name = sec.get("name", name)
        fps = float(sec.get("frameRate", fps))
        size = (int(sec.get("imWidth", size[0])), int(sec.get("imHeight", size[1])))
    return Sequence(name=name, detections=dets, gt=gt, fps=fps, size=size)


def tud_gt(name: str) -> Boxes:
    """Ground truth of TUD-Campus or TUD-Stadtmitte from the installed motmetrics package data."""
    from importlib import resources

    from ennead.core.imports import require

    require("motmetrics", "sqe", "the TUD sequences")
    folder = {"campus": "TUD-Campus", "stadtmitte": "TUD-Stadtmitte"}.get(name.lower())
    if folder is None:
        from ennead.core.errors import UnknownNameError

        raise UnknownNameError("TUD sequence", name, ["campus", "stadtmitte"])
    ref = resources.files("motmetrics") / "data" / folder / "gt.txt"
    with resources.as_file(ref) as path:
        return read_mot(path, "gt")
