"""The CLI through Typer's runner, and the tiny pipeline end to end (smoke size)."""

import json

import pytest
from typer.testing import CliRunner

from ennead.core.errors import ConfigError, StageError, UnknownNameError

SMOKE = [
    "--set",
    "sim.resolution=32",
    "--set",
    "sim.supersample=2",
    "--set",
    "eval.episodes=32",
    "--set",
    "eval.levels=[two_occluded,mixed]",
    "--set",
    "train.batch_size=16",
    "--set",
    "baselines.run=[exhaustive,passive,oracle]",
    "--set",
    "baselines.episodes=32",
    "--set",
    "train.curriculum=[{level: one_object, episodes: 32}, {level: mixed, episodes: 32}]",
    "--set",
    "train.threads=1",
]


def test_config_prints_yaml(cli_app):
    res = CliRunner().invoke(cli_app, ["objexist", "config", "tiny", "--set", "seed=5"])
    assert res.exit_code == 0, res.output
    assert "seed: 5" in res.output and "observation: idmap" in res.output


def test_bad_override_is_a_config_error(cli_app):
    res = CliRunner().invoke(cli_app, ["objexist", "config", "tiny", "--set", "sim.fov=3"])
    assert isinstance(res.exception, ConfigError) and "fov_deg" in str(res.exception)


def test_render_oracle_without_a_run(cli_app, tmp_path):
    res = CliRunner().invoke(
        cli_app,
        [
            "objexist",
            "render",
            "tiny",
            "--out",
            str(tmp_path),
            "--n",
            "2",
            "--level",
            "two_occluded",
        ],
    )
    assert res.exit_code == 0, res.output
    assert (tmp_path / "oracle-two_occluded.png").stat().st_size > 1000
    assert len(list(tmp_path.glob("*.gif"))) == 2
    bad = CliRunner().invoke(
        cli_app, ["objexist", "render", "tiny", "--policy", "learned", "--out", str(tmp_path)]
    )
    assert isinstance(bad.exception, ConfigError) and "--run" in str(bad.exception)
    bad = CliRunner().invoke(cli_app, ["objexist", "render", "tiny", "--policy", "clever"])
    assert isinstance(bad.exception, UnknownNameError)


def test_evaluate_needs_a_run(cli_app, tmp_path):
    res = CliRunner().invoke(cli_app, ["objexist", "evaluate", "tiny", "--run", str(tmp_path)])
    assert isinstance(res.exception, StageError)


def test_train_end_to_end_then_evaluate_and_resume(cli_app, tmp_path):
    run = tmp_path / "run"
    res = CliRunner().invoke(cli_app, ["objexist", "train", "tiny", *SMOKE, "--run", str(run)])
    assert res.exit_code == 0, res.output
    data = json.loads((run / "results.json").read_text())
    results, gate = data["results"], data["acceptance"]
    assert set(results) == {"agent", "exhaustive", "passive", "oracle"}
    assert set(results["agent"]) == {"two_occluded", "two_occluded@holdout", "mixed"}
    assert results["exhaustive"]["mixed"]["moves"] == 6.0
    assert results["passive"]["mixed"]["moves"] == 0.0
    assert results["oracle"]["two_occluded"]["accuracy"] == 1.0
    assert {"accuracy_gap_points", "moves_ratio", "occluded_ok", "passed"} <= set(gate)
    assert (run / "learning_curves.png").exists() and (run / "results.md").exists()
    assert (run / "episodes" / "learned-two_occluded.png").exists()
    # the report goes through core.eval.report: Markdown, and HTML with the pictures embedded
    assert "| agent | mixed |" in (run / "report.md").read_text()
    assert (run / "report.html").read_text().count("data:image/png;base64") == 2
    stages = sorted(p.name for p in (run / "stages").iterdir())
    assert stages == ["train-agent", "train-exhaustive", "train-passive"]
    n_rows = len((run / "metrics.jsonl").read_text().splitlines())
    # a second call resumes: nothing is retrained
    again = CliRunner().invoke(cli_app, ["objexist", "train", "tiny", *SMOKE, "--run", str(run)])
    assert again.exit_code == 0, again.output
    assert len((run / "metrics.jsonl").read_text().splitlines()) == n_rows
    # a different config in the same folder is refused
    other = CliRunner().invoke(
        cli_app, ["objexist", "train", "tiny", *SMOKE, "--set", "seed=9", "--run", str(run)]
    )
    assert isinstance(other.exception, StageError)
    ev = CliRunner().invoke(cli_app, ["objexist", "evaluate", "tiny", *SMOKE, "--run", str(run)])
    assert ev.exit_code == 0, ev.output
    assert "agent" in ev.output and "acceptance" in ev.output
    # facade verbs return core's typed results
    from ennead.core.results import RunResult
    from ennead.objexist.api import EvalResult, ObjExist, TrainResult

    assert issubclass(TrainResult, EvalResult) and issubclass(EvalResult, RunResult)
    (run / "report.md").unlink()
    rep = ObjExist().report(run)
    assert isinstance(rep, RunResult) and rep.artifacts["report_md"].exists()
    assert rep.metrics["exhaustive/mixed/moves"] == 6.0
    assert "seed 0; idmap observations at 32px" in (run / "report.md").read_text()


def test_objexist_is_listed(cli_app):
    from ennead.core.systems import get_system

    spec = get_system("objexist")
    assert spec.demo == "ennead.objexist.api:tour_demo" and spec.extra == "objexist"


def test_cli_module_imports_no_torch():
    import subprocess
    import sys

    code = "import sys, ennead.objexist.cli, ennead.objexist; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.slow
def test_tour_demo_runs(tmp_path):
    from ennead.core.runs import RunDir
    from ennead.objexist.api import tour_demo

    section = tour_demo(RunDir.create(tmp_path / "tour", {"x": 1}))
    assert set(section["tasks"]) == {"two_occluded", "mixed"}
    assert section["higher_is_better"] == {"accuracy": True, "moves": False}
    for img in section["images"]:
        assert (tmp_path / "tour" / img).exists()


def test_check_validates_config_files(cli_app, tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text("preset: tiny\nseed: 3\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("preset: tiny\nsim:\n  fov: 3\n")
    res = CliRunner().invoke(cli_app, ["objexist", "check", str(good), str(bad)])
    assert res.exit_code == 2
    [line] = res.output.splitlines()
    assert line.startswith(f"{bad}: invalid ObjExistConfig: unknown key 'sim.fov'")
    res = CliRunner().invoke(cli_app, ["objexist", "check", str(good)])
    assert res.exit_code == 0 and res.output.strip() == "ok"
