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


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_grid_preset_is_a_smoke_run_of_the_whole_table(tmp_path):
    """The `grid` preset: 4 models x 3 modes x meta off/on x 3 seeds on ML-100K, 2 processes.

    Target: under 2 minutes on 2 idle cores (measured 37 s at load ~1, 322 s at load 9); the bound
    here leaves room for a loaded CI machine."""
    from ennead.core.config import load_config
    from ennead.recsys.api import Recsys

    cfg = load_config(RecsysConfig, "grid", (), package="ennead.recsys")
    res = Recsys(cfg).grid(tmp_path / "grid")
    print(f"grid preset: {res.units} units, {res.wall_seconds:.1f} s wall")
    assert res.units == 24
    conds = {(r["model"], r["meta"], r["mode"], r["users"]) for r in res.rows}
    assert len(conds) == 4 * 2 * 3 * 2
    assert all(r["seeds"] == [0, 1, 2] for r in res.rows)
    assert res.wall_seconds < 600
    assert (tmp_path / "grid" / "report.html").is_file()
