import json

import pytest
import yaml
from typer.testing import CliRunner

from ennead.core.cli.app import app
from ennead.core.config import load_config, preset_path
from ennead.core.errors import ConfigError, DataError
from ennead.ddr import DDR, DDRConfig
from ennead.ddr.modules import KnowledgeRefiner

from .test_blocks import ScriptedLM


def test_presets_load_and_round_trip():
    for name in ("tiny", "default", "paper"):
        cfg = load_config(DDRConfig, name, package="ennead.ddr")
        assert DDRConfig.model_validate(yaml.safe_load(cfg.to_yaml())) == cfg
    assert load_config(DDRConfig, "paper", package="ennead.ddr").retrieval.k == 100
    assert yaml.safe_load(preset_path("ennead.ddr", "tiny").read_text())["gen"]["top_n"] == 3


def test_bad_key_named():
    with pytest.raises(ConfigError, match=r"unknown key 'kr.need'.*did you mean 'need_n'"):
        load_config(DDRConfig, "tiny", ["kr.need=3"], package="ennead.ddr")


def test_logprob_decision_reads_likelihoods():
    class LL(ScriptedLM):
        def loglikelihood(self, pairs):
            return [(-1.0 if ("good" in p) == (c.strip() == "YES") else -5.0) for p, c in pairs]

    kr = KnowledgeRefiner(LL(lambda t, k: ""), need_n=5, chat=False, decision="logprob")
    assert kr.refine("q", ["good a", "bad b", "good c"]).kept == ["good a", "good c"]


def test_tiny_pipeline_end_to_end():
    cfg = load_config(DDRConfig, "tiny", package="ennead.ddr")
    ddr = DDR(cfg)
    preds = ddr.predict(
        [
            {
                "id": "q1",
                "question": "where does tovak live ?",
                "answers": ["mirel"],
                "passages": ["tovak lives in mirel .", "bob plays the lute .", "x y z ."],
            }
        ]
    )
    assert len(preds) == 1 and preds[0].id == "q1"
    assert preds[0].score in (0.0, 1.0)
    assert 1 <= len(preds[0].passages) <= 3


def test_missing_passages_is_a_clear_error():
    cfg = load_config(DDRConfig, "tiny", package="ennead.ddr")
    with pytest.raises(DataError, match="have no passages"):
        DDR(cfg).predict([{"question": "q?", "answers": ["a"]}])


def test_cli_predict_from_file(tmp_path):
    inp = tmp_path / "q.jsonl"
    inp.write_text(
        json.dumps({"question": "who ?", "passages": ["ann is here ."], "answers": ["ann"]}) + "\n"
    )
    out = tmp_path / "p.jsonl"
    res = CliRunner().invoke(app, ["ddr", "predict", "tiny", "-i", str(inp), "-o", str(out)])
    assert res.exit_code == 0, res.output
    row = json.loads(out.read_text())
    assert row["question"] == "who ?" and "answer" in row
    res = CliRunner().invoke(app, ["ddr", "config", "tiny", "--set", "gen.top_n=2"])
    assert "top_n: 2" in res.stdout


def test_cli_predict_bad_stdin():
    res = CliRunner().invoke(app, ["ddr", "predict", "tiny"], input='{"question": \n')
    assert res.exit_code != 0
    assert "<stdin>:1" in str(res.exception)


def test_bm25_retrieval_feeds_the_pipeline(tmp_path):
    corpus = tmp_path / "c.jsonl"
    docs = ["tovak lives in mirel .", "bob plays the lute .", "ann works for zorg ."]
    corpus.write_text(
        "".join(json.dumps({"id": str(i), "text": d}) + "\n" for i, d in enumerate(docs))
    )
    cfg = load_config(
        DDRConfig,
        "tiny",
        ["retrieval.kind=bm25", f"retrieval.corpus={corpus}", "retrieval.k=1", "kr.enabled=false"],
        package="ennead.ddr",
    )
    pred = DDR(cfg).predict([{"question": "where does tovak live ?", "answers": ["mirel"]}])[0]
    assert pred.passages == ["tovak lives in mirel ."]


def test_dense_index_without_a_saved_index_is_built_once(tmp_path, monkeypatch):
    """`predict` with dense retrieval and no retrieval.index embeds the corpus once (cached by
    the corpus's content hash), then reopens it; an edited corpus gets a new index."""
    from ennead.core.retrieval import dense as dense_mod
    from ennead.ddr.pipeline import build_retriever

    monkeypatch.setenv("ENNEAD_CACHE", str(tmp_path / "cache"))
    corpus = tmp_path / "corpus.jsonl"
    docs = [{"id": str(i), "text": f"passage number {i} about topic {i % 3}"} for i in range(6)]
    corpus.write_text("\n".join(json.dumps(d) for d in docs) + "\n")
    cfg = DDRConfig.model_validate(
        {"retrieval": {"kind": "dense", "corpus": str(corpus), "k": 2, "embedder": "hashing"}}
    )
    first = build_retriever(cfg).batch_search(["topic 1"], 2)
    real = dense_mod.DenseIndex.build
    calls = []
    monkeypatch.setattr(
        dense_mod.DenseIndex, "build", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    again = build_retriever(cfg).batch_search(["topic 1"], 2)
    assert calls == [] and [h.text for h in again[0]] == [h.text for h in first[0]]
    corpus.write_text(corpus.read_text() + json.dumps({"id": "9", "text": "new"}) + "\n")
    build_retriever(cfg)
    assert calls == [1]


def test_demo_lists_world_settings_and_records_them(tmp_path, monkeypatch):
    import re

    import ennead.ddr.synthetic as synthetic
    from ennead.ddr.world import SCENARIOS

    runner = CliRunner()
    text = re.sub(r"\x1b\[[0-9;]*m", "", runner.invoke(app, ["ddr", "demo", "--help"]).output)
    for opt in ("--world-seed", "--entities", "--known-fraction", "--train-questions"):
        assert opt in text
    seen = {}

    def fake(cfg, run):
        seen["cfg"] = cfg
        return {"table": {"vanilla": dict.fromkeys((*SCENARIOS, "overall"), 50.0)}}

    monkeypatch.setattr(synthetic, "run_synthetic", fake)
    args = ["ddr", "demo", "--world-seed", "7", "--entities", "40", "--out", str(tmp_path / "r")]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    cfg = seen["cfg"]
    assert cfg.seed == cfg.synthetic.world.seed == 7 and cfg.synthetic.world.n_entities == 40
    assert "n_entities: 40" in (tmp_path / "r" / "config.yaml").read_text()
