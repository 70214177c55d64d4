"""``chat`` fed through stdin, ``check`` on bad files, one-line errors."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from ennead.chatmol.cli import app
from ennead.core.cli.app import app as root_app
from ennead.core.cli.common import run_app


def test_chat_without_model_uses_the_filter_and_checks_every_turn(small_pool_file: Path) -> None:
    stdin = "\n".join(
        [
            "It has a carboxylic acid group.",
            "It has 1 aromatic ring.",
            "make it glow in the dark",
            "pick 2",
            "describe",
            "edit C1CC(",
            "edit OC(=O)c1ccccc1",
            "quit",
        ]
    )
    res = CliRunner().invoke(
        app,
        ["chat", "--set", f"data.pool={small_pool_file}", "--set", "model.beams=3"],
        input=stdin,
    )
    assert res.exit_code == 0, res.output
    out = res.output
    assert "[2/2 requirements; meets all]" in out  # the filter meets both turns
    assert "I did not understand: make it glow in the dark" in out
    assert "carboxylic acid" in out and "pick N" in out  # the help lists what it understands
    assert "Current molecule:" in out
    assert "It has a carboxylic acid group." in out.split("describe")[-1]
    assert "invalid SMILES: 'C1CC('" in out  # counted and shown, no crash
    assert "Current molecule: O=C(O)c1ccccc1" in out


def test_check_names_the_bad_line(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    tsv = tmp_path / "chebi.txt"
    tsv.write_text("CID\tSMILES\tdescription\n1\tCCO\tethanol\n2\tCC\n", encoding="utf-8")
    dia = tmp_path / "d.jsonl"
    dia.write_text('{"id": "a", "turns": ["x"], "targets": []}\n', encoding="utf-8")
    smi = tmp_path / "pool.smi"
    smi.write_text("CCO\nC1CC(\n", encoding="utf-8")
    code = run_app(root_app, ["chatmol", "check", str(tsv), str(dia), str(smi)])
    out = capsys.readouterr().out
    assert code == 2
    assert f"{tsv}:3: expected 3 tab-separated fields, got 2" in out
    assert f"{dia}:1:" in out
    assert str(smi) not in out  # an invalid SMILES in a pool is counted, not an error


def test_evaluate_without_training_is_a_one_line_error(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code = run_app(root_app, ["chatmol", "evaluate", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "run `ennead chatmol train` first" in err
