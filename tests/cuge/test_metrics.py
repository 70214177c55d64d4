"""Every CUGE metric against hand-computed values (percent)."""

from __future__ import annotations

import math

import pytest

from ennead.core.errors import DataError, UnknownNameError
from ennead.core.eval import corpus_score, metrics
from ennead.cuge.metrics import (
    CUGEMetric,
    char_edits,
    cuge_metric_names,
    get_cuge_metric,
    parse_number,
    score_metric,
)


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, abs_tol=1e-9)


def test_seg_f1_spans():
    # pred spans (0,1)(1,2)(2,4); gold (0,1)(1,4): 1 hit, P=1/3, R=1/2, F=0.4
    assert close(score_metric("seg_f1", [["我", "爱", "北京"]], [["我", "爱北京"]]), 40.0)
    # micro over the corpus: second item perfect (2 of 2) -> P=3/5, R=3/4 -> F=2/3
    got = score_metric("seg_f1", [["我", "爱", "北京"], "你 好"], [["我", "爱北京"], ["你", "好"]])
    assert close(got, 100 * 2 / 3)
    # several gold segmentations: the best one counts
    assert close(
        score_metric("seg_f1", ["北京 大学"], [{"references": [["北京大学"], ["北京", "大学"]]}]),
        100.0,
    )


def test_seg_pos_f1_needs_tag_and_span():
    pred = [[["我", "r"], ["爱", "v"], ["北京", "n"]]]
    gold = [[["我", "r"], ["爱", "v"], ["北京", "ns"]]]
    assert close(score_metric("seg_pos_f1", pred, gold), 100 * 2 / 3)
    assert close(score_metric("seg_pos_f1", ["我/r  爱/v  北京/ns"], gold), 100.0)
    with pytest.raises(DataError, match="word/TAG"):
        score_metric("seg_pos_f1", ["我 爱"], gold)


def test_set_entity_relation_f1():
    pred = [[[0, 2, "dis"], [3, 5, "sym"]], []]
    gold = [[[0, 2, "dis"]], [[1, 2, "dru"]]]
    # tp=1, pred=2, gold=2 -> 50
    assert close(score_metric("entity_f1", pred, gold), 50.0)
    rel_pred = [[["A", "B", "持股"], ["A", "C", "NA"]]]
    rel_gold = [[["A", "B", "持股"], ["B", "C", "NA"]]]
    assert close(score_metric("relation_f1", rel_pred, rel_gold), 100.0)  # NA is no relation
    assert close(score_metric("set_f1", [[1, 2]], [[2, 3]]), 50.0)
    assert close(score_metric("set_f1", [[]], [[]]), 100.0)


def test_choice_label_binary():
    assert close(score_metric("choice_accuracy", [0, "B", "c", "3"], [0, 1, 1, 3]), 75.0)
    assert close(score_metric("label_accuracy", ["pos ", "neg"], ["pos", "pos"]), 50.0)
    # positive class "1": tp=1, pred pos=2, gold pos=1 -> P=.5 R=1 F=2/3
    assert close(score_metric("binary_f1", ["1", "1", "0"], ["1", "0", "0"]), 100 * 2 / 3)
    with pytest.raises(DataError, match="option index"):
        score_metric("choice_accuracy", ["maybe"], [0])


def test_accuracy_at_k_and_ndcg():
    assert close(score_metric("accuracy_at_k", [["猫", "狗"], ["鸟"]], ["狗", "鸟"], k=1), 50.0)
    assert close(score_metric("accuracy_at_k", [["猫", "狗"], ["鸟"]], ["狗", "鸟"], k=2), 100.0)
    # ranking d2 (rel 1), d1 (rel 2): DCG = 1/log2(2) + 3/log2(3); ideal = 3 + 1/log2(3)
    dcg = 1 + 3 / math.log2(3)
    ideal = 3 + 1 / math.log2(3)
    got = score_metric("ndcg_at_k", [["d2", "d1"]], [{"d1": 2, "d2": 1}], k=10)
    assert close(got, 100 * dcg / ideal)
    # k=1 cuts after the first document: 1 / 3
    assert close(score_metric("ndcg_at_k", [["d2", "d1"]], [{"d1": 2, "d2": 1}], k=1), 100 / 3)
    # a duplicated id does not earn twice; queries without relevant documents are skipped
    assert close(score_metric("ndcg_at_k", [["d1", "d1"], ["x"]], [["d1"], {"y": 0}]), 100.0)


def test_em_zh_normalises_width_and_punctuation():
    got = score_metric("em_zh", ["ＡＢＣ，北京！", "上海"], [["abc北京"], ["北京", "南京"]])
    assert close(got, 50.0)


def test_char_rouge():
    # pred 我爱北京 vs ref 我爱上海: unigram overlap 2/4 -> F 0.5; bigram 1/3 -> F 1/3
    assert close(score_metric("rouge_1_zh", ["我爱北京"], ["我爱上海"]), 50.0)
    assert close(score_metric("rouge_2_zh", ["我爱北京"], ["我爱上海"]), 100 / 3)
    # LCS of 我爱北京天安门 / 我在北京 = 我北京 (3): P=3/7 R=3/4 F=2*P*R/(P+R)
    p, r = 3 / 7, 3 / 4
    assert close(
        score_metric("rouge_l_zh", ["我爱北京天安门"], ["我在北京"]), 100 * 2 * p * r / (p + r)
    )
    # best reference wins
    assert close(score_metric("rouge_l_zh", ["你好"], [["再见", "你好"]]), 100.0)


def test_bleu_zh_matches_sacrebleu_and_pads_references():
    sacrebleu = pytest.importorskip("sacrebleu")
    hyp, ref = ["猫坐在垫子上"], ["猫坐在垫子上了"]
    want = sacrebleu.corpus_bleu(hyp, [ref], tokenize="zh").score
    assert close(score_metric("bleu_zh", hyp, [ref]), want)
    assert close(score_metric("bleu_zh", ["今天天气很好"], ["今天天气很好"]), 100.0)
    # uneven numbers of references: repeating the first reference changes nothing
    one = score_metric(
        "bleu_zh", ["今天天气很好", "我们去公园"], [["今天天气不错"], ["我们去公园玩"]]
    )
    two = score_metric(
        "bleu_zh",
        ["今天天气很好", "我们去公园"],
        [["今天天气不错", "今天天气不错"], ["我们去公园玩"]],
    )
    assert close(one, two)


def test_distinct():
    # chars 我我我 + 你好: unigrams 5 total, 3 unique -> 60; bigrams 我我,我我,你好 -> 2/3
    assert close(score_metric("distinct_1", ["我我我", "你好"], [None, None]), 60.0)
    assert close(score_metric("distinct_2", ["我我我", "你好"], [None, None]), 100 * 2 / 3)


def test_gec_edits_and_f():
    assert char_edits("我爱爱你", "我爱你") == {(2, 3, "")}
    gold = [
        {"source": "我爱爱你", "references": ["我爱你"]},
        {"source": "他去学校", "references": ["他去了学校"]},
    ]
    # item 1 right edit (tp 1); item 2 no edit (fn 1): P=1, R=.5
    f05 = 1.25 * 1 * 0.5 / (0.25 * 1 + 0.5)
    assert close(score_metric("gec_f05", ["我爱你", "他去学校"], gold), 100 * f05)
    assert close(score_metric("gec_f1", ["我爱你", "他去学校"], gold), 100 * 2 / 3)
    # copying the source: no edits, P=1 by convention, R=0 -> 0
    assert close(score_metric("gec_f05", ["我爱爱你", "他去学校"], gold), 0.0)
    # a wrong edit is a false positive: P=1/2 (item 1 tp, item 2 fp), R=1/2
    got = score_metric("gec_f1", ["我爱你", "他去学校了"], gold)
    assert close(got, 50.0)


def test_math_numbers():
    assert parse_number("x=3/4") == 0.75
    assert parse_number("答案是 50%") == 0.5
    assert parse_number("１２．５") == 12.5
    assert parse_number("(1+2)*3") == 9.0
    assert parse_number("没有数字") is None
    # tolerance 1e-4: 0.3333 matches 1/3 (3.3e-5 off), 0.33 does not (3.3e-3 off)
    assert close(
        score_metric(
            "math_accuracy", ["12", "答：0.3333", "x=1/3", "0.33"], ["12", "1/3", "0.33333", "1/3"]
        ),
        75.0,
    )
    with pytest.raises(DataError, match="not a number"):
        score_metric("math_accuracy", ["1"], ["one"])


def test_registered_in_core_registry():
    names = cuge_metric_names()
    assert len(names) == 20
    for name in names:  # one registry: core's holds the very objects CUGE scores with
        metric = metrics.get(name)
        assert isinstance(metric, CUGEMetric) and metric is get_cuge_metric(name)
        assert metric.range == (0.0, 1.0) and metrics.meta(name)["summary"].startswith("[cuge]")
    # the registered score is 0-1; CUGE shows percent
    assert close(get_cuge_metric("choice_accuracy").score([0, 1], [0, 0]), 0.5)
    assert close(score_metric("choice_accuracy", [0, 1], [0, 0]), 50.0)
    assert close(corpus_score(["我 爱 北京"], [["我 爱北京"]], "seg_f1"), 0.4)
    assert close(corpus_score(["你好"], [["再见", "你好"]], "rouge_l_zh"), 1.0)
    assert close(corpus_score(['["d1"]'], [['{"d1": 1}']], "ndcg_at_k"), 1.0)


def test_bad_inputs():
    with pytest.raises(UnknownNameError, match="did you mean 'seg_f1'"):
        score_metric("seg_f", [], [])
    with pytest.raises(DataError, match="2 predictions but 1"):
        score_metric("choice_accuracy", [0, 1], [0])
    with pytest.raises(DataError, match="expected text"):
        score_metric("rouge_l_zh", [3], ["x"])
