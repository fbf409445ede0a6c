r"""Shared set-up of the ``sor_bandit`` checks: scales, the calibrated τ̂, the cached streams and tables.

The checks themselves are in :mod:`sims.sor_bandit.checks_spectral` (claims about matrices and surrogates:
young, model_problem, surrogate_bound, semi_lipschitz, ssor_pcg) and :mod:`sims.sor_bandit.checks_learning`
(claims about learners: tsallis_regret, discretisation, thm21, contextual, semi_stochastic, chebcb_rate).

**Scales.** ``quick``: both variance settings with T = 1000, 6 learner seeds, τ̂ from a coarse calibration
(ω step 0.05, one right-hand side per shift): a few seconds with numba's cache warm, under 30 s cold.
``full``: both variance settings with T = 5000 (the paper's horizon), 10 learner seeds, τ̂ from ω step 0.01 and
two right-hand sides per shift: about a minute.

**Streams and seeds.** Each variance setting has one fixed stream, seeded from the context's base seed; the
learner seeds vary the learners only, which is the expectation of the bandit theorems (they hold for every
fixed sequence of instances). The instances of the streams are independent of the τ̂ calibration set, so
the surrogate bound is checked on held-out instances.

**Tables.** A stream's learning table holds the SOR counts on Theorem 2.1's grid g_i = 1 + (ω_max − 1)i/D,
i = 1..D, ω_max = max_t ω*_t, with D = Theorem 2.1's tuned d (:func:`theory.sor_bandit.thm21_tuning`, at the
stream's T and τ̂) moved to the integer within 10% having the most divisors, so that the smaller grids used by
the other checks (D/2, and the divisors of D) are subsets of it and one table serves them all. Tables are
pure functions of (variance, T, seed, grid) and cached in the process.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from sims.checks import CheckContext, Verdict, combine_verdicts
from sims.runner import derive_seed
from sims.sor_bandit.experiments import (
    StreamTheory,
    calibrated_tau,
    composite_near,
    fixed_stream,
    fixed_table,
    stream_theory,
)
from sims.sor_bandit.streams import SHIFT_LOW, LaplacianStream
from sims.sor_bandit.tables import MAXITER, TOL, CostTable, TauCalibration
from theory import sor_bandit as th

__all__ = [
    "EPS",
    "N_GRID",
    "LearningSetup",
    "Scale",
    "combine",
    "identity_rows",
    "learning_setup",
    "scale",
    "seed_of",
    "tau_calibration",
]

#: Tolerance and grid side of every check (spec §5).
EPS, N_GRID = TOL, 10


@dataclass(frozen=True)
class Scale:
    """What a scale runs: horizon, learner seeds, variance settings and the τ̂ calibration."""

    T: int
    seeds: int
    variances: tuple[str, ...]
    tau_step: float
    tau_rhs: int


def scale(ctx: CheckContext) -> Scale:
    """The quick or full scale of ``ctx``."""
    return ctx.pick(Scale(1000, 6, ("low", "high"), 0.05, 1), Scale(5000, 10, ("low", "high"), 0.01, 2))


def seed_of(ctx: CheckContext, *key: object) -> int:
    """A 63-bit integer seed derived from the base seed and a key (stable across processes)."""
    seq = derive_seed(ctx.base_seed, {"sor_bandit": [str(k) for k in key]}, 0)
    return int(seq.generate_state(2, dtype=np.uint64)[0] >> np.uint64(1))


def tau_calibration(ctx: CheckContext) -> TauCalibration:
    """τ̂ of the scale: shifts (−0.15, 0, 0.15, 0.3, 0.45) × ω ∈ [1, 1.95] (and ω*(c)) × right-hand sides."""
    s = scale(ctx)
    return calibrated_tau(N_GRID, s.tau_step, s.tau_rhs, seed_of(ctx, "tau"))


@dataclass(frozen=True)
class LearningSetup:
    """A variance setting's stream, its Theorem 2.1 constants and its learning table.

    Attributes
    ----------
    variance
        "low" or "high".
    stream
        The fixed stream of T instances.
    theory
        τ̂, ω_max = max_t ω*_t, α_t, L_t and Thm 2.1's tuning (K, d).
    D
        The lattice size: Thm 2.1's d moved to a nearby highly divisible integer.
    table
        SOR counts on thm21_grid(ω_max, D) (and at ω*(A_t)).
    """

    variance: str
    stream: LaplacianStream
    theory: StreamTheory
    D: int
    table: CostTable


@lru_cache(maxsize=4)
def _setup(variance: str, T: int, stream_seed: int, tau: float) -> LearningSetup:
    stream = fixed_stream(variance, N_GRID, T, stream_seed)
    theory = stream_theory(stream.beta, tau, eps=EPS)
    D = composite_near(theory.tuning.d)
    grid = tuple(float(w) for w in th.thm21_grid(theory.omega_max, D))
    return LearningSetup(variance, stream, theory, D, fixed_table(variance, N_GRID, T, stream_seed, grid, EPS,
                                                                  MAXITER))


def learning_setup(ctx: CheckContext, variance: str) -> LearningSetup:
    """The learning set-up of ``variance`` at the context's scale (cached)."""
    return _setup(variance, scale(ctx).T, seed_of(ctx, "stream", variance), tau_calibration(ctx).tau_hat)


@lru_cache(maxsize=4)
def _contextual_table(variance: str, T: int, stream_seed: int, d: int) -> CostTable:
    omega_max = float(th.optimal_omega(th.shifted_beta(SHIFT_LOW, N_GRID)))
    grid = tuple(float(w) for w in th.thm21_grid(omega_max, d))
    return fixed_table(variance, N_GRID, T, stream_seed, grid, EPS, MAXITER)


def contextual_table(ctx: CheckContext, variance: str, d: int) -> CostTable:
    """SOR counts of the variance's stream on thm21_grid(ω*(−0.15), d): the grid of Thm B.4 for the support."""
    return _contextual_table(variance, scale(ctx).T, seed_of(ctx, "stream", variance), d)


def identity_rows(label: str, error: np.ndarray | float, tol: float, **columns: object) -> pd.DataFrame:
    """Rows of an identity check: |error| against its tolerance (measured/bound = the fraction used)."""
    err = np.abs(np.atleast_1d(np.asarray(error, dtype=float)))
    return pd.DataFrame({"identity": label, "error": err, "tol": float(tol), **columns})


def combine(claim_id: str, parts: Sequence[tuple[str, Verdict]], data: pd.DataFrame | None = None,
            note: str = "") -> Verdict:
    """:func:`sims.checks.combine_verdicts` with the claim's main inequality (the first part) as headline."""
    return combine_verdicts(claim_id, parts, data=data, note=note)
