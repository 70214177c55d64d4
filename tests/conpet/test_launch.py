"""ConPET under ``accelerate launch`` with 2 CPU processes (data-parallel: each process forwards
half of every batch, the gradients are summed): same run folder, same accuracy as one process.

Tolerance, fixed before running: every method's macro accuracy after the last task within 10
points of the single-process run, and task 1's accuracy after task 1 within 5 points. The runs
are not bit-identical: the base's dropout draws its masks per process (half a batch each), and
Adam turns small gradient differences into step-sized ones. First run (36 test examples): Static
33.3 vs 27.8, Dynamic 11.1 vs 19.4, full 19.4 vs 19.4 (one process vs two)."""

from __future__ import annotations

import json

import pytest

from ennead.conpet.api import ConPET

pytestmark = pytest.mark.slow


def test_two_cpu_processes_match_one(small_cfg, tmp_path):
    single = ConPET(small_cfg("methods=[static,dynamic,full]")).train(tmp_path / "one")
    cfg = small_cfg("methods=[static,dynamic,full]", "train.launch=cpu_multi", "train.processes=2")
    launched = ConPET(cfg).train(tmp_path / "two")
    run = launched.run_dir
    data = json.loads((run / "results.json").read_text())
    assert data["processes"] == 2
    assert (run / "ranks" / "rank1" / "results.json").is_file()
    assert (run / "stages" / "dynamic-task3" / "state.pt").is_file()
    for m in ("static", "dynamic", "full"):
        one, two = single.methods[m], launched.methods[m]
        assert abs(one["macro"] - two["macro"]) <= 0.10, (m, one["macro"], two["macro"])
        assert abs(one["R"][0][0] - two["R"][0][0]) <= 0.05
        # each process forwarded half of every batch
        assert two["cost"][1]["forwards"] == one["cost"][1]["forwards"] // 2
    # resumable like an in-process run: a second call finds every task done
    again = ConPET(cfg).train(run)
    assert again.methods["static"]["R"] == launched.methods["static"]["R"]
