"""The pairwise LLM judge: positions swapped, unreadable replies counted, Copeland ranks."""

import re

import pytest

from ennead.core.backends import load_backend
from ennead.core.backends.base import Completion
from ennead.core.errors import ConfigError
from ennead.core.eval.judge import PairItem, PairwiseJudge, read_vote, win_rate


def _answers(prompt):
    text = prompt[-1]["content"]
    a = re.search(r"Answer A: (.*)", text).group(1)
    b = re.search(r"Answer B: (.*)", text).group(1)
    return a, b


class ScriptedJudge:
    """A judge backend whose reply is a function of the two answers it is shown."""

    def __init__(self, decide):
        self.decide = decide
        self.prompts = []

    def generate(self, prompts, params):
        self.prompts += prompts
        return [[Completion(self.decide(*_answers(p)), [])] for p in prompts]

    def loglikelihood(self, pairs):
        out = []
        for prompt, cont in pairs:
            a, b = _answers(prompt)
            out.append(-float(len(b if cont == "A" else a)))  # likes the longer answer
        return out


def longer(a, b):
    return "A" if len(a) > len(b) else ("B" if len(b) > len(a) else "tie")


def test_votes_are_read_as_words():
    assert read_vote(" B.") == "B" and read_vote("Answer a is better") == "A"
    assert read_vote("It's a tie") == "tie"  # the article "a" is no vote
    assert read_vote("I prefer B, because") == "B" and read_vote("Tie.") == "tie"
    assert read_vote("both are good") is None and read_vote("a good one") is None


def test_positional_bias_cancels_out():
    lm = ScriptedJudge(lambda a, b: "A")  # always the first shown
    out = PairwiseJudge(lm).compare([PairItem("q", "short", "a much longer answer")])
    assert (out[0].a_votes, out[0].b_votes) == (1, 1) and out[0].score == 0.5
    # each item was shown in both orders
    shown = [_answers(p) for p in lm.prompts]
    assert shown == [("short", "a much longer answer"), ("a much longer answer", "short")]


def test_a_consistent_preference_wins_in_both_orders():
    judge = PairwiseJudge(ScriptedJudge(longer))
    out = judge.compare([PairItem("q", "long answer here", "short"), PairItem("q", "x", "yy")])
    assert [o.score for o in out] == [1.0, 0.0]
    assert out[0].a_votes == 2 and out[1].b_votes == 2 and judge.calls == 4
    rates = win_rate(out)
    assert rates["win"] == 0.5 and rates["loss"] == 0.5 and rates["tie"] == 0.0


def test_unreadable_replies_are_counted_not_guessed():
    out = PairwiseJudge(ScriptedJudge(lambda a, b: "hmm")).compare([PairItem("q", "a", "b")])
    assert out[0].unreadable == 2 and out[0].score == 0.5
    assert win_rate(out)["unreadable_per_item"] == 2.0


def test_ranking_is_copeland_over_anonymised_pairs():
    lm = ScriptedJudge(longer)
    answers = {"B0": "no", "sft": "a fair answer", "dpo": "the most complete answer", "b1": "ok"}
    r = PairwiseJudge(lm, seed=3).rank("q", answers, reference="gold")
    assert r.ranks == {"dpo": 1.0, "sft": 2.0, "B0": 3.5, "b1": 3.5}  # "no" and "ok" tie
    assert len(r.pairs) == 6 and len(lm.prompts) == 12
    assert all(
        "dpo" not in p[-1]["content"] and "Reference answer: gold" in p[-1]["content"]
        for p in lm.prompts
    )


def test_loglikelihood_method_needs_no_parsing():
    judge = PairwiseJudge(ScriptedJudge(lambda a, b: "never asked"), method="loglikelihood")
    out = judge.compare([PairItem("q", "a longer one", "tiny")])
    assert out[0].score == 1.0 and out[0].unreadable == 0


def test_bad_settings_are_refused():
    with pytest.raises(ConfigError, match="repeats"):
        PairwiseJudge(ScriptedJudge(longer), repeats=0)
    with pytest.raises(ConfigError, match="method"):
        PairwiseJudge(ScriptedJudge(longer), method="vote")
    with pytest.raises(ConfigError, match="two answers"):
        PairwiseJudge(ScriptedJudge(longer)).rank("q", {"only": "one"})


def test_a_real_backend_judges_end_to_end():
    lm = load_backend("tiny", batch_size=4, options={"seed": 1})
    judge = PairwiseJudge(lm, method="loglikelihood")
    out = judge.compare([PairItem("2+2?", "4", "five"), PairItem("capital?", "Paris", "Rome")])
    assert len(out) == 2 and all(o.a_votes + o.b_votes + o.ties == 2 for o in out)
    gen = PairwiseJudge(lm).compare([PairItem("2+2?", "4", "five")])
    assert gen[0].a_votes + gen[0].b_votes + gen[0].ties + gen[0].unreadable == 2
