r"""Benchmark of a whole online tuning run (``boundlab bench --topic sor_bandit``).

T = 5000 rounds of Generator A (low variance, N = 10, n = 100): each round receives (c_t, b_t), asks the
authors' Tsallis-INF (20-point grid on [1, 1.95], anytime rate, running-mean normalisation) for ω_t, solves
A_t x = b_t by SOR to ‖r‖ < 1e-8‖b‖ from x₀ = 0 and feeds back the iteration count.

- candidate: :func:`solvers.sor.sor` on the matrix-free 5-point stencil (numba sweep with fused residual);
- reference: Algorithm 1 written with scipy, x ← x + (D/ω + L)⁻¹r by ``scipy.sparse.linalg.spsolve_triangular``
  on the CSR lower triangle, then r = b − Ax, every iteration.

Both runs play the same arms (same learner seed, and the two solvers give the same counts), so the ratio is
the cost of the solves. Target: at least as fast (speed-up ≥ 1). One timed repeat: the reference spends
about 0.3 ms per SciPy triangular solve, some 1.5 minutes per run on this machine (≈ 3.3·10⁵ SOR iterations).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve_triangular

from sims.bench import Pair, register_benchmark
from sims.sor_bandit.experiments import FAITHFUL_GRID
from sims.sor_bandit.streams import laplacian_stream
from sims.sor_bandit.tables import MAXITER, TOL
from solvers.bandits import TsallisINF
from solvers.sor import Stencil5, laplacian_2d, sor

__all__ = ["N", "T", "online_run", "scipy_sor_count"]

T, N = 5000, 10


def scipy_sor_count(A: sp.csr_matrix, b: np.ndarray, omega: float, tol: float = TOL, maxiter: int = MAXITER) -> int:
    """SOR (Algorithm 1) with a sparse triangular solve per iteration; returns the iteration count."""
    W = sp.csc_matrix(sp.tril(A, k=-1) + sp.diags(A.diagonal() / omega))
    W.sort_indices()
    x = np.zeros_like(b)
    r = b.copy()
    target = tol * np.linalg.norm(b)
    for k in range(1, maxiter + 1):
        # CSC input and overwrite_A skip SciPy's format conversion and copy (W itself is not modified)
        x += spsolve_triangular(W, r, lower=True, overwrite_A=True, overwrite_b=True)
        r = b - A @ x
        if np.linalg.norm(r) < target:
            return k
    return maxiter


def _numba_count(c: float, b: np.ndarray, omega: float) -> int:
    return sor(Stencil5.laplacian(N, c), b, omega, tol=TOL, maxiter=MAXITER).iterations


def _scipy_count(c: float, b: np.ndarray, omega: float) -> int:
    return scipy_sor_count(laplacian_2d(N, c), b, omega)


def online_run(shifts: np.ndarray, rhs: np.ndarray, solve, seed: int = 0) -> int:
    """Play the faithful Tsallis-INF online over the instances with ``solve(c, b, ω) -> count``; total count."""
    learner = TsallisINF(FAITHFUL_GRID.size, float(MAXITER - 1), rng=seed, faithful=True)
    total = 0
    for c, b in zip(shifts, rhs, strict=True):
        arm = learner.select()
        k = solve(float(c), b, float(FAITHFUL_GRID[arm]))
        learner.update(arm, float(k - 1))
        total += k
    return total


@register_benchmark("sor_bandit", "bandit_run_T5000_N10", candidate="online Tsallis-INF + numba SOR (stencil)",
                    reference="online Tsallis-INF + SOR with scipy spsolve_triangular", repeats=1, target=1,
                    warm_reference=False)
def _bandit_run() -> Pair:
    stream = laplacian_stream(T, np.random.default_rng(0), N=N, variance="low")
    return (lambda: online_run(stream.c, stream.b, _numba_count),
            lambda: online_run(stream.c, stream.b, _scipy_count))
