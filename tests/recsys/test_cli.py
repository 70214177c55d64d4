"""``ennead recsys`` end to end on tiny synthetic atomic files (seconds)."""

from __future__ import annotations

import json

import pytest

from ennead.core.cli.app import app as root_app
from ennead.core.cli.common import run_app

TINY = [
    "--set",
    "data.target_genres=[Action]",
    "--set",
    "train.pretrain_epochs=2",
    "--set",
    "model.hidden=16",
]


def _sets(toy):
    return ["tiny", *TINY, "--set", f"data.root={toy}"]


def test_pretrain_transfer_evaluate_report(toy, tmp_path, capsys):
    pre, tr = tmp_path / "pre", tmp_path / "tr"
    meta = ["--set", "meta=true"]
    assert (
        run_app(root_app, ["recsys", "pretrain", *_sets(toy), *meta, "-o", str(pre), "--json"]) == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["epochs"] == 2 and (pre / "model.pt").is_file()
    args = ["recsys", "transfer", *_sets(toy), "--set", "mode=deep", "--set", "meta=true"]
    assert run_app(root_app, [*args, "--from", str(pre), "-o", str(tr), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert "item_emb.weight" in res["copied"] and "dir_emb.weight" in res["copied"]
    assert 0 <= res["metrics"]["cold sampled ndcg@10"] <= 1
    ev = ["recsys", "evaluate", str(tr), *_sets(toy), "--set", "meta=true", "--json"]
    assert run_app(root_app, ev) == 0
    again = json.loads(capsys.readouterr().out)["metrics"]
    assert again == res["metrics"]  # the saved model scores the same on the same split
    assert run_app(root_app, ["recsys", "report", str(tr)]) == 0
    assert (tr / "report.html").is_file()


def test_shallow_without_a_source_is_a_one_line_error(toy, tmp_path, capsys):
    code = run_app(root_app, ["recsys", "transfer", *_sets(toy), "-o", str(tmp_path / "t")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: mode shallow needs a pre-trained model")


def test_grid_writes_one_report_with_every_condition(toy, tmp_path, capsys):
    out = tmp_path / "grid"
    args = ["recsys", "grid", *_sets(toy), "--set", "grid.models=[mf,caser]", "-o", str(out)]
    assert run_app(root_app, [*args, "--set", "grid.seeds=[0,1]", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["units"] == 2 * 2 * 2  # models x meta x seeds
    rows = res["rows"]
    assert {(r["model"], r["meta"], r["mode"]) for r in rows} == {
        (m, meta, mode)
        for m in ("mf", "caser")
        for meta in ("off", "on")
        for mode in ("none", "shallow", "deep")
    }
    assert all("gain [95% CI]" in r for r in rows if r["mode"] != "none")
    md = (out / "report.md").read_text()
    assert "full ranking" in md and (out / "figures" / "gain.png").is_file()
    # resumable: a second run reads the finished units back
    assert run_app(root_app, [*args, "--set", "grid.seeds=[0,1]", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == rows


def test_data_and_check_name_the_bad_file(toy, tmp_path, capsys):
    assert run_app(root_app, ["recsys", "data", *_sets(toy), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)["stats"]
    assert stats["cold users"] == 15 and stats["target items"] == 20
    bad = toy / "toy.inter"
    bad.write_text(bad.read_text().replace("item_id:token", "movie:token"))
    code = run_app(root_app, ["recsys", "check", str(bad), "-c", "tiny", *TINY])
    out = capsys.readouterr().out
    assert code == 2 and out.startswith(f"{bad}:1: missing column(s) item_id")


def test_train_is_pretrain_plus_transfer_in_one_run(toy, tmp_path, capsys):
    args = ["recsys", "train", *_sets(toy), "--set", "mode=deep", "-o", str(tmp_path / "t")]
    assert run_app(root_app, [*args, "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["mode"] == "deep" and 0 <= res["metrics"]["warm full ndcg@10"] <= 1
    assert (tmp_path / "t" / "unit" / "pretrain.pt").is_file()


@pytest.mark.slow  # width 224, 6 blocks, length 100: about 10 s of CPU
def test_paper_preset_runs_on_the_cpu_with_one_epoch(toy, tmp_path, capsys):
    sets = [f"data.root={toy}", "data.target_genres=[Action]", "data.k=5", "meta=true"]
    sets += ["train.pretrain_epochs=1", "train.finetune_epochs=1", "mode=deep"]
    args = ["recsys", "train", "paper", *[x for s in sets for x in ("--set", s)]]
    assert run_app(root_app, [*args, "-o", str(tmp_path / "p"), "--json"]) == 0
    assert 0 <= json.loads(capsys.readouterr().out)["metrics"]["cold sampled ndcg@10"] <= 1


def test_grid_plots_the_gain_against_k(toy, tmp_path, capsys):
    out = tmp_path / "gk"
    args = [
        "recsys",
        "grid",
        *_sets(toy),
        "--set",
        "grid.models=[mf]",
        "--set",
        "grid.metas=[false]",
    ]
    assert run_app(root_app, [*args, "--set", "grid.ks=[3,5]", "-o", str(out), "--json"]) == 0
    capsys.readouterr()
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["gain_by_k"]["mf shallow meta off"]) == {"3", "5"}
    assert (out / "figures" / "gain-vs-k.png").is_file() and (out / "k3" / "units").is_dir()
    # the source domain does not depend on K: the K=3 units reuse the K=5 pre-training
    base = (out / "units" / "mf-plain-seed0" / "pretrain.pt").read_bytes()
    assert (out / "k3" / "units" / "mf-plain-seed0" / "pretrain.pt").read_bytes() == base
    unit = json.loads((out / "k3" / "units" / "mf-plain-seed0" / "unit.json").read_text())
    assert unit["epochs_per_s"]["pretrain"] is None  # resumed complete: no epoch trained
