import numpy as np
import pytest
import torch

from ennead.core.errors import ConfigError
from ennead.recsys.config import ModelSettings, TrainSettings
from ennead.recsys.models import build_model
from ennead.recsys.train import examples, fit, kg_init, transfer_weights

N_USERS, N_ITEMS, L = 12, 30, 8
META = np.random.default_rng(0).integers(0, 5, size=(N_ITEMS + 1, 3))


def seqs():
    rng = np.random.default_rng(1)
    return {
        u: [int(i) for i in rng.choice(np.arange(1, N_ITEMS + 1), 7, replace=False)]
        for u in range(1, N_USERS + 1)
    }


def model(name, meta=True, **kw):
    cfg = ModelSettings(name=name, hidden=8, user_dim=4, meta_dim=2, caser_l=3, **kw)
    torch.manual_seed(0)
    return build_model(cfg, N_USERS, N_ITEMS, L, META if meta else None, 5, 5), cfg


@pytest.mark.parametrize("name", ["bert4rec", "sasrec", "caser", "mf"])
@pytest.mark.parametrize("meta", [False, True])
def test_each_model_trains_and_scores(name, meta):
    m, cfg = model(name, meta)
    items = np.arange(1, N_ITEMS + 1)
    info = fit(m, seqs(), items, cfg, TrainSettings(batch_size=8, lr=0.01, by_model={}), 8, 0, L)
    losses = [h["loss"] for h in info["history"]]
    assert losses[-1] < losses[0]  # it learns
    s = m.score(torch.tensor([1, 2]), torch.tensor([[0] * 5 + [1, 2, 3]] * 2))
    assert s.shape == (2, N_ITEMS + 1) and torch.isfinite(s).all()


def test_caser_matrix_products_equal_its_convolutions():
    m, _ = model("caser", meta=True)
    hist = torch.tensor([[0, 0, 4, 9, 2, 7, 1, 3], [5, 6, 8, 1, 2, 3, 4, 0]])
    x = m.item_features(hist[:, -m.L :])[:, None]  # the textbook Conv2d path, [B, 1, L, d]
    v = m.vert(x).flatten(1)
    hs = [torch.relu(c(x).squeeze(3)).amax(2) for c in m.horiz]
    m.eval()
    z = torch.relu(m.fc(torch.cat([v, *hs], 1)))
    ref = m.out(torch.cat([z, m.user_emb(torch.tensor([1, 2]))], 1))
    assert torch.allclose(m.score(torch.tensor([1, 2]), hist), ref, atol=1e-5)


def test_per_model_batch_size_and_lr():
    t = TrainSettings(batch_size=64, lr=0.002)
    assert (t.for_model("caser").batch_size, t.for_model("caser").lr) == (256, 0.002)
    assert (t.for_model("mf").batch_size, t.for_model("mf").lr) == (1024, 0.01)
    assert t.for_model("bert4rec") is t  # the gate's model trains as configured
    own = TrainSettings(batch_size=32, by_model={"sasrec": {"lr": 0.5}})  # replaces the table
    assert own.for_model("sasrec").lr == 0.5 and own.for_model("caser").batch_size == 32


def test_mlm_objective_masks_and_labels():
    m, cfg = model("bert4rec", objective="mlm")
    ex = examples(seqs(), cfg, L, np.random.default_rng(0), np.arange(1, N_ITEMS + 1), m.mask_id)
    assert ((ex["labels"] > 0).sum(1) >= 1).all()
    assert (ex["seq"] == m.mask_id).any()


def test_shallow_copies_user_and_meta_deep_all_but_output():
    src, _ = model("bert4rec")
    for p in src.parameters():
        torch.nn.init.constant_(p, 0.5)
    tgt, _ = model("bert4rec")
    shallow = transfer_weights(tgt, src.state_dict(), "shallow")
    assert sorted(shallow) == ["act_emb.weight", "dir_emb.weight", "user_emb.weight"]
    assert (tgt.user_emb.weight == 0.5).all() and not (tgt.item_emb.weight == 0.5).all()
    tgt2, _ = model("bert4rec")
    deep = transfer_weights(tgt2, src.state_dict(), "deep")
    assert "item_emb.weight" in deep and not any(k.startswith("out.") for k in deep)
    assert not (tgt2.out.weight == 0.5).all()
    assert transfer_weights(tgt2, src.state_dict(), "none") == []
    mf, _ = model("mf")
    assert not any(
        k.startswith(("item_emb", "item_bias"))
        for k in transfer_weights(mf, mf.state_dict(), "deep")
    )


def test_transfer_refuses_other_shapes():
    src, _ = model("bert4rec")
    other = ModelSettings(name="bert4rec", hidden=8, user_dim=6, meta_dim=2)
    tgt = build_model(other, N_USERS, N_ITEMS, L, META, 5, 5)
    with pytest.raises(ConfigError, match=r"user_emb\.weight"):
        transfer_weights(tgt, src.state_dict(), "shallow")


def test_heads_must_divide_the_width():
    with pytest.raises(ConfigError, match=r"model\.heads=5"):
        build_model(ModelSettings(hidden=8, user_dim=4, heads=5), N_USERS, N_ITEMS, L, None)


def test_resume_continues_exactly(tmp_path):
    items, tc = np.arange(1, N_ITEMS + 1), TrainSettings(batch_size=8, lr=0.01)
    a, cfg = model("bert4rec")
    fit(a, seqs(), items, cfg, tc, 4, 0, L)
    b, _ = model("bert4rec")
    fit(b, seqs(), items, cfg, tc, 2, 0, L, tmp_path / "c.pt")  # stopped after 2 epochs
    c, _ = model("bert4rec")
    info = fit(c, seqs(), items, cfg, tc, 4, 0, L, tmp_path / "c.pt")  # resumed
    assert len(info["history"]) == 4
    for (k, va), vc in zip(a.state_dict().items(), c.state_dict().values()):
        assert torch.allclose(va, vc, atol=1e-6), k


def test_kg_init_sets_linked_items_only():
    m, _ = model("bert4rec")
    before = m.item_emb.weight.detach().clone()
    ent = np.random.default_rng(0).normal(size=(10, 4))
    link = np.full(N_ITEMS + 1, -1)
    link[[1, 2, 3]] = [0, 1, 2]
    assert kg_init(m, ent, link, 0) == 3
    w = m.item_emb.weight.detach()
    assert not torch.equal(w[1:4], before[1:4]) and torch.equal(w[4:], before[4:])


@pytest.mark.parametrize("name", ["sasrec", "bert4rec"])
def test_short_histories_score_finitely_with_two_blocks_in_eval(name):
    """Left padding under a causal mask once left padded queries without any key: NaN in eval
    (PyTorch's fast path), spread by the second block to every position."""
    m, _ = model(name, blocks=2)
    m.eval()
    with torch.no_grad():
        s = m.score(torch.tensor([1, 2]), torch.tensor([[0] * 6 + [1, 2], [0] * 7 + [5]]))
    assert torch.isfinite(s).all()
