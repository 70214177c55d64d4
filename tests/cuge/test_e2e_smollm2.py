"""Offline end to end with the embedded SmolLM2: data built, baseline scored, LM scored, board."""

from __future__ import annotations

import time

import pytest


@pytest.mark.slow
def test_standin_smollm2_end_to_end(tmp_path):
    pytest.importorskip("transformers")
    from ennead.core.backends import load_backend
    from ennead.cuge import CUGE, CUGEConfig
    from ennead.cuge.boards import BoardSpec

    t0 = time.perf_counter()
    cfg = CUGEConfig(data_dir=str(tmp_path / "data"), max_items=40, max_train=20, out=str(tmp_path))
    cfg.runner.kind = "lm"
    cfg.runner.limit = 12
    cfg.runner.max_new_tokens = 24
    cuge = CUGE(cfg)
    cuge.prepare()
    from ennead.cuge.runners import RuleRunner

    rule_path = cuge.predict(out=tmp_path / "rule.json", runner=RuleRunner()).submission
    lm = load_backend("smollm2")
    result = cuge.predict(out=tmp_path / "smollm2.json", lm=lm)
    entries = [cuge.score_file(rule_path), cuge.score_file(result.submission)]
    board = cuge.leaderboard(entries, BoardSpec(name="stand-in", completeness="lenient"))
    paths = board.write(tmp_path / "board")
    assert [r.entry.model for r in board.rows].count(entries[1].model) == 1
    lm_row = next(r for r in board.rows if r.entry.model == entries[1].model)
    assert lm_row.complete and lm_row.index >= 0
    with open(paths["markdown"], encoding="utf-8") as fh:
        assert "smollm2" in fh.read().lower()
    assert time.perf_counter() - t0 < 300
