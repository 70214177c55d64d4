"""Paper claims and their verdicts, as the tour's claims table shows them.

A :class:`Claim` holds what a paper says, what was measured here, the comparison it rests on (an
*effect*: a difference or a ratio, oriented by ``higher_is_better``), the per-seed values, the mean,
a 95% interval and the two numbers fixed before looking: ``claimed`` (the size the claim needs here,
e.g. the CI gate) and ``bar`` (what the interval's lower bound must clear, usually 0 = "no effect").

The verdict follows from those numbers alone (:func:`decide`):

- **not run**: the experiment raised or was skipped (``error`` says why) or there is no effect.
- **not reproduced**: the effect is on the wrong side of the bar, or the interval excludes the
  claimed size while not clearing the bar (no evidence of the effect, and the claim ruled out).
- **reproduced**: the mean meets the claimed size and the interval's lower bound clears the bar
  (without an interval: the mean meets the claimed size).
- **partly**: the rest: right direction but below the claimed size, or the interval crosses the bar.

>>> c = Claim(system="x", paper="P", claim="A beats B", measured="accuracy", comparison="A - B",
...           values=[4.0, 6.0, 5.0], seeds=[0, 1, 2], claimed=3.0)
>>> c.verdict, round(c.effect, 2), c.interval_text()
('reproduced', 5.0, '+5.00 [2.52, 7.48]')
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Verdict = Literal["reproduced", "partly", "not reproduced", "not run"]
VERDICTS: tuple[Verdict, ...] = ("reproduced", "partly", "not reproduced", "not run")


def t_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float] | None:
    """Student-t interval of the mean over ``values`` (seeds); None with fewer than two values."""
    if len(values) < 2:
        return None
    from ennead.core.eval.stats import t_interval as _t

    iv = _t(list(values), confidence)
    return (iv.low, iv.high)


def decide(
    effect: float | None,
    interval: tuple[float, float] | None,
    claimed: float | None,
    bar: float = 0.0,
    higher_is_better: bool = True,
    error: str | None = None,
) -> Verdict:
    """The verdict of one claim (see the module doc). ``claimed`` None: only the direction."""
    if error is not None or effect is None or not math.isfinite(effect):
        return "not run"
    sign = 1.0 if higher_is_better else -1.0
    e, b = sign * effect, sign * bar
    target = b if claimed is None else sign * claimed
    lo = hi = None
    if interval is not None:
        lo, hi = sorted((sign * interval[0], sign * interval[1]))
    if e <= b:
        return "not reproduced"
    if lo is None or hi is None:
        return "reproduced" if e >= target else "partly"
    if hi < target and lo <= b:
        return "not reproduced"
    if e >= target and lo > b:
        return "reproduced"
    return "partly"


def slug(text: str) -> str:
    """An HTML id / Markdown anchor for ``text``: lower case, runs of other characters as '-'."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


class Claim(BaseModel):
    """One paper claim, what was measured for it here, and the verdict (always recomputed)."""

    model_config = ConfigDict(extra="forbid")

    system: str
    paper: str = Field(description="short citation, e.g. 'Li et al. ICLR 2025'")
    claim: str = Field(description="what the paper says, in one sentence")
    measured: str = Field(description="what was measured here (task, model, size)")
    comparison: str = Field(description="the effect the verdict rests on, e.g. 'DDR-all - vanilla'")
    unit: str = ""
    effect: float | None = Field(None, description="mean effect; from values when omitted")
    interval: tuple[float, float] | None = Field(None, description="95% interval of the effect")
    interval_method: str = ""
    values: list[float] = Field(default_factory=list, description="the effect per seed")
    seeds: list[int | str] = Field(default_factory=list)
    over: str = Field("seeds", description="what values range over: seeds, sequences, ...")
    claimed: float | None = Field(None, description="the size the claim needs here")
    bar: float = Field(0.0, description="what the interval's lower bound must clear")
    higher_is_better: bool = True
    paper_value: str = Field("", description="the paper's own number, for reference")
    note: str = ""
    seconds: float | None = None
    section: str | None = Field(None, description="anchor of the report section with details")
    error: str | None = None
    verdict: Verdict = "not run"

    @model_validator(mode="after")
    def _fill(self) -> Claim:
        if self.seeds and self.values and len(self.seeds) != len(self.values):
            raise ValueError(
                f"claim {self.comparison!r}: {len(self.values)} values for {len(self.seeds)} seeds"
            )
        if self.effect is None and self.values and self.error is None:
            self.effect = math.fsum(self.values) / len(self.values)
            if self.interval is None and len(self.values) > 1:
                self.interval = t_interval(self.values)
                self.interval_method = self.interval_method or f"t over {self.over}"
        self.verdict = decide(
            self.effect, self.interval, self.claimed, self.bar, self.higher_is_better, self.error
        )
        return self

    @classmethod
    def from_interval(cls, interval: Any, **fields: Any) -> Claim:
        """A claim from a :class:`ennead.core.eval.stats.Interval` (estimate, low, high, method)."""
        data: dict[str, Any] = {"effect": float(interval.estimate)}
        low, high = float(interval.low), float(interval.high)
        if math.isfinite(low) and math.isfinite(high):
            data["interval"] = (low, high)
        data["interval_method"] = str(getattr(interval, "method", "") or "")
        data.update(fields)
        return cls.model_validate(data)

    @classmethod
    def not_run(cls, error: str, **fields: object) -> Claim:
        """A claim whose experiment failed or was skipped; ``fields`` as for the model."""
        data: dict[str, object] = {"paper": "", "claim": "", "measured": "", "comparison": ""}
        data.update(fields)
        data["error"] = error
        return cls.model_validate(data)

    def interval_text(self, digits: int = 2) -> str:
        """``+5.30 [2.10, 8.30]`` (the mean and the interval), or the mean alone."""
        if self.effect is None:
            return ""
        text = f"{self.effect:+.{digits}f}"
        if self.interval is not None:
            text += f" [{self.interval[0]:.{digits}f}, {self.interval[1]:.{digits}f}]"
        return text

    def target_text(self, digits: int = 2) -> str:
        """What the verdict needs, e.g. ``>= +3.00, lower bound > 0.00``."""
        ge = ">=" if self.higher_is_better else "<="
        gt = ">" if self.higher_is_better else "<"
        parts = []
        if self.claimed is not None:
            parts.append(f"mean {ge} {self.claimed:+.{digits}f}")
        bound = "lower" if self.higher_is_better else "upper"
        parts.append(f"{bound} bound {gt} {self.bar:+.{digits}f}")
        return ", ".join(parts)

    def row(self, digits: int = 2) -> dict[str, object]:
        """One row of the claims table."""
        per = ", ".join(f"{s}: {v:+.{digits}f}" for s, v in zip(self.seeds, self.values))
        if self.values and not self.seeds:
            per = ", ".join(f"{v:+.{digits}f}" for v in self.values)
        return {
            "system": self.system,
            "paper": self.paper,
            "claim": self.claim,
            "measured here": self.measured,
            "comparison": self.comparison + (f" ({self.unit})" if self.unit else ""),
            "effect [95% CI]": self.interval_text(digits) if self.error is None else "",
            "needs": "" if self.error else self.target_text(digits),
            "verdict": self.verdict,
            "n": len(self.values) or None,
            "seeds": f"{len(self.values)} {self.over}" if self.values else "",
            "per seed": f"{self.over}: {per}" if per else "",
            "seconds": self.seconds,
            "error": self.error or "",
        }


class Table(BaseModel):
    """A table of a tour section: rows of plain values, with an optional caption."""

    model_config = ConfigDict(extra="forbid")

    rows: list[dict[str, Any]]
    columns: list[str] | None = None
    caption: str = ""


class ClaimsSection(BaseModel):
    """What a system's ``claims(run, quick)`` returns: its claims and the section that backs them.

    ``images`` are paths relative to the run folder the function was given; ``tables`` are
    :class:`Table` rows or Markdown pipe tables.
    """

    model_config = ConfigDict(extra="forbid")

    title: str
    summary: str = ""
    claims: list[Claim] = Field(default_factory=list)
    tables: list[Table | str] = Field(default_factory=list)
    images: list[str] = Field(default_factory=list)
