"""The harness on a small controlled stream: every method, costs, resume, the logit cache."""

from __future__ import annotations

import json

import pytest

from ennead.conpet.harness import run_all
from ennead.conpet.streams import build_stream
from ennead.core.errors import StageError
from ennead.core.runs import RunDir


def test_every_method_runs_and_costs_are_as_designed(small_cfg, tmp_path):
    cfg = small_cfg()
    out = run_all(cfg, build_stream(cfg), RunDir.create(tmp_path / "run", cfg))
    m = out["methods"]
    assert set(m) == {"sequential", "static", "dynamic", "replay", "full", "joint"}
    for name, r in m.items():
        assert 0.0 <= r["macro"] <= 1.0
        rows = [row for row in r["R"] if row[0] == row[0]]  # non-NaN rows
        assert len(rows) == (1 if name == "joint" else 3)
    # sampler methods: the same examples and steps on every task; replay grows with the data
    for name in ("static", "full"):
        assert [c["forwards"] for c in m[name]["cost"]] == [32, 32, 32]
        assert m[name]["forward_ratio"] == 1.0
    assert m["replay"]["forward_ratio"] == pytest.approx(3 / 2)
    dyn = [c["forwards"] for c in m["dynamic"]["cost"]]
    assert dyn[1] == dyn[2]  # selector batches + the new rows of each batch
    assert 0.0 <= m["dynamic"]["selector"] <= 1.0
    # tunable parameters: LoRA + heads are a small share of the backbone, full tuning all of it
    assert m["static"]["tunable_ratio"] < 0.1 < 1.0 <= m["full"]["tunable_ratio"]
    assert json.loads((tmp_path / "run" / "results.json").read_text())["methods"]["static"]


def test_resume_restarts_at_the_next_unfinished_task(small_cfg, tmp_path):
    cfg = small_cfg("methods=[static,dynamic]")
    stream = build_stream(cfg)
    run = RunDir.create(tmp_path / "run", cfg)
    first = run_all(cfg, stream, run)
    marker = run.stage_dir("static-task2") / "_DONE.json"
    before = marker.stat().st_mtime_ns
    for name in ("static-task3", "dynamic-task3"):  # as if killed during task 3
        (run.stage_dir(name) / "_DONE.json").unlink()
    again = run_all(cfg, stream, RunDir.create(tmp_path / "run", cfg))
    assert marker.stat().st_mtime_ns == before  # tasks 1-2 were not retrained
    for name in ("static", "dynamic"):
        assert again["methods"][name]["R"] == first["methods"][name]["R"]


def test_resume_with_a_changed_stream_is_refused(small_cfg, tmp_path):
    cfg = small_cfg("methods=[sequential]")
    run_all(cfg, build_stream(cfg), RunDir.create(tmp_path / "run", cfg))
    other = build_stream(small_cfg("seed=5"))
    with pytest.raises(StageError, match=r"task 1 \('task1'\) changed"):
        run_all(cfg, other, RunDir.create(tmp_path / "run", cfg))


def test_logit_cache_avoids_frozen_forwards_and_changes_nothing(small_cfg, tmp_path):
    results = {}
    for cache in (True, False):
        cfg = small_cfg("methods=[dynamic]", f"dynamic.logit_cache={str(cache).lower()}")
        out = run_all(cfg, build_stream(cfg), RunDir.create(tmp_path / f"c{cache}", cfg))
        results[cache] = out["methods"]["dynamic"]
    assert results[True]["R"] == results[False]["R"]
    stages = sorted((tmp_path / "cTrue" / "stages").glob("dynamic-task*"))
    evals = [json.loads((s / "_DONE.json").read_text())["result"] for s in stages]
    assert evals[0]["eval_avoided"] == 0 and evals[2]["eval_avoided"] > 0
    assert (tmp_path / "cTrue" / "cache" / "dynamic" / "logits.f32").is_file()
    assert not (tmp_path / "cFalse" / "cache").exists()


def test_topk_two_routes_through_old_modules(small_cfg, tmp_path):
    cfg = small_cfg("methods=[dynamic]", "dynamic.topk=2")
    out = run_all(cfg, build_stream(cfg), RunDir.create(tmp_path / "run", cfg))
    assert 0.0 <= out["methods"]["dynamic"]["macro"] <= 1.0
