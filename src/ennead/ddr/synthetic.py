"""The synthetic-world experiment: vanilla RAG vs SFT vs DDR-Gen vs DDR-all, per scenario.

Everything is trained here, in seconds to minutes on a CPU: a tiny Llama is pre-trained on the
world's text (closed-book facts it should *know*, reading from passages, and YES/NO relevance
judgements), and both modules start from it, as both start from one LLM in the paper. Then:

- ``vanilla``: the pre-trained model as V_KR and V_Gen;
- ``sft``: V_Gen fine-tuned on the training questions' gold answers with the same retrieved
  passages and the same number of optimizer steps as DDR's Gen DPO (RA-DIT-style baseline);
- ``ddr_gen``: the Gen stage of DDR (rollouts, pairs, DPO), with the vanilla V_KR;
- ``ddr_all``: Gen then KR stage (V_KR rewarded by the trained V_Gen's answers).

Each step is a stage of the run folder, so a rerun resumes. The result is a table (Markdown and
JSON) and a PNG with the rollout rewards and the DPO reward curves.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ennead.core.errors import StageError
from ennead.core.io import atomic_write_text, read_jsonl, save_figure, write_jsonl
from ennead.core.logging import get_logger
from ennead.core.results import RunResult
from ennead.core.runs import RunDir
from ennead.core.train.config import LoraSettings, SFTConfig
from ennead.ddr.config import DDRConfig, SyntheticSettings
from ennead.ddr.data import QARecord, as_records
from ennead.ddr.prompts import TINY_JUDGE_PROMPT
from ennead.ddr.world import SCENARIOS, World, build_world

log = get_logger(__name__)
METHODS = ("vanilla", "sft", "ddr_gen", "ddr_all")


def tiny_ddr_config(overrides: Sequence[str] = ()) -> DDRConfig:
    from ennead.core.config import load_config

    return load_config(DDRConfig, "tiny", list(overrides), package="ennead.ddr")


# -- pre-training ------------------------------------------------------------------------------
def split_answer(text: str) -> dict[str, str]:
    """``"... Q: q A: v ."`` -> prompt ``"... Q: q A:"``, completion ``" v"``.

    Answers are one token and trained without EOS (decoding takes one token): in our runs the
    loss on a trailing "." and EOS slowed fact learning several times.
    """
    head, _, tail = text.rpartition(" A:")
    return {"prompt": head + " A:", "completion": " " + tail.split()[0]}


def pretraining_examples(world: World) -> list[dict[str, str]]:
    examples = [split_answer(t) for t in world.pretrain_texts]
    for j in world.judge_texts:
        prompt = TINY_JUDGE_PROMPT.format(question=j["question"], passage=j["passage"])
        examples.append({"prompt": prompt, "completion": " " + j["label"]})
    random.Random(0).shuffle(examples)
    return examples


def _vocabulary(world: World) -> list[str]:
    texts = list(world.pretrain_texts)
    texts += [
        TINY_JUDGE_PROMPT.format(question=j["question"], passage=j["passage"]) + " YES NO"
        for j in world.judge_texts
    ]
    texts += [q["question"] + " " + " ".join(q["passages"]) for q in world.train + world.test]
    return texts


def pretrain(world: World, s: SyntheticSettings, folder: Path) -> dict[str, Any]:
    """A tiny Llama trained (all weights) on facts, reading and judging; saved to ``folder``."""
    from ennead.core.backends.tiny_model import build_tiny_lm
    from ennead.core.train import train_sft

    model, tok = build_tiny_lm(
        _vocabulary(world),
        seed=s.world.seed,
        hidden_size=s.hidden_size,
        num_layers=s.num_layers,
        num_heads=s.num_heads,
        tie_word_embeddings=False,
    )
    cfg = SFTConfig(
        lr=s.pretrain_lr,
        epochs=s.pretrain_epochs,
        batch_size=s.pretrain_batch_size,
        lora=LoraSettings(enabled=False),
        lr_scheduler="cosine",
        warmup_steps=20,
        max_length=128,
        max_prompt_length=120,
        seed=s.world.seed,
        add_eos=False,
        use_cpu=True,
    )
    res = train_sft(model, tok, pretraining_examples(world), cfg)
    res.model.save_pretrained(str(folder / "model"))
    tok.save_pretrained(str(folder / "model"))
    return {"steps": res.steps, "first_loss": res.first_loss, "final_loss": res.final_loss}


def _load(folder: Path, batch_size: int) -> Any:
    from ennead.core.backends import load_backend

    return load_backend("hf", model=str(folder / "model"), device="cpu", batch_size=batch_size)


# -- evaluation ---------------------------------------------------------------------------------
def evaluate(
    cfg: DDRConfig,
    gen_lm: Any,
    kr_lm: Any,
    records: Sequence[QARecord],
    folder: Path | None = None,
) -> dict[str, Any]:
    """Accuracy (%) per scenario and overall, with ``DDR.evaluate`` on the given modules; with a
    ``folder``, every question's score goes to ``scores.jsonl`` (for paired intervals)."""
    from ennead.ddr.api import DDR

    res = DDR.from_modules(cfg, gen_lm, kr_lm).evaluate(records)
    out: dict[str, Any] = {k: 100.0 * v for k, v in res.by_scenario.items()}
    out["overall"] = 100.0 * res.score
    out["kept_per_question"] = sum(p.kept for p in res.predictions) / len(res.predictions)
    if folder is not None:
        write_jsonl(
            folder / "scores.jsonl",
            [
                {"id": p.id, "scenario": p.scenario, "score": p.score, "answer": p.answer}
                for p in res.predictions
            ],
        )
    return out


def pair_preferences(
    policy: Any, reference: Any, pairs: Sequence[dict[str, Any]], beta: float
) -> dict[str, Any]:
    """DPO's implicit reward on pairs the policy was not trained on: mean margin
    ``beta * ((pi_c - ref_c) - (pi_r - ref_r))`` and the share of pairs with margin > 0."""
    from ennead.core.train.dpo import completion_logps

    if not pairs:
        return {"pairs": 0, "margin": None, "accuracy": None}
    prompts = [p["prompt"] for p in pairs]

    def logps(lm: Any, key: str) -> Any:
        return completion_logps(lm.model, lm.tokenizer, prompts, [p[key] for p in pairs])

    margin = beta * (
        (logps(policy, "chosen") - logps(reference, "chosen"))
        - (logps(policy, "rejected") - logps(reference, "rejected"))
    )
    return {
        "pairs": len(pairs),
        "margin": float(margin.mean()),
        "accuracy": float((margin > 0).float().mean()),
    }


def heldout_pairs(
    cfg: DDRConfig, gen_lm: Any, kr_lm: Any, ddr_gen: Any, records: Sequence[QARecord]
) -> dict[str, list[dict[str, Any]]]:
    """Preference pairs built on the *test* questions the way round 1 builds them on the training
    questions: Gen pairs from the vanilla modules' rollouts, KR pairs from the DDR-trained V_Gen's
    per-passage answers."""
    from ennead.ddr.pipeline import RAGPipeline
    from ennead.ddr.rollout import build_gen_pairs, build_kr_pairs, sample_gen, sample_kr

    t = cfg.train
    pipe = RAGPipeline(cfg, gen_lm, kr_lm)
    ctx, _ = pipe.contexts(records)
    cands = sample_gen(pipe.generator, records, ctx, t, cfg.seed + 1, desc="held-out Gen rollouts")
    gen_pairs, _ = build_gen_pairs(pipe.generator, records, ctx, cands, cfg.seed, t.prefer_raw)
    trained = RAGPipeline(cfg, ddr_gen, kr_lm)
    raw = [p[: t.kr_passages] for p in trained.passages_for(records)]
    rewards = sample_kr(trained.generator, records, raw, t, cfg.seed + 1)
    kr_pairs, _ = build_kr_pairs(trained.refiner, records, raw, rewards, cfg.seed)
    return {"gen": gen_pairs, "kr": kr_pairs}


# -- the experiment -----------------------------------------------------------------------------
def run_synthetic(
    cfg: DDRConfig, run: RunDir, methods: Sequence[str] = METHODS, heldout: bool = True
) -> dict[str, Any]:
    """All methods on one seeded world (``cfg.synthetic``); returns ``{"table": {method:
    {scenario: accuracy %}}, "world": sizes, "plot": png}``. Stages resume in ``run``."""
    s = cfg.synthetic
    import torch

    from ennead.ddr.train import DDRTrainer, StageCallback

    if s.threads:
        torch.set_num_threads(s.threads)
    world = build_world(
        n_entities=s.world.n_entities,
        n_values=s.world.n_values,
        known_fraction=s.world.known_fraction,
        n_passages=s.world.n_passages,
        reading_examples=s.world.reading_examples,
        seed=s.world.seed,
        both_scenarios=s.world.both_scenarios,
        train_fraction=s.world.train_fraction,
    )
    train = as_records(world.train[: s.train_questions])
    test = as_records(world.test[: s.test_questions])

    def world_stage(folder: Path) -> dict[str, Any]:
        write_jsonl(folder / "train.jsonl", [r.model_dump() for r in train])
        write_jsonl(folder / "test.jsonl", [r.model_dump() for r in test])
        return {
            "train": len(train),
            "test": len(test),
            "facts": len(world.facts),
            "known_facts": len(world.known),
        }

    run.run_stage("world", world_stage)
    run.run_stage("pretrain", lambda f: pretrain(world, s, f))
    base = run.stage_dir("pretrain")
    bs = cfg.gen.module.batch_size
    table: dict[str, dict[str, float]] = {}

    def eval_stage(name: str, gen: Callable[[], Any], kr: Callable[[], Any]) -> None:
        # Loaders, not models: a finished stage on resume loads nothing.
        res = run.run_stage(f"eval-{name}", lambda f: evaluate(cfg, gen(), kr(), test, f))
        table[name] = dict(res)

    def vanilla() -> Any:
        return _load(base, bs)

    if "vanilla" in methods:
        eval_stage("vanilla", vanilla, vanilla)

    gen_dpo_steps = None
    heldout_result: dict[str, Any] | None = None
    if "ddr_gen" in methods or "ddr_all" in methods:
        gen_lm, kr_lm = _load(base, bs), _load(base, bs)
        trainer = DDRTrainer(cfg, run)

        class DDRGenBaseline(StageCallback):
            def on_module_trained(self, round: int, module: str, lm: Any) -> None:
                if round == 1 and module == "gen":  # V_Gen after DDR, V_KR still vanilla
                    eval_stage("ddr_gen", lambda: lm, vanilla)

        callbacks = [DDRGenBaseline()] if "ddr_gen" in methods else []
        summary = trainer.fit_with(train, gen_lm, kr_lm, callbacks=callbacks)
        # SFT gets the same optimizer steps as all rounds of Gen DPO together.
        gen_dpo_steps = (
            sum(int(v.get("steps") or 0) for k, v in summary.items() if k.endswith("-gen-dpo"))
            or None
        )
        if "ddr_all" in methods:
            eval_stage("ddr_all", lambda: trainer.gen_lm_, lambda: trainer.kr_lm_)

            def heldout_stage(folder: Path) -> dict[str, Any]:
                ref = vanilla()  # read-only here: one copy serves as both modules
                pairs = heldout_pairs(cfg, ref, ref, trainer.gen_lm_, test)
                for name, ps in pairs.items():
                    write_jsonl(folder / f"{name}_pairs.jsonl", ps)
                t = cfg.train
                return {
                    "gen": pair_preferences(trainer.gen_lm_, ref, pairs["gen"], t.gen_dpo.beta),
                    "kr": pair_preferences(trainer.kr_lm_, ref, pairs["kr"], t.kr_dpo.beta),
                }

            if heldout:
                heldout_result = run.run_stage("heldout-preferences", heldout_stage)

    if "sft" in methods:

        def sft_stage(folder: Path) -> dict[str, Any]:
            from ennead.core.train import train_sft
            from ennead.ddr.pipeline import RAGPipeline

            lm = _load(base, bs)
            pipe = RAGPipeline(cfg, lm, lm)  # the vanilla judge, as DDR's Gen stage used
            if run.is_done("r1-gen-contexts"):  # the same passages DDR's Gen stage trained on
                rows = read_jsonl(run.stage_dir("r1-gen-contexts") / "contexts.jsonl")
                ctx = [row["passages"] for row in rows]
            else:
                ctx, _ = pipe.contexts(train)
            examples = [
                {
                    "prompt": pipe.generator.formatted(r.question, c),
                    "completion": " " + r.answers[0],
                }
                for r, c in zip(train, ctx)
            ]
            d = cfg.train.gen_dpo
            steps = gen_dpo_steps or max(1, len(examples) // d.batch_size)
            scfg = SFTConfig(
                lr=d.lr,
                batch_size=d.batch_size,
                max_steps=steps,
                lora=d.lora,
                seed=cfg.seed,
                use_cpu=True,
                output_dir=str(folder / "train"),
                add_eos=False,
            )
            res = train_sft(lm.model, lm.tokenizer, examples, scfg)
            res.model.save_pretrained(str(folder / "model"))
            lm.tokenizer.save_pretrained(str(folder / "model"))
            return {"steps": res.steps, "examples": len(examples), "final_loss": res.final_loss}

        run.run_stage("sft", sft_stage)
        from ennead.ddr.train import trained_module_lm

        eval_stage(
            "sft",
            lambda: trained_module_lm(cfg.gen.module, vanilla(), run.stage_dir("sft")),
            vanilla,
        )

    result = {
        "table": {m: table[m] for m in METHODS if m in table},
        "world": run.stage_info("world")["result"],
    }
    if heldout_result is not None:
        result["heldout_preferences"] = dict(heldout_result)
    atomic_write_text(run.path / "table.md", format_table(result["table"], heldout_result))
    atomic_write_text(run.path / "results.json", json.dumps(result, indent=2))
    try:
        result["plot"] = str(plot_curves(run))
    except ImportError:  # matplotlib is optional (report extra)
        log.warning("matplotlib missing: no reward-curve plot (pip install 'ennead[report]')")
    return result


def format_table(table: dict[str, dict[str, float]], heldout: dict[str, Any] | None = None) -> str:
    cols = [*SCENARIOS, "overall"]
    lines = ["| method | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for m, row in table.items():
        lines.append(
            f"| {m} | " + " | ".join(f"{row.get(c, float('nan')):.1f}" for c in cols) + " |"
        )
    if heldout:
        lines += [
            "",
            "DPO implicit reward of DDR-all against the vanilla model on held-out pairs "
            "(built on the test questions):",
            "",
            "| module | pairs | mean margin | accuracy |",
            "|---|---|---|---|",
        ]
        for name, h in heldout.items():
            if h["pairs"]:
                lines.append(
                    f"| {name} | {h['pairs']} | {h['margin']:.3f} | {100 * h['accuracy']:.1f}% |"
                )
    return "\n".join(lines) + "\n"


def plot_curves(run: RunDir) -> Path:
    """Rollout rewards by temperature and prompt kind, and the DPO reward curves per module."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    ax = axes[0]
    for stage in sorted(p.name for p in (run.path / "stages").glob("r*-gen-rollouts")):
        acc: dict[tuple[str, float], list[float]] = {}
        for row in read_jsonl(run.stage_dir(stage) / "rollouts.jsonl"):
            for c in row["candidates"]:
                acc.setdefault((c["kind"], c["temperature"]), []).append(c["score"])
        for kind in ("raw", "aug"):
            ts = sorted(t for k, t in acc if k == kind)
            label = f"{stage.split('-')[0]} {'with' if kind == 'aug' else 'without'} docs"
            means = [sum(acc[(kind, t)]) / len(acc[(kind, t)]) for t in ts]
            ax.plot(ts, means, marker="o", label=label)
    ax.set(xlabel="sampling temperature", ylabel="mean reward", title="Gen rollouts")
    ax.legend(fontsize=7)
    ax = axes[1]
    for stage in sorted(p.name for p in (run.path / "stages").glob("r*-dpo")):
        hist = run.stage_dir(stage) / "history.jsonl"
        if not hist.exists():
            continue
        rows = read_jsonl(hist)
        ax.plot(
            [r["step"] for r in rows], [r.get("rewards/margin", 0.0) for r in rows], label=stage
        )
    ax.set(xlabel="DPO step", ylabel="reward margin (chosen - rejected)", title="DPO")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, run.path / "reward_curves.png", dpi=110)


def tour_demo(run: RunDir) -> dict[str, Any]:
    """`ennead tour`: the tiny synthetic-world experiment, DDR-all against vanilla RAG."""
    from ennead.core.config import load_config

    cfg = load_config(DDRConfig, "tiny", package="ennead.ddr")
    res = run_synthetic(cfg, run)
    t = res["table"]
    # Only overall accuracy goes into the normalised tree: a ratio over a 5% scenario baseline
    # (e.g. unknown_noisy) would swamp it; the per-scenario table is below.
    tasks = {m: {"accuracy": t[m]["overall"]} for m in ("sft", "ddr_gen", "ddr_all") if m in t}
    return {
        "title": "DDR: RAG trained end to end with Differentiable Data Rewards",
        "summary": (
            "A tiny Llama pre-trained on a seeded synthetic world (facts it knows, reading, "
            "relevance judging) serves as V_KR and V_Gen. Test accuracy (%) per scenario; every "
            f"method is normalised by vanilla RAG. DDR-all {t['ddr_all']['overall']:.1f} vs "
            f"vanilla {t['vanilla']['overall']:.1f} overall."
        ),
        "tasks": tasks,
        "baselines": {m: {"accuracy": t["vanilla"]["overall"]} for m in tasks},
        "higher_is_better": {"accuracy": True},
        "images": [str(Path(res["plot"]).relative_to(run.path))] if "plot" in res else [],
        "tables": [format_table(t)],
    }


# -- the multi-seed claim -----------------------------------------------------------------------
CLAIM_METHODS = ("vanilla", "ddr_all")


class ClaimResult(RunResult):
    """DDR-all minus vanilla RAG over several world seeds, in accuracy points.

    ``gains``: per seed; ``mean_gain``: their mean; ``interval``: the pooled paired bootstrap
    over test questions (resampled within each seed); ``by_scenario``: the same per scenario.
    ``passed``: mean gain >= ``claimed_gain`` and the interval's lower bound > 0.
    """

    seeds: list[int]
    claimed_gain: float
    gains: dict[int, float]
    mean_gain: float
    interval: dict[str, Any]
    by_scenario: dict[str, dict[str, Any]]
    tables: dict[int, dict[str, dict[str, float]]]
    questions_per_seed: dict[int, int]
    seconds: float
    passed: bool

    def to_claim(self) -> Any:
        """The result as a :class:`ennead.core.claims.Claim` row for the tour's claims table."""
        from ennead.core.claims import Claim

        return Claim(
            system="ddr",
            paper="Li et al., ICLR 2025",
            claim="DDR-trained RAG answers more questions than vanilla RAG",
            measured=(
                f"synthetic world, tiny Llama, {min(self.questions_per_seed.values())}+ test "
                f"questions per seed over {len(self.seeds)} seeds"
            ),
            comparison="DDR-all - vanilla RAG",
            unit="points",
            effect=self.mean_gain,
            interval=(self.interval["low"], self.interval["high"]),
            interval_method="pooled paired bootstrap over questions",
            values=[self.gains[s] for s in self.seeds],
            seeds=list(self.seeds),
            claimed=self.claimed_gain,
            seconds=self.seconds,
        )


def seed_config(cfg: DDRConfig, seed: int) -> DDRConfig:
    """``cfg`` with one seed for the world, pre-training and DDR's sampling and training. The
    claim's own settings (seeds, workers, resamples) do not change a seed's run: they are reset
    to their defaults, so a seed folder resumes whatever the claim around it."""
    from ennead.ddr.config import ClaimSettings

    s = cfg.synthetic
    world = s.world.model_copy(update={"seed": seed})
    synthetic = s.model_copy(update={"world": world, "claim": ClaimSettings()})
    return cfg.model_copy(update={"seed": seed, "synthetic": synthetic})


def question_scores(run: RunDir, method: str) -> dict[str, tuple[str, float]]:
    """``{question id: (scenario, score)}`` of one method's test evaluation in ``run``."""
    path = run.stage_dir(f"eval-{method}") / "scores.jsonl"
    if not path.is_file():
        raise StageError(f"{path} is missing: delete the stage folder and rerun")
    return {
        row["id"]: (row["scenario"] or "all", float(row["score"] or 0.0))
        for row in read_jsonl(path)
    }


def _claim_seed(
    cfg: DDRConfig | dict[str, Any], root: str, seed: int
) -> dict[str, dict[str, float]]:
    """One seed of the claim in its run folder (resumable); its accuracy table."""
    base = cfg if isinstance(cfg, DDRConfig) else DDRConfig.model_validate(cfg)
    scfg = seed_config(base, seed)
    run = RunDir.create(Path(root) / f"seed-{seed}", scfg, seed=seed)
    table: dict[str, dict[str, float]] = run_synthetic(
        scfg, run, methods=CLAIM_METHODS, heldout=False
    )["table"]
    return table


def run_claim(
    cfg: DDRConfig,
    root: str | Path,
    seeds: Sequence[int] | None = None,
    *,
    threads: int | None = None,
) -> ClaimResult:
    """DDR-all against vanilla RAG on each seed (``cfg.synthetic.claim.seeds`` by default), one
    run folder per seed under ``root`` (resumable), then the pooled paired interval.

    ``threads`` overrides ``synthetic.threads`` (a different thread count changes the float order,
    which is how the gate's machine-to-machine margin is checked).
    """
    import time

    from ennead.core.eval.stats import pooled_paired_bootstrap

    started = time.perf_counter()
    c = cfg.synthetic.claim
    seeds = list(c.seeds if seeds is None else seeds)
    if threads is not None:
        cfg = cfg.model_copy(
            update={"synthetic": cfg.synthetic.model_copy(update={"threads": threads})}
        )
    root = Path(root)
    diffs: dict[int, list[float]] = {}
    by_scen: dict[str, dict[int, list[float]]] = {}
    tables: dict[int, dict[str, dict[str, float]]] = {}
    # Seeds whose run finished resume in this process (cheap); the rest may go to workers.
    todo = [s for s in seeds if not RunDir(root / f"seed-{s}").is_done("eval-ddr_all")]
    if c.workers > 1 and len(todo) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # spawn: a fresh torch per worker, no forked state (a calling script needs the usual
        # ``if __name__ == "__main__":`` guard)
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(min(c.workers, len(todo)), mp_context=ctx) as pool:
            futures = {s: pool.submit(_claim_seed, cfg.model_dump(), str(root), s) for s in todo}
            tables = {s: f.result() for s, f in futures.items()}
    for seed in seeds:
        if seed not in tables:
            tables[seed] = _claim_seed(cfg, str(root), seed)
        run = RunDir(root / f"seed-{seed}")
        van, ddr = question_scores(run, "vanilla"), question_scores(run, "ddr_all")
        ids = sorted(van)
        diffs[seed] = [100.0 * (ddr[i][1] - van[i][1]) for i in ids]
        for i in ids:
            by_scen.setdefault(van[i][0], {}).setdefault(seed, []).append(
                100.0 * (ddr[i][1] - van[i][1])
            )
    pooled = pooled_paired_bootstrap(diffs, n_resamples=c.n_resamples, seed=0)
    gains = {s: sum(d) / len(d) for s, d in diffs.items()}
    mean_gain = sum(gains.values()) / len(gains)
    scen = {
        name: pooled_paired_bootstrap(per, n_resamples=c.n_resamples, seed=0).to_dict()
        for name, per in sorted(by_scen.items())
    }
    result = ClaimResult(
        run_dir=root,
        seeds=seeds,
        claimed_gain=c.claimed_gain,
        gains=gains,
        mean_gain=mean_gain,
        interval=pooled.to_dict(),
        by_scenario=scen,
        tables=tables,
        questions_per_seed={s: len(d) for s, d in diffs.items()},
        seconds=time.perf_counter() - started,
        passed=mean_gain >= c.claimed_gain and pooled.low > 0,
        metrics={"mean_gain": mean_gain, "low": pooled.low, "high": pooled.high},
    )
    atomic_write_text(root / "claim.json", result.model_dump_json(indent=2))
    rep = claim_report(result)
    atomic_write_text(root / "claim.md", rep.to_markdown())
    atomic_write_text(root / "claim.html", rep.to_html())
    result.artifacts = {
        "json": root / "claim.json",
        "markdown": root / "claim.md",
        "html": root / "claim.html",
    }
    return result


def claim_report(res: ClaimResult) -> Any:
    """The claim as a :class:`ennead.core.eval.report.Report`: the verdict row, per-seed
    accuracies and gains, the pooled interval per scenario."""
    from ennead.core.eval.report import Report

    rep = Report("DDR: DDR-all vs vanilla RAG over fixed seeds", "synthetic world, tiny Llama")
    rep.claims([res.to_claim()])
    rep.paragraph(format_claim(res).split("\n\n")[0])
    rows = [
        {
            "seed": s,
            "questions": res.questions_per_seed[s],
            "vanilla": res.tables[s]["vanilla"]["overall"],
            "DDR-all": res.tables[s]["ddr_all"]["overall"],
            "gain": res.gains[s],
        }
        for s in res.seeds
    ]
    rep.table(rows, caption="test accuracy (%) per seed")
    rep.table(
        [
            {
                "scenario": name,
                "gain": d["estimate"],
                "low": d["low"],
                "high": d["high"],
                "pairs": d["n"],
            }
            for name, d in res.by_scenario.items()
        ],
        caption="DDR-all - vanilla per scenario (points, pooled paired 95% interval)",
    )
    return rep


# Sizes of the claim experiment: "ci" is the gate (preset tiny-claim: 3 seeds x 1200 test
# questions); "smoke" a micro world that runs every stage in seconds (no power: a wiring check).
SMOKE_OVERRIDES = (
    "synthetic.world.n_entities=24",
    "synthetic.world.reading_examples=200",
    "synthetic.pretrain_epochs=4",
    "train.rounds=1",
    "train.gen_dpo.epochs=1",
    "train.kr_dpo.epochs=1",
    "synthetic.claim.n_resamples=200",
)


def claim_experiment(
    root: str | Path,
    size: str = "ci",
    seeds: Sequence[int] | None = None,
    threads: int | None = None,
) -> ClaimResult:
    """The multi-seed claim at a named size (``ci``: preset ``tiny-claim`` and its fixed seeds;
    ``smoke``: the micro world, seed 0 unless given); the tour's entry point. ``result.gains``
    per seed, ``result.mean_gain``, ``result.interval`` (pooled paired, points),
    ``result.to_claim()`` for the claims table."""
    from ennead.core.config import load_config
    from ennead.core.errors import ConfigError

    if size == "ci":
        cfg = load_config(DDRConfig, "tiny-claim", package="ennead.ddr")
    elif size == "smoke":
        cfg = tiny_ddr_config(list(SMOKE_OVERRIDES))
        seeds = [0] if seeds is None else seeds
    else:
        raise ConfigError(f"claim size {size!r}: use 'ci' or 'smoke'")
    return run_claim(cfg, root, seeds, threads=threads)


def format_claim(res: ClaimResult) -> str:
    """Markdown: per-seed accuracies and gains, the pooled interval overall and per scenario."""
    iv = res.interval
    lines = [
        f"DDR-all - vanilla RAG over seeds {', '.join(map(str, res.seeds))}: mean gain "
        f"**{res.mean_gain:+.1f}** points, pooled paired 95% interval "
        f"[{iv['low']:.1f}, {iv['high']:.1f}] ({iv['n']} question pairs); gate: mean >= "
        f"{res.claimed_gain:g} and lower bound > 0: **{'pass' if res.passed else 'fail'}**.",
        "",
        "| seed | questions | vanilla | DDR-all | gain |",
        "|---|---|---|---|---|",
    ]
    for s in res.seeds:
        t = res.tables[s]
        lines.append(
            f"| {s} | {res.questions_per_seed[s]} | {t['vanilla']['overall']:.1f} | "
            f"{t['ddr_all']['overall']:.1f} | {res.gains[s]:+.1f} |"
        )
    lines += ["", "| scenario | gain [95% interval] | pairs |", "|---|---|---|"]
    for name, d in res.by_scenario.items():
        lines.append(
            f"| {name} | {d['estimate']:+.1f} [{d['low']:.1f}, {d['high']:.1f}] | {d['n']} |"
        )
    return "\n".join(lines) + "\n"
