import pytest

from ennead.core.errors import ConfigError
from ennead.core.retrieval import Retriever, RetrieverConfig, build_retriever


def test_config_rejects_unknown_keys_and_bad_values():
    with pytest.raises(ValueError, match="kind"):
        RetrieverConfig(kind="splade")
    with pytest.raises(ValueError, match="extra"):
        RetrieverConfig(kk=3)
    assert RetrieverConfig().kind == "dense" and RetrieverConfig().embedder == "minilm"


def test_bm25_retriever_builds_saves_and_reopens(tmp_path, docs):
    cfg = RetrieverConfig(kind="bm25", k=2, index_path=tmp_path / "idx")
    r = build_retriever(cfg, docs)
    assert isinstance(r, Retriever)
    hits = r.search("Which board game has 64 squares?")
    assert len(hits) == 2 and hits[0].id == "chess"
    again = build_retriever(cfg)  # no corpus: reopened from disk
    assert again.search("Which board game has 64 squares?") == hits
    assert len(again.search("chess", k=5)) == 5


def test_dense_retriever_with_hashing_embedder(tmp_path, docs):
    cfg = RetrieverConfig(
        kind="dense",
        k=1,
        embedder="hashing",
        embedder_options={"dim": 64},
        index_path=tmp_path / "d",
        dense={"index_type": "flat", "batch_size": 4},
    )
    r = build_retriever(cfg, docs)
    assert r.search("piano strings hammers")[0].id == "piano"
    assert build_retriever(cfg, docs).batch_search(["piano strings hammers"]) == [
        r.search("piano strings hammers")
    ]


def test_changed_corpus_is_refused(tmp_path, docs):
    cfg = RetrieverConfig(kind="bm25", index_path=tmp_path / "idx")
    build_retriever(cfg, docs)
    with pytest.raises(ConfigError, match="built from a different corpus"):
        build_retriever(cfg, docs[:5])


def test_nothing_to_build_from(tmp_path):
    with pytest.raises(ConfigError, match=r"no index at .*pass a corpus"):
        build_retriever(RetrieverConfig(kind="bm25", index_path=tmp_path / "none"))
