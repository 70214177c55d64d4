"""DDR's rollouts through the ``ct2`` backend inside Ray replicas (issue 13's scale path), with
the split the ``smollm2`` preset uses: int8 sampling, greedy and scoring on hf (``exact: hf``)."""

import json

import pytest

from ennead.core.runs import RunDir

from .test_train import _ray_gen_overrides, _saved_gen, _setup

pytest.importorskip("ctranslate2")


@pytest.mark.slow  # Ray start, two actors converting, one DPO stage: minutes on 2 cores
def test_ct2_replicas_roll_out_and_restart_on_the_trained_weights(tmp_path, ray_local):
    from ennead.core.backends import load_backend
    from ennead.ddr.data import as_records
    from ennead.ddr.pipeline import load_module_lm
    from ennead.ddr.train import DDRTrainer

    cfg, rows = _setup()
    records = as_records(rows)
    _, weights = _saved_gen(cfg, tmp_path / "weights")
    inner = {"intra_threads": 1, "compute_type": "int8", "exact": "hf"}
    cfg, _ = _setup(_ray_gen_overrides(weights, rounds=1, backend="ct2", options=inner))
    gen = load_module_lm(cfg.gen.module)
    try:
        assert gen.name == "ray" and len({i["pid"] for i in gen.replica_info()}) == 2
        trainer = DDRTrainer(cfg, RunDir.create(tmp_path / "run", cfg))
        trainer.fit_with(records, gen, load_module_lm(cfg.kr.module))
        run = trainer.run
        lines = (run.stage_dir("r1-gen-rollouts") / "rollouts.jsonl").read_text().splitlines()
        assert len(lines) == len(records)
        assert all(len(json.loads(x)["candidates"]) == 2 * 2 * 2 for x in lines)
        final = run.stage_dir("r1-gen-dpo") / "model"
        assert trainer.gen_lm_ is gen and gen.model_path == str(final)
        # the replicas serve the trained weights: greedy and scores equal hf on the merged folder
        trained = load_backend("hf", model=str(final), device="cpu")
        pairs = [("one two", " three")]
        assert gen.loglikelihood(pairs) == pytest.approx(trained.loglikelihood(pairs), abs=1e-5)
        before = load_backend("hf", model=str(weights), device="cpu")
        assert gen.loglikelihood(pairs) != pytest.approx(before.loglikelihood(pairs), abs=1e-6)
    finally:
        gen.release()
