"""Run the checks of many claims and summarise them: the engine of ``boundlab verify``."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sims.checks import CheckContext, Verdict, run_check
from theory import Claim, claims, get_claim

__all__ = ["VerifyResult", "select_claims", "verdict_table", "verify"]


@dataclass(frozen=True)
class VerifyResult:
    """All verdicts of one ``verify`` run and its wall time."""

    verdicts: list[Verdict]
    claims: list[Claim]
    seconds: float

    @property
    def ok(self) -> bool:
        """True when every claim that ran behaves as documented: it holds, or it fails as its
        ``known_failure`` says (a documented failure that holds is unexpected too)."""
        return all(v.holds == (c.known_failure is None) for c, v in zip(self.claims, self.verdicts, strict=True))


def select_claims(topics: Iterable[str] = (), claim_ids: Iterable[str] = ()) -> list[Claim]:
    """Claims of the given topics plus the given ids (all claims when both are empty).

    Raises ``KeyError`` naming the unknown topic or claim.
    """
    topics, claim_ids = list(topics), list(claim_ids)
    known_topics = {c.topic for c in claims()}
    for t in topics:
        if t not in known_topics:
            raise KeyError(f"unknown topic {t!r}; known topics: {', '.join(sorted(known_topics))}")
    chosen = [get_claim(cid) for cid in claim_ids]
    if not topics and not claim_ids:
        return claims()
    for t in topics:
        chosen += [c for c in claims(t) if c not in chosen]
    return chosen


def verify(selected: list[Claim], ctx: CheckContext,
           progress: Callable[[Iterable[Claim]], Iterable[Claim]] | None = None) -> VerifyResult:
    """Run the check of each selected claim; ``progress`` may wrap the iteration (a progress bar)."""
    start = time.perf_counter()
    verdicts = [run_check(c.id, ctx) for c in (progress or iter)(selected)]
    return VerifyResult(verdicts, selected, time.perf_counter() - start)


def verdict_table(result: VerifyResult) -> pd.DataFrame:
    """One row per claim: id, kind, source, bound, measured, tightness, verdict, expected, seconds, detail.

    ``expected`` is "holds", or "fails" for a claim with a documented ``known_failure``; ``as_documented``
    says whether the verdict matches it.
    """
    rows = []
    for claim, v in zip(result.claims, result.verdicts, strict=True):
        expected = "holds" if claim.known_failure is None else "fails"
        rows.append({"claim": claim.id, "kind": str(claim.kind), "source": claim.source,
                     "reconstructed": claim.reconstructed, "bound": v.bound,
                     "measured": v.measured, "tightness": v.tightness, "verdict": v.status,
                     "expected": expected, "as_documented": v.holds == (expected == "holds"),
                     "known_failure": claim.known_failure or "", "seconds": v.seconds, "detail": v.detail})
    return pd.DataFrame(rows)


def format_table(table: pd.DataFrame) -> str:
    """A fixed-width text table of the verdicts for the terminal."""
    def num(x: float) -> str:
        return "nan" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.4g}"

    width = max([30, *(len(c) for c in table["claim"])])
    header = f"{'claim':<{width}} {'bound':>11} {'measured':>11} {'tightness':>9}  {'verdict':<7} {'time':>7}"
    lines = [header, "-" * len(header)]
    for r in table.itertuples(index=False):
        verdict = r.verdict + ("*" if r.expected == "fails" else "")
        lines.append(f"{r.claim:<{width}} {num(r.bound):>11} {num(r.measured):>11} "
                     f"{num(r.tightness):>9}  {verdict:<7} {r.seconds:>6.1f}s")
    return "\n".join(lines)


def default_out_dir() -> Path:
    """``./boundlab-results`` in the working directory."""
    return Path.cwd() / "boundlab-results"
