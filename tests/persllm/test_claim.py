"""PersLLM's claim gate (CI's claims stage) on the controlled world, seeds and thresholds fixed
before looking (preset ``tiny``, ``claim.seeds`` = 3000, 3001, 3002; the preset was calibrated
on dev seed 0 only): the mean over the 3 seeds of

- induction resistance, SFT+DPO - B0 >= +20 points;
- stance consistency, SFT+DPO - B0 >= +20 points;
- stage sensitivity of SFT+DPO > 80 (B0 is near 50: its description has no stages);
- general retention, SFT+DPO - B0 >= -5 points;
- stance consistency, SFT+DPO - SFT > 0 (DPO helps).

Claims that do not hold are expected failures carrying the measured numbers (see
docs/systems/persllm.md for every seed and the two unseen seeds)."""

import pytest

from ennead.core.config import load_config
from ennead.persllm.claims import build_claims
from ennead.persllm.config import PersLLMConfig
from ennead.persllm.experiment import run_claim

SEEDS = [3000, 3001, 3002]


@pytest.mark.slow
@pytest.mark.claim
@pytest.mark.timeout(1800)  # a claim gate takes minutes, not the suite's 600 s per test
def test_persllm_beats_prompting_on_the_controlled_world(tmp_path):
    cfg = load_config(PersLLMConfig, "tiny", package="ennead.persllm")
    assert cfg.claim.seeds == SEEDS  # fixed before looking
    results = run_claim(cfg, tmp_path / "claim", SEEDS)
    mean = {
        system: {
            k: sum(results[s]["metrics"][system][k] for s in SEEDS) / len(SEEDS)
            for k in results[SEEDS[0]]["metrics"][system]
        }
        for system in results[SEEDS[0]]["metrics"]
    }
    per_seed = {
        s: {k: {m: round(v, 3) for m, v in d.items()} for k, d in r["metrics"].items()}
        for s, r in results.items()
    }
    text = f"means {mean}\nper seed {per_seed}"
    print(text)
    # the data the claim rests on: every item kind, DPO pairs, no teacher failures
    for r in results.values():
        assert r["data"]["skipped"] == 0 and r["dpo_pairs"] > 100
        assert set(r["data"]["by_kind"]) == {"ordinary", "thought", "error"}
    pl, b0, sft = mean["SFT+DPO"], mean["B0"], mean["SFT"]
    failed = []
    if not pl["induction_resistance"] - b0["induction_resistance"] >= 0.20:
        failed.append("induction resistance +20")
    if not pl["stance_consistency"] - b0["stance_consistency"] >= 0.20:
        failed.append("stance consistency +20")
    if not pl["stage_sensitivity"] > 0.80:
        failed.append("stage sensitivity > 0.8")
    if not pl["general_retention"] - b0["general_retention"] >= -0.05:
        failed.append("general retention within 5 points")
    if not pl["stance_consistency"] > sft["stance_consistency"]:
        failed.append("DPO raises stance accuracy")
    verdicts = {c.comparison + " " + c.measured: c.verdict for c in build_claims(results)}
    assert len(verdicts) == 5
    # what must hold whatever the sizes: training on personified data beats prompting somewhere
    assert pl["induction_resistance"] > b0["induction_resistance"], text
    if failed:
        pytest.xfail(f"not reproduced: {', '.join(failed)}; {text}")
