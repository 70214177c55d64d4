from __future__ import annotations

import json
from pathlib import Path

from ennead.core.runs import RunDir
from ennead.sqe.api import tour_demo


def test_tour_demo_section(tmp_path):
    run = RunDir.create(tmp_path / "tour", {"system": "sqe"})
    sec = tour_demo(run)
    assert set(sec) >= {
        "title",
        "summary",
        "tasks",
        "baselines",
        "higher_is_better",
        "images",
        "tables",
    }
    assert set(sec["tasks"]) == {"sim-100", "sim-101", "TUD-Campus"}
    for task, metrics in sec["tasks"].items():
        assert 0 < metrics["idf1"] <= 100 and -1 <= metrics["spearman"] <= 1
        assert 0 < sec["baselines"][task]["idf1"] <= 100
    assert sec["images"] and all((run.path / p).is_file() for p in sec["images"])
    assert "| TUD-Campus |" in sec["tables"][0]
    json.dumps(sec)  # the tour stores sections as JSON


def test_evaluate_resumes_finished_sequences(tmp_path, monkeypatch):
    from ennead.sqe import SQE, SQEConfig
    from ennead.sqe import optimize as opt

    cfg = SQEConfig(
        sequences=["sim:3"],
        simulator={"n_frames": 60, "n_people": 5},
        search={"space": {"appearance_thresh": [0.2, 0.6, 0.2]}},
    )
    first = SQE(cfg).evaluate(tmp_path / "ev")
    monkeypatch.setattr(
        opt,
        "search_sequence",
        lambda *a, **k: (_ for _ in ()).throw(AssertionError("finished stage was searched again")),
    )
    again = SQE(cfg).evaluate(tmp_path / "ev")
    assert again.sequences == first.sequences
    assert Path(again.report).is_file()
