"""ChatMol's claims for the tour (``SystemSpec.claims``), from the dialogue experiment."""

from __future__ import annotations

from ennead.core.claims import Claim, ClaimsSection
from ennead.core.runs import RunDir


def claims(run: RunDir, quick: bool = False) -> ClaimsSection:
    return ClaimsSection(
        title="ChatMol: conversational molecule design",
        claims=[Claim.not_run("the dialogue experiment is not built yet", system="chatmol")],
    )
