import pytest

from ennead.core.errors import DataError
from ennead.persllm.materials import load_persona, load_personas, shipped_personas_dir

GOOD_YAML = "name: Ada\nstages: [I]\nstances:\n  I: {chess: pro}\n"
GOOD_FILES = {"I/knowledge.txt": "ada supports chess .\n", "I/style.txt": "well , yes .\n"}


def test_shipped_personas_are_three_with_20_topics_flips_and_stage_facts():
    ps = load_personas(shipped_personas_dir())
    assert len(ps) == 3
    for p in ps:
        assert p.stages == ["I", "II"]
        assert len(p.topics()) >= 20
        assert 3 <= len(p.flipped()) < len(p.topics())
        assert p.facts["I"]["job"] != p.facts["II"]["job"]
        assert p.marker and p.description
        assert all(len(p.knowledge[s]) >= 10 and len(p.style[s]) >= 5 for s in p.stages)


def test_a_good_persona_loads(tmp_path, write_persona):
    p = load_persona(write_persona(tmp_path / "ada", GOOD_YAML, GOOD_FILES))
    assert p.key == "ada" and p.stances == {"I": {"chess": "pro"}}
    assert p.knowledge["I"] == ["ada supports chess ."]


@pytest.mark.parametrize(
    ("yaml_text", "files", "message", "where", "line"),
    [
        (GOOD_YAML, {"I/knowledge.txt": "x\n"}, "not found", "style.txt", None),
        (GOOD_YAML, {**GOOD_FILES, "I/style.txt": "\n  \n"}, "empty", "style.txt", None),
        ("name: Ada\nstages: [I, II]\n", GOOD_FILES, "stage 'II'", "persona.yaml", 2),
        (
            "name: Ada\nstages: [I]\nstances:\n  I: {chess: maybe}\n",
            GOOD_FILES,
            "allowed: pro, contra",
            "persona.yaml",
            4,
        ),
        (
            "name: Ada\nstages: [I]\ncolour: red\n",
            GOOD_FILES,
            "unknown key 'colour'",
            "persona.yaml",
            3,
        ),
        ("stages: [I]\n", GOOD_FILES, "'name'", "persona.yaml", None),
        ("name: Ada\nstages: [I\n", GOOD_FILES, "invalid YAML", "persona.yaml", None),
        (
            "name: Ada\nstages: [I]\nfacts:\n  III: {home: x}\n",
            GOOD_FILES,
            "stage 'III'",
            "persona.yaml",
            4,
        ),
    ],
)
def test_bad_personas_name_the_file_and_line(
    tmp_path, write_persona, yaml_text, files, message, where, line
):
    folder = write_persona(tmp_path / "ada", yaml_text, files)
    with pytest.raises(DataError) as exc:
        load_persona(folder)
    assert message in exc.value.message
    assert str(exc.value.path).endswith(where)
    if line is not None:
        assert exc.value.line == line


def test_missing_persona_yaml_and_empty_root(tmp_path):
    with pytest.raises(DataError, match=r"persona\.yaml"):
        load_persona(tmp_path)
    with pytest.raises(DataError, match="no persona folders"):
        load_personas(tmp_path)
