"""Boards do what they say (issue 12): weights honoured or refused, duplicates refused by name,
advice that exists, honour-code flag and escaping in every format, messages that name the file."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ennead.core.errors import ConfigError, DataError
from ennead.core.results import RunResult
from ennead.cuge import CUGE, CUGEConfig
from ennead.cuge.benchmark import load_benchmark
from ennead.cuge.boards import BoardSpec, Entry, build_board, load_board_spec
from ennead.cuge.runners import RuleRunner
from ennead.cuge.scoring import Layout, MatrixScorer, Selection
from ennead.cuge.submission import SubmissionError, parse_submission

EVIL = "<img src=x onerror=alert(1)> [x](javascript:alert(1)) # *b*"


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("cuge")


@pytest.fixture(scope="module")
def paper_entries(bench):
    rows = bench.spec.reference_results
    out = []
    for i, (model, scores) in enumerate(rows.items()):
        raw = {
            d: {bench.dataset(d).spec.metrics[0].key: v}
            for d, v in scores.items()
            if d in bench.dataset_ids()
        }
        out.append(Entry(f"e{i}", model, raw, date=f"2021-08-2{i}"))
    return out


# -- weights ------------------------------------------------------------------------------
def test_node_weights_refused_under_mean_with_the_rule_named(bench, paper_entries, tmp_path):
    with pytest.raises(
        ValueError,
        match=r"weights \{MR: 5\} have no effect under aggregator "
        r"'mean'.*use aggregator 'weighted'",
    ):
        BoardSpec(lite=True, weights={"MR": 5})
    spec_file = tmp_path / "board.yaml"
    spec_file.write_text("lite: true\nweights: {MR: 5}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="aggregator 'mean'"):
        load_board_spec(spec_file)
    # a spec copied around validation, and the scorer used directly, refuse the same way
    sneaky = BoardSpec(lite=True).model_copy(update={"weights": {"MR": 5.0}})
    with pytest.raises(ConfigError, match="aggregator 'mean'"):
        build_board(bench, bench.baseline().scores, paper_entries, sneaky)
    layout = Layout.build(
        bench, bench.baseline().scores, Selection.make(lite=True, weights={"MR": 5})
    )
    with pytest.raises(ConfigError, match="aggregator 'mean'"):
        MatrixScorer(layout, "mean")


def test_weights_change_the_index_under_weighted_and_metric_weights_under_mean(
    bench, paper_entries
):
    base = bench.baseline().scores
    plain = build_board(bench, base, paper_entries, BoardSpec(lite=True, aggregator="weighted"))
    heavy = build_board(
        bench, base, paper_entries, BoardSpec(lite=True, aggregator="weighted", weights={"MR": 5})
    )
    for p, h in zip(
        sorted(plain.rows, key=lambda r: r.entry.id), sorted(heavy.rows, key=lambda r: r.entry.id)
    ):
        caps = {c: v[1] for c, v in h.capabilities.items()}
        others = [v for c, v in caps.items() if c != "MR"]
        assert h.index == pytest.approx((sum(others) + 5 * caps["MR"]) / (len(others) + 5))
        assert h.index != pytest.approx(p.index)
    # a dataset:metric weight combines one dataset's metrics: accepted under mean
    spec = BoardSpec(datasets=["Math23K"], weights={"Math23K:math_accuracy": 2})
    assert build_board(bench, base, paper_entries, spec).rows


# -- duplicates ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"datasets": ["C3", "C3"]}, "datasets: 'C3' given more than once"),
        ({"capabilities": ["MR", "NLG", "MR"]}, "capabilities: 'MR' given more than once"),
        ({"tasks": ["ner", "ner"]}, "tasks: 'ner' given more than once"),
        ({"labels": {"domain": ["news", "news"]}}, "labels.domain: 'news' given more than once"),
    ],
)
def test_duplicate_ids_refused_with_their_names(bench, data, message):
    with pytest.raises(ConfigError, match=message):
        load_board_spec(data)
    key, values = next(iter(data.items()))
    sel = Selection.make(**{key: values})
    with pytest.raises(ConfigError, match="given more than once"):
        sel.resolve(bench)


def test_duplicate_yaml_keys_refused_with_line(tmp_path):
    board = tmp_path / "board.yaml"
    board.write_text("aggregator: weighted\nweights:\n  MR: 5\n  MR: 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"board.yaml:4: .*duplicate key 'MR'"):
        load_board_spec(board)
    cfg = tmp_path / "cuge.yaml"
    cfg.write_text("board:\n  aggregator: weighted\n  weights: {MR: 5, MR: 3}\n", encoding="utf-8")
    from ennead.core.config import load_config

    with pytest.raises(ConfigError, match="duplicate key 'MR'"):
        load_config(CUGEConfig, str(cfg), (), package="ennead.cuge")
    baseline = tmp_path / "base.json"
    baseline.write_text('{"model": "m", "scores": {"C3": {"choice_accuracy": 1}, "C3": {}}}')
    with pytest.raises(ConfigError, match="duplicate key 'C3'"):
        CUGE(CUGEConfig(benchmark="cuge", baseline=str(baseline))).baselines()


# -- advice -------------------------------------------------------------------------------
def test_no_baseline_advice_names_options_that_exist(bench, paper_entries):
    with pytest.raises(DataError) as info:
        build_board(bench, bench.baseline().scores, paper_entries, BoardSpec())
    text = str(info.value)
    assert "--set baseline=FILE" in text and "--board lite" in text
    assert "--baselines" not in text and "--lite" not in text
    registry = Path(bench.source).read_text(encoding="utf-8")
    assert "--baselines" not in registry and "--set baseline=FILE" in registry
    # and the advice works: --set board.lite=true is a real config key
    assert CUGEConfig.model_validate({"board": {"lite": True}}).board.lite


# -- honour code and escaping ----------------------------------------------------------------
def test_honor_flag_and_escaping_in_every_export(bench, paper_entries):
    base = bench.baseline().scores
    evil = Entry("x1", EVIL, dict(paper_entries[-1].raw), org=EVIL, date="2020", honor_code=False)
    board = build_board(bench, base, [*paper_entries, evil], BoardSpec(name=EVIL, lite=True))
    row = next(r for r in board.rows if r.entry.id == "x1")
    assert row.rank == 1  # ranked (earliest of the tied twins), but flagged
    md, page, csv = board.to_markdown(), board.to_html(), board.to_csv()
    assert md.count("no honor code") >= 3  # table cell, drill-down heading, note
    assert "no honor code" in page and "x1" in csv and ",False," in csv
    assert [r["flag"] for r in board.display_rows()] == ["no honor code", "", "", ""]
    assert "<img" not in page and "&lt;img" in page  # HTML: entities (Markdown is just text)
    # Markdown: no tag, no link (every "]" before "(javascript" is escaped)
    assert "<img" not in md and not re.search(r"(?<!\\)\]\(javascript", md)
    heading = next(line for line in md.splitlines() if line.startswith("### Drill-down"))
    assert "&lt;img" in heading and "\\[x\\](javascript" in heading and "\\*b\\*" in heading
    title = md.splitlines()[0]
    assert title.startswith("# CUGE board: &lt;img") and "\\#" in title


# -- messages --------------------------------------------------------------------------------
def test_problem_files_are_named(cuge, tmp_path):
    good = cuge.predict(out=tmp_path / "good.json", runner=RuleRunner()).submission
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"  \n")
    for path, message in [
        (empty, "empty"),
        (tmp_path / "nope.json", "not found"),
        (tmp_path, "is a folder"),
    ]:
        with pytest.raises(DataError, match=message) as info:
            cuge.board([good, path], out=tmp_path / "b")
        assert str(info.value).startswith(str(path))
    broken = tmp_path / "broken.json"
    broken.write_text('{"model": "m", "predictions": {"x": "unterminated', encoding="utf-8")
    with pytest.raises(
        DataError,
        match=r"broken.json: not valid JSON \(Unterminated string "
        r"starting, line 1 column",
    ):
        cuge.score_file(broken)
    with pytest.raises(SubmissionError) as info:
        parse_submission(b'{"a": "b', cuge.benchmark(), {}, 1000)
    assert "at at" not in str(info.value)


def test_empty_test_file_is_reported_as_empty(tiny_dir, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(tiny_dir, data)
    (data / "synth-math" / "test.jsonl").write_text("", encoding="utf-8")
    cuge = CUGE(CUGEConfig(data_dir=str(data)))
    with pytest.raises(DataError, match=r"synth-math/test.jsonl: the test file is empty"):
        cuge.gold()


# -- typed results and the board verb ------------------------------------------------------
def test_verbs_return_typed_results(cuge, tmp_path):
    pred = cuge.predict(out=tmp_path / "rule.json", runner=RuleRunner())
    assert isinstance(pred, RunResult) and pred.artifacts["submission"] == tmp_path / "rule.json"
    ev = cuge.evaluate(pred.submission)
    assert isinstance(ev, RunResult) and ev.metrics["index"] == pytest.approx(100.0)
    sub = json.loads(Path(pred.submission).read_text(encoding="utf-8"))
    sub["model"], sub["honor_code"] = "unsure", False
    flagged = tmp_path / "flagged.json"
    flagged.write_text(json.dumps(sub, ensure_ascii=False), encoding="utf-8")
    assert cuge.evaluate(flagged).honor_code is False
    res = cuge.board([pred.submission, flagged], "lite", out=tmp_path / "board")
    assert isinstance(res, RunResult) and res.models == ["rule-baseline", "unsure"]
    assert set(res.artifacts) == {"markdown", "html", "csv"}
    assert "no honor code" in res.artifacts["markdown"].read_text(encoding="utf-8")


# -- one metric registry ---------------------------------------------------------------------
def test_metrics_listed_without_importing_cuge():
    code = (
        "import sys\n"
        "from ennead.core.eval.metrics import metrics\n"
        "names = metrics.names()\n"
        "assert 'ennead.cuge' not in sys.modules\n"
        "print(sum(n in names for n in ('seg_f1', 'bleu_zh', 'math_accuracy', 'ndcg_at_k')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "4"


def test_service_does_not_import_the_facade():
    import ast

    import ennead.cuge.service as service

    tree = ast.parse(Path(service.__file__).read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "ennead.cuge.api" not in imported and "ennead.cuge.data" in imported
