"""Tiny synthetic RecBole atomic files (never MovieLens itself)."""

from pathlib import Path

import numpy as np
import pytest


def write_atomic(root: Path, n_users: int = 30, n_items: int = 40, seed: int = 0) -> Path:
    """Each user rates 12 odd (Action: target) and 12 even items; a KG with directors and actors."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    lines = ["user_id:token\titem_id:token\trating:float\ttimestamp:float"]
    t = 0
    for u in range(1, n_users + 1):
        odd = rng.choice(np.arange(1, n_items + 1, 2), size=12, replace=False)
        even = rng.choice(np.arange(2, n_items + 1, 2), size=12, replace=False)
        for i in rng.permutation(np.r_[odd, even]):
            t += 1
            lines.append(f"{u}\t{i}\t4\t{t}")
    (root / "toy.inter").write_text("\n".join(lines) + "\n", encoding="utf-8")
    items = ["item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq"]
    for i in range(1, n_items + 1):
        items.append(f"{i}\tMovie {i}\t1995\t{'Action Drama' if i % 2 else 'Comedy'}")
    (root / "toy.item").write_text("\n".join(items) + "\n", encoding="utf-8")
    kg = ["head_id:token\trelation_id:token\ttail_id:token"]
    link = ["item_id:token\tentity_id:token"]
    for i in range(1, n_items + 1):
        link.append(f"{i}\tm.film{i}")
        kg.append(f"m.film{i}\tfilm.film.directed_by\tm.dir{i % 5}")
        for a in range(4):
            kg.append(f"m.film{i}\tfilm.film.actor\tm.actor{(i + a) % 9}")
    (root / "toy.kg").write_text("\n".join(kg) + "\n", encoding="utf-8")
    (root / "toy.link").write_text("\n".join(link) + "\n", encoding="utf-8")
    return root


@pytest.fixture
def toy(tmp_path: Path) -> Path:
    return write_atomic(tmp_path / "toy")


@pytest.fixture(autouse=True)
def _one_thread():
    """One torch thread: the models are tiny and the CI machine's cores are shared."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
