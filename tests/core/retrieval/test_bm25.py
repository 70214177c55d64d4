import pytest

from ennead.core.errors import ConfigError, DataError
from ennead.core.retrieval import BM25Index, Hit
from ennead.core.retrieval.bm25 import top_k


def test_obvious_document_ranks_first(docs):
    index = BM25Index.build(docs)
    hits = index.search("which mountain is the highest on Earth?", k=3)
    assert [h.rank for h in hits] == [1, 2, 3]
    assert hits[0].id == "everest"
    assert hits[0].score > hits[1].score
    assert hits[0].doc.meta == {"source": "wiki"}


def test_title_is_indexed(docs):
    docs = [*docs, {"id": "x", "title": "Zanzibar", "text": "An archipelago off the coast."}]
    assert BM25Index.build(docs).search("zanzibar", k=1)[0].id == "x"


def test_batch_search_matches_search(docs):
    index = BM25Index.build(docs)
    queries = ["capital of France", "keyboard instrument with hammers", "flour dough yeast"]
    batch = index.batch_search(queries, k=2)
    assert [b[0].id for b in batch] == ["paris", "piano", "bread"]
    assert batch == [index.search(q, k=2) for q in queries]


def test_k_larger_than_corpus_and_unknown_words(docs):
    index = BM25Index.build(docs[:3])
    assert len(index.search("France", k=50)) == 3
    hits = index.search("qwertyuiop", k=2)  # no known token: zero scores, corpus order
    assert [(h.id, h.score) for h in hits] == [("paris", 0.0), ("mito", 0.0)]
    with pytest.raises(ConfigError, match="k must be a positive integer"):
        index.search("France", k=0)
    with pytest.raises(TypeError, match="list of queries"):
        index.batch_search("France")
    with pytest.raises(DataError, match="query 1 must be a string"):
        index.batch_search(["France", None])


def test_save_load_round_trip(tmp_path, docs):
    index = BM25Index.build(docs, k1=1.2, b=0.7)
    index.save(tmp_path / "bm25")
    again = BM25Index.load(tmp_path / "bm25")
    assert again.params == index.params
    queries = ["highest mountain", "programming language readability", "board game"]
    assert again.batch_search(queries, k=4) == index.batch_search(queries, k=4)


def test_bad_parameters(docs):
    with pytest.raises(ConfigError, match="BM25 b must be in"):
        BM25Index.build(docs, b=2.0)
    with pytest.raises(ConfigError, match="method must be one of"):
        BM25Index.build(docs, method="okapi")


def test_top_k_is_deterministic_on_ties():
    import numpy as np

    scores = np.array([0.5, 1.0, 0.5, 0.5, 2.0], dtype=np.float32)
    assert top_k(scores, 3).tolist() == [4, 1, 0]
    assert top_k(scores, 4).tolist() == [4, 1, 0, 2]
    assert top_k(scores, 10).tolist() == [4, 1, 0, 2, 3]


def test_hit_to_dict(docs):
    hit = BM25Index.build(docs).search("chess board", k=1)[0]
    assert isinstance(hit, Hit)
    row = hit.to_dict()
    assert row["id"] == "chess" and row["rank"] == 1 and row["text"].startswith("Chess")
