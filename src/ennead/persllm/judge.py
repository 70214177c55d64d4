"""The optional LLM judge of PersLLM's evaluation (Ran et al. 2024, §4): a judge model sees a
question, the reference and the anonymised answers of every system, and ranks them.

The answers are the ``answers-<system>.jsonl`` files that ``evaluate`` (B0, PersLLM) or the
controlled experiment (B0, B1, SFT, SFT+DPO) write into a run folder; questions that every system
answered are ranked with :class:`ennead.core.eval.judge.PairwiseJudge` (both orders asked,
Copeland ranks), on any core backend. The automatic metrics stay the verdict; the judge is an
extra view, reported with its unreadable votes.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import Field

from ennead.core.errors import DataError
from ennead.core.results import RunResult

CRITERIA = (
    "The reference gives the persona's true fact or opinion. Which answer keeps to the persona's "
    "knowledge and opinions in the reference, is not talked out of them, and sounds like the "
    "persona?"
)


class JudgeResult(RunResult):
    """Mean Copeland rank per system (1 = best) with a 95% bootstrap interval over questions,
    and each system's win rate against the first system (B0 when present)."""

    systems: list[str]
    questions: int
    mean_rank: dict[str, float]
    rank_interval: dict[str, list[float]]
    win_rate_vs_base: dict[str, dict[str, float]] = Field(default_factory=dict)
    unreadable: int = 0
    calls: int = 0


def load_answers(run_dir: Path) -> dict[str, dict[tuple[str, ...], dict[str, Any]]]:
    """``answers-<system>.jsonl`` -> system -> (metric, persona, stage, question) -> row."""
    from ennead.core.io import iter_jsonl

    out: dict[str, dict[tuple[str, ...], dict[str, Any]]] = {}
    for path in sorted(run_dir.glob("answers-*.jsonl")):
        rows: dict[tuple[str, ...], dict[str, Any]] = {}
        for i, row in enumerate(iter_jsonl(path), 1):
            missing = [k for k in ("metric", "answer") if k not in row]
            if missing:
                raise DataError(f"{path}:{i}: answer row without {', '.join(missing)}")
            if "question" not in row:  # general-ability items keep no question text
                continue
            key = tuple(str(row.get(k, "")) for k in ("metric", "persona", "stage", "question"))
            rows.setdefault(key, row)  # repeated samples (BLEU): the first one
        out[path.stem.removeprefix("answers-")] = rows
    return out


def judge_run(
    run_dir: str | Path,
    lm: Any,
    *,
    metrics: Sequence[str] = ("stance", "induction", "fact"),
    limit: int | None = 200,
    method: str = "generate",
    seed: int = 0,
) -> JudgeResult:
    """Rank every system's answers to the questions all of them answered; writes ``judge.json``
    and ``judge.md`` into the run folder."""
    from ennead.core.eval.judge import PairwiseJudge, shares
    from ennead.core.eval.report import markdown_table
    from ennead.core.eval.stats import bootstrap_mean
    from ennead.core.io import atomic_write_json, atomic_write_text

    run = Path(run_dir)
    answers = load_answers(run)
    if len(answers) < 2:
        raise DataError(
            f"{run} holds answers of {len(answers)} system(s) (answers-<system>.jsonl); the judge "
            "compares at least two: run `ennead persllm evaluate` first"
        )
    systems = sorted(answers, key=lambda s: (s != "B0", s))  # B0 first: the base of win rates
    common = set.intersection(*(set(rows) for rows in answers.values()))
    keys = sorted(k for k in common if k[0] in set(metrics))
    if not keys:
        raise DataError(f"no question of metrics {list(metrics)} is answered by every system")
    if limit is not None and len(keys) > limit:
        keys = sorted(random.Random(seed).sample(keys, limit))
    judge = PairwiseJudge(lm, criteria=CRITERIA, method=method, seed=seed)  # type: ignore[arg-type]
    ranks: dict[str, list[float]] = {s: [] for s in systems}
    wins: dict[str, list[float]] = {s: [] for s in systems[1:]}
    unreadable = 0
    for key in keys:
        first = answers[systems[0]][key]
        gold = first.get("gold")
        reference = None if gold is None else f"{first.get('persona', '')}: {gold}"
        ranking = judge.rank(
            key[3], {s: str(answers[s][key]["answer"]) for s in systems}, reference
        )
        for s in systems:
            ranks[s].append(ranking.ranks[s])
        for (x, y), o in ranking.pairs.items():
            unreadable += o.unreadable
            if systems[0] in (x, y):
                other = y if x == systems[0] else x
                wins[other].append(o.score if x == other else 1.0 - o.score)
    mean_rank, interval = {}, {}
    for s in systems:
        iv = bootstrap_mean(ranks[s], seed=seed)
        mean_rank[s], interval[s] = iv.estimate, [iv.low, iv.high]
    win_rates = {s: shares(w) for s, w in wins.items()}
    result = JudgeResult(
        run_dir=run,
        metrics={f"mean_rank_{s}": mean_rank[s] for s in systems},
        systems=systems,
        questions=len(keys),
        mean_rank=mean_rank,
        rank_interval=interval,
        win_rate_vs_base=win_rates,
        unreadable=unreadable,
        calls=judge.calls,
    )
    result.artifacts["judge"] = atomic_write_json(
        run / "judge.json", result.model_dump(mode="json")
    )
    rows = [
        {
            "system": s,
            "mean rank (1 = best)": round(mean_rank[s], 3),
            "95% interval": f"[{interval[s][0]:.2f}, {interval[s][1]:.2f}]",
            f"win / tie / loss vs {systems[0]}": "-"
            if s == systems[0]
            else "{win:.2f} / {tie:.2f} / {loss:.2f}".format(**win_rates[s]),
        }
        for s in systems
    ]
    name = getattr(lm, "name", type(lm).__name__)
    text = (
        f"# LLM judge: {len(keys)} questions ({', '.join(metrics)}), judge {name}, method {method}"
        f"\n\n{markdown_table(rows)}\n\nUnreadable votes: {unreadable} of "
        f"{judge.calls} asked (each pair in both orders).\n"
    )
    result.artifacts["judge_md"] = atomic_write_text(run / "judge.md", text)
    return result
