"""PersLLM's claims for the tour (``SystemSpec.claims``), from the controlled world."""

from __future__ import annotations

from ennead.core.claims import Claim, ClaimsSection
from ennead.core.runs import RunDir


def claims(run: RunDir, quick: bool = False) -> ClaimsSection:
    return ClaimsSection(
        title="PersLLM: a persona trained into the weights",
        claims=[
            Claim.not_run("the controlled-world experiment is not built yet", system="persllm")
        ],
    )
