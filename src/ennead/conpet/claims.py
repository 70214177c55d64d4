"""ConPET's claims for the tour (``SystemSpec.claims``), from the controlled stream."""

from __future__ import annotations

from ennead.core.claims import Claim, ClaimsSection
from ennead.core.runs import RunDir


def claims(run: RunDir, quick: bool = False) -> ClaimsSection:
    return ClaimsSection(
        title="ConPET: continual parameter-efficient tuning",
        claims=[Claim.not_run("the controlled stream is not built yet", system="conpet")],
    )
