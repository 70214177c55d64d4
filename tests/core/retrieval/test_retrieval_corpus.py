import json

import pytest

from ennead.core.errors import DataError
from ennead.core.retrieval import Corpus, Document, as_corpus, load_corpus


def _write(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_load_keeps_title_and_metadata(tmp_path):
    path = _write(
        tmp_path / "c.jsonl",
        [
            json.dumps({"id": "a", "text": "alpha", "title": "A", "lang": "en"}),
            "",
            json.dumps({"id": 7, "text": "seven"}),
        ],
    )
    corpus = load_corpus(path)
    assert corpus.ids == ["a", "7"]
    assert corpus.get("a") == Document("a", "alpha", "A", {"lang": "en"})
    assert corpus.get("a").contents == "A\nalpha"
    assert corpus[1].to_dict() == {"id": "7", "text": "seven"}


def test_malformed_json_names_file_and_line(tmp_path):
    path = _write(tmp_path / "c.jsonl", ['{"id": "a", "text": "x"}', "", '{"id": "b", "text": '])
    with pytest.raises(DataError, match=r"c\.jsonl:3: invalid JSON"):
        load_corpus(path)


def test_missing_text_names_file_and_line(tmp_path):
    path = _write(tmp_path / "c.jsonl", ['{"id": "a", "text": "x"}', '{"id": "b", "body": "y"}'])
    with pytest.raises(DataError, match=r"c\.jsonl:2: document 'b' has no 'text' field"):
        load_corpus(path)


def test_duplicate_id_names_both_lines(tmp_path):
    path = _write(
        tmp_path / "c.jsonl",
        [
            '{"id": "a", "text": "x"}',
            '{"id": "b", "text": "y"}',
            '{"id": "a", "text": "z"}',
        ],
    )
    with pytest.raises(
        DataError, match=r"c\.jsonl:3: duplicate document id 'a' \(first seen on line 1\)"
    ):
        load_corpus(path)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"text": "x"}', "missing required field 'id'"),
        ('{"id": true, "text": "x"}', "'id' must be a string or integer"),
        ('{"id": "a", "text": 3}', "'text' of 'a' must be a string"),
        ('{"id": "a", "text": "  "}', "document 'a' has empty 'text' and no title"),
        ("[1, 2]", "expected a JSON object"),
    ],
)
def test_bad_records(tmp_path, line, message):
    path = _write(tmp_path / "c.jsonl", [line])
    with pytest.raises(DataError, match=r"c\.jsonl:1: " + message.replace("(", r"\(")):
        load_corpus(path)


def test_empty_corpus_is_an_error(tmp_path):
    path = _write(tmp_path / "empty.jsonl", ["", "  "])
    with pytest.raises(DataError, match=r"empty\.jsonl: the corpus is empty"):
        load_corpus(path)
    with pytest.raises(DataError, match="the corpus is empty"):
        as_corpus([])


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="corpus file not found"):
        load_corpus(tmp_path / "nope.jsonl")


def test_in_memory_items_are_validated():
    with pytest.raises(DataError, match="corpus item 1: duplicate document id 'a'"):
        as_corpus([{"id": "a", "text": "x"}, {"id": "a", "text": "y"}])
    with pytest.raises(DataError, match="corpus item 0: document 'a' has no 'text'"):
        as_corpus([{"id": "a"}])


def test_save_round_trip(tmp_path):
    corpus = as_corpus([{"id": "a", "text": "x", "title": "T", "n": 1}, {"id": "b", "text": "y"}])
    again = load_corpus(corpus.save(tmp_path / "out.jsonl"))
    assert list(again) == list(corpus)
    assert again.fingerprint() == corpus.fingerprint()
    assert isinstance(again, Corpus) and "a" in again and "zz" not in again
