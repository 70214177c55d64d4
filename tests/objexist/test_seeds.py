"""The multi-seed gate: per-seed numbers and intervals, the verdict, and resuming a run folder."""

import json

import numpy as np
import pytest

from ennead.core.errors import ConfigError, StageError
from ennead.core.results import RunResult
from ennead.objexist import seeds as S

SMOKE = [
    "sim.resolution=32",
    "sim.supersample=2",
    "eval.episodes=32",
    "train.batch_size=16",
    "baselines.episodes=16",
    "train.curriculum=[{level: one_object, episodes: 16}, {level: mixed, episodes: 16}]",
]


def _raw(agent_l4, exh_l4, agent_l3, passive_l3, agent_moves=1.0, n=400):
    """Per-episode outcomes with exact accuracies (the first k episodes right)."""

    def hits(p):
        return np.arange(n) < round(p * n)

    def split(p, moves):
        return {"correct": hits(p), "moves": np.full(n, moves)}

    return {
        "agent": {"mixed": split(agent_l4, agent_moves), "two_occluded": split(agent_l3, 1.0)},
        "exhaustive": {"mixed": split(exh_l4, 6.0), "two_occluded": split(1.0, 6.0)},
        "passive": {"mixed": split(0.9, 0.0), "two_occluded": split(passive_l3, 0.0)},
    }


def test_seed_metrics_and_their_bootstrap_intervals():
    values, cis = S.seed_metrics(_raw(0.97, 1.0, 0.9, 0.75, agent_moves=0.6), n_resamples=500)
    assert values["L4_gap_points"] == pytest.approx(3.0)
    assert values["L4_moves_ratio"] == pytest.approx(0.1)
    assert values["L3_agent_minus_passive_points"] == pytest.approx(15.0)
    assert values["L4_agent_accuracy"] == pytest.approx(97.0)
    low, high = cis["L3_agent_minus_passive_points"]
    assert 10 < low < 15 < high < 20  # paired bootstrap over 400 episodes: a few points wide
    assert cis["L4_moves_ratio"] == [pytest.approx(0.1), pytest.approx(0.1)]  # constant moves
    assert set(values) == set(S.METRICS) == set(cis)


def _over(per_seed):
    from ennead.core.eval.stats import t_interval

    out = {}
    for name in S.METRICS:
        iv = t_interval([v[name] for v in per_seed])
        out[name] = {"mean": iv.estimate, "low": iv.low, "high": iv.high, "sd": iv.extra["sd"]}
    return out


def test_gate_holds_on_the_mean_and_fails_on_each_criterion():
    good = [S.seed_metrics(_raw(0.98, 1.0, 0.92 + d, 0.75), 200)[0] for d in (0, 0.02, 0.04)]
    active = {"0": 1.2, "1": 0.9, "2": 1.5}  # hidden-query moves minus in-view moves, per seed
    assert S.gate_verdict(_over(good), active)["passed"]
    # an agent that never moves where the query is hidden fails, however accurate
    lazy = S.gate_verdict(_over(good), {"0": 1.2, "1": 0.1, "2": 1.5})
    assert not lazy["moves_where_hidden_ok"] and not lazy["passed"]
    assert not S.gate_verdict(_over(good))["passed"]  # no evidence of moving: not passed
    # accuracy 8 points under exhaustive on average
    far = [S.seed_metrics(_raw(0.92, 1.0, 0.9, 0.75), 200)[0] for _ in range(3)]
    gate = S.gate_verdict(_over(far), active)
    assert not gate["L4_gap_ok"] and not gate["passed"]
    # too many moves: 2.4 of exhaustive's 6
    busy = [S.seed_metrics(_raw(1.0, 1.0, 0.9, 0.75, agent_moves=2.4), 200)[0] for _ in range(3)]
    assert not S.gate_verdict(_over(busy))["L4_moves_ok"]
    # beats passive on average, but one seed loses: the t interval reaches below 0
    mixed = [S.seed_metrics(_raw(0.98, 1.0, p, 0.75), 200)[0] for p in (0.95, 0.70, 0.95)]
    gate = S.gate_verdict(_over(mixed), active)
    assert gate["L3_agent_minus_passive_low"] < 0 and not gate["passed"]


def test_gate_seeds_and_thresholds_are_fixed():
    assert S.GATE_SEEDS == (0, 1, 2) and S.UNTUNED_SEEDS == (3, 4)
    assert (S.MAX_GAP_POINTS, S.MAX_MOVES_RATIO, S.MIN_ACTIVE_MOVES) == (5.0, 0.30, 0.3)
    cfg = S.seed_config(2)
    assert cfg.seed == 2 and cfg.sim.observation == "idmap"
    assert list(cfg.eval.levels) == ["two_occluded", "mixed"] and not cfg.eval.holdout
    with pytest.raises(ConfigError, match="distinct"):
        S.seed_gate("unused", seeds=(1, 1))


def test_seed_gate_end_to_end_and_resume(tmp_path, cli_app):
    res = S.seed_gate(tmp_path, seeds=(0, 1), overrides=SMOKE, workers=1, n_resamples=200)
    assert isinstance(res, RunResult) and res.seeds == [0, 1]
    for s in ("0", "1"):
        seed_dir = tmp_path / f"seed-{s}"
        run = json.loads((seed_dir / "results.json").read_text())["results"]
        assert res.per_seed[s]["L4_agent_accuracy"] == pytest.approx(
            100 * run["agent"]["mixed"]["accuracy"]
        )
        assert res.per_seed[s]["L4_exhaustive_moves"] == 6.0
        assert (seed_dir / "report.html").exists()
    # the baselines are trained once, in seed 0's folder, and shared: same weights, same scores
    for name in ("exhaustive", "passive"):
        a, b = (tmp_path / f"seed-{s}" / "checkpoints" / f"{name}.pt" for s in (0, 1))
        assert a.read_bytes() == b.read_bytes()
    for key in ("L4_exhaustive_accuracy", "L4_passive_accuracy", "L3_passive_accuracy"):
        assert res.per_seed["0"][key] == res.per_seed["1"][key]
    logs = [(tmp_path / f"seed-{s}" / "metrics.jsonl").read_text() for s in (0, 1)]
    assert '"job": "exhaustive"' in logs[0] and '"job": "exhaustive"' not in logs[1]
    mean = np.mean([res.per_seed[s]["L3_agent_accuracy"] for s in ("0", "1")])
    assert res.metrics["L3_agent_accuracy"] == pytest.approx(mean)
    saved = json.loads((tmp_path / "seeds.json").read_text())
    assert saved["gate"] == res.gate and saved["seeds"] == [0, 1]
    assert "seed 1" in (tmp_path / "report.md").read_text()
    assert (tmp_path / "report.html").read_text().count("data:image/png;base64") == 2
    # rerun: both seeds are reused, nothing is trained or scored again
    before = {s: (tmp_path / f"seed-{s}" / "metrics.jsonl").stat().st_mtime for s in (0, 1)}
    again = S.seed_gate(tmp_path, seeds=(0, 1), overrides=SMOKE, workers=1, n_resamples=200)
    assert again.per_seed == res.per_seed
    assert {s: (tmp_path / f"seed-{s}" / "metrics.jsonl").stat().st_mtime for s in (0, 1)} == before
    # the CLI verb resumes the same folder and prints the table and the verdict
    from typer.testing import CliRunner

    sets = [x for o in SMOKE for x in ("--set", o)]
    args = [
        "objexist",
        "seeds",
        "tiny",
        *sets,
        "--run",
        str(tmp_path),
        "--seed",
        "0",
        "--seed",
        "1",
    ]
    out = CliRunner().invoke(cli_app, [*args, "--workers", "1"])
    assert out.exit_code == 0, out.output
    assert "L4 exhaustive - agent (points)" in out.output and '"passed"' in out.output
    # one seed has no t interval over seeds: seeds.json says null, and stays strict JSON
    one = S.seed_gate(tmp_path, seeds=(0,), overrides=SMOKE, workers=1, n_resamples=200)
    assert one.seeds == [0] and np.isnan(one.gate["L3_agent_minus_passive_low"])

    def no_constant(name):
        raise AssertionError(f"seeds.json holds {name}")

    strict = json.loads((tmp_path / "seeds.json").read_text(), parse_constant=no_constant)
    assert strict["over_seeds"]["L4_gap_points"]["low"] is None
    assert "moves_where_hidden_ok" in strict["gate"]
    # the same folder with another schedule is refused before anything runs
    with pytest.raises(StageError, match="different config"):
        S.seed_gate(tmp_path, seeds=(0,), overrides=[*SMOKE, "eval.episodes=64"], workers=1)


def test_shared_baselines_hold_back_every_seed_in_worker_processes(tmp_path):
    # two workers: seed 1's agent may finish before seed 0's baselines; seed 1 must wait for them
    res = S.seed_gate(tmp_path, seeds=(0, 1), overrides=SMOKE, workers=2, n_resamples=200)
    assert res.seeds == [0, 1]
    for name in ("exhaustive", "passive"):
        a, b = (tmp_path / f"seed-{s}" / "checkpoints" / f"{name}.pt" for s in (0, 1))
        assert a.read_bytes() == b.read_bytes()
    assert (
        res.per_seed["0"]["L4_exhaustive_accuracy"] == res.per_seed["1"]["L4_exhaustive_accuracy"]
    )


def test_per_seed_baselines_train_in_every_seed(tmp_path):
    S.seed_gate(
        tmp_path, seeds=(0, 1), overrides=SMOKE, workers=1, n_resamples=200, shared_baselines=False
    )
    a, b = (tmp_path / f"seed-{s}" / "checkpoints" / "exhaustive.pt" for s in (0, 1))
    assert a.read_bytes() != b.read_bytes()  # each from its own seed
