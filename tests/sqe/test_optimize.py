from __future__ import annotations

import pytest

from ennead.core.errors import ConfigError, DataError
from ennead.sqe import optimize as opt
from ennead.sqe.config import SimulatorConfig, SQEConfig

SMALL = SimulatorConfig(n_frames=80, n_people=6)


def _cfg(**search):
    return SQEConfig(
        sequences=["sim:3", "sim:4"],
        simulator=SMALL,
        search={"space": {"appearance_thresh": [0.1, 0.5, 0.2]}, **search},
    )


def test_grid_points():
    pts = opt.grid_points({"appearance_thresh": [0.1, 0.3, 0.1], "max_age": [10, 20, 10]})
    assert len(pts) == 6 and pts[0] == {"appearance_thresh": 0.1, "max_age": 10}
    assert isinstance(pts[-1]["max_age"], int)


def test_grid_search_resumes_from_its_cache(tmp_path, monkeypatch):
    cfg = _cfg()
    first = opt.search_sequence("sim:3", cfg, tmp_path / "c.jsonl")
    assert len(first["trials"]) == 3 and "idf1" in first["best"]
    assert first["best"]["sqe"] == max(t["sqe"] for t in first["trials"])
    calls = []
    real = opt.evaluate_params
    monkeypatch.setattr(opt, "evaluate_params", lambda *a, **k: calls.append(1) or real(*a, **k))
    again = opt.search_sequence("sim:3", cfg, tmp_path / "c.jsonl")
    assert calls == [] and again["best"] == first["best"]


def test_tpe_search_and_resume(tmp_path, monkeypatch):
    cfg = _cfg(method="tpe", n_trials=4)
    cfg.search.space = {"appearance_thresh": [0.1, 0.9, 0.05], "max_age": [5, 40, 5]}
    res = opt.search_sequence("sim:3", cfg, tmp_path / "t.jsonl")
    assert len(res["trials"]) == 4
    assert set(res["best"]["params"]) == {"appearance_thresh", "max_age"}
    cfg.search.n_trials = 6
    calls = []
    real = opt.evaluate_params
    monkeypatch.setattr(opt, "evaluate_params", lambda *a, **k: calls.append(1) or real(*a, **k))
    more = opt.search_sequence("sim:3", cfg, tmp_path / "t.jsonl")
    assert len(more["trials"]) == 6 and len(calls) <= 2


def test_parallel_equals_serial():
    serial = opt.search_all(_cfg(workers=1))
    parallel = opt.search_all(_cfg(workers=2))
    assert list(serial) == list(parallel) == ["sim:3", "sim:4"]
    for k in serial:
        assert serial[k]["best"] == parallel[k]["best"]


def test_bad_sequence_specs():
    with pytest.raises(DataError, match="is not 'sim:<seed>'"):
        opt.load_sequence("nowhere/at/all", SQEConfig())
    with pytest.raises(ConfigError, match="must be an integer"):
        opt.load_sequence("sim:abc", SQEConfig())
