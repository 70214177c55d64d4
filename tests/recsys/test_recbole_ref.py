"""RecBole's BERT4Rec and SASRec on our split, scored by our metrics (extra recbole-ref; slow)."""

import numpy as np
import pytest

from ennead.recsys.config import RecsysConfig


@pytest.mark.slow
@pytest.mark.parametrize("model", ["bert4rec", "sasrec"])
def test_recbole_model_scores_our_candidates(toy, model):
    pytest.importorskip("tensorboard")  # recbole's import chain needs the recbole-ref extra
    pytest.importorskip("recbole.config")
    from ennead.recsys.recbole_ref import run_recbole

    cfg = RecsysConfig.model_validate(
        {
            "data": {"root": str(toy), "target_genres": ["Action"], "max_len": 8},
            "model": {"hidden": 8, "heads": 2, "blocks": 1},
            "train": {"finetune_epochs": 1, "batch_size": 32, "threads": 1},
        }
    )
    res = run_recbole(cfg, model, 0)
    for group in ("cold", "warm"):
        nd = np.asarray(res["per_user"][group]["sampled"]["ndcg@10"])
        assert len(nd) == 15 and ((nd >= 0) & (nd <= 1)).all()
    assert res["epochs_per_s"] > 0
