import json

from typer.testing import CliRunner

from ennead import __version__
from ennead.core.cli.app import app

runner = CliRunner()


def test_version():
    res = runner.invoke(app, ["version"])
    assert res.exit_code == 0
    assert res.stdout.strip() == __version__


def test_ls_json_lists_backends_and_metrics():
    res = runner.invoke(app, ["ls", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    backends = {r["name"] for r in data["backends"]}
    assert {"smollm2", "hf", "tiny", "openai", "vllm"} <= backends
    metrics = {r["name"] for r in data["metrics"]}
    assert {"exact_match", "substring_accuracy", "token_f1", "rouge_l", "accuracy"} <= metrics
    assert "systems" in data


def test_ls_table():
    res = runner.invoke(app, ["ls"])
    assert res.exit_code == 0
    assert "smollm2" in res.stdout


def test_env_json_reports_assets():
    res = runner.invoke(app, ["env", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    names = {a["name"] for a in data["assets"]}
    assert {"smollm2", "minilm"} <= names
    assert data["packages"]["pydantic"]


def test_unknown_command_fails():
    res = runner.invoke(app, ["nosuchverb"])
    assert res.exit_code != 0


def test_main_turns_ennead_errors_into_exit_2(monkeypatch, capsys):
    import pytest

    from ennead.core.cli import app as app_module

    monkeypatch.setattr("sys.argv", ["ennead", "tour", "--system", "nosuch[sys]"])
    with pytest.raises(SystemExit) as info:
        app_module.main()
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "unknown system 'nosuch[sys]'" in err
