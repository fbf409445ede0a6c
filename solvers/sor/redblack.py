r"""Red-black SOR on the 5-point stencil, for many (instance, ω) jobs at once: the GPU path of the cost tables.

A natural-order sweep is a chain of dependent row updates, so it cannot use a GPU (the sparse triangular
solve of :mod:`solvers.sor._array` runs it there, one level at a time, for correctness only). The red-black
(checkerboard) ordering colours grid point (p, q) red when p + q is even and black otherwise; every
neighbour of a red point is black and vice versa, so one sweep is two fully parallel half-sweeps,

.. math::

    x_R \leftarrow x_R + \frac{\omega}{a}\,r_R(x),\qquad x_B \leftarrow x_B + \frac{\omega}{a}\,r_B(x),
    \qquad r = b - Ax,\ a = \text{center} + c_t,

each of them exactly the SOR update of its points (their neighbours all hold the values the sequential
sweep in the red-black order would see). With J jobs stored as a (J, N, N) stack, a half-sweep is a few
elementwise operations on the whole stack: that is where the GPU pays, for tables cost[t, ω] of many
instances and ω at once.

**Young's theory applies unchanged.** The red-black ordering is consistently ordered (it is the
ordering with which Young's theory was first stated) and the Jacobi matrix is the same, so
ρ(L_ω^{RB}) is given by Young's formula with the same β: ω* = 2/(1 + √(1 − β²)), ρ = ω* − 1 at ω*
(:func:`solvers.sor.young.young_radius`, checked against the measured rate in the tests). The iteration
*counts* are not those of :func:`solvers.sor.solve.sor_counts` (natural lexicographic order): the two
iteration matrices share their eigenvalues but not their eigenvectors, so the transient, and the count
to reach a tolerance, differ by a few iterations. On the Laplacian P_N from b = 1 at tol = 1e-8 and
ω ∈ {1, 1.2, …, 1.9}, the red-black counts differ from the natural-order ones by −9 % to +6 % (N = 16),
most near ω*, where the defective eigenvalue ω* − 1 makes the transient longest; both orderings are
minimised at the same grid point. On the measured rates: over six decades of the residual the red-black
sweeps contract by Young's ρ(ω) to 0.1 % below ω* and 0.4 % above, and by ≈ 1.04·(ω* − 1) at ω* (the
polynomial factor of the Jordan block). A bandit tuned on one ordering's costs learns the same ω*, but
cost tables of the two orderings are not interchangeable.

**Stopping rule** (Algorithm 1): x₀ = 0; after sweep k, r_k = b − Ax_k (a fresh residual, not an updated
one) and the job stops at the first k with ‖r_k‖₂ < tol·‖b‖₂ (strict), or is capped at k = maxiter. The
residual of the last half-sweep is reused by the next red half-sweep, so a sweep costs two stencil
applications. Every job keeps iterating until all have stopped (its count is recorded when it first meets
the test), so the results do not depend on how often the stop test is read on the host (every
``check_every`` sweeps: 1 on numpy, where reading is free, 16 on CuPy).

References
----------
D.M. Young, Iterative Solution of Large Linear Systems (1971), ch. 5–6 (consistent orderings, the
red-black ordering); M. Khodak et al., "Learning to Relax", ICLR 2024, arXiv:2310.02246, Algorithm 1.
"""

from __future__ import annotations

import numpy as np

from solvers._xp import array_namespace, is_cupy, to_numpy
from solvers.sor._kernels import CONVERGED, DIVERGED, rows_sumsq
from solvers.sor._validate import check_int, check_maxiter, check_omegas, check_rhs, check_tol
from solvers.sor.operators import Stencil5
from solvers.sor.solve import CountTable, _raise_status

__all__ = ["sor_counts_redblack"]


def _neighbours(xp, X):
    """Σ of the 4 grid neighbours of every point of a (J, N, N) stack (zero Dirichlet boundary)."""
    nb = xp.zeros_like(X)
    nb[:, 1:, :] += X[:, :-1, :]
    nb[:, :-1, :] += X[:, 1:, :]
    nb[:, :, 1:] += X[:, :, :-1]
    nb[:, :, :-1] += X[:, :, 1:]
    return nb


def _jobs(A: Stencil5, b, omegas, shifts):
    """(B (T, n) host-validated, ω grid (T or 1, G), shifts c (T,), whether the table is one row)."""
    n = A.n
    B = check_rhs(b, n, batch=True)
    single = B.ndim == 1
    if shifts is None:
        c = np.zeros(1)
    else:
        c = np.asarray(to_numpy(shifts))
        if c.dtype.kind not in "fiu" or c.dtype == bool:
            raise TypeError(f"shifts must be real numbers, got dtype {c.dtype}")
        if c.ndim > 1:
            raise ValueError(f"shifts must be a scalar or 1-D, got shape {c.shape}")
        c = c.astype(np.float64)
        if not np.all(np.isfinite(c)):
            raise ValueError("shifts must be finite, got non-finite entries")
        single = single and c.ndim == 0
        c = np.atleast_1d(c)
    xp = array_namespace(B)
    B2 = B[None, :] if B.ndim == 1 else B
    T = max(B2.shape[0], c.shape[0])
    OM = np.atleast_2d(omegas)
    if OM.shape[0] != 1:
        single = False
        T = max(T, OM.shape[0])
        if OM.shape[0] != T:
            raise ValueError(f"omegas: a 2-D grid needs one row per instance ({T}), got {OM.shape[0]}")
    if B2.shape[0] not in (1, T):
        raise ValueError(f"b must have one row per instance ({T}) or one row, got {B2.shape[0]}")
    if c.shape[0] not in (1, T):
        raise ValueError(f"shifts must have one entry per row of b ({T}), got {c.shape[0]}")
    B2 = xp.broadcast_to(B2, (T, n))
    c = np.broadcast_to(c, (T,))
    return B2, OM, c, single


def sor_counts_redblack(A: Stencil5, b, omegas, *, shifts=None, tol: float = 1e-8, maxiter: int = 10_000,
                        check_every: int | None = None) -> CountTable:
    r"""Red-black SOR iteration counts from x₀ = 0 for every (instance t, ω_g), all jobs in one array stack.

    Parameters
    ----------
    A
        The 5-point :class:`~solvers.sor.operators.Stencil5` (center, off, N); instance t is A + c_t I.
    b
        One right-hand side (n,) or one per instance (T, n), numpy or CuPy (the whole run happens in
        that namespace); every row finite and nonzero.
    omegas
        (G,) grid, or (T, G) a grid per instance; every ω in (0, 2). Host values.
    shifts
        None, a scalar or (T,) diagonal shifts c_t (host values).
    tol, maxiter
        Stop at the first sweep k with ‖r_k‖ < tol·‖b_t‖ (strict), or cap at maxiter.
    check_every
        Sweeps between two host reads of "every job has stopped" (default 1 on numpy, 16 on CuPy);
        it changes the work, never the results.

    Returns
    -------
    CountTable
        iterations[t, g] (int64), converged, capped and the final relative residuals, as numpy arrays
        (copied from the device once, at the end); shape (G,) when b is 1-D, shifts is None or a
        scalar and the grid is 1-D, else (T, G). The counts are those of the red-black ordering (see the
        module docstring for how they relate to :func:`~solvers.sor.solve.sor_counts`).

    Raises
    ------
    FloatingPointError
        A job's residual became non-finite (A + c_t I not SPD and SOR diverged), naming ω and the sweep.

    References
    ----------
    Young (1971), ch. 5–6; Khodak et al., ICLR 2024, Algorithm 1 (the stopping rule).
    """
    if not isinstance(A, Stencil5):
        raise TypeError(f"A must be a Stencil5 (the red-black ordering is defined on the grid), "
                        f"got {type(A).__name__}")
    omegas = check_omegas(to_numpy(omegas), allow_2d=True)
    tol = check_tol(tol)
    maxiter = check_maxiter(maxiter)
    B, OM, c, single = _jobs(A, b, omegas, shifts)
    xp = array_namespace(B)
    if check_every is None:
        check_every = 16 if is_cupy(B) else 1
    check_every = check_int("check_every", check_every, 1)
    centers = A.center + c
    if np.any(centers == 0.0):
        t = int(np.argmax(centers == 0.0))
        raise ValueError(f"shifts: A + c_t I has a zero diagonal at t = {t} (c_t = {c[t]!r})")
    bn = np.sqrt(rows_sumsq(np.ascontiguousarray(to_numpy(B))))
    if not np.all(bn > 0):
        raise ValueError(f"b must be nonzero (row {int(np.argmin(bn))} is zero): the test is relative to ‖b‖")
    T, G, N = B.shape[0], OM.shape[1], A.N
    # jobs in (t, g) order: job j = t·G + g
    t_of = np.repeat(np.arange(T), G)
    w_host = np.broadcast_to(OM, (T, G)).reshape(-1)
    thresh = xp.asarray(tol * bn[t_of])
    scale = xp.asarray(bn[t_of])
    cen = xp.asarray(centers[t_of])[:, None, None]
    wc = xp.asarray(w_host / centers[t_of])[:, None, None]
    Bj = B.reshape(T, N, N)[xp.asarray(t_of)]
    red = (np.add.outer(np.arange(N), np.arange(N)) % 2 == 0)
    red = xp.asarray(red)
    black = ~red
    off = A.off
    J = T * G
    X = xp.zeros((J, N, N))
    R = Bj.copy()  # r₀ = b − A·0
    iters = xp.full(J, maxiter, dtype=xp.int64)
    status = xp.zeros(J, dtype=xp.int8)  # 0 capped, 1 converged, 2 diverged
    norms = xp.zeros(J)
    done = xp.zeros(J, dtype=bool)
    with np.errstate(all="ignore"):  # a diverging job is reported below, not warned about
        for k in range(1, maxiter + 1):
            X = X + xp.where(red, wc * R, 0.0)
            R = Bj - (cen * X + off * _neighbours(xp, X))
            X = X + xp.where(black, wc * R, 0.0)
            R = Bj - (cen * X + off * _neighbours(xp, X))
            rn = xp.sqrt(xp.sum(R * R, axis=(1, 2)))
            bad = ~done & ~xp.isfinite(rn)
            hit = ~done & (rn < thresh)
            new = hit | bad
            iters = xp.where(new, k, iters)
            norms = xp.where(done, norms, rn)  # a running (or capped) job holds its latest residual
            status = xp.where(hit, CONVERGED, xp.where(bad, DIVERGED, status)).astype(xp.int8)
            done = done | new
            if k % check_every == 0 and bool(xp.all(done)):
                break
    iters_h, status_h, norms_h = to_numpy(iters), to_numpy(status), to_numpy(norms) / to_numpy(scale)
    bad = np.flatnonzero(status_h == DIVERGED)
    if bad.size:
        _raise_status("sor", DIVERGED, int(iters_h[bad[0]]), float(w_host[bad[0]]))
    shape = (T, G)
    iters_h, status_h, norms_h = iters_h.reshape(shape), status_h.reshape(shape), norms_h.reshape(shape)
    conv = status_h == CONVERGED
    if single:
        iters_h, conv, norms_h = iters_h[0], conv[0], norms_h[0]
    return CountTable(omegas, iters_h, conv, ~conv, norms_h, maxiter)
