"""The ChatMol facade: ``data`` -> ``pretrain`` -> ``train`` (dialogue fine-tuning) -> ``evaluate``,
plus ``chat`` (a :class:`ChatSession`), ``report`` and ``check``. Each step is a resumable stage of
a run folder; ``train`` starts from the pre-trained model when the ``pretrain`` stage finished.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ennead.chatmol.chem import (
    Fact,
    canonical,
    facts_of,
    mol_from_smiles,
    parse_requirement,
    properties,
    split_sentences,
    understood_phrases,
)
from ennead.chatmol.config import ChatMolConfig
from ennead.chatmol.data import (
    Dialogue,
    read_chebi20,
    read_dialogues,
    read_smiles_file,
    write_dialogues,
)
from ennead.core.checks import check_inputs
from ennead.core.errors import StageError
from ennead.core.io import atomic_write_json
from ennead.core.results import CheckResult, RunResult
from ennead.core.runs import RunDir, default_run_path

HEADLINE = ("validity", "satisfaction", "sat@5", "exact", "hit@3", "hit@5", "morgan")


class DataResult(RunResult):
    stats: dict[str, Any]


class TrainResult(RunResult):
    stage: str
    seconds: float


class EvalResult(RunResult):
    table: dict[str, dict[str, float]]
    invalid: int


def read_any(path: str | Path) -> Any:
    """The loader ``check`` uses: dialogues (JSONL / ChEBI-dia), ChEBI-20 TSV or a SMILES file."""
    path = Path(path)
    head = path.read_text(encoding="utf-8").lstrip()[:200]
    if path.suffix == ".jsonl" or head.startswith("{") or path.name.endswith("_inp.txt"):
        return read_dialogues(path)
    if head.lower().startswith("cid\t"):
        return read_chebi20(path)
    return read_smiles_file(path)


class ChatMol:
    def __init__(self, config: ChatMolConfig | None = None):
        self.config = config or ChatMolConfig()

    # -- stages ------------------------------------------------------------------------------
    def _run(self, run_dir: str | Path | None) -> RunDir:
        return RunDir.create(run_dir or default_run_path("chatmol"), self.config, system="chatmol")

    def data(self, run_dir: str | Path | None = None) -> DataResult:
        """Generate the seeded dialogues (train / validation / test) with per-split statistics."""
        from ennead.chatmol.experiment import make_data

        run = self._run(run_dir)

        def stage(folder: Path) -> dict[str, Any]:
            d = make_data(self.config, self.config.seed)
            write_dialogues(folder / "train.jsonl", d.train)
            write_dialogues(folder / "test.jsonl", d.test)
            atomic_write_json(folder / "split.json", d.split)
            atomic_write_json(folder / "stats.json", d.stats)
            return d.stats

        stats = run.run_stage("data", stage)
        folder = run.stage_dir("data")
        return DataResult(
            run_dir=run.path,
            metrics={
                "pool": float(stats["pool"]),
                "train_dialogues": float(stats["train"]["dialogues"]),
                "test_dialogues": float(stats["test"]["dialogues"]),
            },
            artifacts={p.stem: p for p in sorted(folder.glob("*.json*"))},
            stats=stats,
        )

    def _seed_data(self, run: RunDir) -> Any:
        from ennead.chatmol.experiment import SeedData, cached_pool

        if not run.is_done("data"):
            raise StageError(f"{run.path} has no generated dialogues; run `ennead chatmol data`")
        folder = run.stage_dir("data")
        d = self.config.data
        return SeedData(
            self.config.seed,
            cached_pool(d.pool, d.max_heavy_atoms, d.max_tokens, d.pool_limit),
            json.loads((folder / "split.json").read_text(encoding="utf-8")),
            read_dialogues(folder / "train.jsonl"),
            read_dialogues(folder / "test.jsonl"),
        )

    def _train_stage(self, run_dir: str | Path | None, arm: str) -> TrainResult:
        from ennead.chatmol.experiment import train_arm

        run = self._run(run_dir)
        self.data(run.path)
        data = self._seed_data(run)
        name = "pretrain" if arm == "pretrained-only" else "finetune"

        def stage(folder: Path) -> dict[str, Any]:
            cfg = self.config
            if arm == "pretrained-only":
                cfg = cfg.model_copy(deep=True)
                cfg.train.finetune_steps = 1
                _, _, info = _pretrain_only(cfg, data, folder / "model")
            else:
                start = run.stage_dir("pretrain") / "model" if run.is_done("pretrain") else None
                _, _, info = train_arm(cfg, data, "scratch", folder / "model", start=start)
            (folder / "log.json").write_text(json.dumps(info), encoding="utf-8")
            return {"seconds": info["train_seconds"], "parameters": info["parameters"]}

        res = run.run_stage(name, stage)
        return TrainResult(
            run_dir=run.path,
            metrics={"seconds": res["seconds"], "parameters": float(res["parameters"])},
            artifacts={"model": run.stage_dir(name) / "model"},
            stage=name,
            seconds=res["seconds"],
        )

    def pretrain(self, run_dir: str | Path | None = None) -> TrainResult:
        """Knowledge pre-training (property text, text->SMILES, spatial, span masking)."""
        return self._train_stage(run_dir, "pretrained-only")

    def train(self, run_dir: str | Path | None = None) -> TrainResult:
        """Dialogue fine-tuning (from the pre-trained model when that stage finished)."""
        return self._train_stage(run_dir, "finetune")

    def evaluate(self, run_dir: str | Path, data: str | Path | None = None) -> EvalResult:
        """Self-fed multi-turn decoding on the test dialogues (or ``data``) vs the baselines."""
        from ennead.chatmol import model as M
        from ennead.chatmol.experiment import baseline_metrics
        from ennead.chatmol.metrics import evaluate_candidates

        run = RunDir(run_dir)
        if not run.is_done("finetune"):
            raise StageError(f"{run.path} has no trained model; run `ennead chatmol train` first")
        sd = self._seed_data(run)
        if data is not None:
            sd.test = read_dialogues(data)
            for d in sd.test:  # facts for user files come from reading the sentences back
                if not d.facts:
                    d.facts = [f for f in (parse_requirement(s) for s in d.turns) if f]
        model, tok = M.load(run.stage_dir("finetune") / "model")
        cfg = self.config
        cands = M.self_fed_decode(
            model, tok, sd.test, cfg.model, cfg.train.history, cfg.train.device
        )
        table: dict[str, dict[str, Any]] = {"chatmol": evaluate_candidates(sd.test, cands, True)}
        table.update(baseline_metrics(self.config, sd))
        examples = [
            {"turns": d.turns, "target": d.targets[-1], "candidates": c[-1]}
            for d, c in zip(sd.test[:12], cands[:12], strict=True)
        ]
        path = atomic_write_json(run.path / "eval.json", {"table": table, "examples": examples})
        small = {
            arm: {k: float(v) for k, v in m.items() if k in HEADLINE} for arm, m in table.items()
        }
        return EvalResult(
            run_dir=run.path,
            metrics={k: small["chatmol"][k] for k in HEADLINE},
            artifacts={"eval": path},
            table=small,
            invalid=int(table["chatmol"]["invalid"]),
        )

    def report(self, run_dir: str | Path) -> RunResult:
        from ennead.chatmol.report import write_report

        return write_report(Path(run_dir))

    def check(self, paths: list[Path] | list[str]) -> CheckResult:
        return check_inputs(paths, read_any, "dialogue, TSV or SMILES file")

    def session(self, run_dir: str | Path | None) -> ChatSession:
        from ennead.chatmol import model as M

        if run_dir is None:
            return ChatSession(None, None, self.config)
        run = RunDir(run_dir)
        if not run.is_done("finetune"):
            raise StageError(f"{run.path} has no trained model; run `ennead chatmol train` first")
        model, tok = M.load(run.stage_dir("finetune") / "model")
        return ChatSession(model, tok, self.config)

    def demo(self, run_dir: str | Path | None = None) -> EvalResult:
        """data -> pretrain -> train -> evaluate -> report at the config's size."""
        run = self._run(run_dir or default_run_path("chatmol-demo"))
        self.data(run.path)
        if self.config.train.pretrain_steps:
            self.pretrain(run.path)
        self.train(run.path)
        res = self.evaluate(run.path)
        self.report(run.path)
        run.finish(summary=res.metrics)
        return res


def _pretrain_only(cfg: ChatMolConfig, data: Any, out: Path) -> tuple[Any, Any, dict[str, Any]]:
    from ennead.chatmol.experiment import train_arm

    return train_arm(cfg, data, "pretrained", out, finetune=False)


class ChatSession:
    """One conversation: requirement turns accumulate; each turn returns checked candidates.

    Commands: a requirement sentence (or several), ``pick N`` (continue from candidate N),
    ``describe`` (the current molecule's RDKit facts), ``edit SMILES`` (set the current molecule
    yourself), ``reset``, ``help``. Without a model (``run_dir`` None) candidates come from the
    constraint filter over the pool.
    """

    def __init__(self, model: Any, tokenizer: Any, config: ChatMolConfig):
        self.model, self.tok, self.config = model, tokenizer, config
        self.reset()

    def reset(self) -> None:
        self.turns: list[str] = []
        self.facts: list[Fact] = []
        self.current: str | None = None
        self.candidates: list[str] = []

    def help(self) -> str:
        return (
            "I understand requirements like:\n  "
            + "\n  ".join(understood_phrases())
            + ("\nand the commands: pick N, describe, edit SMILES, reset, help, quit")
        )

    def handle(self, line: str) -> str:
        text = line.strip()
        if not text:
            return ""
        low = text.lower()
        if low in {"help", "?"}:
            return self.help()
        if low == "reset":
            self.reset()
            return "Starting over."
        if low == "describe":
            if self.current is None:
                return "No molecule yet: state a requirement first."
            return self.describe(self.current)
        if low.startswith("pick"):
            parts = low.split()
            if (
                len(parts) != 2
                or not parts[1].isdigit()
                or not (1 <= int(parts[1]) <= len(self.candidates))
            ):
                return f"pick takes a candidate number 1..{len(self.candidates) or 1}"
            self.current = self.candidates[int(parts[1]) - 1]
            return f"Current molecule: {self.current}"
        if low.startswith("edit "):
            smi = canonical(text[5:].strip())
            if smi is None:
                return f"invalid SMILES: {text[5:].strip()!r} (RDKit cannot parse it)"
            self.current = smi
            return f"Current molecule: {smi}\n" + self.show_checks([smi])
        facts: list[Fact] = []
        unknown: list[str] = []
        for sentence in split_sentences(text):
            f = parse_requirement(sentence)
            if f is None:
                unknown.append(sentence)
            else:
                facts.append(f)
        if unknown:
            return f"I did not understand: {'; '.join(unknown)}. " + self.help()
        self.turns += [f.sentence() for f in facts]
        self.facts += facts
        self.candidates = self.propose()
        self.current = self.candidates[0] if self.candidates else None
        return self.show_checks(self.candidates)

    def propose(self) -> list[str]:
        k = self.config.model.beams
        if self.model is None:
            from ennead.chatmol.baselines import constraint_filter
            from ennead.chatmol.experiment import cached_pool

            d = self.config.data
            pool = cached_pool(d.pool, d.max_heavy_atoms, d.max_tokens, d.pool_limit)
            dia = [Dialogue("chat", self.turns, [""] * len(self.turns), self.facts)]
            return constraint_filter(dia, pool, list(range(len(pool.smiles))), k, 0)[0][-1]
        from ennead.chatmol import model as M

        inp = M.dialogue_input(self.turns, self.current if self.config.train.history else None)
        mc = self.config.model
        return M.generate(self.model, self.tok, [inp], k, mc.max_len, output=mc.output)[0]

    def show_checks(self, cands: list[str]) -> str:
        lines = []
        for i, smi in enumerate(cands, 1):
            mol = mol_from_smiles(smi)
            if mol is None:
                lines.append(f"{i}. {smi}  [invalid SMILES]")
                continue
            props = properties(mol)
            met = sum(f.holds(props) for f in self.facts)
            miss = [f.sentence() for f in self.facts if not f.holds(props)]
            note = "meets all" if not miss else "misses: " + " ".join(miss)
            lines.append(f"{i}. {smi}  [{met}/{len(self.facts)} requirements; {note}]")
        return "\n".join(lines) if lines else "No candidates."

    def describe(self, smiles: str) -> str:
        mol = mol_from_smiles(smiles)
        if mol is None:
            return f"invalid SMILES: {smiles!r}"
        return " ".join(f.sentence() for f in facts_of(properties(mol)))
