"""The tuning study: selection rules, leave-one-out global setting, intervals, run folder, CLI."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from ennead.core.config import load_config
from ennead.core.errors import ConfigError
from ennead.sqe import SQE, SQEConfig
from ennead.sqe.study import analyse, load_result, pick, selection_score


def _row(v: float, sqe: float, idf1: float, n: int = 10, errors: int = 0) -> dict:
    return {
        "params": {"appearance_thresh": v},
        "sqe": sqe,
        "n": n,
        "L": 20.0,
        "fp": errors,
        "dif": 0,
        "sim": 0,
        "idf1": idf1,
        "mota": idf1,
    }


def test_scores_and_ablations():
    r = _row(0.3, 5.0, 0.7, n=10, errors=3)
    assert selection_score(r, "sqe") == 5.0
    assert selection_score(r, "errors") == -3.0
    assert selection_score(r, "nl", k1=1.0) == pytest.approx(10 * 20 / 30)
    with pytest.raises(ConfigError, match="unknown study score"):
        selection_score(r, "bogus")


def test_pick_ties_go_to_default_and_margin_keeps_default():
    trials = [_row(0.1, 1.0, 0.5), _row(0.3, 2.0, 0.6), _row(0.5, 2.0, 0.7), _row(0.7, 2.1, 0.4)]
    assert pick(trials, "appearance_thresh", "sqe", 0.3)["params"]["appearance_thresh"] == 0.7
    # 2.1 beats the default's 2.0 by 5%: a 10% margin keeps the default
    kept = pick(trials, "appearance_thresh", "sqe", 0.3, margin=0.1)
    assert kept["params"]["appearance_thresh"] == 0.3
    # equal error counts everywhere: the tie goes to the default
    assert pick(trials, "appearance_thresh", "errors", 0.5)["params"]["appearance_thresh"] == 0.5


def _sweep(name: str, idf1: list[float], sqe: list[float]) -> dict:
    vals = [0.1, 0.3, 0.5]
    return {
        "sequence": name,
        "sweeps": {"appearance_thresh": [_row(v, s, i) for v, s, i in zip(vals, sqe, idf1)]},
    }


def test_analyse_leave_one_out_oracle_and_interval():
    cfg = load_config(
        SQEConfig,
        None,
        ["study.params={appearance_thresh: [0.1, 0.5, 0.2]}", "study.bootstrap=500"],
        package="ennead.sqe",
    )
    sweeps = {
        "g": [
            _sweep("a", [0.5, 0.6, 0.9], [1, 2, 3]),  # SQE picks 0.5, the oracle
            _sweep("b", [0.5, 0.8, 0.6], [1, 2, 3]),  # SQE picks 0.5, oracle is 0.3
            _sweep("c", [0.4, 0.7, 0.6], [3, 2, 1]),  # SQE picks 0.1, the worst
        ]
    }
    rows, cells = analyse(sweeps, cfg)
    a, b, c = (r for r in rows if r.param == "appearance_thresh")
    assert (a.picks["sqe"], a.idf1_tuned["sqe"], a.idf1_default) == (0.5, 90.0, 60.0)
    assert (b.oracle, b.idf1_oracle) == (0.3, 80.0)
    # global for c: best mean over a and b: 0.3 -> 70, 0.5 -> 75
    assert (c.global_value, c.idf1_global) == (0.5, pytest.approx(60.0))
    assert a.spearman["sqe"] == pytest.approx(1.0) and c.spearman["sqe"] == pytest.approx(-0.5)
    cell = next(x for x in cells if x.group == "g" and x.score == "sqe")
    # tuned 90, 60, 40 vs default 60, 80, 70: mean difference -6.67
    assert cell.tuned_minus_default.estimate == pytest.approx(-20 / 3)
    assert cell.tuned_minus_default.low <= -20 / 3 <= cell.tuned_minus_default.high
    assert cell.oracle == pytest.approx((90 + 80 + 70) / 3)


@pytest.fixture(scope="module")
def small_cfg():
    return load_config(
        SQEConfig,
        None,
        [
            "simulator.n_frames=60",
            "simulator.n_people=5",
            "study.groups=[{name: street, sequences: ['sim:100', 'sim:101']}, "
            "{name: reid, sequences: ['sim:400', 'sim:401'], simulator: {appearance: reid}}]",
            "study.params={appearance_thresh: [0.1, 0.5, 0.2], max_age: [10, 30, 20]}",
            "study.bootstrap=200",
        ],
        package="ennead.sqe",
    )


def test_tune_study_run_folder_report_and_resume(small_cfg, tmp_path):
    res = SQE(small_cfg).tune_study(tmp_path / "run")
    assert res.run_dir == tmp_path / "run"
    assert {c.group for c in res.cells} == {"street", "reid", "all"}
    assert len(res.rows) == 2 * 4  # two parameters x four sequences
    cell = res.cell("appearance_thresh", "sqe", "all")
    assert cell.n == 4 and cell.tuned_minus_default.low <= cell.tuned_minus_default.high
    assert "appearance_thresh.sqe.tuned_minus_default" in res.metrics
    md = res.artifacts["report_md"].read_text()
    assert "Ablation" in md and "oracle" in md and "study-max_age.png" in md
    assert "data:image/png;base64" in res.artifacts["report"].read_text()
    assert load_result(tmp_path / "run").cells == res.cells
    # a second call reuses every sweep stage and gives the same numbers
    again = SQE(small_cfg).tune_study(tmp_path / "run")
    assert again.metrics == res.metrics


def test_default_must_be_on_the_grid(tmp_path):
    cfg = load_config(
        SQEConfig,
        None,
        ["study.params={appearance_thresh: [0.35, 0.95, 0.1]}"],
        package="ennead.sqe",
    )
    with pytest.raises(ConfigError, match=r"does not contain the tracker default 0\.3"):
        SQE(cfg).tune_study(tmp_path / "run")


def test_cli_tune_study_json(root_cli, small_cfg, tmp_path):
    cfg_file = tmp_path / "study.yaml"
    cfg_file.write_text(small_cfg.to_yaml())
    out = CliRunner().invoke(
        root_cli,
        ["sqe", "tune-study", str(cfg_file), "--run-dir", str(tmp_path / "r"), "--json"],
    )
    assert out.exit_code == 0, out.output
    text = out.stdout
    data = json.loads(text[text.index("{\n") :])  # log lines may come first when mixed
    assert data["run_dir"] == str(tmp_path / "r") and data["cells"]
