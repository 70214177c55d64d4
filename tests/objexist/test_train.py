"""Rollouts, the REINFORCE loss, a few training steps, checkpoint resume."""

import numpy as np
import pytest
import torch

from ennead.core.config import load_config
from ennead.objexist.config import ObjExistConfig, StageConfig
from ennead.objexist.env import Tabletop
from ennead.objexist.rollout import reinforce_loss, rollout
from ennead.objexist.train import Job, build_net, train_job


@pytest.fixture(scope="module")
def cfg():
    return load_config(
        ObjExistConfig,
        "tiny",
        [
            "sim.resolution=32",
            "sim.supersample=2",
            "train.batch_size=16",
            "train.checkpoint_every=1",
            "train.log_every=1",
            "train.threads=1",
        ],
        package="ennead.objexist",
    )


@pytest.fixture(scope="module")
def small_sim(cfg):
    return Tabletop(cfg.sim)


def test_fixed_policies_make_their_moves(cfg, small_sim):
    torch.manual_seed(0)
    net = build_net(cfg)
    sc = small_sim.sampler.sample(24, "mixed", np.random.default_rng(0))
    with torch.no_grad():
        assert (rollout(net, small_sim, sc, "exhaustive").moves == 6).all()
        assert (rollout(net, small_sim, sc, "passive").moves == 0).all()
        rnd = rollout(net, small_sim, sc, "random", rng=np.random.default_rng(1))
        learned = rollout(net, small_sim, sc, "learned", greedy=True)
    assert rnd.moves.max() > 0 and rnd.moves.min() == 0
    with torch.no_grad():
        sw = rollout(net, small_sim, sc, "sweep", rng=np.random.default_rng(2))
    # a sweep goes one way only: the final view is +-moves
    assert (np.abs(sw.views[np.arange(len(sc)), sw.moves]) == sw.moves).all()
    assert sw.moves.max() > 1 and sw.moves.min() == 0
    assert ((learned.actions >= 0).sum(1) == learned.moves + 1).all()
    expected = np.where(learned.correct, 1.0, -1.0) + 1.0 / (learned.moves + 2)
    assert np.allclose(learned.reward, expected)


def test_oracle_is_an_upper_bound(cfg, small_sim):
    sc = small_sim.sampler.sample(48, "two_occluded", np.random.default_rng(2))
    ep = rollout(None, small_sim, sc, "oracle")
    assert ep.correct.mean() == 1.0  # hidden objects are always found by the left sweep
    assert ep.moves[sc.query_hidden].min() >= 1
    one = small_sim.sampler.sample(24, "one_object", np.random.default_rng(3))
    ep1 = rollout(None, small_sim, one, "oracle")
    assert ep1.correct.all() and (ep1.moves == 0).all()


def test_loss_masks_and_baseline(cfg, small_sim):
    torch.manual_seed(0)
    net = build_net(cfg)
    sc = small_sim.sampler.sample(16, "mixed", np.random.default_rng(4))
    ep = rollout(net, small_sim, sc, "learned", generator=torch.Generator().manual_seed(0))
    # exactly one sampled action per step taken before the forced answer
    assert torch.equal(ep.mask.sum(0), torch.from_numpy(np.minimum(ep.moves + 1, 6)).float())
    loss, parts = reinforce_loss(ep, sc.label, 0.01, 0.001)
    assert torch.isfinite(loss) and parts["value_loss"] > 0
    _sup, sparts = reinforce_loss(ep, sc.label, 0.01, 0.001, supervised_only=True)
    assert sparts["loss"] == pytest.approx(parts["nll"], rel=1e-6)


def test_view_aux_labels_the_query_in_view_and_trains_its_head(cfg, small_sim, tmp_path):
    aux_cfg = cfg.model_copy(update={"model": cfg.model.model_copy(update={"view_aux": 1.0})})
    assert build_net(cfg).seen is None  # off by default: checkpoints keep their keys
    torch.manual_seed(0)
    net = build_net(aux_cfg)
    sc = small_sim.sampler.sample(32, "two_occluded", np.random.default_rng(5))
    with torch.no_grad():
        ep = rollout(net, small_sim, sc, "exhaustive")
    # step 0 is the start view: the query shows there unless it is hidden or absent
    first = ep.seen_label[0].numpy().astype(bool)
    assert not first[sc.query_hidden].any()
    assert first[sc.label & ~sc.query_hidden].all()
    assert not first[~sc.label].any()
    # a hidden query shows up later in the left sweep
    assert ep.seen_label[:, torch.from_numpy(sc.query_hidden)].amax(0).min() == 1.0
    base, _ = reinforce_loss(ep, sc.label, 0.0, 0.0, True)
    with_aux, _ = reinforce_loss(ep, sc.label, 0.0, 0.0, True, view_aux=1.0)
    assert with_aux > base
    before = net.seen.weight.detach().clone()
    job = Job("exhaustive", "exhaustive", [StageConfig(level="two_occluded", episodes=32)], seed=0)
    trained, _ = train_job(aux_cfg, job, small_sim, tmp_path / "ex.pt", lambda row, **kw: None)
    assert not torch.equal(before, trained.seen.weight.detach())


def _params(net):
    return {k: v.detach().clone() for k, v in net.named_parameters()}


def test_training_steps_change_every_head(cfg, small_sim, tmp_path):
    torch.manual_seed(0)
    before = _params(build_net(cfg))
    job = Job("agent", "learned", [StageConfig(level="mixed", episodes=48)], seed=0)
    rows = []
    net, summary = train_job(
        cfg, job, small_sim, tmp_path / "agent.pt", lambda row, **kw: rows.append(row)
    )
    assert summary["finished"] and summary["updates"] == 3
    after = _params(net)
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert set(changed) == set(before), f"unchanged: {set(before) - set(changed)}"
    assert all(np.isfinite(r["loss"]) for r in rows) and len(rows) == 3


def test_supervised_baseline_leaves_policy_head_alone(cfg, small_sim, tmp_path):
    torch.manual_seed(1)
    before = _params(build_net(cfg))
    job = Job("exhaustive", "exhaustive", [StageConfig(level="mixed", episodes=32)], seed=1)
    net, _ = train_job(cfg, job, small_sim, tmp_path / "exh.pt")
    after = _params(net)
    assert torch.equal(before["move.0.weight"], after["move.0.weight"])
    assert not torch.equal(before["answer.weight"], after["answer.weight"])
    assert not torch.equal(before["conv.0.weight"], after["conv.0.weight"])


def test_interrupted_job_resumes_to_the_same_weights(cfg, small_sim, tmp_path):
    stages = [StageConfig(level="one_object", episodes=32), StageConfig(level="mixed", episodes=32)]
    job = Job("agent", "learned", stages, seed=3)
    full, _ = train_job(cfg, job, small_sim, tmp_path / "a.pt")
    _part, info = train_job(cfg, job, small_sim, tmp_path / "b.pt", max_updates=3)
    assert not info["finished"]
    resumed, info2 = train_job(cfg, job, small_sim, tmp_path / "b.pt")
    assert info2["finished"] and info2["updates"] == 4
    for (k, a), b in zip(full.state_dict().items(), resumed.state_dict().values()):
        assert torch.allclose(a, b), k
    assert (tmp_path / "agent-1-one_object.pt").exists()


def test_resumed_job_logs_each_step_once(cfg, small_sim, tmp_path):
    """A run killed between a checkpoint and the next log row used to log those steps twice."""
    from ennead.core.runs import RunDir

    cfg = cfg.model_copy(deep=True)
    cfg.train.log_every, cfg.train.checkpoint_every = 1, 2
    stages = [StageConfig(level="one_object", episodes=96)]
    job = Job("agent", "learned", stages, seed=3)
    run = RunDir(tmp_path / "run")
    (tmp_path / "run").mkdir()

    def dies_at_three(row, step, **tags):
        run.log_metrics(row, step=step, **tags)
        if step == 3:
            raise KeyboardInterrupt  # after the checkpoint at 2, with step 3 logged

    with pytest.raises(KeyboardInterrupt):
        train_job(cfg, job, small_sim, tmp_path / "c.pt", dies_at_three)
    train_job(cfg, job, small_sim, tmp_path / "c.pt", run.log_metrics, None, run.rewind_metrics)
    steps = [r["step"] for r in run.read_metrics() if r.get("job") == "agent"]
    assert steps == list(range(1, len(steps) + 1)) and len(steps) >= 4, steps
