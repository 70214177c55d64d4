import pytest
from pydantic import ValidationError

from ennead.core.claims import Claim, decide, slug, t_interval

BASE = {"system": "x", "paper": "P", "claim": "A beats B", "measured": "acc", "comparison": "A - B"}


def claim(**kw) -> Claim:
    return Claim(**{**BASE, **kw})


@pytest.mark.parametrize(
    ("values", "claimed", "verdict"),
    [
        ([4.0, 6.0, 5.0], 3.0, "reproduced"),  # mean 5 >= 3, interval [2.5, 7.5] clears 0
        ([1.5, 2.5, 2.0], 3.0, "partly"),  # a real effect, smaller than claimed
        ([-3.0, 12.0, 6.0], 3.0, "partly"),  # mean 5 meets 3, interval crosses 0
        ([0.0, 1.0, 0.5], 3.0, "not reproduced"),  # interval [-0.74, 1.74]: < 3, not > 0
        ([-2.0, -1.0, -1.5], 3.0, "not reproduced"),  # wrong direction
        ([0.0, 0.0, 0.0], None, "not reproduced"),  # no effect at all
    ],
)
def test_verdicts_on_hand_made_seeds(values, claimed, verdict):
    c = claim(values=values, seeds=list(range(len(values))), claimed=claimed)
    assert c.verdict == verdict
    assert c.effect == pytest.approx(sum(values) / len(values))


def test_interval_is_a_t_interval_over_seeds():
    lo, hi = t_interval([4.0, 6.0, 5.0])
    # mean 5, sd 1, t(0.975, 2) = 4.303 -> half width 4.303 / sqrt(3) = 2.484
    assert lo == pytest.approx(2.516, abs=1e-3) and hi == pytest.approx(7.484, abs=1e-3)
    assert t_interval([1.0]) is None
    assert claim(values=[4.0, 6.0, 5.0]).interval_method == "t over seeds"


def test_lower_is_better_and_non_inferiority_bar():
    # moves ratio agent/exhaustive must be <= 0.3 (claimed) and the interval's upper end < 1
    ok = claim(effect=0.06, interval=(0.04, 0.08), claimed=0.3, bar=1.0, higher_is_better=False)
    assert ok.verdict == "reproduced"
    half = claim(effect=0.5, interval=(0.3, 0.7), claimed=0.3, bar=1.0, higher_is_better=False)
    assert half.verdict == "partly"
    assert ok.target_text() == "mean <= +0.30, upper bound < +1.00"
    worse = claim(effect=1.2, claimed=0.3, bar=1.0, higher_is_better=False)
    assert worse.verdict == "not reproduced"
    # accuracy within 5 points of exhaustive: agent - exhaustive >= -5, lower bound > -5
    within = claim(effect=-1.0, interval=(-2.0, 0.0), claimed=-5.0, bar=-5.0)
    assert within.verdict == "reproduced"
    assert claim(effect=-1.0, interval=(-7.0, 5.0), claimed=-5.0, bar=-5.0).verdict == "partly"


def test_single_value_without_interval():
    assert claim(effect=5.0, claimed=3.0).verdict == "reproduced"
    assert claim(effect=2.0, claimed=3.0).verdict == "partly"
    assert claim(effect=-2.0, claimed=3.0).verdict == "not reproduced"


def test_error_means_not_run_and_keeps_the_error():
    c = Claim.not_run("RuntimeError: boom", system="x", comparison="A - B")
    assert c.verdict == "not run" and c.error == "RuntimeError: boom"
    assert c.row()["error"] == "RuntimeError: boom" and c.row()["effect [95% CI]"] == ""
    assert c.row()["needs"] == ""
    # an error wins over numbers
    assert claim(values=[5.0, 6.0], claimed=1.0, error="skipped").verdict == "not run"
    assert decide(None, None, 1.0) == "not run"
    assert decide(float("nan"), None, 1.0) == "not run"


def test_verdict_is_recomputed_not_trusted():
    c = Claim.model_validate({**BASE, "effect": -1.0, "claimed": 1.0, "verdict": "reproduced"})
    assert c.verdict == "not reproduced"
    # round trip through JSON keeps everything
    assert Claim.model_validate_json(c.model_dump_json()) == c


def test_validation():
    with pytest.raises(ValidationError, match="2 values for 3 seeds"):
        claim(values=[1.0, 2.0], seeds=[0, 1, 2])
    with pytest.raises(ValidationError, match="Extra inputs"):
        claim(colour="red")
    with pytest.raises(ValidationError):
        claim(verdict="maybe")


def test_row_and_texts():
    c = claim(values=[4.0, 6.0, 5.0], seeds=[0, 1, 2], claimed=3.0, unit="points", seconds=1.5)
    row = c.row()
    assert row["effect [95% CI]"] == "+5.00 [2.52, 7.48]"
    assert row["per seed"] == "seeds: 0: +4.00, 1: +6.00, 2: +5.00" and row["seeds"] == "3 seeds"
    assert row["comparison"] == "A - B (points)" and row["n"] == 3
    assert row["needs"] == "mean >= +3.00, lower bound > +0.00"
    assert slug("DDR: RAG <with> rewards") == "ddr-rag-with-rewards"


def test_from_a_core_stats_interval():
    from ennead.core.eval.stats import paired_t_interval
    from ennead.core.eval.stats import t_interval as core_t

    iv = paired_t_interval([5.0, 7.0, 6.0], [1.0, 1.0, 1.0])
    c = Claim.from_interval(iv, **BASE, claimed=3.0, seeds=[0, 1, 2], values=[4.0, 6.0, 5.0])
    assert c.verdict == "reproduced" and c.interval_method == "paired t over seeds"
    assert c.interval == pytest.approx((iv.low, iv.high))
    # one seed: no interval (NaN bounds are dropped), the verdict rests on the mean
    one = Claim.from_interval(core_t([2.0]), **BASE, claimed=3.0)
    assert one.interval is None and one.verdict == "partly"
