"""The synthetic-world experiment end to end on a micro world (a smoke test: every stage runs and
writes what it should; no gain is gated here). The claim gate is tests/ddr/test_claim.py."""

import json

import pytest

from ennead.core.runs import RunDir
from ennead.ddr.synthetic import (
    METHODS,
    SMOKE_OVERRIDES,
    ClaimResult,
    claim_experiment,
    run_claim,
    run_synthetic,
    seed_config,
    split_answer,
    tiny_ddr_config,
)
from ennead.ddr.world import SCENARIOS

# A world small enough for seconds of CPU: the pipeline and every stage, not the effect.
SMOKE = list(SMOKE_OVERRIDES)


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    cfg = seed_config(tiny_ddr_config(SMOKE), 0)
    root = tmp_path_factory.mktemp("ddr")
    run = RunDir.create(root / "seed-0", cfg, seed=0)
    return cfg, run, run_synthetic(cfg, run)


def test_every_method_scores_every_scenario(experiment):
    _, run, res = experiment
    table = res["table"]
    assert list(table) == list(METHODS)
    for row in table.values():
        assert set(SCENARIOS) <= set(row)
        assert 0.0 <= row["overall"] <= 100.0
    # every test question scored once per method, ids shared (paired comparisons need it)
    ids = None
    for m in METHODS:
        rows = [json.loads(x) for x in (run.stage_dir(f"eval-{m}") / "scores.jsonl").open()]
        assert len(rows) == res["world"]["test"]
        assert {r["score"] for r in rows} <= {0.0, 1.0}
        ids = ids or {r["id"] for r in rows}
        assert {r["id"] for r in rows} == ids


def test_stages_wrote_pairs_table_and_plot(experiment):
    _, run, res = experiment
    gen_pairs = run.stage_info("r1-gen-pairs")["result"]
    assert gen_pairs["pairs"] > 0
    assert gen_pairs["pairs"] + gen_pairs["dropped_constant"] == gen_pairs["groups"]
    assert run.stage_info("r1-kr-pairs")["result"]["pairs"] > 0
    table_md = (run.path / "table.md").read_text().split("\n\n")[0]
    assert len(table_md.splitlines()) == 2 + len(METHODS)
    assert json.loads((run.path / "results.json").read_text())["table"] == res["table"]
    png = run.path / "reward_curves.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    history = (run.stage_dir("r1-gen-dpo") / "history.jsonl").read_text().splitlines()
    assert json.loads(history[0])["loss"] == pytest.approx(0.6931, abs=1e-3)  # log 2 at step 0


def test_held_out_preferences_are_measured(experiment):
    """Held-out DPO preference (spec 8.2) is reported; its size is for the claim run, not here."""
    _, run, res = experiment
    held = res["heldout_preferences"]
    for module in ("gen", "kr"):
        h = held[module]
        assert h["pairs"] > 0 and 0.0 <= h["accuracy"] <= 1.0
    assert (run.stage_dir("heldout-preferences") / "kr_pairs.jsonl").exists()
    assert "held-out pairs" in (run.path / "table.md").read_text()


def test_claim_pools_the_seeds_runs(experiment):
    """run_claim reuses the finished seed folder and pools its paired question scores."""
    cfg, run, res = experiment
    got = run_claim(cfg, run.path.parent, seeds=[0])
    assert isinstance(got, ClaimResult)
    t = res["table"]
    assert got.gains[0] == pytest.approx(t["ddr_all"]["overall"] - t["vanilla"]["overall"])
    assert got.mean_gain == pytest.approx(got.gains[0])
    iv = got.interval
    assert iv["low"] <= got.mean_gain <= iv["high"] and iv["n"] == res["world"]["test"]
    assert set(got.by_scenario) == set(SCENARIOS)
    assert got.passed == (got.mean_gain >= 5.0 and iv["low"] > 0)
    assert "| 0 |" in (run.path.parent / "claim.md").read_text()
    assert "<table" in (run.path.parent / "claim.html").read_text()
    claim = got.to_claim()
    assert claim.values == [got.gains[0]] and claim.claimed == 5.0


def test_claim_seeds_in_worker_processes_pool_like_one_process(experiment):
    cfg, run, _ = experiment
    root = run.path.parent
    two = cfg.model_copy(
        update={
            "synthetic": cfg.synthetic.model_copy(
                update={"claim": cfg.synthetic.claim.model_copy(update={"workers": 2})}
            )
        }
    )
    got = run_claim(two, root, seeds=[0, 1])  # seed 0 resumes, seed 1 runs in a worker
    assert got.seeds == [0, 1] and set(got.gains) == {0, 1}
    assert got.mean_gain == pytest.approx((got.gains[0] + got.gains[1]) / 2)
    assert got.questions_per_seed[0] == got.questions_per_seed[1]
    again = run_claim(cfg, root, seeds=[0, 1])  # one process, both folders finished
    assert again.gains == got.gains and again.interval == got.interval


def test_claim_experiment_by_size_reuses_the_smoke_run(experiment):
    _, run, _ = experiment
    got = claim_experiment(run.path.parent, "smoke")  # same config and seed: resumes
    assert got.seeds == [0] and got.to_claim().verdict in ("reproduced", "partly", "not reproduced")
    with pytest.raises(Exception, match="claim size"):
        claim_experiment(run.path.parent, "huge")


def test_pair_preferences_of_a_model_against_itself_is_zero():
    from ennead.core.backends import load_backend
    from ennead.ddr.synthetic import pair_preferences

    lm = load_backend("tiny", options={"texts": ["a b c d", "b c d a"], "seed": 0})
    pairs = [{"prompt": "a b", "chosen": " c", "rejected": " d"}] * 3
    got = pair_preferences(lm, lm, pairs, beta=0.1)
    assert got["pairs"] == 3 and got["margin"] == pytest.approx(0.0, abs=1e-6)
    assert got["accuracy"] == 0.0  # a tie is not a preference
    assert pair_preferences(lm, lm, [], beta=0.1)["margin"] is None


def test_rerun_resumes_without_training(experiment, monkeypatch):
    cfg, run, res = experiment
    import ennead.core.train as core_train

    def boom(*a, **k):
        raise AssertionError("a finished stage was trained again")

    monkeypatch.setattr(core_train, "train_sft", boom)
    monkeypatch.setattr(core_train, "train_dpo", boom)
    again = run_synthetic(cfg, RunDir.create(run.path, cfg, seed=cfg.seed))
    assert again["table"] == res["table"]


def test_split_answer_keeps_one_token_answer():
    ex = split_answer("Background: a lives in b . Q: where does a live ? A: b .")
    assert ex == {
        "prompt": "Background: a lives in b . Q: where does a live ? A:",
        "completion": " b",
    }


def test_seed_config_sets_every_seed():
    cfg = seed_config(tiny_ddr_config(), 7)
    assert cfg.seed == 7 and cfg.synthetic.world.seed == 7
    assert cfg.synthetic.claim.seeds == [1000, 1001, 1002]  # fixed before looking
    assert seed_config(tiny_ddr_config(["synthetic.claim.workers=3"]), 7) == cfg


def test_tour_section_reuses_the_finished_run(experiment):
    from ennead.ddr.synthetic import tour_demo

    _, run, res = experiment
    section = tour_demo(run)
    assert set(section["tasks"]) == {"sft", "ddr_gen", "ddr_all"}
    assert section["tasks"]["ddr_all"]["accuracy"] == res["table"]["ddr_all"]["overall"]
    assert section["baselines"]["ddr_all"]["accuracy"] == res["table"]["vanilla"]["overall"]
    assert section["images"] == ["reward_curves.png"]
