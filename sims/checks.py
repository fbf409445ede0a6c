"""Checks of claims: the verdict of one claim at one scale, and the helpers that judge a table.

- per-run bounds hold when every seed (and every config, checkpoint) satisfies measured ≤ bound;
- bounds in expectation hold unless the lower end of a one-sided 95% Student-t confidence interval of
  the seed mean exceeds the bound;
- rates hold when the fitted log-log slope is at most the theory's plus a stated tolerance.

Tightness is measured / bound at the worst case (the row of largest ratio).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "CheckContext",
    "Verdict",
    "combine_verdicts",
    "expectation_verdict",
    "fit_slope",
    "get_check",
    "per_run_verdict",
    "register_check",
    "slope_verdict",
]

Scale = Literal["quick", "full"]
SCALES: tuple[str, ...] = ("quick", "full")
CONFIDENCE = 0.95
#: Relative slack for floating point in per-run inequalities.
FLOAT_SLACK = 1e-9


@dataclass(frozen=True)
class CheckContext:
    """How a check runs: scale, seeds, parallelism and where to cache tables."""

    scale: Scale = "quick"
    base_seed: int = 0
    jobs: int = 1
    cache_dir: Path | None = None
    force: bool = False

    def __post_init__(self) -> None:
        if self.scale not in SCALES:
            raise ValueError(f"scale must be one of {SCALES}, got {self.scale!r}")

    def pick(self, quick, full):
        """``quick`` or ``full`` according to the scale."""
        return quick if self.scale == "quick" else full


@dataclass(frozen=True)
class Verdict:
    """Outcome of one claim's check."""

    claim_id: str
    measured: float
    bound: float
    holds: bool
    detail: str
    data: pd.DataFrame = field(repr=False, compare=False)
    seconds: float = 0.0

    @property
    def tightness(self) -> float:
        """measured / bound (how much of the bound the worst case uses)."""
        return self.measured / self.bound if self.bound != 0 else math.nan

    @property
    def status(self) -> str:
        """'holds' or 'FAILS'."""
        return "holds" if self.holds else "FAILS"


CheckFn = Callable[[CheckContext], Verdict]
_CHECKS: dict[str, CheckFn] = {}


def register_check(claim_id: str) -> Callable[[CheckFn], CheckFn]:
    """Decorator registering the check of ``claim_id``."""

    def wrap(func: CheckFn) -> CheckFn:
        _CHECKS[claim_id] = func
        return func

    return wrap


def get_check(claim_id: str) -> CheckFn:
    """The registered check of a claim (importing its topic's simulator module)."""
    import importlib

    importlib.import_module(f"sims.{claim_id.split('.', 1)[0]}")
    try:
        return _CHECKS[claim_id]
    except KeyError:
        raise KeyError(f"claim {claim_id!r} has no registered check") from None


def run_check(claim_id: str, ctx: CheckContext) -> Verdict:
    """Run the check of ``claim_id`` and time it."""
    check = get_check(claim_id)
    start = time.perf_counter()
    verdict = check(ctx)
    return replace(verdict, seconds=time.perf_counter() - start)


def _worst_row(df: pd.DataFrame, measured: str, bound: str) -> pd.Series:
    """The row whose measured/bound is reported.

    A violating row if there is one (largest relative excess (measured − bound)/|bound|); otherwise
    the row of largest measured/bound among rows with a positive bound, since a ratio of two negative
    numbers (e.g. negative regret under drift) says nothing about tightness; otherwise the row of
    least relative slack.
    """
    excess = (df[measured] - df[bound]) / np.maximum(df[bound].abs(), np.finfo(float).tiny)
    positive = df[bound] > 0
    if excess.max() <= FLOAT_SLACK and positive.any():
        ratio = df.loc[positive, measured] / df.loc[positive, bound]
        return df.loc[ratio.idxmax()]
    return df.loc[excess.idxmax()]


def per_run_verdict(claim_id: str, df: pd.DataFrame, measured: str, bound: str,
                    detail: str = "") -> Verdict:
    """A per-run bound: holds iff measured ≤ bound on every row (up to float slack)."""
    if df.empty:
        raise ValueError(f"no rows to judge for {claim_id}")
    slack = FLOAT_SLACK * np.maximum(1.0, df[bound].abs())
    ok = bool(np.all(df[measured] <= df[bound] + slack))
    worst = _worst_row(df, measured, bound)
    n_bad = int(np.sum(df[measured] > df[bound] + slack))
    note = f"{len(df)} rows, all within the bound" if ok else f"{n_bad}/{len(df)} rows exceed it"
    return Verdict(claim_id, float(worst[measured]), float(worst[bound]), ok,
                   f"{detail}; {note}" if detail else note, df)


def expectation_verdict(claim_id: str, df: pd.DataFrame, measured: str, bound: str,
                        by: Sequence[str], detail: str = "") -> Verdict:
    """A bound in expectation, judged per group ``by`` on the seed mean.

    Fails when, for some group, mean − t_{0.95, n−1}·sd/√n > bound (the bound is the group's mean
    bound; for deterministic SEA quantities every seed has the same bound).
    """
    rows = []
    for key, group in df.groupby(list(by), sort=True):
        n = len(group)
        mean = float(group[measured].mean())
        se = float(group[measured].std(ddof=1)) / math.sqrt(n) if n > 1 else math.inf
        lower = mean - float(stats.t.ppf(CONFIDENCE, max(n - 1, 1))) * se
        rows.append({**dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True)),
                     "n": n, "mean": mean, "ci_lower": lower,
                     "bound": float(group[bound].mean())})
    summary = pd.DataFrame(rows)
    ok = bool(np.all(summary["ci_lower"] <= summary["bound"]))
    worst = _worst_row(summary, "mean", "bound")
    n_bad = int(np.sum(summary["ci_lower"] > summary["bound"]))
    note = (f"{len(summary)} configs x {int(summary['n'].min())} seeds, "
            + ("every seed mean within the bound" if ok else f"{n_bad} configs exceed it at 95%"))
    return Verdict(claim_id, float(worst["mean"]), float(worst["bound"]), ok,
                   f"{detail}; {note}" if detail else note, df)


def combine_verdicts(claim_id: str, parts: Sequence[tuple[str, Verdict]], *, data: pd.DataFrame | None = None,
                     note: str = "", headline: Literal["first", "tightest"] = "first") -> Verdict:
    """One verdict from named parts of a claim's check: it holds iff every part holds.

    measured/bound is that of the failing part with the largest measured/bound when one fails; otherwise
    that of the first part (``headline="first"``: the claim's main inequality, listed first) or of the part
    using most of its bound (``headline="tightest"``). The detail lists every part as
    ``[name] measured vs bound (holds|FAILS): detail``, after ``note``; ``data`` defaults to the parts'
    tables stacked with a ``part`` column.
    """
    def excess(v: Verdict) -> float:
        return v.tightness if math.isfinite(v.tightness) else -math.inf

    failing = [v for _, v in parts if not v.holds]
    if failing:
        worst = max(failing, key=lambda v: v.tightness if math.isfinite(v.tightness) else math.inf)
    else:
        worst = parts[0][1] if headline == "first" else max((v for _, v in parts), key=excess)
    detail = "; ".join(f"[{name}] {v.measured:.4g} vs {v.bound:.4g} ({v.status}): {v.detail}" for name, v in parts)
    if note:
        detail = f"{note}; {detail}"
    if data is None:
        data = pd.concat([v.data.assign(part=name) for name, v in parts], ignore_index=True)
    return Verdict(claim_id, worst.measured, worst.bound, not failing, detail, data)


def fit_slope(x: np.ndarray, y: np.ndarray) -> float:
    """Least-squares slope of log y against log x (requires positive values)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if np.any(x <= 0) or np.any(y <= 0):
        raise ValueError("fit_slope needs positive x and y")
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def slope_verdict(claim_id: str, df: pd.DataFrame, slope: float, expected: float, tol: float,
                  detail: str = "") -> Verdict:
    """A rate: holds iff the fitted slope ≤ expected + tol; measured = slope, bound = expected + tol."""
    limit = expected + tol
    ok = bool(slope <= limit)
    note = f"fitted slope {slope:.3f}, theory {expected:g} (+{tol:g} tolerance)"
    return Verdict(claim_id, slope, limit, ok, f"{detail}; {note}" if detail else note, df)
