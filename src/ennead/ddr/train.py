"""DDR training as resumable stages of a run folder (spec section 2.7).

Per round r: ``r{r}-gen-contexts`` (vanilla/current V_KR refines the training passages),
``r{r}-gen-rollouts`` (candidates with rewards), ``r{r}-gen-pairs``, ``r{r}-gen-dpo`` (adapter or
model), then ``r{r}-kr-rollouts`` (per-passage rewards from the trained V_Gen), ``r{r}-kr-pairs``,
``r{r}-kr-dpo``. Every stage writes JSONL into its folder and is skipped on a rerun once finished;
an interrupted stage is redone. Later stages read earlier ones from disk, so a crash anywhere
resumes where it stopped.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ennead.core.errors import DataError, StageError
from ennead.core.io import read_jsonl, write_jsonl
from ennead.core.logging import get_logger
from ennead.core.runs import RunDir
from ennead.ddr.config import DDRConfig, ModuleBackend
from ennead.ddr.data import QARecord
from ennead.ddr.pipeline import RAGPipeline, build_retriever, load_module_lm
from ennead.ddr.rollout import Candidate, build_gen_pairs, build_kr_pairs, sample_gen, sample_kr

log = get_logger(__name__)


def _model_and_tokenizer(lm: Any) -> tuple[Any, Any]:
    model, tok = getattr(lm, "model", None), getattr(lm, "tokenizer", None)
    if model is None or tok is None:
        raise StageError(
            f"DDR training needs an in-process model (hf, smollm2, tiny), got {lm.name!r}; "
            "sample with vllm/openai only for rollouts"
        )
    return model, tok


def _trainable(
    lm: Any, module: ModuleBackend, stage: str, latest: str | None = None
) -> tuple[Any, Any, bool]:
    """(model, tokenizer, in_process) for DPO. A module that samples out of process (vllm,
    openai, ray) is trained on a transformers copy of the same weights: the previous DPO stage's
    output (``latest``), else ``train_model``, else ``model``."""
    model, tok = getattr(lm, "model", None), getattr(lm, "tokenizer", None)
    if model is not None and tok is not None:
        return model, tok, True
    # a sampler serving a local folder (ct2) names it in model_path
    source = latest or module.train_model or module.model or getattr(lm, "model_path", None)
    if not source or not Path(source).is_dir():
        raise StageError(
            f"{stage}: the {getattr(lm, 'name', module.backend)!r} backend samples out of process; "
            "DPO needs the same weights as a local transformers folder in the module's "
            f"train_model (or model), got {source!r}"
        )
    from ennead.core.backends import load_backend

    hf = load_backend("hf", model=source, device=module.device, batch_size=module.batch_size)
    return hf.model, hf.tokenizer, False


def _sampler(module: ModuleBackend, final: Path, lm: Any = None) -> Any:
    """The module's sampler on a trained full model folder (vLLM reloads it in-process, Ray
    replicas restart on it)."""
    from ennead.core.backends import load_backend

    if lm is not None and callable(getattr(lm, "reload", None)):
        lm.reload(str(final))
        return lm
    if module.backend == "vllm":
        return load_backend(
            "vllm",
            model=str(final),
            device=module.device,
            batch_size=module.batch_size,
            options=dict(module.options),
        )
    if module.backend == "openai":
        log.warning(
            "the openai server keeps its old weights; later stages sample %s in-process "
            "(serve it and point the module at it to sample remotely)",
            final,
        )
    return load_backend("hf", model=str(final), device=module.device, batch_size=module.batch_size)


def trained_module_lm(module: ModuleBackend, base_lm: Any, folder: Path) -> Any:
    """The module's LM with a training stage's output (``folder/model``: a LoRA adapter or a full
    model) applied: how a DPO or SFT stage's result is loaded for sampling."""
    from ennead.core.backends.hf import HFBackend

    final = folder / "model"
    if not final.is_dir():
        raise StageError(f"missing module checkpoint {final}: rerun the stage (delete its folder)")
    if (final / "adapter_config.json").is_file():
        from ennead.core.train.lora import load_adapter

        base, tok = _model_and_tokenizer(base_lm)
        return HFBackend.from_model(load_adapter(base, final), tok, batch_size=module.batch_size)
    return _sampler(module, final, base_lm)


def warn_answer_cap(cfg: DDRConfig, records: Sequence[QARecord], lm: Any) -> int | None:
    """Warn when gold answers are longer than the answer cap (a capped answer can never earn
    the reward); returns the longest gold answer in tokens (None without a tokenizer)."""
    tok = getattr(lm, "tokenizer", None)
    answers = [r.answers[0] for r in records if r.answers]
    if tok is None or not answers:
        return None
    longest = max(len(tok(" " + a, add_special_tokens=False)["input_ids"]) for a in answers)
    cap = min(cfg.gen.max_new_tokens, cfg.train.max_new_tokens)
    if longest > cap:
        log.warning(
            "gold answers run to %d tokens but answers are capped at %d (gen./train."
            "max_new_tokens): raise the cap for this task",
            longest,
            cap,
        )
    return longest


def _round(stage: Path) -> int:
    return int(stage.name.split("-")[0][1:])


def trained_config(cfg: DDRConfig, run_dir: str | Path) -> DDRConfig:
    """``cfg`` with each module pointed at its last finished DPO stage in ``run_dir``
    (``stages/r{N}-gen-dpo/model``, ``stages/r{N}-kr-dpo/model``): a LoRA adapter becomes
    ``module.adapter``, full weights ``module.model`` (a ``tiny`` module loads them with ``hf``).
    A module without a finished DPO stage keeps its settings."""
    stages = Path(run_dir) / "stages"
    if not stages.is_dir():
        raise StageError(f"{run_dir} has no stages/ folder: not a DDR training run")
    update: dict[str, Any] = {}
    for role in ("gen", "kr"):
        done = [
            p / "model"
            for p in stages.glob(f"r*-{role}-dpo")
            if (p / "_DONE.json").is_file() and (p / "model").is_dir()
        ]
        if not done:
            continue
        final = max(done, key=lambda m: _round(m.parent))
        section = getattr(cfg, role)
        module = section.module
        if (final / "adapter_config.json").is_file():
            module = module.model_copy(update={"adapter": str(final)})
        else:
            update_m: dict[str, Any] = {"model": str(final), "adapter": None}
            if module.backend == "tiny":  # its options build a new model; hf loads the folder
                update_m.update(backend="hf", options={})
            module = module.model_copy(update=update_m)
        update[role] = section.model_copy(update={"module": module})
    return cfg.model_copy(update=update)


class StageCallback:
    """Hooks between DDR's stages (core.train's callbacks see steps inside one DPO run; these
    see the modules between runs). Subclass and override what you need."""

    def on_module_trained(self, round: int, module: str, lm: Any) -> None:
        """``module`` ("gen" or "kr") has finished its DPO stage of ``round``; ``lm`` samples it."""


class DDRTrainer:
    def __init__(self, cfg: DDRConfig, run: RunDir):
        self.cfg, self.run = cfg, run
        self._latest: dict[str, str] = {}  # module -> folder of its last DPO output
        self._pools: list[Any] = []  # samplers whose workers are released while DPO runs

    def fit(self, records: Sequence[QARecord]) -> dict[str, Any]:
        if not records:
            raise DataError("no training questions")
        missing = [r.id for r in records if not r.answers]
        if missing:
            raise DataError(f"training questions need gold answers; {missing[0]!r} has none")
        cfg = self.cfg
        gen_lm = load_module_lm(cfg.gen.module)
        kr_lm = load_module_lm(cfg.kr.module) if cfg.kr.enabled else None
        return self.fit_with(records, gen_lm, kr_lm)

    def fit_with(
        self,
        records: Sequence[QARecord],
        gen_lm: Any,
        kr_lm: Any | None,
        callbacks: Sequence[StageCallback] = (),
    ) -> dict[str, Any]:
        """Train already loaded modules; each callback's ``on_module_trained`` sees a module
        after its stage (the DDR-Gen baseline evaluates V_Gen after round 1, V_KR still vanilla).
        It also fires for a stage finished in an earlier run, so a resumed run sees every module."""
        cfg = self.cfg
        warn_answer_cap(cfg, records, gen_lm)
        retriever = build_retriever(cfg)
        summary: dict[str, Any] = {}
        # releasing a pool twice (one shared by both modules) is a no-op
        self._pools = [lm for lm in (gen_lm, kr_lm) if callable(getattr(lm, "release", None))]
        for r in range(1, cfg.train.rounds + 1):
            pipe = RAGPipeline(cfg, gen_lm, kr_lm, retriever)
            gen_lm = self._gen_stage(r, pipe, records, summary)
            for cb in callbacks:
                cb.on_module_trained(r, "gen", gen_lm)
            if cfg.train.train_kr and cfg.kr.enabled:
                pipe = RAGPipeline(cfg, gen_lm, kr_lm, retriever)
                kr_lm = self._kr_stage(r, pipe, records, summary)
                for cb in callbacks:
                    cb.on_module_trained(r, "kr", kr_lm)
        self.gen_lm_, self.kr_lm_ = gen_lm, kr_lm
        return summary

    # -- Gen stage -----------------------------------------------------------------------------
    def _gen_stage(
        self, r: int, pipe: RAGPipeline, records: Sequence[QARecord], summary: dict[str, Any]
    ) -> Any:
        t = self.cfg.train
        run = self.run

        def contexts(folder: Path) -> dict[str, Any]:
            ctx, judged = pipe.contexts(records)
            write_jsonl(
                folder / "contexts.jsonl",
                [{"id": q.id, "passages": c} for q, c in zip(records, ctx)],
            )
            return {
                "questions": len(records),
                "fell_back": sum(bool(j and j.fell_back) for j in judged),
            }

        run.run_stage(f"r{r}-gen-contexts", contexts)
        ctx = [
            row["passages"]
            for row in read_jsonl(run.stage_dir(f"r{r}-gen-contexts") / "contexts.jsonl")
        ]

        def rollouts(folder: Path) -> dict[str, Any]:
            cands = sample_gen(
                pipe.generator, records, ctx, t, self.cfg.seed, desc=f"round {r}: Gen rollouts"
            )
            write_jsonl(
                folder / "rollouts.jsonl",
                [
                    {"id": q.id, "candidates": [asdict(c) for c in cs]}
                    for q, cs in zip(records, cands)
                ],
            )
            n = sum(len(c) for c in cands)
            return {"candidates": n, "mean_reward": sum(c.score for cs in cands for c in cs) / n}

        summary[f"r{r}-gen-rollouts"] = run.run_stage(f"r{r}-gen-rollouts", rollouts)
        rows = read_jsonl(run.stage_dir(f"r{r}-gen-rollouts") / "rollouts.jsonl")
        cands = [[Candidate(**c) for c in row["candidates"]] for row in rows]

        def pairs(folder: Path) -> dict[str, Any]:
            ps, stats = build_gen_pairs(
                pipe.generator, records, ctx, cands, self.cfg.seed, t.prefer_raw
            )
            write_jsonl(folder / "pairs.jsonl", ps)
            return asdict(stats)

        summary[f"r{r}-gen-pairs"] = run.run_stage(f"r{r}-gen-pairs", pairs)
        return self._dpo_stage(
            f"r{r}-gen-dpo",
            "gen",
            pipe.generator.lm,
            self.cfg.gen.module,
            run.stage_dir(f"r{r}-gen-pairs") / "pairs.jsonl",
            t.gen_dpo,
            summary,
        )

    # -- KR stage ------------------------------------------------------------------------------
    def _kr_stage(
        self, r: int, pipe: RAGPipeline, records: Sequence[QARecord], summary: dict[str, Any]
    ) -> Any:
        t = self.cfg.train
        run = self.run
        raw = [p[: t.kr_passages] for p in pipe.passages_for(records)]

        def rollouts(folder: Path) -> dict[str, Any]:
            rewards = sample_kr(pipe.generator, records, raw, t, self.cfg.seed)
            rows = [{"id": q.id, "rewards": rw} for q, rw in zip(records, rewards)]
            write_jsonl(folder / "rewards.jsonl", rows)
            return {"generations": sum(len(x) for x in rewards)}

        summary[f"r{r}-kr-rollouts"] = run.run_stage(f"r{r}-kr-rollouts", rollouts)
        rewards = [
            row["rewards"]
            for row in read_jsonl(run.stage_dir(f"r{r}-kr-rollouts") / "rewards.jsonl")
        ]

        def pairs(folder: Path) -> dict[str, Any]:
            ps, stats = build_kr_pairs(pipe.refiner, records, raw, rewards, self.cfg.seed)
            write_jsonl(folder / "pairs.jsonl", ps)
            return asdict(stats)

        summary[f"r{r}-kr-pairs"] = run.run_stage(f"r{r}-kr-pairs", pairs)
        assert pipe.refiner is not None  # the KR round runs only with the refiner enabled
        return self._dpo_stage(
            f"r{r}-kr-dpo",
            "kr",
            pipe.refiner.lm,
            self.cfg.kr.module,
            run.stage_dir(f"r{r}-kr-pairs") / "pairs.jsonl",
            t.kr_dpo,
            summary,
        )

    # -- DPO -----------------------------------------------------------------------------------
    def _dpo_stage(
        self,
        name: str,
        role: str,
        lm: Any,
        module: ModuleBackend,
        pairs_path: Path,
        dpo_cfg: Any,
        summary: dict[str, Any],
    ) -> Any:
        from ennead.core.train import merge_lora, train_dpo
        from ennead.core.train.lora import is_peft_model

        pairs = read_jsonl(pairs_path) if pairs_path.stat().st_size else []

        trained: dict[str, Any] = {}

        def stage(folder: Path) -> dict[str, Any]:
            if not pairs:
                log.warning("%s: no preference pairs (all groups constant); module unchanged", name)
                return {"pairs": 0, "skipped": True}
            for pool in self._pools:  # sampling workers give their GPUs to DPO meanwhile
                pool.release()
            latest = self._latest.get(role)
            if self.cfg.train.dpo_launch:
                return self._launched_dpo(
                    name, lm, module, pairs_path, len(pairs), dpo_cfg, folder, latest
                )
            model, tok, in_process = _trainable(lm, module, name, latest)
            cfg = dpo_cfg.model_copy(
                update={"output_dir": str(folder / "train"), "seed": self.cfg.seed}
            )
            res = train_dpo(model, tok, pairs, cfg, run_dir=self.run)
            out = res.model
            if not in_process and is_peft_model(out):
                out = merge_lora(out)  # an out-of-process sampler loads plain weights
            out.save_pretrained(str(folder / "model"))
            tok.save_pretrained(str(folder / "model"))
            write_jsonl(folder / "history.jsonl", res.history)
            if in_process:
                trained["model"], trained["tok"] = res.model, tok
            return {
                "pairs": len(pairs),
                "steps": res.steps,
                "first_loss": res.first_loss,
                "final_loss": res.final_loss,
            }

        info = self.run.run_stage(name, stage)
        summary[name] = info
        if info.get("skipped"):
            return lm
        final = self.run.stage_dir(name) / "model"
        if final.is_dir() and not (final / "adapter_config.json").is_file():
            self._latest[role] = str(final)  # a later round trains on from these weights
        if info.get("launched"):
            return _sampler(module, final, lm)
        if trained:  # trained in this process: use it as is
            from ennead.core.backends.hf import HFBackend

            return HFBackend.from_model(
                trained["model"], trained["tok"], batch_size=module.batch_size
            )
        return trained_module_lm(module, lm, self.run.stage_dir(name))

    def _launched_dpo(
        self,
        name: str,
        lm: Any,
        module: ModuleBackend,
        pairs_path: Path,
        n_pairs: int,
        dpo_cfg: Any,
        folder: Path,
        latest: str | None = None,
    ) -> dict[str, Any]:
        """DPO in ``accelerate launch`` worker processes (``train.dpo_launch``); the merged
        result lands in ``folder/model`` like the in-process path."""
        import shutil

        from ennead.core.io import atomic_write_text
        from ennead.core.train import launch, merge_lora
        from ennead.core.train.lora import is_peft_model, load_adapter

        model, tok, _ = _trainable(lm, module, name, latest)
        source = folder / "source"
        if is_peft_model(model):
            model = merge_lora(model)
        model.save_pretrained(str(source))
        tok.save_pretrained(str(source))
        cfg = dpo_cfg.model_copy(update={"output_dir": None, "seed": self.cfg.seed})
        atomic_write_text(folder / "dpo.yaml", cfg.to_yaml())
        t = self.cfg.train
        args = [
            "--pairs",
            str(pairs_path),
            "--out",
            str(folder / "dist"),
            "--model",
            str(source),
            "--config",
            str(folder / "dpo.yaml"),
        ]
        proc = launch(
            "ennead.core.train.dpo_cli",
            args,
            config=t.dpo_launch or "cpu_multi",
            num_processes=t.dpo_processes,
        )
        if proc.returncode != 0:
            tail = "\n".join((proc.stderr or "").strip().splitlines()[-15:])
            raise StageError(f"{name}: accelerate launch failed ({proc.returncode}):\n{tail}")
        final = folder / "dist" / "train" / "final"
        if (final / "adapter_config.json").is_file():
            # ``model`` holds the source weights the workers started from; lm is replaced anyway
            merge_lora(load_adapter(model, final)).save_pretrained(str(folder / "model"))
            tok.save_pretrained(str(folder / "model"))
        else:
            shutil.copytree(final, folder / "model")
        shutil.rmtree(source)  # a full copy of the weights; the result is in model/
        rank0 = json.loads((folder / "dist" / "result-rank0.json").read_text(encoding="utf-8"))
        write_jsonl(folder / "history.jsonl", rank0.get("history") or [])
        return {
            "pairs": n_pairs,
            "steps": rank0["steps"],
            "first_loss": rank0["first_loss"],
            "final_loss": rank0["final_loss"],
            "processes": rank0["world"],
            "launched": True,
        }


def summary_json(summary: dict[str, Any]) -> str:
    return json.dumps(summary, indent=2, default=str)
