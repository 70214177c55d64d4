"""ToolEval's win rate with an LLM judge (Qin et al. 2024, ToolBench's ``eval_preference``).

Two evaluated runs (``records.jsonl`` from ``ennead tools evaluate``) are compared task by task:
when their pass labels differ the passing one wins with no judge call, as in ToolEval; when they
agree the judge reads the instruction and both final answers and picks the better one
(:class:`ennead.core.eval.judge.PairwiseJudge`: both orders asked, so a judge that favours a
position gives a tie). ``evaluate.win`` is the judge-free variant (fewer tool calls break ties).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ennead.core.errors import DataError
from ennead.core.results import RunResult

CRITERIA = (
    "Which final answer solves the instruction better: informative, correct given the tools' "
    "results, and honest about what could not be done?"
)


class WinRateResult(RunResult):
    """Win, tie and loss shares of the candidate run against the reference run."""

    tasks: int
    judged: int
    win: float
    tie: float
    loss: float
    unreadable: int = 0


def _records(run_dir: Path) -> dict[str, dict[str, Any]]:
    from ennead.core.io import iter_jsonl

    path = run_dir / "records.jsonl"
    if not path.is_file():
        raise DataError(f"{path} is missing: run `ennead tools evaluate --out {run_dir}` first")
    out = {}
    for i, rec in enumerate(iter_jsonl(path), 1):
        missing = [k for k in ("task", "passed", "answer") if k not in rec]
        if missing:
            raise DataError(f"{path}:{i}: record without {', '.join(missing)}")
        out[str(rec["task"])] = rec
    return out


def judged_win_rate(
    candidate: str | Path,
    reference: str | Path,
    lm: Any,
    instructions: dict[str, str],
    *,
    method: str = "generate",
    seed: int = 0,
) -> WinRateResult:
    """ToolEval's win rate of ``candidate`` over ``reference`` on the tasks both ran; writes
    ``win_rate.json`` into the candidate's run folder."""
    from ennead.core.eval.judge import PairItem, PairwiseJudge, shares
    from ennead.core.io import atomic_write_json

    cand_dir, ref_dir = Path(candidate), Path(reference)
    cand, ref = _records(cand_dir), _records(ref_dir)
    shared = sorted(set(cand) & set(ref))
    if not shared:
        raise DataError(f"{cand_dir} and {ref_dir} share no task")
    unknown = [t for t in shared if t not in instructions]
    if unknown:
        raise DataError(f"no instruction for task(s) {unknown[:5]}: pass the tasks file they ran")
    scores: dict[str, float] = {}
    to_judge: list[str] = []
    for t in shared:
        if bool(cand[t]["passed"]) != bool(ref[t]["passed"]):
            scores[t] = 1.0 if cand[t]["passed"] else 0.0
        else:
            to_judge.append(t)
    judge = PairwiseJudge(lm, criteria=CRITERIA, method=method, seed=seed)  # type: ignore[arg-type]
    items = [
        PairItem(instructions[t], str(cand[t]["answer"] or ""), str(ref[t]["answer"] or ""))
        for t in to_judge
    ]
    outcomes = judge.compare(items)
    scores.update({t: o.score for t, o in zip(to_judge, outcomes, strict=True)})
    n = len(shared)
    res = WinRateResult(
        run_dir=cand_dir,
        tasks=n,
        judged=len(to_judge),
        **shares(list(scores.values())),
        unreadable=sum(o.unreadable for o in outcomes),
    )
    res.metrics = {"win": res.win, "tie": res.tie, "loss": res.loss}
    body = {**res.model_dump(mode="json"), "reference": str(ref_dir), "per_task": scores}
    res.artifacts["win_rate"] = atomic_write_json(cand_dir / "win_rate.json", body)
    return res


def instructions_of(tasks: Sequence[Any]) -> dict[str, str]:
    return {t.id: t.instruction for t in tasks}
