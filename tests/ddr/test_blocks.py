import json
import random

import pytest

from ennead.core.backends.base import Completion
from ennead.core.errors import ConfigError, DataError
from ennead.ddr.data import load_records, parse_record
from ennead.ddr.modules import Generator, KnowledgeRefiner, top_passages
from ennead.ddr.prompts import fit_passages, generation_prompt, says_yes
from ennead.ddr.reward import ddr_accuracy, reward_for, score
from ennead.ddr.rollout import (
    Candidate,
    build_gen_pairs,
    build_kr_pairs,
    choose_pair,
    gen_rollouts,
)


class ScriptedLM:
    """Answers by a rule on the prompt text; records every prompt it saw."""

    def __init__(self, rule):
        self.rule, self.seen = rule, []

    def format_prompt(self, p):
        return p if isinstance(p, str) else "<chat>" + p[-1]["content"]

    def generate(self, prompts, params=None):
        n = params.n if params else 1
        out = []
        for p in prompts:
            text = self.format_prompt(p)
            self.seen.append(text)
            out.append([Completion(self.rule(text, k), []) for k in range(n)])
        return out


# -- rewards -------------------------------------------------------------------------------------
def test_ddr_accuracy_substring_and_case_variants():
    assert ddr_accuracy("it is Paris, France", ["Paris"]) == 1.0
    assert ddr_accuracy("paris", ["Paris"]) == 1.0  # lower-case variant
    assert ddr_accuracy("Rome is", ["rome"]) == 1.0  # capitalised variant
    assert ddr_accuracy("PARIS", ["Paris"]) == 0.0  # no further normalisation (reference rule)
    assert ddr_accuracy("Lyon", ["Paris", "Lyon"]) == 1.0


def test_reward_per_dataset_and_metric():
    assert reward_for("nq") is reward_for("accuracy")
    assert reward_for("marco")("the cat sat on the mat", ["the cat sat"]) == pytest.approx(
        2 * 1.0 * 0.5 / 1.5  # ROUGE-L: LCS 3, P = 3/6, R = 3/3 -> F = 2PR/(P+R) = 2/3
    )
    assert reward_for("wow")("a cat sat", ["the cat sat down"]) == pytest.approx(0.8)
    with pytest.raises(ConfigError, match="no reward for 'bleu'"):
        reward_for("bleu")
    with pytest.raises(DataError, match="without gold answers"):
        score("x", [])


# -- data ----------------------------------------------------------------------------------------
def test_kilt_and_flashrag_fields(tmp_path):
    rows = [
        {
            "id": "a",
            "input": "who?",
            "output": [{"answer": "Ann"}, {"answer": "Anne"}],
            "ctxs": [{"title": "T", "text": "Ann was here."}],
        },
        {"question": "what?", "golden_answers": ["x"], "retrieval_result": [{"contents": "x y"}]},
        {"query": "q?", "answers": "y", "passage": [{"segment": "s"}], "data_type": "marco"},
    ]
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    recs = load_records(path)
    assert recs[0].answers == ["Ann", "Anne"] and recs[0].passages == ["T: Ann was here."]
    assert recs[1].passages == ["x y"] and recs[1].id == "1"
    assert recs[2].data_type == "marco" and recs[2].passages == ["s"]


def test_bad_records(tmp_path):
    with pytest.raises(DataError, match=r"d.jsonl:2: question 'b\?' has no gold answers"):
        path = tmp_path / "d.jsonl"
        path.write_text('{"question": "a?", "answers": ["x"]}\n{"question": "b?", "answers": []}\n')
        load_records(path)
    with pytest.raises(DataError, match="no question"):
        parse_record({"answers": ["x"]}, 0)
    with pytest.raises(DataError, match="duplicate id 'k'"):
        path.write_text('{"id": "k", "question": "a", "answers": ["x"]}\n' * 2)
        load_records(path)
    empty = tmp_path / "e.jsonl"
    empty.write_text("\n")
    with pytest.raises(DataError, match="no questions"):
        load_records(empty)
    assert parse_record({"question": "a"}, 0, need_answers=False).answers == []


# -- prompts and budgets -------------------------------------------------------------------------
def test_passage_truncation_to_token_budget():
    count = lambda s: len(s.split())  # noqa: E731
    cut = lambda s, n: " ".join(s.split()[:n])  # noqa: E731
    docs = ["a b c d", "e f g h", "i j k l"]
    assert fit_passages(docs, 6, count, cut) == ["a b c d", "e f"]
    assert fit_passages(docs, 100, count, cut) == docs
    prompt = generation_prompt("q?", docs, budget=5, count=count, truncate=cut)
    assert prompt == "Background:\na b c d\ne\n\nQ: q?\nA:"
    assert generation_prompt("q?", None) == "Q: q?\nA:"


def test_generator_truncates_long_passages_to_budget():
    lm = ScriptedLM(lambda t, k: "x")
    gen = Generator(lm, passage_budget=8, chat=False)
    long = " ".join(f"w{i}" for i in range(100))
    text = gen.prompt_text("q?", [long, "second passage"])
    assert "w7" in text and "w8" not in text and "second" not in text


def test_says_yes():
    assert says_yes(" YES") and says_yes("yes, relevant") and not says_yes("NO")


# -- knowledge refinement ------------------------------------------------------------------------
def test_kr_early_stop_after_need_n_yes():
    lm = ScriptedLM(lambda t, k: "YES" if "good" in t else "NO")
    kr = KnowledgeRefiner(lm, need_n=2, chat=False)
    passages = ["good 1", "bad 2", "good 3", "good 4", "good 5", "good 6"]
    j = kr.refine("q", passages)
    # chunk 1 (good 1, bad 2) -> 1 YES; chunk 2 (good 3, good 4) -> 3 YES >= 2: stop
    assert j.kept == ["good 1", "good 3", "good 4"]
    assert j.judged == [True, False, True, True]
    assert len(lm.seen) == 4 and not j.fell_back


def test_kr_falls_back_to_all_when_nothing_is_relevant():
    lm = ScriptedLM(lambda t, k: "NO")
    j = KnowledgeRefiner(lm, need_n=2, chat=False).refine("q", ["a", "b", "c"])
    assert j.fell_back and j.kept == ["a", "b", "c"] and j.judged == [False] * 3


def test_kr_batches_across_questions():
    lm = ScriptedLM(lambda t, k: "YES")
    out = KnowledgeRefiner(lm, need_n=1, chat=False).refine_many(["q1", "q2"], [["a", "b"], ["c"]])
    assert [o.kept for o in out] == [["a"], ["c"]]


def test_top_passages_pads_without_duplicates():
    assert top_passages(["b"], ["a", "b", "c"], 3) == ["b", "a", "c"]
    assert top_passages(["a", "b", "c", "d"], ["a"], 2) == ["a", "b"]


# -- pairs ---------------------------------------------------------------------------------------
def C(text, kind, score):
    return Candidate(text, kind, 0.5, 0, score)


def test_tie_rule_prefers_raw_chosen_and_aug_rejected():
    rng = random.Random(0)
    cands = [C("a1", "aug", 1), C("r1", "raw", 1), C("a2", "aug", 0), C("r2", "raw", 0)]
    for _ in range(20):
        chosen, rejected = choose_pair(cands, rng)
        assert chosen.kind == "raw" and chosen.score == 1
        assert rejected.kind == "aug" and rejected.score == 0
    only_aug_best = [C("a1", "aug", 1), C("r2", "raw", 0)]
    chosen, rejected = choose_pair(only_aug_best, rng)
    assert (chosen.text, rejected.text) == ("a1", "r2")
    assert choose_pair([C("a", "aug", 1), C("b", "raw", 1)], rng) is None


def test_gen_pairs_drop_constant_groups_and_use_doc_prompt():
    from ennead.ddr.data import QARecord

    # knows q1 closed-book, is misled by documents; always right on q2; always wrong on q3
    def rule(text, k):
        if "q1" in text:
            return "right" if "Background" not in text else "wrong"
        return "right" if "q2" in text else "wrong"

    lm = ScriptedLM(rule)
    gen = Generator(lm, chat=False)
    recs = [QARecord(id=str(i), question=f"q{i}", answers=["right"]) for i in (1, 2, 3)]
    ctxs = [["doc"]] * 3
    cands = gen_rollouts(gen, recs, ctxs, temperatures=[0.5, 0.9], loops=2)
    assert [len(c) for c in cands] == [8, 8, 8]  # 2 temps x 2 loops x {raw, aug}
    pairs, stats = build_gen_pairs(gen, recs, ctxs, cands)
    assert stats.dropped_constant == 2 and stats.pairs == 1 == len(pairs)
    p = pairs[0]
    assert p["chosen"] == " right" and p["rejected"] == " wrong"
    assert p["chosen_meta"]["kind"] == "raw" and p["rejected_meta"]["kind"] == "aug"
    assert p["prompt"].startswith("Background:") and "Q: q1" in p["prompt"]


def test_kr_pairs_yes_for_best_no_for_worst():
    from ennead.ddr.data import QARecord

    lm = ScriptedLM(lambda t, k: "NO")
    kr = KnowledgeRefiner(lm, chat=False)
    recs = [
        QARecord(id="a", question="q", answers=["x"]),
        QARecord(id="b", question="r", answers=["x"]),
    ]
    pairs, stats = build_kr_pairs(kr, recs, [["p1", "p2"], ["p3", "p4"]], [[1.0, 0.0], [0.0, 0.0]])
    assert stats.dropped_constant == 1 and len(pairs) == 2
    assert pairs[0]["chosen"] == " YES" and "p1" in pairs[0]["prompt"]
    assert pairs[1]["chosen"] == " NO" and "p2" in pairs[1]["prompt"]
