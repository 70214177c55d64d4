"""Tool learning's claims for the tour (filled in by ennead.tools.experiment)."""

from __future__ import annotations

from ennead.core.claims import ClaimsSection
from ennead.core.runs import RunDir


def claims(run: RunDir, quick: bool = False) -> ClaimsSection:
    return ClaimsSection(title="Tool learning", summary="not built yet")
