r"""Full-information cost tables: the iteration count of every instance at every ω of a grid.

The learners of the SOR-tuning experiments see one entry per round (bandit feedback), but the comparators
need the whole table, so it is computed once and every learner and comparator is replayed from it
(spec ``sor_bandit.md`` §5, "Full-information tables"): common random numbers across methods.

    cost[t, j] = SOR(A_t, b_t, ω_j)     (Generator A; x₀ = 0, ‖r_k‖ < ε‖b‖, ε = 1e-8, cap 10 000)
    cost[t, j] = SSOR-PCG(A_k, b_k, ω_j)   (Generator B; warm start u_k on the exact trajectory)

A run that reaches the cap is *capped*: its count is only a lower bound on the true count. The table keeps
the mask ``capped`` beside the counts, every summary reports how many entries it holds, and the checks
treat them explicitly; a capped entry is never silently used as if it were a count.

Comparators (all read off the same table):

- *fixed ω_j*: Σ_t cost[t, j];
- *best fixed* in hindsight: min_j Σ_t cost[t, j] (on the grid, or on a fine 0.01 grid for the continuum);
- *instance-optimal* (grid optimum per instance): Σ_t min_j cost[t, j];
- *Young's ω*(A_t)* = 2/(1 + √(1 − β_t²)) per instance and its measured count (Generator A).

Tables are pure functions of (stream, grid, tolerance, cap), so a caller may cache them keyed by the
stream's config and seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from sims.sor_bandit.streams import HeatStream, LaplacianStream, dense_laplacian, truncated_normal
from solvers._checks import check_int, check_positive
from theory import sor_bandit as th

__all__ = [
    "MAXITER",
    "TOL",
    "CostTable",
    "TauCalibration",
    "calibrate_tau",
    "fine_grid",
    "heat_table",
    "laplacian_table",
    "merge_grids",
    "power_norm",
    "single_thread",
]

#: Relative tolerance ε and iteration cap of every solve (spec §3, §5).
TOL, MAXITER = 1e-8, 10_000
#: Two grid points closer than this are the same column.
GRID_ATOL = 1e-12


def single_thread():
    """A context in which BLAS/LAPACK run on one thread.

    The dense spectral computations here work on 100×100 matrices; on a shared 2-core machine a
    multi-threaded BLAS spends far longer synchronising than computing (measured: a 100×100 matrix
    product 200× slower with 2 threads under load), and the results do not depend on the thread count.
    """
    return threadpool_limits(limits=1)


def power_norm(C: np.ndarray, k: int) -> float:
    """‖C^k‖₂ (k ≥ 0) by binary powering and an SVD, run on one BLAS thread."""
    check_int("k", k, 0)
    with single_thread():
        return float(np.linalg.norm(np.linalg.matrix_power(C, k), 2))


def fine_grid(omega_max: float, *, low: float = 1.0, step: float = 0.01) -> np.ndarray:
    """low, low + step, ... ≤ omega_max, and omega_max itself: the continuum comparator's grid."""
    step = check_positive("step", step)
    if not 0.0 < low <= omega_max < 2.0:
        raise ValueError(f"need 0 < low <= omega_max < 2, got low = {low!r}, omega_max = {omega_max!r}")
    k = int(np.floor((omega_max - low) / step + 1e-9))
    pts = np.round(low + step * np.arange(k + 1), 12)
    return merge_grids(pts, [omega_max])


def merge_grids(*grids: Sequence[float] | np.ndarray) -> np.ndarray:
    """The sorted union of grids, points within 1e-12 of each other merged (the first one kept)."""
    pts = np.sort(np.concatenate([np.asarray(g, dtype=float).ravel() for g in grids]))
    if pts.size == 0:
        raise ValueError("grids must hold at least one ω")
    keep = np.concatenate(([True], np.diff(pts) > GRID_ATOL))
    return pts[keep]


@dataclass(frozen=True)
class CostTable:
    """Iteration counts of T instances at d values of ω, with the capped mask and per-instance constants.

    Attributes
    ----------
    omegas
        The grid, sorted, shape (d,).
    cost
        Iteration counts, int64, shape (T, d).
    capped
        True where the solve hit the cap (the count is then a lower bound), shape (T, d).
    context
        The instance's context (c_t for Generator A, κ(t_k) for B), shape (T,).
    beta
        Jacobi radii β_t, shape (T,).
    solver
        "sor" (Algorithm 1) or "ssor_pcg".
    tol, maxiter
        Relative tolerance and cap of every solve.
    omega_star, star_cost, star_capped
        Young's ω*(A_t), the count there and its capped flag, shape (T,) (Generator A; None for heat).
    baseline_cost, baseline_capped
        Counts of a baseline solver per instance (unpreconditioned CG for heat), or None.
    """

    omegas: np.ndarray = field(repr=False)
    cost: np.ndarray = field(repr=False)
    capped: np.ndarray = field(repr=False)
    context: np.ndarray = field(repr=False)
    beta: np.ndarray = field(repr=False)
    solver: str = "sor"
    tol: float = TOL
    maxiter: int = MAXITER
    omega_star: np.ndarray | None = field(default=None, repr=False)
    star_cost: np.ndarray | None = field(default=None, repr=False)
    star_capped: np.ndarray | None = field(default=None, repr=False)
    baseline_cost: np.ndarray | None = field(default=None, repr=False)
    baseline_capped: np.ndarray | None = field(default=None, repr=False)

    @property
    def T(self) -> int:
        """Number of instances."""
        return int(self.cost.shape[0])

    @property
    def d(self) -> int:
        """Number of grid points."""
        return int(self.cost.shape[1])

    @property
    def n_capped(self) -> int:
        """Capped entries of the grid (plus those at ω* and of the baseline)."""
        extra = sum(int(np.sum(m)) for m in (self.star_capped, self.baseline_capped) if m is not None)
        return int(np.sum(self.capped)) + extra

    @property
    def losses(self) -> np.ndarray:
        """ℓ_t(ω_j) = cost − 1 ∈ [0, K] (float64), the learners' losses."""
        return self.cost.astype(np.float64) - 1.0

    def columns(self, grid: Sequence[float] | np.ndarray) -> np.ndarray:
        """Column indices of the points of ``grid`` (each must be a column, to 1e-12)."""
        grid = np.asarray(grid, dtype=float).ravel()
        idx = np.clip(np.searchsorted(self.omegas, grid), 0, self.d - 1)
        lower = np.clip(idx - 1, 0, self.d - 1)
        idx = np.where(np.abs(self.omegas[lower] - grid) < np.abs(self.omegas[idx] - grid), lower, idx)
        bad = np.abs(self.omegas[idx] - grid) > GRID_ATOL
        if np.any(bad):
            raise ValueError(f"grid points {grid[bad][:5].tolist()} are not columns of the table")
        return idx

    def restrict(self, grid: Sequence[float] | np.ndarray) -> CostTable:
        """The table on the columns of ``grid`` only (in the order of ``grid``)."""
        idx = self.columns(grid)
        return replace(self, omegas=self.omegas[idx], cost=self.cost[:, idx], capped=self.capped[:, idx])

    def head(self, T: int) -> CostTable:
        """The first T instances."""
        check_int("T", T, 1)
        if T > self.T:
            raise ValueError(f"T must be <= {self.T}, got {T}")

        def cut(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[:T]

        return replace(self, cost=self.cost[:T], capped=self.capped[:T], context=self.context[:T],
                       beta=self.beta[:T], omega_star=cut(self.omega_star), star_cost=cut(self.star_cost),
                       star_capped=cut(self.star_capped), baseline_cost=cut(self.baseline_cost),
                       baseline_capped=cut(self.baseline_capped))

    def totals(self) -> np.ndarray:
        """Σ_t cost[t, j] per column, shape (d,)."""
        return self.cost.sum(axis=0)

    def best_fixed(self) -> int:
        """Column of the best fixed ω in hindsight (lowest index on ties)."""
        return int(np.argmin(self.totals()))

    def instance_optimal(self) -> np.ndarray:
        """Per-instance column of least count (lowest ω on ties), shape (T,)."""
        return np.argmin(self.cost, axis=1)

    def summary(self) -> dict[str, float]:
        """Totals of the comparators: best fixed (and its ω), instance-optimal, ω*(A_t), capped entries."""
        best = self.best_fixed()
        out = {"best_fixed_omega": float(self.omegas[best]), "best_fixed_total": float(self.totals()[best]),
               "instance_optimal_total": float(self.cost.min(axis=1).sum()), "n_capped": float(self.n_capped)}
        if self.star_cost is not None:
            out["omega_star_total"] = float(self.star_cost.sum())
        if self.baseline_cost is not None:
            out["baseline_total"] = float(self.baseline_cost.sum())
        return out


def _check_grid(omegas: Sequence[float] | np.ndarray) -> np.ndarray:
    grid = merge_grids(omegas)
    if np.any(grid <= 0) or np.any(grid >= 2):
        raise ValueError(f"omegas must lie in (0, 2), got values in [{grid.min()}, {grid.max()}]")
    return grid


def laplacian_table(stream: LaplacianStream, omegas: Sequence[float] | np.ndarray, *, tol: float = TOL,
                    maxiter: int = MAXITER, with_star: bool = True) -> CostTable:
    """SOR counts of every instance of Generator A at every ω of the grid (and at ω*(A_t)).

    The grid part is one call of the solver's table kernel (:func:`solvers.sor.sor_counts` with the shifts
    c_t); the count at Young's ω*(A_t), which differs per instance, is one :func:`solvers.sor.sor` call each.
    Every solve starts from x₀ = 0 with the instance's own b_t.

    Parameters
    ----------
    stream
        The instances (shifts c_t, right-hand sides b_t).
    omegas
        The grid (sorted and de-duplicated here), each ω ∈ (0, 2).
    tol, maxiter
        Relative tolerance ε (stop when ‖r_k‖ < ε‖b‖) and the cap.
    with_star
        Also solve at Young's ω*(A_t) (stored apart from the grid).
    """
    from solvers.sor import Stencil5, sor, sor_counts

    grid = _check_grid(omegas)
    tol = check_positive("tol", tol)
    maxiter = check_int("maxiter", maxiter, 1)
    counts = sor_counts(Stencil5.laplacian(stream.N, 0.0), stream.b, grid, shifts=stream.c, tol=tol,
                        maxiter=maxiter)
    cost, capped = np.atleast_2d(counts.iterations), np.atleast_2d(counts.capped)
    star = star_cost = star_capped = None
    if with_star:
        star = stream.omega_star
        star_cost = np.empty(stream.T, dtype=np.int64)
        star_capped = np.empty(stream.T, dtype=bool)
        for t in range(stream.T):
            res = sor(Stencil5.laplacian(stream.N, float(stream.c[t])), stream.b[t], float(star[t]), tol=tol,
                      maxiter=maxiter)
            star_cost[t], star_capped[t] = res.iterations, res.capped
    return CostTable(grid, cost, capped, stream.c.copy(), stream.beta, "sor", tol, maxiter,
                     omega_star=star, star_cost=star_cost, star_capped=star_capped)


def heat_table(stream: HeatStream, omegas: Sequence[float] | np.ndarray, *, tol: float = TOL,
               maxiter: int = MAXITER, with_cg: bool = True) -> CostTable:
    """SSOR-PCG iteration counts of every heat step at every ω, warm-started on the exact trajectory.

    Step k solves A_k x = b_k from x₀ = u_k to ‖r‖ ≤ ε‖b_k‖ (as MATLAB's ``pcg`` with a warm start), for
    each ω of the grid; ``with_cg`` adds unpreconditioned CG from the same start (the baseline).
    """
    from solvers.sor import Stencil5, cg, pcg_counts

    grid = _check_grid(omegas)
    tol = check_positive("tol", tol)
    maxiter = check_int("maxiter", maxiter, 1)
    T, d = stream.T, grid.size
    cost = np.empty((T, d), dtype=np.int64)
    capped = np.empty((T, d), dtype=bool)
    base = np.empty(T, dtype=np.int64) if with_cg else None
    base_capped = np.empty(T, dtype=bool) if with_cg else None
    m = stream.nx - 1
    for k in range(T):
        r = float(stream.r[k])
        A = Stencil5.heat(m, r) if r > 0 else Stencil5(m, 1.0, 0.0)  # κ = 0: A = I
        res = pcg_counts(A, stream.b[k], grid, x0=stream.u[k], tol=tol, maxiter=maxiter)
        cost[k], capped[k] = res.iterations, res.capped
        if with_cg:
            res = cg(A, stream.b[k], tol=tol, maxiter=maxiter, x0=stream.u[k])
            base[k], base_capped[k] = res.iterations, res.capped
    return CostTable(grid, cost, capped, stream.context.copy(), stream.beta, "ssor_pcg", tol, maxiter,
                     baseline_cost=base, baseline_capped=base_capped)


# ---------------------------------------------------------------- the asymptoticity τ
@dataclass(frozen=True)
class TauCalibration:
    """τ̂ of Assumption 2.1 fitted on a calibration set, with every (c, ω, b) entry it came from.

    Attributes
    ----------
    tau_hat
        max over the entries of τ_ω = (‖C_ω^{k−1}‖₂^{1/(k−1)} − ρ_ω)/(1 − ρ_ω), k = SOR(A_c, b, ω), ρ_ω from
        Young's formula (:func:`theory.sor_bandit.tau_hat`): the smallest τ under which the assumption, and
        hence SOR ≤ U(ω), holds at every calibration entry.
    rows
        One row per entry: c, beta, omega, rhs (index of b), count, capped, rho, norm (‖C^{k−1}‖₂), tau.
    """

    tau_hat: float
    rows: pd.DataFrame = field(repr=False)


def calibrate_tau(N: int, shifts: Sequence[float], omegas: Sequence[float] | np.ndarray, n_rhs: int,
                  rng: np.random.Generator, *, tol: float = TOL, maxiter: int = MAXITER,
                  with_star: bool = True) -> TauCalibration:
    r"""Fit τ̂ on a calibration set: shifts c × grid ω (plus ω*(c)) × ``n_rhs`` right-hand sides.

    For each entry the SOR count k is measured (x₀ = 0, relative ε) and the dense residual operator
    C_ω = I − A W_ω⁻¹ (:func:`solvers.sor.sor_residual_matrix`) raised to k − 1; ρ_ω is Young's
    ρ(C_ω) for β(c) = 4cos(πh)/(4 + c). Capped runs enter with k = maxiter (a lower bound of the count,
    flagged in ``rows``). The right-hand sides are N(0, I) conditioned on ‖b‖ ≤ √n, drawn from ``rng``.

    References
    ----------
    Khodak et al., ICLR 2024, Assumption 2.1 and Lemma 2.1 (spec ``sor_bandit.md`` claim 2); the authors'
    ``scripts/asymptotic.m`` computes the same quantity with MATLAB's ``norm(C^(k-1))``.
    """
    from solvers.sor import Stencil5, sor_counts, sor_residual_matrix

    check_int("N", N, 2)
    check_int("n_rhs", n_rhs, 1)
    rows = []
    for c in shifts:
        c = float(c)
        beta = float(th.shifted_beta(c, N))
        grid = merge_grids(omegas, [th.optimal_omega(beta)]) if with_star else merge_grids(omegas)
        A = dense_laplacian(N, c)
        mats = {}
        rhs = truncated_normal(n_rhs, N * N, rng)
        counts = sor_counts(Stencil5.laplacian(N, c), rhs, grid, shifts=np.full(n_rhs, 0.0), tol=tol,
                            maxiter=maxiter)
        rho = np.asarray(th.young_radius(grid, beta), dtype=float)
        with single_thread():
            for j, w in enumerate(grid):
                for i in range(n_rhs):
                    k = int(counts.iterations[i, j])
                    if w not in mats:
                        mats[w] = sor_residual_matrix(A, float(w))
                    nrm = float(np.linalg.norm(np.linalg.matrix_power(mats[w], max(k - 1, 0)), 2))
                    rows.append({"c": c, "beta": beta, "omega": float(w), "rhs": i, "count": k,
                                 "capped": bool(counts.capped[i, j]), "rho": float(rho[j]), "norm": nrm})
    df = pd.DataFrame(rows)
    df["tau"] = np.asarray(th.tau_required(df["norm"].to_numpy(), df["count"].to_numpy(), df["rho"].to_numpy()),
                           dtype=float)
    return TauCalibration(float(th.tau_hat(df["norm"], df["count"], df["rho"])), df)
