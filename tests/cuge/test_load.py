"""A small bounded load test on loopback (200 uploads: benchmarks/bench_cuge_load.py)."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("uvicorn")
pytest.importorskip("httpx")


def test_concurrent_uploads_and_reads(cuge, tmp_path):
    from ennead.cuge.loadtest import run_load
    from ennead.cuge.runners import RuleRunner

    path = cuge.predict(runner=RuleRunner()).submission
    with open(path, encoding="utf-8") as fh:
        base = json.load(fh)
    result = run_load(cuge.config, base, uploads=40, clients=8, readers=2, deadline_s=120)
    assert result["statuses"] == {201: 40}
    assert result["accepted"] == 40 and result["db_submissions"] == 40
    assert result["all_accepted_on_board"] and result["board_rows"] == 40
    assert result["integrity_check"] == "ok"
    assert result["board_reads"] > 0 and result["upload_ms"]["p95"] > 0
