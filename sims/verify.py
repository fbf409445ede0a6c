"""Run the checks of many claims and summarise them: the engine of ``boundlab verify``."""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sims.backend import use_backend
from sims.checks import CheckContext, Verdict, run_check
from sims.runner import BackendUse, record_backends
from theory import Claim, claims, get_claim

__all__ = ["VerifyResult", "backend_summary", "select_claims", "verdict_table", "verify"]


@dataclass(frozen=True)
class VerifyResult:
    """All verdicts of one ``verify`` run, its wall time, and the backend each experiment ran on."""

    verdicts: list[Verdict]
    claims: list[Claim]
    seconds: float
    backend: str | None = None
    """The backend asked for (``--backend``), None when the configs' own were used."""
    runs: tuple[BackendUse, ...] = ()
    """Every experiment run (or read from the cache) by the checks, with its backend."""

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
           progress: Callable[[Iterable[Claim]], Iterable[Claim]] | None = None,
           backend: str | None = None) -> VerifyResult:
    """Run the check of each selected claim; ``progress`` may wrap the iteration (a progress bar).

    ``backend`` (``"numpy"`` or ``"cupy"``) is set in the config of every experiment that declares one
    (:func:`sims.backend.use_backend`); the others run on numpy. ``BackendUnavailable`` is raised before
    any check runs where it cannot.
    """
    start = time.perf_counter()
    with contextlib.ExitStack() as stack:
        if backend is not None:
            stack.enter_context(use_backend(backend))
        runs = stack.enter_context(record_backends())
        verdicts = [run_check(c.id, ctx) for c in (progress or iter)(selected)]
    return VerifyResult(verdicts, selected, time.perf_counter() - start, backend, tuple(runs))


def backend_summary(result: VerifyResult) -> str | None:
    """One line on where the experiments ran when a backend other than numpy was asked for, else None.

    E.g. "backend cupy: 1 experiment ran on cupy (alf_lb.moe); 7 experiments have no GPU path and ran on
    numpy; checks that run no experiment ran on numpy".
    """
    if result.backend in (None, "numpy"):
        return None
    on_gpu = sorted({f"{r.topic}.{r.experiment}" for r in result.runs if r.gpu_path and r.backend == result.backend})
    no_path = sorted({f"{r.topic}.{r.experiment}" for r in result.runs if not r.gpu_path})

    def count(names: list[str]) -> str:
        return f"{len(names)} experiment{'s' if len(names) != 1 else ''}"

    parts = [f"{count(on_gpu)} ran on {result.backend}" + (f" ({', '.join(on_gpu)})" if on_gpu else "")]
    if no_path:
        parts.append(f"{count(no_path)} {'have' if len(no_path) != 1 else 'has'} no GPU path and ran on numpy")
    parts.append("checks that run no experiment ran on numpy")
    return f"backend {result.backend}: " + "; ".join(parts)


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
