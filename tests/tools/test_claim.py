"""Tool learning's claim gate (CI's claims stage): DFSDT beats one ReAct chain at the same budget.

Fixed before any run (ennead.tools.experiment): seeds 0, 1, 2; the 150 held-out tasks of the
`test` split; noisy rule controller (error rate 0.3, give-up rate 0.5); budget 12 policy calls,
8 steps per chain, DFSDT width 2. Gate: mean gain >= +10 points and t-interval lower bound > 0.
Measured numbers: docs/systems/tools.md.
"""

import pytest

from ennead.tools import experiment as ex


@pytest.mark.slow
@pytest.mark.claim
@pytest.mark.timeout(1800)
def test_dfsdt_beats_react_at_equal_budget_over_the_fixed_seeds():
    assert ex.GATE_SEEDS == (0, 1, 2) and ex.CLAIMED_GAIN == 10.0 and ex.BUDGET == 12
    res = ex.run_claim(ex.GATE_SEEDS, reference=False)
    claim = res.to_claim()
    text = f"per seed {res.gains}, effect {claim.interval_text()}"
    print(text)
    assert res.tasks == 150
    # equal budget: neither agent may spend more than the budget on any task
    assert all(c <= ex.BUDGET for pair in res.calls.values() for c in pair)
    assert claim.interval is not None and claim.interval[0] > 0, text
    assert claim.effect is not None and claim.effect >= ex.CLAIMED_GAIN, text
    assert claim.verdict == "reproduced"
