"""The grid's three runners (serial, local processes, Ray) give the same table."""

import pytest

from ennead.recsys.config import RecsysConfig
from ennead.recsys.grid import run_units, summarise


def _cfg(toy, **grid):
    cfg = RecsysConfig.model_validate(
        {
            "data": {"root": str(toy), "target_genres": ["Action"], "max_len": 8},
            "model": {"hidden": 8, "user_dim": 4, "meta_dim": 2, "caser_l": 3},
            "train": {"pretrain_epochs": 2, "finetune_epochs": 2, "batch_size": 32, "threads": 1},
            "grid": grid,
        }
    )
    return cfg


UNITS = [("mf", False, 0), ("mf", True, 0), ("sasrec", False, 1)]


@pytest.mark.slow
def test_processes_and_ray_match_the_serial_grid(toy, tmp_path):
    pytest.importorskip("ray")
    modes = ["none", "shallow", "deep"]
    serial, _ = run_units(_cfg(toy), UNITS, modes, tmp_path / "serial")
    procs, _ = run_units(_cfg(toy, workers=2), UNITS, modes, tmp_path / "procs")
    ray, _ = run_units(_cfg(toy, workers=2, ray=True), UNITS, modes, tmp_path / "ray")
    assert summarise(serial) == summarise(procs) == summarise(ray)
    assert len(list((tmp_path / "ray" / "units").glob("*/unit.json"))) == 3
