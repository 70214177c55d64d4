"""Recsys's claims for the tour (``SystemSpec.claims``): transfer to cold-start users.

The paper (Zeng et al. 2021): pre-training on a source domain helps cold-start users of a target
domain, and meta knowledge (director, actors) helps further. :func:`ennead.recsys.study.
cold_start` pre-trains on ML-100K's other genres, fine-tunes on Action/Thriller/Horror/
Crime/Sci-Fi with none/shallow/deep transfer, and compares NDCG@10 on cold and warm users.
"""

from __future__ import annotations

from ennead.core.claims import ClaimsSection
from ennead.core.runs import RunDir


def claims(run: RunDir, quick: bool = False) -> ClaimsSection:
    from ennead.recsys.study import claims_section

    return claims_section(run.path / "claim", quick)
