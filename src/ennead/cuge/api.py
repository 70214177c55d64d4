"""The CUGE facade: prepare data, predict, evaluate, rank on boards, serve."""

from __future__ import annotations

import datetime as _dt
import json
import time
from pathlib import Path
from typing import Any

from ennead.core.errors import DataError
from ennead.core.io import atomic_write_json, atomic_write_text
from ennead.core.logging import get_logger
from ennead.core.results import CheckResult, RunResult
from ennead.core.runs import RunDir
from ennead.cuge.benchmark import Benchmark, load_benchmark
from ennead.cuge.boards import Board, BoardSpec, Entry, build_board
from ennead.cuge.config import CUGEConfig
from ennead.cuge.data import BASELINE_FILE, load_baselines, load_gold
from ennead.cuge.submission import (
    SubmissionError,
    content_hash,
    dumps,
    make_submission,
    parse_submission,
    score_submission,
)

log = get_logger(__name__)
__all__ = ["BASELINE_FILE", "CUGE", "BoardResult", "EvaluateResult", "PredictResult"]


class PrepareResult(RunResult):
    """``prepare``: the stand-in data folder and the rule baseline's raw scores (percent)."""

    data_dir: str
    sizes: dict[str, dict[str, int]]
    baseline: dict[str, dict[str, float]]
    seconds: float


class PredictResult(RunResult):
    """``predict``: the submission file written (``artifacts['submission']``)."""

    submission: str
    model: str
    datasets: list[str]
    record: dict[str, Any]
    seconds: float


class EvaluateResult(RunResult):
    """``evaluate``: one submission on a lenient board; ``metrics['index']`` (baseline = 100)."""

    model: str
    raw: dict[str, dict[str, float]]
    index: float | None
    capabilities: dict[str, float | None]
    complete: bool
    missing: list[str]
    honor_code: bool = True


class BoardResult(RunResult):
    """``board``: several submissions ranked; Markdown, HTML and CSV in ``artifacts``."""

    board: str
    models: list[str]
    index: dict[str, float]
    excluded: list[str]


class CUGE:
    """CUGE benchmark: ``CUGE(CUGEConfig(...)).prepare().predict()...``."""

    def __init__(self, config: CUGEConfig | None = None):
        self.config = config or CUGEConfig()

    # -- data and baselines ------------------------------------------------------------------
    def benchmark(self) -> Benchmark:
        return load_benchmark(self.config.benchmark)

    @property
    def data_dir(self) -> Path:
        return Path(self.config.data_dir)

    def gold(self, datasets: list[str] | None = None) -> dict[str, list[dict[str, Any]]]:
        """Test records with answers, for the datasets that have a test file."""
        return load_gold(self.benchmark(), self.data_dir, datasets)

    def baselines(self) -> dict[str, dict[str, float]]:
        return load_baselines(self.benchmark(), self.data_dir, self.config.baseline)

    def prepare(self) -> PrepareResult:
        """Build the stand-in suite and score the rule baseline on it (defines ``b``)."""
        from ennead.cuge.runners import RuleRunner
        from ennead.cuge.standin import build_standin, checksums

        t0 = time.perf_counter()
        bench = self.benchmark()
        if bench.name != "cuge-standin":
            raise DataError(
                f"prepare builds the offline stand-in suite; benchmark {bench.name!r} needs its "
                f"own data in {self.data_dir}/<dataset>/test.jsonl"
            )
        c = self.config
        manifest = build_standin(self.data_dir, c.max_items, c.max_train, c.seed)
        gold = self.gold()
        runner = RuleRunner()
        scores = {}
        for d, items in gold.items():
            preds = runner.predict(bench.dataset(d), items, self.data_dir)
            from ennead.cuge.scoring import score_dataset

            scores[d] = score_dataset(bench.dataset(d), preds, items)
        atomic_write_json(
            self.data_dir / BASELINE_FILE,
            {
                "benchmark": bench.name,
                "benchmark_version": bench.version,
                "model": runner.model,
                "scores": scores,
                "checksums": checksums(self.data_dir),
            },
        )
        return PrepareResult(
            metrics={"seconds": round(time.perf_counter() - t0, 2)},
            artifacts={"data": self.data_dir, "baseline": self.data_dir / BASELINE_FILE},
            data_dir=str(self.data_dir),
            sizes={d: v["sizes"] for d, v in manifest["datasets"].items()},
            baseline=scores,
            seconds=round(time.perf_counter() - t0, 2),
        )

    # -- predictions ---------------------------------------------------------------------------
    def make_runner(self, lm: Any = None) -> Any:
        from ennead.cuge.runners import CompletionCache, LMRunner, RuleRunner

        rc = self.config.runner
        if rc.kind == "rule" and lm is None:
            return RuleRunner()
        if lm is None:
            from ennead.core.backends import load_backend

            opts: dict[str, Any] = {"batch_size": rc.batch_size}
            if rc.model:
                opts["model"] = rc.model
            lm = load_backend(rc.backend, **opts)
        model = rc.model or getattr(lm, "model_id", None) or getattr(lm, "name", rc.backend)
        cache_path = rc.cache if rc.cache is not None else str(self.data_dir / "cache.sqlite")
        cache = CompletionCache(cache_path) if cache_path else None
        return LMRunner(
            lm,
            str(model),
            self.benchmark(),
            max_new_tokens=rc.max_new_tokens,
            batch_size=rc.batch_size,
            cache=cache,
            chat=rc.chat,
            seed=rc.seed,
        )

    def predict(
        self, out: str | Path | None = None, lm: Any = None, runner: Any = None
    ) -> PredictResult:
        """Run a runner on the test inputs and write a submission file."""
        from ennead.core.io import read_jsonl
        from ennead.cuge.standin import checksums

        t0 = time.perf_counter()
        bench, rc = self.benchmark(), self.config.runner
        runner = runner or self.make_runner(lm)
        names = rc.datasets or [d.id for d in (bench.lite() if rc.lite else bench.datasets())]
        predictions = {}
        for d in names:
            entry = bench.dataset(d)
            path = self.data_dir / d / "test_inputs.jsonl"
            if not path.is_file():
                raise DataError(
                    f"no test inputs for dataset {d!r}: run `ennead cuge prepare` first "
                    f"(or set data_dir to a prepared folder)",
                    path,
                )
            items = read_jsonl(path)
            if rc.limit is not None:
                items = items[: rc.limit]
            log.info("cuge predict: %s (%d items) with %s", d, len(items), runner.model)
            predictions[d] = runner.predict(entry, items, self.data_dir)
        record = runner.record()
        sums = checksums(self.data_dir) if (self.data_dir / "manifest.json").is_file() else {}
        meta = {
            **record,
            "benchmark_version": bench.version,
            "registry_sha256": bench.checksum,
            "data_checksums": {d: sums.get(d) for d in names},
            "limit": rc.limit,
        }
        sub = make_submission(bench, predictions, record["model"], meta=meta)
        path = Path(out) if out else Path(self.config.out) / f"cuge-{_slug(record['model'])}.json"
        atomic_write_text(path, dumps(sub).decode("utf-8"))
        return PredictResult(
            metrics={"seconds": round(time.perf_counter() - t0, 2)},
            artifacts={"submission": path},
            submission=str(path),
            model=record["model"],
            datasets=names,
            record=meta,
            seconds=round(time.perf_counter() - t0, 2),
        )

    # -- scoring -----------------------------------------------------------------------------
    def score_file(self, path: str | Path) -> Entry:
        """Validate and score one submission file against the local test labels.

        Every problem is a :class:`DataError` that names the file (missing, a folder, empty,
        not JSON, ...), so one bad file among several is found by name.
        """
        path = Path(path)
        data = _read_submission_bytes(path)
        bench = self.benchmark()
        gold = _limited(self.gold(), data)
        ids = {d: [str(r["id"]) for r in rows] for d, rows in gold.items()}
        try:
            sub = parse_submission(data, bench, ids, int(self.config.service.max_upload_mb * 2**20))
            raw = score_submission(bench, sub, gold)
        except SubmissionError as exc:
            raise DataError(str(exc), path) from None
        meta = dict(sub.meta)
        if not sub.honor_code:
            meta["honor_code"] = False
        return Entry(
            content_hash(data)[:12],
            sub.model,
            raw,
            sub.org,
            _dt.date.fromtimestamp(path.stat().st_mtime).isoformat(),
            meta,
            honor_code=sub.honor_code,
        )

    def leaderboard(self, entries: list[Entry], spec: BoardSpec | None = None) -> Board:
        return build_board(self.benchmark(), self.baselines(), entries, spec or self.config.board)

    def evaluate(self, path: str | Path) -> EvaluateResult:
        entry = self.score_file(path)
        spec = self.config.board.model_copy(update={"completeness": "lenient"})
        board = self.leaderboard([entry], spec)
        row = board.rows[0] if board.rows else None
        metrics = {"index": row.index} if row else {}
        return EvaluateResult(
            metrics=metrics,
            model=entry.model,
            raw=entry.raw,
            index=row.index if row else None,
            capabilities={k: v[1] for k, v in row.capabilities.items()} if row else {},
            complete=row.complete if row else False,
            missing=row.missing if row else [d for d, _ in board.excluded],
            honor_code=entry.honor_code,
        )

    def board(
        self,
        submissions: list[str | Path],
        spec: BoardSpec | str | None = None,
        out: str | Path | None = None,
    ) -> BoardResult:
        """Score submission files, rank them on ``spec`` (full, lite, a YAML file, a
        :class:`BoardSpec`; default the config's board) and write Markdown, HTML and CSV."""
        from ennead.cuge.boards import load_board_spec

        if not isinstance(spec, BoardSpec):
            spec = load_board_spec(spec) if spec is not None else self.config.board
        entries = [self.score_file(p) for p in submissions]
        result = self.leaderboard(entries, spec)
        folder = Path(out) if out is not None else Path(self.config.out) / "cuge-board"
        paths = result.write(folder)
        return BoardResult(
            run_dir=folder,
            metrics={f"index/{r.entry.id}": r.index for r in result.rows},
            artifacts={k: Path(v) for k, v in paths.items()},
            board=spec.name,
            models=[r.entry.model for r in result.rows],
            index={r.entry.id: r.index for r in result.rows},
            excluded=[e for e, _ in result.excluded],
        )

    def serve(self) -> None:
        from ennead.cuge.service import serve

        serve(self.config)

    def check(self, paths: list[Path] | list[str]) -> CheckResult:
        """Validate submission files against the benchmark and test ids, without ranking them."""
        from ennead.core.checks import check_inputs

        return check_inputs(paths, self.score_file, "submission")


def _read_submission_bytes(path: Path) -> bytes:
    if not path.exists():
        raise DataError("submission file not found", path)
    if path.is_dir():
        raise DataError("is a folder; expected a submission JSON file", path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read the submission ({exc.strerror})", path) from None
    if not data.strip():
        raise DataError("the submission file is empty", path)
    return data


def _limited(gold: dict[str, list[dict[str, Any]]], data: bytes) -> dict[str, list[dict[str, Any]]]:
    """A local run with ``limit`` (recorded in its meta) is scored on that prefix of the test
    set; the service never does this: there every test id needs a prediction."""
    try:
        limit = json.loads(data.decode("utf-8")).get("meta", {}).get("limit")
    except (UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        limit = None
    if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
        return {d: rows[:limit] for d, rows in gold.items()}
    return gold


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in text)[:60]


def tour_demo(run: RunDir) -> dict[str, Any]:
    """Stand-in suite (40 items per dataset), rule baseline vs a trivial runner, lite board."""
    from ennead.cuge.boards import BoardSpec

    cfg = CUGEConfig(data_dir=str(run.path / "data"), max_items=40, max_train=20)
    cuge = CUGE(cfg)
    prep = cuge.prepare()
    base_sub = cuge.predict(out=run.path / "rule.json")
    trivial = cuge.predict(out=run.path / "trivial.json", runner=TrivialRunner())
    entries = [cuge.score_file(base_sub.submission), cuge.score_file(trivial.submission)]
    board = cuge.leaderboard(entries, BoardSpec(name="stand-in full"))
    board.write(run.path, "board")
    trivial_raw = entries[1].raw
    return {
        "title": "CUGE: hierarchical benchmark (offline stand-in suite)",
        "summary": (
            f"Built {len(prep.sizes)} stand-in datasets from package data in {prep.seconds} s; "
            "the rule baseline defines 100 on every dataset. A trivial runner (first option, "
            f"copy input, majority label) scores index {board.rows[-1].index:.1f} on the full "
            "stand-in board (mean rule)."
        ),
        "tasks": {d: dict(v) for d, v in trivial_raw.items()},
        "baselines": {d: dict(v) for d, v in prep.baseline.items()},
        "higher_is_better": {k: True for v in trivial_raw.values() for k in v},
        "images": [],
        "tables": [_md_table(board)],
    }


def _md_table(board: Board) -> str:
    from ennead.core.eval.report import markdown_table

    return markdown_table(board.display_rows(markdown=True))


class TrivialRunner:
    """A floor: first option, copy the input, a constant label, the first numbers."""

    name = "trivial"
    model = "trivial"

    def predict(self, entry: Any, items: list[dict[str, Any]], data_dir: Path) -> dict[str, Any]:
        fmt = entry.spec.format
        out: dict[str, Any] = {}
        for it in items:
            inp = it["input"]
            if fmt == "choice":
                out[it["id"]] = 0
            elif fmt == "tokens":
                out[it["id"]] = list(inp["text"])
            elif fmt == "tagged_tokens":
                out[it["id"]] = [[ch, "n"] for ch in inp["text"]]
            elif fmt == "label":
                out[it["id"]] = "positive"
            elif fmt == "ranking":
                out[it["id"]] = [f"d{i:05d}" for i in range(10)]
            elif fmt == "correction":
                out[it["id"]] = inp["source"]
            elif fmt == "number":
                nums = [int(x) for x in __import__("re").findall(r"\d+", inp["question"])]
                out[it["id"]] = str(sum(nums[:2]))
            else:
                out[it["id"]] = next(iter(inp.values()))
        return out

    def record(self) -> dict[str, Any]:
        return {"runner": self.name, "model": self.model, "decoding": None, "templates": {}}
