"""Training under `accelerate launch` with 2 CPU processes (gloo) matches one process."""

import numpy as np
import pytest

from ennead.recsys.config import RecsysConfig
from ennead.recsys.experiment import evaluate, finetune, pretrain


def _cfg(toy, processes):
    return RecsysConfig.model_validate(
        {
            "data": {"root": str(toy), "target_genres": ["Action"], "max_len": 8},
            "model": {"name": "sasrec", "hidden": 16, "user_dim": 4, "meta_dim": 2},
            "train": {
                "pretrain_epochs": 6,
                "finetune_epochs": 6,
                "batch_size": 16,
                "lr": 0.01,
                "threads": 1,
                "processes": processes,
            },
        }
    )


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_two_cpu_processes_under_accelerate_launch_reach_the_single_process_metric(toy):
    runs = {}
    for n in (1, 2):
        cfg = _cfg(toy, n)
        state, pre = pretrain(cfg, True, 0)
        model, fine = finetune(cfg, "deep", True, 0, state)
        ndcg = np.mean(evaluate(model, cfg)["cold"]["sampled"]["ndcg@10"])
        runs[n] = (pre, fine, float(ndcg))
    (pre1, fine1, nd1), (pre2, fine2, nd2) = runs[1], runs[2]
    assert pre2["processes"] == fine2["processes"] == 2  # really launched, 2 ranks
    assert "processes" not in pre1
    assert len(fine2["copied"]) > 0  # deep transfer ran inside the launch
    # both learn, to about the same loss; the metric agrees within a tolerance fixed beforehand
    for one, two in ((pre1, pre2), (fine1, fine2)):
        l1, l2 = one["history"], two["history"]
        assert l2[-1]["loss"] < l2[0]["loss"]
        assert abs(l2[-1]["loss"] - l1[-1]["loss"]) < 0.15 * l1[-1]["loss"]
    print(f"cold NDCG@10: 1 process {nd1:.4f}, 2 processes {nd2:.4f}")
    assert abs(nd2 - nd1) < 0.1


def test_a_failed_launch_is_a_stage_error_with_its_output(toy, monkeypatch):
    import subprocess

    import ennead.core.train.launcher as launcher
    from ennead.core.errors import StageError

    def fake(*a, **kw):
        return subprocess.CompletedProcess([], 3, "", "RuntimeError: gloo went away\n")

    monkeypatch.setattr(launcher, "launch", fake)
    with pytest.raises(StageError, match="exit code 3:\nRuntimeError: gloo went away"):
        pretrain(_cfg(toy, 2), False, 0)
