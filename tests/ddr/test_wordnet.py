"""WordNet reverse-dictionary data for the SmolLM2 DDR run: parser, questions, corpus, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from ennead.core.errors import AssetError, DataError
from ennead.ddr.wordnet import (
    WordNetSettings,
    build_dataset,
    first_word,
    format_table,
    leaks,
    load_synsets,
    parse_line,
    read_data_file,
    split_gloss,
)

HEADER = (
    "  1 This software and database is being provided to you, the LICENSEE, by  \n"
    "  2 Princeton University under the following license.  \n"
)


def _line(offset: int, words: list[str], gloss: str, hyper: list[int] = (), ss: str = "n") -> str:
    ws = " ".join(f"{w} 0" for w in words)
    ptrs = " ".join(f"@ {h:08d} {ss} 0000" for h in hyper)
    ptrs = f" {ptrs}" if ptrs else ""
    return f"{offset:08d} 05 {ss} {len(words):02x} {ws} {len(hyper):03d}{ptrs} | {gloss}  \n"


NOUNS = [
    (100, ["animal", "beast"], "a living organism that feeds on organic matter", []),
    (200, ["canine"], "a carnivorous mammal with nonretractile claws and long muzzles", [100]),
    (300, ["feline"], "a lithe-bodied mammal with thick soft fur and retractile claws", [100]),
    (400, ["equine"], "a hoofed mammal with a long mane and tail", [100]),
    (500, ["bovine"], "a large cud-chewing mammal kept for milk and meat", [100]),
    (600, ["fruit"], "the ripened reproductive body of a seed plant", []),
    (700, ["apple"], 'crisp round pome with red or green skin; "an apple a day"', [600]),
    (800, ["pear"], "a sweet juicy gritty-textured pome shaped like a bell", [600]),
    (900, ["plum"], "a smooth-skinned oval drupe with a flattened pit", [600]),
    (1000, ["Paris"], "the capital and largest city of a European country", []),
    (1100, ["runner"], "someone who takes part in running races", []),  # leaks: "running"
    (1200, ["lantern"], "a light with a transparent protective case", []),
]


@pytest.fixture()
def wn_dir(tmp_path: Path) -> Path:
    root = tmp_path / "wordnet"
    root.mkdir()
    (root / "data.noun").write_text(HEADER + "".join(_line(*n) for n in NOUNS))
    verbs = [
        _line(
            100,
            ["breathe", "respire"],
            'draw air into, and expel out of, the lungs; "I can breathe better"',
            [],
            "v",
        ),
        _line(200, ["whisper"], "speak softly without vibration of the vocal cords", [], "v"),
    ]
    (root / "data.verb").write_text(HEADER + "".join(verbs))
    adj = "00000100 00 a 02 big(a) 0 large 0 000 | above average in size or number or quantity\n"
    (root / "data.adj").write_text(HEADER + adj)
    (root / "data.adv").write_text(HEADER)
    return root


def test_parse_line_fields():
    line = (
        "00001740 29 v 04 breathe 0 take_a_breath 0 respire 0 suspire 3 002 @ 00002325 v 0000 "
        "+ 03110323 a 0301 02 + 02 00 + 08 00 | draw air into, and expel out of, the lungs; "
        '"I can breathe better when the air is clean"; "The patient is respiring"  \n'
    )
    s = parse_line(line)
    assert s.offset == "00001740" and s.ss_type == "v" and s.lex_filenum == 29
    assert s.words == ("breathe", "take a breath", "respire", "suspire")
    assert s.hypernyms == ("v:00002325",)
    assert s.definition == "draw air into, and expel out of, the lungs"
    assert s.examples == ("I can breathe better when the air is clean", "The patient is respiring")
    assert s.key == "v:00001740" and s.passage.startswith("breathe, take a breath, respire: draw")


def test_parse_hex_word_count_and_adjective_markers():
    words = " ".join(f"w{i} 0" for i in range(11))
    s = parse_line(f"00000001 00 n 0b {words} 000 | many names\n")
    assert len(s.words) == 11
    adj = parse_line("00000100 00 s 02 big(a) 0 large 0 000 | above average in size\n")
    assert adj.words == ("big", "large") and adj.key == "a:00000100"
    assert split_gloss("no examples here") == ("no examples here", ())


def test_read_skips_licence_header(wn_dir: Path):
    synsets = list(read_data_file(wn_dir / "data.noun"))
    assert len(synsets) == len(NOUNS)
    assert synsets[1].hypernyms == ("n:00000100",)
    assert len(load_synsets(wn_dir)) == len(NOUNS) + 3


@pytest.mark.parametrize(
    "bad, what",
    [
        ("00000100 05 n 02 dog 0 | a dog\n", "too short"),
        ("0000x100 05 n 01 dog 0 000 | a dog\n", "offset"),
        ("00000100 05 q 01 dog 0 000 | a dog\n", "ss_type"),
        ("00000100 05 n zz dog 0 000 | a dog\n", "not numbers"),
        ("00000100 05 n 01 dog 0 002 @ 00000200 n 0000 | a dog\n", "pointers"),
    ],
)
def test_malformed_line_names_file_and_line(tmp_path: Path, bad: str, what: str):
    path = tmp_path / "data.noun"
    path.write_text(HEADER + _line(100, ["cat"], "a small feline") + bad)
    with pytest.raises(DataError, match=what) as err:
        list(read_data_file(path))
    assert f"{path}:4" in str(err.value)


def test_missing_wordnet_names_the_debian_package(tmp_path: Path, wn_dir: Path):
    with pytest.raises(AssetError, match="apt-get install wordnet-base"):
        load_synsets(tmp_path / "nowhere")
    (wn_dir / "data.verb").unlink()
    with pytest.raises(AssetError, match=r"data\.verb.*apt-get install wordnet-base"):
        load_synsets(wn_dir)
    with pytest.raises(DataError, match="unknown WordNet part"):
        load_synsets(wn_dir, ["nouns"])


def test_leaks_catches_lemma_and_stem():
    assert leaks(["runner"], "someone who takes part in running races")
    assert leaks(["apple"], "an Apple tree fruit")
    assert leaks(["take a breath"], "to breathe")  # 'breath' in 'breathe'
    assert not leaks(["lantern"], "a light with a transparent protective case")


def _settings(**kw) -> WordNetSettings:
    base = {"train_questions": 4, "test_questions": 3, "corpus_size": 14, "siblings": 3}
    return WordNetSettings(**{**base, "parts": ["noun"], **kw})


def test_questions_exclude_the_answer_and_are_seeded(wn_dir: Path):
    synsets = load_synsets(wn_dir)
    data = build_dataset(synsets, _settings())
    assert len(data.train) == 4 and len(data.test) == 3
    ids = [r.meta["synset"] for r in data.train + data.test]
    assert len(set(ids)) == 7  # distinct questions, disjoint splits
    for r in data.train + data.test:
        assert r.question.startswith("Which word means")
        assert all(a.lower() not in r.question.lower() for a in r.answers)
        assert all(len(a) >= 4 and a.islower() for a in r.answers)
    asked = {r.meta["synset"] for r in data.train + data.test}
    assert "n:00001100" not in asked  # 'runner' leaks through 'running'
    assert "n:00001000" not in asked  # 'Paris' is not a lower-case word
    assert all(k.startswith("n:") for k in asked)  # parts: noun only
    again = build_dataset(synsets, _settings())
    assert [r.id for r in again.train] == [r.id for r in data.train]
    assert again.corpus == data.corpus
    other = build_dataset(synsets, _settings(seed=3))
    assert [r.id for r in other.train + other.test] != [r.id for r in data.train + data.test]


def test_corpus_holds_questions_and_sibling_distractors(wn_dir: Path):
    synsets = load_synsets(wn_dir)
    data = build_dataset(synsets, _settings(corpus_size=9))
    keys = {d["id"] for d in data.corpus}
    assert len(data.corpus) == 9
    assert {r.meta["synset"] for r in data.train + data.test} <= keys
    assert data.stats["sibling_distractors"] >= 1
    for d in data.corpus:
        if d["id"] == "n:00000700":
            assert d["text"] == "apple: crisp round pome with red or green skin"


def test_too_few_eligible_synsets_or_small_corpus(wn_dir: Path):
    synsets = load_synsets(wn_dir)
    with pytest.raises(DataError, match="eligible synsets"):
        build_dataset(synsets, _settings(train_questions=20))
    with pytest.raises(DataError, match="corpus_size"):
        build_dataset(synsets, _settings(corpus_size=5))


def test_first_word_and_table():
    assert first_word('"Apple": a fruit') == "apple"
    assert first_word("  ...  ") == ""
    md = format_table({"vanilla": {"accuracy": 12.5, "first_word": 10.0}}, {"index": 3.21})
    assert "| vanilla | 12.5 | 10.0 | - | - | - |" in md and "| index | 3.2 |" in md


def test_cli_lists_wordnet_command():
    from typer.testing import CliRunner

    from ennead.ddr.cli import app

    res = CliRunner().invoke(app, ["wordnet", "--help"])
    assert res.exit_code == 0 and "--train-questions" in res.output


WORDNET = Path("/usr/share/wordnet")


@pytest.mark.slow
@pytest.mark.skipif(
    not (WORDNET / "data.noun").exists(), reason="needs apt-get install wordnet-base"
)
def test_smollm2_wordnet_run_end_to_end(tmp_path: Path):
    """Tiny sizes of the real run: every stage finishes, a rerun resumes without redoing any."""
    from ennead.core.config import load_config
    from ennead.core.runs import RunDir
    from ennead.ddr.config import DDRConfig
    from ennead.ddr.wordnet import run_wordnet

    sizes = ["wordnet.train_questions=4", "wordnet.test_questions=4", "wordnet.corpus_size=40"]
    cfg = load_config(
        DDRConfig, "smollm2", ["train.gen_dpo.epochs=1", *sizes], package="ennead.ddr"
    )
    run = RunDir.create(tmp_path / "run", cfg, seed=0, system="ddr")
    res = run_wordnet(cfg, run, threads=2)
    assert set(res["table"]) == {"closed_book", "vanilla", "ddr"}
    assert (run.path / "table.md").exists() and (run.path / "results.json").exists()
    assert all(run.stages().values())
    again = run_wordnet(cfg, RunDir(run.path), threads=2)
    assert again["table"] == res["table"]
