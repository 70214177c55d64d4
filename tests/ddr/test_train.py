import json

import pytest

from ennead.core.config import load_config
from ennead.core.errors import DataError
from ennead.core.runs import RunDir
from ennead.ddr import DDR, DDRConfig
from ennead.ddr.world import build_world

SMALL = [
    "train.temperatures=[0.7,1.5]",
    "train.loops=2",
    "train.max_new_tokens=3",
    "train.kr_passages=3",
    "train.gen_dpo.max_steps=2",
    "train.gen_dpo.batch_size=2",
    "train.kr_dpo.max_steps=2",
    "train.kr_dpo.batch_size=2",
    "train.gen_dpo.lr=1e-3",
    "train.kr_dpo.lr=1e-3",
    "data_type=synthetic",
    "gen.style=synthetic",
    "gen.module.options={texts: []}",
]


def _setup(extra=()):
    world = build_world(n_entities=12, n_values=3, reading_examples=40, seed=1)
    texts = world.pretrain_texts + [j["passage"] for j in world.judge_texts]
    opts = json.dumps(
        {"texts": texts, "seed": 0, "hidden_size": 32, "num_layers": 1, "num_heads": 2}
    )
    overrides = [o for o in SMALL if not o.startswith("gen.module.options")]
    overrides += [f"gen.module.options={opts}", f"kr.module.options={opts}", *extra]
    cfg = load_config(DDRConfig, "tiny", overrides, package="ennead.ddr")
    return cfg, world.train[:8]


def _saved_gen(cfg, folder):
    """The generator's tiny model and the transformers folder it was saved to."""
    from ennead.ddr.pipeline import load_module_lm

    base = load_module_lm(cfg.gen.module)
    base.model.save_pretrained(str(folder))
    base.tokenizer.save_pretrained(str(folder))
    return base, folder


def _ray_gen_overrides(weights, rounds, backend="hf", options=None):
    """Overrides that put the generator into 2 one-CPU Ray replicas of ``backend`` on ``weights``,
    with LoRA Gen DPO and no KR training."""
    pool = {"backend": backend, "replicas": 2, "gpus_per_replica": 0, "cpus_per_replica": 1}
    if options is not None:
        pool["options"] = options
    return [
        f"train.rounds={rounds}",
        "train.train_kr=false",
        "gen.module.backend=ray",
        f"gen.module.model={weights}",
        f"gen.module.options={json.dumps(pool)}",
        "gen.module.device=cpu",
        "train.gen_dpo.lora.enabled=true",
    ]


def test_train_runs_all_stages_and_resumes(tmp_path, monkeypatch):
    cfg, records = _setup()
    run = RunDir.create(tmp_path / "run", cfg)
    import ennead.core.train as core_train

    real = core_train.train_dpo
    calls = []

    def flaky(model, tok, pairs, c, run_dir=None, **kw):
        calls.append(len(pairs))
        if len(calls) == 2:  # the KR DPO stage "crashes"
            raise KeyboardInterrupt
        return real(model, tok, pairs, c, run_dir=run_dir, **kw)

    monkeypatch.setattr(core_train, "train_dpo", flaky)
    with pytest.raises(KeyboardInterrupt):
        DDR(cfg).train(records, run)
    stages = run.stages()
    assert stages["r1-gen-rollouts"] and stages["r1-gen-pairs"] and stages["r1-kr-rollouts"]
    assert stages["r1-kr-dpo"] is False  # partial stage is not taken for finished
    rollouts = (run.stage_dir("r1-gen-rollouts") / "rollouts.jsonl").read_text().splitlines()
    assert len(rollouts) == len(records)
    assert len(json.loads(rollouts[0])["candidates"]) == 2 * 2 * 2  # temps x loops x {raw, aug}
    info = run.stage_info("r1-gen-pairs")["result"]
    assert info["pairs"] + info["dropped_constant"] == len(records)

    monkeypatch.setattr(core_train, "train_dpo", real)
    before = (run.stage_dir("r1-gen-rollouts") / "_DONE.json").read_text()
    ddr = DDR(cfg)
    summary = ddr.train(records, RunDir.create(tmp_path / "run", cfg))
    assert (run.stage_dir("r1-gen-rollouts") / "_DONE.json").read_text() == before  # not redone
    assert run.is_done("r1-kr-dpo")
    assert "r1-kr-dpo" in summary.stages and summary.run_dir == run.path
    assert summary.artifacts["r2-gen-dpo"] == run.stage_dir("r2-gen-dpo") / "model"
    assert "r1-gen-dpo/final_loss" in summary.metrics
    preds = ddr.predict(records[:2])
    assert len(preds) == 2
    from ennead.core.results import RunResult

    ev = ddr.evaluate(records[:2])
    assert isinstance(ev, RunResult) and isinstance(summary, RunResult)
    assert ev.metrics["score"] == ev.score == sum(p.score for p in preds) / 2
    # the run folder alone gives the trained pipeline back (as `ddr predict RUN` does)
    again = DDR.from_run(run.path)
    assert again.config.gen.module.model == str(run.stage_dir("r2-gen-dpo") / "model")  # last round
    assert again.config.kr.module.model == str(run.stage_dir("r2-kr-dpo") / "model")
    assert [p.answer for p in again.predict(records[:2])] == [p.answer for p in preds]
    kr_pairs = run.stage_info("r1-kr-pairs")["result"]
    rewards = [
        json.loads(x)["rewards"] for x in (run.stage_dir("r1-kr-rollouts") / "rewards.jsonl").open()
    ]
    flat = [r for row in rewards for r in row]
    assert kr_pairs["mean_reward"] == pytest.approx(sum(flat) / len(flat))


def test_train_rejects_questions_without_answers(tmp_path):
    cfg, _ = _setup()
    from ennead.ddr.data import QARecord

    bad = [QARecord(id="x", question="q", answers=[], passages=["p"])]
    with pytest.raises(DataError, match="need gold answers"):
        DDR(cfg).train(bad, RunDir.create(tmp_path / "r", cfg))


def test_empty_corpus_is_a_clear_error(tmp_path):
    from ennead.ddr.pipeline import build_retriever

    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("")
    cfg = load_config(
        DDRConfig,
        "tiny",
        ["retrieval.kind=bm25", f"retrieval.corpus={corpus}"],
        package="ennead.ddr",
    )
    with pytest.raises(DataError, match="corpus is empty"):
        build_retriever(cfg)


def test_missing_module_checkpoint_names_the_folder(tmp_path):
    from ennead.core.errors import StageError
    from ennead.ddr.train import trained_module_lm

    cfg = load_config(DDRConfig, "tiny", package="ennead.ddr")
    with pytest.raises(StageError, match=r"missing module checkpoint .*r1-gen-dpo"):
        trained_module_lm(cfg.gen.module, object(), tmp_path / "r1-gen-dpo")


class _SamplerOnly:
    """Stands in for a vLLM or OpenAI sampler: it generates but holds no torch model."""

    def __init__(self, lm):
        self._lm, self.name = lm, "remote"

    def __getattr__(self, key):
        if key in ("model", "tokenizer"):
            raise AttributeError(key)
        return getattr(self._lm, key)


def test_out_of_process_sampler_trains_a_local_copy(tmp_path):
    from ennead.core.errors import StageError
    from ennead.ddr.data import as_records
    from ennead.ddr.pipeline import load_module_lm
    from ennead.ddr.train import DDRTrainer

    cfg, rows = _setup()
    records = as_records(rows)
    base, weights = _saved_gen(cfg, tmp_path / "weights")
    extra = [
        "train.rounds=1",
        "train.train_kr=false",
        "gen.module.backend=hf",
        "train.gen_dpo.lora.enabled=true",
    ]
    remote, _ = _setup([*extra, f"gen.module.train_model={weights}"])
    sampler = _SamplerOnly(load_module_lm(cfg.gen.module))
    trainer = DDRTrainer(remote, RunDir.create(tmp_path / "run", remote))
    trainer.fit_with(records, sampler, sampler)
    final = trainer.run.stage_dir("r1-gen-dpo") / "model"
    assert not (final / "adapter_config.json").exists()  # merged for the sampler to load
    assert trainer.gen_lm_.model_path == str(final)
    before = dict(base.model.named_parameters())
    after = dict(trainer.gen_lm_.model.named_parameters())
    assert any(not (before[k] == after[k]).all() for k in before)

    missing, _ = _setup(extra)
    with pytest.raises(StageError, match="samples out of process"):
        DDRTrainer(missing, RunDir.create(tmp_path / "run2", missing)).fit_with(
            records, sampler, sampler
        )


def test_dpo_stage_under_accelerate_launch_with_two_cpu_processes(tmp_path):
    from ennead.ddr.data import as_records
    from ennead.ddr.pipeline import load_module_lm
    from ennead.ddr.train import DDRTrainer

    extra = [
        "train.rounds=1",
        "train.train_kr=false",
        "train.dpo_launch=cpu_multi",
        "train.dpo_processes=2",
        "train.gen_dpo.lora.enabled=true",
    ]
    cfg, rows = _setup(extra)
    gen = load_module_lm(cfg.gen.module)
    before = {k: v.detach().clone() for k, v in gen.model.named_parameters()}
    trainer = DDRTrainer(cfg, RunDir.create(tmp_path / "run", cfg))
    trainer.fit_with(as_records(rows), gen, load_module_lm(cfg.kr.module))
    info = trainer.run.stage_info("r1-gen-dpo")["result"]
    assert info["launched"] and info["processes"] == 2 and info["steps"] == 2
    assert info["first_loss"] == pytest.approx(0.6931, abs=1e-3)
    assert not (trainer.run.stage_dir("r1-gen-dpo") / "source").exists()
    after = dict(trainer.gen_lm_.model.named_parameters())
    assert any(not (before[k] == after[k]).all() for k in before)  # merged LoRA moved weights


def test_rollouts_on_ray_replicas_and_round_two_trains_on_round_one(
    tmp_path, ray_local, monkeypatch
):
    """Gen sampled by 2 Ray replicas (CPU workers); each DPO stage trains a local copy of the
    newest weights while the replicas are released, then the replicas restart on the result."""
    import ennead.core.backends as backends
    from ennead.ddr.data import as_records
    from ennead.ddr.pipeline import load_module_lm
    from ennead.ddr.train import DDRTrainer

    cfg, rows = _setup()
    records = as_records(rows)
    _, weights = _saved_gen(cfg, tmp_path / "weights")
    cfg, _ = _setup(_ray_gen_overrides(weights, rounds=2))
    sources = []
    real = backends.load_backend

    def spy(name, **kw):
        if name == "hf":
            sources.append(kw["model"])
        return real(name, **kw)

    monkeypatch.setattr(backends, "load_backend", spy)
    gen = load_module_lm(cfg.gen.module)
    assert gen.name == "ray" and len({i["pid"] for i in gen.replica_info()}) == 2
    kr = load_module_lm(cfg.kr.module)  # the judge stays in this process
    trainer = DDRTrainer(cfg, RunDir.create(tmp_path / "run", cfg))
    trainer.fit_with(records, gen, kr)
    run = trainer.run
    r1, r2 = run.stage_dir("r1-gen-dpo") / "model", run.stage_dir("r2-gen-dpo") / "model"
    assert sources == [str(weights), str(r1)]  # round 2 starts from round 1's result
    assert trainer.gen_lm_ is gen and gen.model_path == str(r2)
    assert not (r2 / "adapter_config.json").exists()  # merged: the replicas load plain weights
    for r in (1, 2):
        rows_r = (run.stage_dir(f"r{r}-gen-rollouts") / "rollouts.jsonl").read_text().splitlines()
        assert len(rows_r) == len(records)
        assert all(len(json.loads(x)["candidates"]) == 2 * 2 * 2 for x in rows_r)
    pairs = [("one two", " three")]
    moved = real("hf", model=str(r2), device="cpu")
    assert gen.loglikelihood(pairs) == pytest.approx(moved.loglikelihood(pairs), abs=1e-5)
    gen.release()


def test_answer_cap_is_checked_against_the_gold_answers():
    from ennead.core.backends import load_backend
    from ennead.ddr.data import as_records
    from ennead.ddr.train import warn_answer_cap

    lm = load_backend("tiny", options={"texts": ["a b c d e f"], "seed": 0})
    cfg = load_config(DDRConfig, "smollm2", package="ennead.ddr")
    # general answers by default; the WordNet run's headword cap is its own explicit setting
    assert cfg.gen.max_new_tokens == cfg.train.max_new_tokens == 32
    assert cfg.wordnet.max_new_tokens == 6
    recs = as_records([{"question": "q", "answers": ["a b c d"], "passages": ["x"]}])
    assert warn_answer_cap(cfg, recs, lm) >= 4
    assert warn_answer_cap(cfg, recs, object()) is None  # no tokenizer: nothing to size
