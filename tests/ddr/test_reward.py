"""The training mixture's rewards (spec section 2.4) and its loader."""

import json

import pytest

from ennead.core.config import load_config
from ennead.core.errors import DataError
from ennead.ddr import DDRConfig
from ennead.ddr.data import load_mixture
from ennead.ddr.reward import TRAINING_MIXTURE, reward_for


def test_every_training_set_has_a_reward():
    for name in TRAINING_MIXTURE:
        assert callable(reward_for(name))


def test_multiple_choice_is_scored_on_the_first_characters():
    fn = reward_for("commonsense_qa")
    assert fn("B) a river", ["B"]) == 1.0
    assert fn("A) not B at all", ["B"]) == 0.0  # the letter later in the text earns nothing
    assert reward_for("math_qa")("c", ["C"]) == 1.0  # case forms, as the reference's accuracy


def test_chain_of_thought_is_cut_before_the_rationale():
    fn = reward_for("gsm8k")
    assert fn("42 COT: 6 times 7 is 42", ["42"]) == 1.0
    assert fn("41 COT: but 42 was close", ["42"]) == 0.0
    assert reward_for("strategyqa")("yes COT no", ["no"]) == 0.0


def test_llama_variant_differs_where_the_reference_does():
    ecqa_pred = "it is B COT because ..."
    assert reward_for("ecqa")(ecqa_pred, ["because"]) == 0.0  # MiniCPM: before COT
    assert reward_for("ecqa", generator="llama")(ecqa_pred, ["because"]) == 1.0  # full text
    assert reward_for("aqua_rat", generator="llama")("(A) because B", ["B"]) == 0.0  # first 3


def test_coqa_answers_get_partial_credit():
    got = reward_for("coqa")("the big white cat", ["white cat"])
    assert 0.5 < got < 1.0


def test_mixture_loader_keeps_each_rows_data_type(tmp_path):
    a, b = tmp_path / "csqa.jsonl", tmp_path / "gsm.jsonl"
    a.write_text(
        json.dumps({"id": 1, "question": "q?", "answer": "B", "data_type": "commonsense_qa"})
    )
    b.write_text(json.dumps({"id": 1, "question": "2+2?", "answer": "4", "data_type": "gsm8k"}))
    recs = load_mixture([a, b])
    assert [(r.id, r.data_type) for r in recs] == [("csqa:1", "commonsense_qa"), ("gsm:1", "gsm8k")]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": 1, "question": "q", "answer": "x", "data_type": "nope"}))
    with pytest.raises(DataError, match=r"bad\.jsonl.*1"):
        load_mixture([a, bad])


def test_paper_preset_rollouts_sample_100_tokens():
    assert load_config(DDRConfig, "paper", package="ennead.ddr").train.max_new_tokens == 100
