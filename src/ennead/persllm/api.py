"""The PersLLM facade: build personified data, train one model per persona, evaluate, talk.

Run folder layout: ``personas/`` (the controlled world's, when no persona folder is given),
``base/`` (the tiny preset's pre-trained base model), ``data/`` (raw.jsonl, train/test.jsonl,
stats.json), ``models/<persona>/`` (the trained model), ``eval.json``, ``report.{md,html}``,
``dialogue-*.md``. ``build`` and ``train`` are resumable: a rerun continues the data build and
skips the personas already trained.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ennead.core.checks import check_inputs
from ennead.core.errors import DataError, StageError
from ennead.core.io import atomic_write_json, atomic_write_text
from ennead.core.results import CheckResult, RunResult
from ennead.core.runs import RunDir, default_run_path
from ennead.persllm import language as L
from ennead.persllm.config import PersLLMConfig
from ennead.persllm.materials import Persona, load_persona, load_personas, shipped_personas_dir


class BuildResult(RunResult):
    train_items: int
    test_items: int
    skipped: int


class EvalResult(RunResult):
    systems: dict[str, dict[str, float]]


class DialogueResult(RunResult):
    turns: list[dict[str, str]]


class PersLLM:
    def __init__(self, config: PersLLMConfig | None = None):
        self.config = config or PersLLMConfig()

    # -- inputs ------------------------------------------------------------------------------
    def personas(
        self, run: Path | None = None, personas: str | Path | None = None
    ) -> list[Persona]:
        """The personas of a run: given folder(s), the config's, the world's (tiny) or shipped."""
        src = personas or self.config.personas
        if src is not None:
            return load_personas(src)
        if self.config.model.backend == "tiny":
            if run is None:
                raise StageError("the controlled world needs a run folder to write its personas")
            folder = run / "personas"
            if not folder.is_dir():
                from ennead.persllm import world as W

                w = self.config.world
                wp = W.make_personas(self.config.seed, w.n_personas, w.n_topics, w.flip_share)
                W.write_personas(wp, folder)
            return load_personas(folder)
        return load_personas(shipped_personas_dir())

    def _embedder(self) -> Any:
        from ennead.core.retrieval.embedders import get_embedder

        name = self.config.build.embedder
        return get_embedder("hashing", dim=256) if name == "hashing" else get_embedder(name)

    def _teacher(self) -> Any:
        from ennead.persllm.teacher import BackendTeacher, TemplateTeacher

        t = self.config.build.teacher
        if t.kind == "template":
            return TemplateTeacher()
        from ennead.core.backends import load_backend

        lm = load_backend(t.backend, model=t.model, options=t.options, batch_size=t.batch_size)
        return BackendTeacher(lm, t.max_new_tokens, t.temperature, self.config.seed)

    # -- verbs -------------------------------------------------------------------------------
    def build(
        self, personas: str | Path | None = None, run_dir: str | Path | None = None
    ) -> BuildResult:
        """Write the personified data (resumable) and split it 80/20 per persona and stage."""
        from ennead.persllm import build as B

        run = RunDir.create(run_dir or default_run_path("persllm"), self.config, system="persllm")
        ps = self.personas(run.path, personas)
        emb = self._embedder()
        counts = B.build(ps, self.config.build, self._teacher(), run.path / "data", emb)
        stats = B.finish(run.path / "data", self.config.build, emb, self.config.seed)
        stats["short_personas"] = counts["short_personas"]
        atomic_write_json(run.path / "data" / "stats.json", stats)
        return BuildResult(
            run_dir=run.path,
            metrics={k: float(stats[k]) for k in ("train", "test", "skipped", "duplicates")},
            artifacts={"data": run.path / "data"},
            train_items=stats["train"],
            test_items=stats["test"],
            skipped=stats["skipped"],
        )

    def _base(self, run: Path) -> tuple[Any, Any]:
        m = self.config.model
        if m.backend == "tiny":
            from ennead.persllm.experiment import pretrain_base

            return pretrain_base(self.config, run / "base")
        from ennead.persllm.train import load_model

        if m.backend == "smollm2":
            from ennead.core.assets import smollm2_dir

            return load_model(Path(m.model) if m.model else smollm2_dir(), m.device)
        if not m.model:
            raise DataError("model.model must name a transformers folder for the hf backend")
        return load_model(Path(m.model), m.device)

    def train(self, run_dir: str | Path, personas: str | Path | None = None) -> RunResult:
        """SFT (stage tokens, x repeat persona data + general data), then automatic DPO; one model
        per persona, saved to ``models/<persona>``."""
        import copy

        from ennead.persllm import build as B
        from ennead.persllm import train as T

        run = Path(run_dir)
        items = B.load_split(run / "data", "train")
        if not items:
            raise StageError(f"{run} has no data/train.jsonl; run `ennead persllm build` first")
        ps = self.personas(run, personas)
        base, tok = self._base(run)
        stages = sorted({s for p in ps for s in p.stages})
        general = self._general()
        emb = self._embedder()
        cfg = self.config
        metrics: dict[str, float] = {}
        for p in ps:
            folder = run / "models" / p.key
            if (folder / "config.json").is_file():
                continue
            mine = [it for it in items if it["persona"] == p.key]
            if not mine:
                raise StageError(f"no training items for persona {p.key!r} in {run / 'data'}")
            model, ptok = copy.deepcopy(base), copy.deepcopy(tok)
            T.add_stage_tokens(model, ptok, stages)
            rows = T.sft_rows(ptok, mine, general, "persllm", cfg.mix.repeat, cfg.seed)
            model, res = T.train_sft_model(
                model, ptok, rows, cfg.sft, run / "train" / p.key / "sft"
            )
            metrics[f"{p.key}/sft_loss"] = float(res.final_loss or 0.0)
            if cfg.dpo.enabled:
                d = cfg.dpo
                pairs = T.dpo_pairs(
                    ptok, items, emb, d.skip_top, d.cross_persona, d.cross_stage, only=p.key
                )
                if pairs:
                    model, res = T.train_dpo_model(
                        model, ptok, pairs, d.train, run / "train" / p.key / "dpo"
                    )
                    metrics[f"{p.key}/dpo_loss"] = float(res.final_loss or 0.0)
            T.save_model(model, ptok, folder)
        return RunResult(run_dir=run, metrics=metrics, artifacts={"models": run / "models"})

    def _general(self) -> list[dict[str, str]]:
        import random

        from ennead.persllm import world as W

        rows = W.general_items(self.config.seed)
        if self.config.model.backend == "tiny":
            reading = W.reading_items(
                self.config.seed, self.config.world.reading_items, self.config.world.n_topics
            )
            rng = random.Random(self.config.seed + 1)
            rows += rng.sample(reading, min(self.config.mix.general, len(reading)))
        return rows[: max(len(rows), 0)]

    def _gen(self, model: Any, tok: Any, run: Path) -> Any:
        from ennead.core.backends.sampling import sampling_backend
        from ennead.persllm.evaluate import backend_generate

        ev = self.config.eval
        lm = sampling_backend(model, tok, ev.sampler, run / "sampler", batch_size=ev.batch_size)
        return backend_generate(lm, ev.max_new_tokens, self.config.seed)

    def _models(self, run: Path, ps: list[Persona]) -> dict[str, tuple[Any, Any]]:
        from ennead.persllm.train import load_model

        out = {}
        for p in ps:
            folder = run / "models" / p.key
            if not (folder / "config.json").is_file():
                raise StageError(f"{folder} has no trained model; run `ennead persllm train` first")
            out[p.key] = load_model(folder, self.config.model.device)
        return out

    def evaluate(self, run_dir: str | Path, personas: str | Path | None = None) -> EvalResult:
        """B0 (the base model with the persona description) against the trained PersLLM models."""
        from ennead.core.io import write_jsonl
        from ennead.persllm.evaluate import evaluate_model

        run = Path(run_dir)
        ps = self.personas(run, personas)
        models = self._models(run, ps)
        base, tok = self._base(run)
        ev, seed = self.config.eval, self.config.seed
        systems: dict[str, dict[str, float]] = {}
        m, rows = evaluate_model(
            self._gen(base, tok, run), tok, ps, "b0", None, ev.bleu_prompts, ev.temperature, seed
        )
        systems["B0"] = m
        write_jsonl(run / "answers-B0.jsonl", rows)
        gens = {k: self._gen(mod, t, run) for k, (mod, t) in models.items()}
        ptok = next(iter(models.values()))[1]
        m, rows = evaluate_model(
            gens, ptok, ps, "persllm", None, ev.bleu_prompts, ev.temperature, seed
        )
        systems["PersLLM"] = m
        write_jsonl(run / "answers-PersLLM.jsonl", rows)
        if ev.questionnaire:
            from ennead.core.backends.hf import HFBackend
            from ennead.persllm.questionnaire import interview, spread

            bs = ev.batch_size
            base_lm = HFBackend.from_model(base, tok, batch_size=bs)
            traits = {"B0": interview(base_lm.loglikelihood, tok, ps, "b0")}
            scorers: dict[str, Any] = {
                k: HFBackend.from_model(mod, t, batch_size=bs).loglikelihood
                for k, (mod, t) in models.items()
            }
            traits["PersLLM"] = interview(scorers, ptok, ps, "persllm")
            for name, tr in traits.items():
                systems[name].update(spread(tr))
            atomic_write_json(run / "questionnaire.json", traits)
        path = atomic_write_json(run / "eval.json", systems)
        return EvalResult(
            run_dir=run,
            metrics={f"{s}/{k}": v for s, d in systems.items() for k, v in d.items()},
            artifacts={"eval": path},
            systems=systems,
        )

    # -- use it -----------------------------------------------------------------------------
    def chat_session(self, run_dir: str | Path, persona: str, stage: str | None = None) -> Any:
        """A callable ``reply(text) -> str`` talking as ``persona`` (at ``stage``)."""
        run = Path(run_dir)
        ps = {p.key: p for p in self.personas(run)}
        if persona not in ps:
            raise DataError(f"unknown persona {persona!r}; this run has: {', '.join(sorted(ps))}")
        p = ps[persona]
        stage = stage or p.stages[-1]
        if stage not in p.stages:
            raise DataError(
                f"persona {persona!r} has no stage {stage!r}; it has {', '.join(p.stages)}"
            )
        model, tok = self._models(run, [p])[p.key]
        gen = self._gen(model, tok, run)
        from ennead.persllm.train import chat_prompt, messages

        def reply(text: str) -> str:
            prompt = chat_prompt(tok, messages("persllm", p.name, stage, text.strip()))
            return gen([prompt], 0.0, 1)[0][0].strip()

        return reply

    def dialogue(
        self,
        run_dir: str | Path,
        a: str,
        b: str,
        turns: int = 4,
        stage: str | None = None,
        opening: str | None = None,
    ) -> DialogueResult:
        """Two personified models talking (the paper's multi-agent study); Markdown transcript."""
        run = Path(run_dir)
        ra, rb = self.chat_session(run, a, stage), self.chat_session(run, b, stage)
        ps = {p.key: p for p in self.personas(run)}
        topic = sorted(set(ps[a].topics()) & set(ps[b].topics()) or ps[a].topics() or ["life"])[0]
        text = opening or L.OPINION_TRAIN[0].format(topic=topic)
        log: list[dict[str, str]] = []
        speakers = [(a, ra), (b, rb)]
        for i in range(turns):
            name, fn = speakers[i % 2]
            answer = fn(text)
            log.append({"speaker": name, "heard": text, "said": answer})
            text = answer if answer else text
        lines = [f"# Dialogue: {a} and {b}", "", f"Opening: *{opening or log[0]['heard']}*", ""]
        lines += [f"**{t['speaker']}**: {t['said']}" for t in log]
        path = atomic_write_text(run / f"dialogue-{a}-{b}.md", "\n\n".join(lines) + "\n")
        return DialogueResult(run_dir=run, artifacts={"transcript": path}, turns=log)

    # -- report, check, demo ---------------------------------------------------------------
    def report(self, run_dir: str | Path) -> RunResult:
        from ennead.core.eval.report import Report

        run = Path(run_dir)
        rep = Report("PersLLM run", str(run))
        data = run / "data" / "stats.json"
        if data.is_file():
            stats = json.loads(data.read_text(encoding="utf-8"))
            rep.key_values({k: v for k, v in stats.items() if not isinstance(v, dict)}, "data")
        for name in ("eval.json", "result.json"):
            path = run / name
            if not path.is_file():
                continue
            blob = json.loads(path.read_text(encoding="utf-8"))
            systems = blob.get("metrics", blob)
            rep.table(systems, caption="metrics by system (0-1; BLEU 0-100)", index="system")
            _bar_plot(rep, systems)
        md = atomic_write_text(run / "report.md", rep.to_markdown())
        html = atomic_write_text(run / "report.html", rep.to_html())
        return RunResult(run_dir=run, artifacts={"report_md": md, "report_html": html})

    def check(self, paths: list[Path] | list[str]) -> CheckResult:
        """Check persona.yaml files (and their folders' knowledge/style files)."""
        return check_inputs(paths, lambda p: load_persona(Path(p).parent), "persona.yaml")

    def demo(self, run_dir: str | Path | None = None) -> RunResult:
        """The controlled world on one seed: B0, B1, PersLLM SFT and SFT+DPO."""
        from ennead.persllm.experiment import run_world

        run = RunDir.create(
            run_dir or default_run_path("persllm-demo"), self.config, system="persllm"
        )
        res = run_world(self.config, self.config.seed, run.path / f"seed-{self.config.seed}")
        atomic_write_json(run.path / "result.json", res)
        metrics = {
            f"{s}/{k}": v
            for s, d in res["metrics"].items()
            for k, v in d.items()
            if s in ("B0", "SFT+DPO") and not k.startswith("bleu")
        }
        return RunResult(
            run_dir=run.path, metrics=metrics, artifacts={"result": run.path / "result.json"}
        )


def _bar_plot(rep: Any, systems: dict[str, dict[str, float]]) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # the report extra is optional; the table says it all
        return
    keys = [
        "stance_consistency",
        "induction_resistance",
        "stage_sensitivity",
        "fact_accuracy",
        "general_retention",
    ]
    fig, ax = plt.subplots(figsize=(7, 3.4))
    width = 0.8 / max(1, len(systems))
    for i, (name, m) in enumerate(systems.items()):
        ax.bar(
            [j + i * width for j in range(len(keys))],
            [m.get(k, 0.0) for k in keys],
            width,
            label=name,
        )
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(keys))])
    ax.set_xticklabels([k.replace("_", "\n") for k in keys], fontsize=8)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    rep.figure(fig, "metrics", "metrics by system")
