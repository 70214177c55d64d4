"""Golden values: every expected number is worked out by hand in the comment beside it."""

import pytest

from ennead.core.errors import DataError, UnknownNameError
from ennead.core.eval import corpus_score, evaluate, get_metric, item_scores, metrics
from ennead.core.eval.metrics import Metric, normalize_answer, register_metric


def test_registry_lists_the_metrics_with_summaries():
    assert {"exact_match", "substring_accuracy", "token_f1", "rouge_l", "accuracy"} <= set(
        metrics.names()
    )
    for name in metrics.names():
        m = get_metric(name)
        assert isinstance(m, Metric) and m.name == name and m.summary
        assert metrics.meta(name)["summary"] == m.summary


def test_unknown_metric_suggests():
    with pytest.raises(UnknownNameError, match="did you mean 'token_f1'"):
        get_metric("token_f")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The  Eiffel-Tower!", "eiffeltower"),  # punctuation is deleted, not spaced
        ("An apple, a day", "apple day"),
        ("  theatre  ", "theatre"),  # 'the' only as a whole word
        ("", ""),
    ],
)
def test_normalize_answer(text, expected):
    assert normalize_answer(text) == expected


def test_exact_match():
    em = get_metric("exact_match")
    assert em("The Eiffel Tower.", ["eiffel tower"]) == 1.0
    assert em("Eiffel Tower in Paris", ["eiffel tower"]) == 0.0
    assert em("", ["eiffel tower"]) == 0.0
    assert em("Paris", ["London", "paris"]) == 1.0  # any reference may match


def test_substring_accuracy():
    acc = get_metric("substring_accuracy")
    assert acc("I think it is the Eiffel Tower, in Paris.", ["Eiffel Tower"]) == 1.0
    assert acc("the tower", ["Eiffel Tower"]) == 0.0
    assert acc("", ["Eiffel Tower"]) == 0.0
    # A gold answer that normalises to nothing must not match everything.
    assert acc("anything at all", ["The"]) == 0.0
    assert acc("", ["The"]) == 1.0


def test_token_f1_golden():
    f1 = get_metric("token_f1")
    # pred "the cat sat" -> [cat, sat]; gold "a cat sat down" -> [cat, sat, down]
    # common 2: P = 2/2, R = 2/3, F1 = 2PR/(P+R) = (4/3)/(5/3) = 0.8
    assert f1("the cat sat", ["a cat sat down"]) == pytest.approx(0.8)
    # repeated tokens count with multiplicity: pred [cat, cat, dog], gold [cat, dog, dog, bird]
    # common = min(2,1) + min(1,2) = 2; P = 2/3, R = 2/4, F1 = 2*(1/3)/(7/6) = 4/7
    assert f1("cat cat dog", ["cat dog dog bird"]) == pytest.approx(4 / 7)
    assert f1("blue", ["red"]) == 0.0
    assert f1("", ["red"]) == 0.0
    assert f1("the", ["a"]) == 1.0  # both empty after normalisation (SQuAD v2 rule)
    # max over references: 0.8 (above) beats 0 for "dog"
    assert f1("the cat sat", ["dog", "a cat sat down"]) == pytest.approx(0.8)


def test_rouge_l_golden():
    rouge = get_metric("rouge_l")
    # pred [the quick brown fox] (4), ref [the fox jumped over the quick dog] (7)
    # LCS length 2 ("the quick" or "the fox"): P = 2/4, R = 2/7, F = 2PR/(P+R) = 4/11
    assert rouge("the quick brown fox", ["the fox jumped over the quick dog"]) == pytest.approx(
        4 / 11
    )
    # [the cat sat on the mat] vs [the cat lay on the mat]: LCS the,cat,on,the,mat = 5 of 6
    assert rouge("The cat sat on the mat.", ["the cat lay on the mat"]) == pytest.approx(5 / 6)
    assert rouge("", ["anything"]) == 0.0
    assert rouge("cat", ["dog", "the cat"]) == pytest.approx(2 / 3)  # P=1, R=1/2 on the 2nd


def test_accuracy_is_exact_after_strip():
    acc = get_metric("accuracy")
    assert acc(" positive\n", ["positive"]) == 1.0
    assert acc("Positive", ["positive"]) == 0.0  # labels are case-sensitive
    assert acc("B", ["A", "B"]) == 1.0


def test_bad_items_are_clear():
    em = get_metric("exact_match")
    with pytest.raises(DataError, match="exact_match: no reference answers given"):
        em("x", [])
    with pytest.raises(DataError, match="prediction must be a string, got NoneType"):
        em(None, ["x"])
    with pytest.raises(DataError, match="every reference must be a string"):
        em("x", ["x", 3])
    assert em("x", "X") == 1.0  # a bare string is one reference


def test_corpus_score_is_the_mean():
    preds = ["the cat sat", "blue", "Paris"]
    refs = [["a cat sat down"], ["red"], ["paris", "rome"]]
    # token F1 per item: 0.8, 0, 1 -> mean 0.6
    assert corpus_score(preds, refs, "token_f1") == pytest.approx(0.6)
    assert item_scores(preds, refs, "exact_match") == [0.0, 0.0, 1.0]
    assert evaluate(preds, refs, ["exact_match", "token_f1"]) == pytest.approx(
        {"exact_match": 1 / 3, "token_f1": 0.6}
    )


def test_corpus_errors():
    with pytest.raises(DataError, match="2 predictions but 1 reference lists"):
        corpus_score(["a", "b"], [["a"]], "exact_match")
    with pytest.raises(DataError, match="nothing to score"):
        corpus_score([], [], "exact_match")
    with pytest.raises(DataError, match="item 1: exact_match: no reference answers"):
        corpus_score(["a", "b"], [["a"], []], "exact_match")


def test_corpus_fn_overrides_the_mean():
    def total_chars(preds, refs_list):
        return float(sum(len(p) for p in preds))

    m = Metric("chars", lambda p, r: 0.0, corpus_fn=total_chars, range=(0, float("inf")))
    assert corpus_score(["ab", "c"], [["x"], ["y"]], m) == 3.0


def test_register_metric_decorator():
    name = "test_len_ratio"
    if name not in metrics:

        @register_metric(name, summary="length ratio (test only)", range=(0.0, 10.0))
        def _ratio(prediction, reference):
            return len(prediction) / max(len(reference), 1)

    m = get_metric(name)
    assert m("abcd", ["ab", "abcd"]) == 2.0  # max over references: 4/2 beats 4/4
