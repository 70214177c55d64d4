from __future__ import annotations

import json

from typer.testing import CliRunner

SMALL = [
    "--set",
    "simulator.n_frames=80",
    "--set",
    "simulator.n_people=6",
    "--set",
    "search.space={appearance_thresh: [0.1, 0.7, 0.3]}",
]


def test_simulate_score_evaluate_optimize_report(root_cli, tmp_path):
    runner = CliRunner()
    res = runner.invoke(
        root_cli, ["sqe", "simulate", "tiny", *SMALL, "-o", str(tmp_path / "d"), "--seed", "5"]
    )
    assert res.exit_code == 0, res.output
    seq = tmp_path / "d" / "sim-5"
    assert (seq / "det" / "det.npy").is_file() and (seq / "gt" / "gt.txt").is_file()

    sets = [*SMALL, "--set", f"sequences=[{seq}]"]
    res = runner.invoke(root_cli, ["sqe", "evaluate", "tiny", *sets, "-o", str(tmp_path / "ev")])
    assert res.exit_code == 0, res.output
    assert "median Spearman(SQE, IDF1)" in res.output
    summary = json.loads((tmp_path / "ev" / "summary.json").read_text())
    assert summary["sequences"][0]["sequence"] == "sim-5"
    html = (tmp_path / "ev" / "report.html").read_text()
    assert "data:image/png;base64" in html and "sim-5" in html

    best = tmp_path / "ev" / "artifacts" / "sim-5-best.txt"
    res = runner.invoke(
        root_cli,
        [
            "sqe",
            "score",
            str(best),
            "--json",
            "--detections",
            str(seq / "det" / "det.txt"),
            "--plot",
            str(tmp_path / "h.png"),
        ],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["sqe"] > 0 and out["n"] >= 1 and (tmp_path / "h.png").is_file()

    res = runner.invoke(
        root_cli,
        [
            "sqe",
            "optimize",
            "tiny",
            *sets,
            "--set",
            "search.method=tpe",
            "--set",
            "search.n_trials=3",
            "-o",
            str(tmp_path / "op"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "SQE self-optimisation" in res.output
    chosen = json.loads((tmp_path / "op" / "summary.json").read_text())["sequences"][0]["chosen"]
    assert 0.1 <= chosen["appearance_thresh"] <= 0.7
    res = runner.invoke(root_cli, ["sqe", "report", str(tmp_path / "op")])
    assert res.exit_code == 0 and "report.html" in res.output


def test_cli_errors_are_one_line_exit_2(tmp_path):
    import subprocess
    import sys

    bad = tmp_path / "t.txt"
    bad.write_text("1,1,10,10,-4,5,1\n")
    code = (
        "import sys; from ennead.core.cli import app as m; from ennead.sqe.cli import app as s;"
        "m.app.add_typer(s, name='sqe') if 'sqe' not in {g.name for g in m.app.registered_groups}"
        " else None; sys.argv=['ennead', 'sqe', 'score', sys.argv[1]]; m.main()"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(bad)], capture_output=True, text=True)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: box has non-positive size")
    assert lines[0].endswith("t.txt:1)")


def test_config_verb_and_bad_key(root_cli):
    runner = CliRunner()
    res = runner.invoke(root_cli, ["sqe", "config", "tiny", "--set", "metric.k2=4"])
    assert res.exit_code == 0 and "k2: 4" in res.output
    res = runner.invoke(root_cli, ["sqe", "config", "tiny", "--set", "metric.kk=4"])
    assert res.exit_code != 0 and "metric.kk" in str(res.exception)


def test_check_lists_each_bad_tracker_output(root_cli, tmp_path):
    good = tmp_path / "good.txt"
    good.write_text("1,1,10,10,4,5,1\n2,1,11,10,4,5,1\n")
    bad = tmp_path / "bad.txt"
    bad.write_text("1,1,10,10,4,5,1\n2,1,10,10,-4,5,1\n")
    runner = CliRunner()
    res = runner.invoke(root_cli, ["sqe", "check", str(good), str(bad), str(tmp_path)])
    assert res.exit_code == 2
    assert res.output.splitlines() == [
        f"{bad}:2: box has non-positive size w=-4 h=5; must be > 0",
        f"{tmp_path}: tracker output is a folder; expected a file",
    ]
    res = runner.invoke(root_cli, ["sqe", "check", str(good), "-c", "tiny"])
    assert res.exit_code == 0 and res.output.strip() == "ok"
