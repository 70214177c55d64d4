"""The CLI verbs on a run folder holding small untrained models (fast; answers are noise)."""

import pytest
from typer.testing import CliRunner

from ennead.core.cli.app import app

runner = CliRunner()


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from ennead.core.backends.tiny_model import build_tiny_model, build_tiny_tokenizer
    from ennead.persllm import train as T
    from ennead.persllm import world as W

    root = tmp_path_factory.mktemp("run")
    wp = W.make_personas(0, n_personas=2, n_topics=4)
    W.write_personas(wp, root / "personas")
    tok = build_tiny_tokenizer(W.vocabulary_texts())
    model = build_tiny_model(tok, hidden_size=16, num_layers=1, num_heads=2)
    T.add_stage_tokens(model, tok, ["I", "II"])
    for p in wp:
        T.save_model(model, tok, root / "models" / p.name)
    return root, [p.name for p in wp]


def test_chat_is_a_repl_on_stdin(run):
    root, names = run
    res = runner.invoke(
        app,
        ["persllm", "chat", str(root), names[0], "--stage", "I", "-c", "tiny"],
        input="do you like chess ?\nwhat is your home ?\n\nnot read\n",
    )
    assert res.exit_code == 0, res.output
    assert res.output.count(f"{names[0]}> ") == 2  # two turns, then the empty line ends it


def test_chat_refuses_an_unknown_persona_or_stage(run):
    root, names = run
    res = runner.invoke(app, ["persllm", "chat", str(root), "nobody", "-c", "tiny"], input="hi\n")
    assert res.exit_code != 0 and "unknown persona" in str(res.exception)
    res = runner.invoke(app, ["persllm", "chat", str(root), names[0], "-s", "IX", "-c", "tiny"])
    assert res.exit_code != 0 and "no stage 'IX'" in str(res.exception)


def test_dialogue_writes_a_markdown_transcript(run):
    root, names = run
    res = runner.invoke(
        app, ["persllm", "dialogue", str(root), *names, "--turns", "3", "-c", "tiny"]
    )
    assert res.exit_code == 0, res.output
    assert res.output.count(f"{names[1]}: ") == 1
    text = (root / f"dialogue-{names[0]}-{names[1]}.md").read_text()
    assert text.startswith("# Dialogue") and text.count(f"**{names[0]}**") == 2


def test_check_names_the_file_and_line(tmp_path, world_personas):
    good = world_personas / sorted(p.name for p in world_personas.iterdir())[0] / "persona.yaml"
    bad = tmp_path / "bad" / "persona.yaml"
    bad.parent.mkdir()
    bad.write_text("name: X\nstages: [I]\nstances:\n  I: {chess: perhaps}\n")
    res = runner.invoke(app, ["persllm", "check", str(good), str(bad)])
    assert res.exit_code == 2
    assert f"{bad}:4:" in res.output and str(good) not in res.output.replace(str(bad), "")


def test_config_prints_the_presets():
    for preset in ("tiny", "default", "paper", "smollm2"):
        res = runner.invoke(app, ["persllm", "config", preset])
        assert res.exit_code == 0, res.output
        assert "model:" in res.output
