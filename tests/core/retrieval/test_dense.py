import json

import numpy as np
import pytest

from ennead.core.errors import ConfigError, DataError, UnknownNameError
from ennead.core.retrieval import DenseIndex, embedders, get_embedder
from ennead.core.retrieval.hashing import HashingEmbedder


def test_hashing_embedder_is_deterministic_and_normalised():
    a = HashingEmbedder(dim=64).encode(["the cat sat", "", "dogs"])
    b = HashingEmbedder(dim=64).encode(["the cat sat", "", "dogs"])
    assert a.dtype == np.float32 and a.shape == (3, 64)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), [1.0, 0.0, 1.0], atol=1e-6)
    assert not np.allclose(a, HashingEmbedder(dim=64, seed=1).encode(["the cat sat", "", "dogs"]))


def test_embedder_registry_is_lazy_and_suggests():
    assert {"minilm", "hashing"} <= set(embedders.names())
    assert "summary" in embedders.meta("minilm")
    with pytest.raises(UnknownNameError, match="did you mean 'hashing'"):
        get_embedder("hashin")


@pytest.mark.parametrize("index_type", ["flat", "ivf", "hnsw"])
def test_save_load_round_trip_is_identical(tmp_path, docs, index_type):
    index = DenseIndex.build(docs, HashingEmbedder(dim=128), index_type=index_type, batch_size=3)
    queries = ["capital city of France", "energy of a cell", "chess board game", "bread"]
    before = index.batch_search(queries, k=3)
    assert before[0][0].id == "paris" and before[3][0].id == "bread"
    folder = index.save(tmp_path / "dense")
    assert sorted(p.name for p in folder.iterdir()) == ["docs.jsonl", "index.faiss", "meta.json"]
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["embedder"] == "hashing" and meta["dim"] == 128
    assert meta["config"]["index_type"] == index_type
    # No embedder given: rebuilt from meta.json, parameters included.
    again = DenseIndex.load(folder)
    assert again.embedder.params == index.embedder.params
    after = again.batch_search(queries, k=3)
    assert [[(h.id, h.rank) for h in row] for row in after] == [
        [(h.id, h.rank) for h in row] for row in before
    ]
    for row_a, row_b in zip(before, after, strict=True):
        np.testing.assert_allclose([h.score for h in row_a], [h.score for h in row_b], rtol=1e-6)
    assert not list(tmp_path.glob(".dense*"))  # no temporary folders left behind


def test_hits_are_typed_and_ranked(docs):
    index = DenseIndex.build(docs, HashingEmbedder(dim=64))
    hits = index.search("Jupiter planet", k=4)
    assert [h.rank for h in hits] == [1, 2, 3, 4]
    assert hits[0].id == "jupiter" and hits[0].text.startswith("Jupiter")
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert len(index.search("x", k=100)) == len(docs)


def test_loading_with_a_different_dim_is_refused(tmp_path, docs):
    DenseIndex.build(docs, HashingEmbedder(dim=64)).save(tmp_path / "i")
    with pytest.raises(ConfigError, match=r"64-d vectors\) but embedder 'hashing' makes 32-d"):
        DenseIndex.load(tmp_path / "i", HashingEmbedder(dim=32))


def test_loading_with_a_different_embedder_is_refused(tmp_path, docs):
    class Other(HashingEmbedder):
        name = "other"

    DenseIndex.build(docs, HashingEmbedder(dim=64)).save(tmp_path / "i")
    with pytest.raises(ConfigError, match="built with embedder 'hashing', not 'other'"):
        DenseIndex.load(tmp_path / "i", Other(dim=64))


def test_save_overwrites_an_index_but_not_other_folders(tmp_path, docs):
    emb = HashingEmbedder(dim=32)
    DenseIndex.build(docs, emb).save(tmp_path / "i")
    DenseIndex.build(docs[:4], emb).save(tmp_path / "i")
    assert len(DenseIndex.load(tmp_path / "i")) == 4
    precious = tmp_path / "mine"
    precious.mkdir()
    (precious / "thesis.tex").write_text("do not delete")
    with pytest.raises(DataError, match="refusing to overwrite"):
        DenseIndex.build(docs, emb).save(precious)
    assert (precious / "thesis.tex").read_text() == "do not delete"


def test_load_checks_the_folder(tmp_path, docs):
    with pytest.raises(DataError, match="not an index folder"):
        DenseIndex.load(tmp_path)
    from ennead.core.retrieval import BM25Index

    BM25Index.build(docs).save(tmp_path / "b")
    with pytest.raises(DataError, match="this is a 'bm25' index, not a 'dense' index"):
        DenseIndex.load(tmp_path / "b")


def test_minilm_finds_the_paraphrase(minilm, docs):
    assert minilm.dim == 384
    vecs = minilm.encode(["hello world", "goodbye"])
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    index = DenseIndex.build(docs, minilm)
    queries = {
        "Which city is France's seat of government?": "paris",
        "What is the powerhouse of the cell?": "mito",
        "biggest planet orbiting the Sun": "jupiter",
        "a 14-line poem": "sonnet",
        "tallest peak in the world": "everest",
        "how do clouds produce precipitation": "rain",
    }
    hits = index.batch_search(list(queries), k=1)
    assert [h[0].id for h in hits] == list(queries.values())
