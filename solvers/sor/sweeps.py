r"""SOR sweeps: numba kernels (serial, cached) for CSR matrices and the 5-point stencil.

One forward SOR sweep (Young's method, not Gauss–Seidel followed by extrapolation) updates the unknowns
in order i = 0..n−1, in place, each from the newest values of its neighbours:

    x_i ← (1−ω)x_i + ω(b_i − Σ_{j<i} a_ij x_j^new − Σ_{j>i} a_ij x_j)/a_ii,

which in matrix form is x ← x + W_ω⁻¹(b − Ax), W_ω = D/ω + L (spec sor_bandit.md §2–3, Algorithm 1).
A backward sweep runs i = n−1..0 and is x ← x + (D/ω + U)⁻¹(b − Ax). A forward then a backward sweep is
one SSOR step x ← x + W̆_ω⁻¹(b − Ax), W̆_ω = (D+ωL)D⁻¹(D+ωU)/(ω(2−ω)).

**How a row is evaluated.** With s_i = b_i − Σ_{j<i} a_ij x_j^new − Σ_{j≥i} a_ij x_j (the current
residual of row i) the update is x_i ← x_i + ωs_i/a_ii, the componentwise formula above rearranged
exactly. The kernels split s_i = up_i − lo_i into the part that uses the newest values (lo_i: j < i
forward, j > i backward, accumulated so that the neighbour updated last comes last) and the rest (up_i),
and form x_i^new = (x_i + w·up_i) − w·lo_i with w = ω/a_ii, so that the loop-carried dependency through
the previous row is a multiply and a subtraction, not a chain ending in a division. The CSR kernels take
a_ii from the row's stored diagonal entry (no separate read of the diagonal). The result differs from
the literal formula by rounding only. No fast-math flags: every operation is IEEE-rounded in a fixed
order, so the same inputs give the same bits, and the 8-lane table kernels of
:mod:`solvers.sor._lanes` reproduce these kernels exactly.

**Fused residual.** For a symmetric A the residual of the new iterate comes out of the same pass. With
d_i = x_i^new − x_i^old,

    r_i^new = b_i − Σ_j a_ij x_j^new = s_i − a_ii d_i − Σ_{j>i} a_ij d_j           (forward sweep),

and the terms a_ij d_j, j > i, are scattered to r_i when row j is processed, as a_ji d_j (a_ji = a_ij):
row j's own lower entries. So r is complete at the end of the sweep without a second pass over A.
(The residual of x^k cannot be folded into the *next* sweep without storing x^k: that sweep's s_i is
the residual of a mixture of x^k and x^{k+1}.) A non-symmetric matrix takes an ordinary residual pass
(:func:`residual_csr`). The 5-point stencil keeps only a ring of N partial residuals: r_i is complete
once its last neighbour i + N has been updated.

Every kernel takes an optional diagonal shift c (the operator A + cI), as used by the shifted-Laplacian
family; the public sweeps use c = 0.

References
----------
D.M. Young, Iterative Solution of Large Linear Systems (1971), ch. 3–4; M. Khodak et al., "Learning to
Relax", ICLR 2024, arXiv:2310.02246, Algorithms 1 and 8.
"""

from __future__ import annotations

from typing import Literal

import numba
import numpy as np

from solvers._xp import is_cupy
from solvers.sor._validate import check_omega, check_rhs, check_x_inplace
from solvers.sor.operators import CsrData, prepare

__all__ = [
    "residual_csr",
    "residual_stencil",
    "sor_sweep",
    "sor_sweep_csr",
    "sor_sweep_csr_backward",
    "sor_sweep_csr_fused",
    "sor_sweep_stencil",
    "sor_sweep_stencil_backward",
    "sor_sweep_stencil_fused",
]


# ---------------------------------------------------------------------------------------------
# CSR kernels


@numba.njit(cache=True)
def _csr_forward(indptr, indices, data, diag, shift, b, x, omega, r, fuse):
    """One forward sweep on A + shift·I; with ``fuse`` (A symmetric) r ← b − (A+cI)x^new, return ‖r‖².

    Column indices sorted within rows. The shift enters as the diagonal entry fl(a_ii + c), so the
    arithmetic is exactly that of the explicitly shifted matrix.
    """
    n = b.shape[0]
    for i in range(n):
        xi = x[i]
        up = b[i]
        lo = 0.0
        start = indptr[i]
        stop = indptr[i + 1]
        p = start
        while p < stop and indices[p] < i:  # j < i, ascending: x_{i−1}, the newest, comes last
            lo += data[p] * x[indices[p]]
            p += 1
        split = p
        if p < stop and indices[p] == i:  # the stored diagonal (= diag[i]): no read of diag
            aii = data[p] + shift
            up -= aii * xi
            p += 1
        else:  # no stored diagonal (only reachable through the raw kernels)
            aii = diag[i] + shift
            up -= shift * xi
        w = omega / aii
        while p < stop:
            up -= data[p] * x[indices[p]]
            p += 1
        xn = (xi + w * up) - w * lo
        x[i] = xn
        if fuse:
            d = xn - xi
            r[i] = (up - lo) - aii * d
            for p in range(start, split):
                r[indices[p]] -= data[p] * d
    rr = 0.0
    if fuse:
        for i in range(n):
            rr += r[i] * r[i]
    return rr


@numba.njit(cache=True)
def _csr_backward(indptr, indices, data, diag, shift, b, x, omega, r, fuse):
    """One backward sweep on A + shift·I; with ``fuse`` (A symmetric) fill r and return ‖r‖²."""
    n = b.shape[0]
    for i in range(n - 1, -1, -1):
        xi = x[i]
        up = b[i]
        lo = 0.0
        start = indptr[i]
        stop = indptr[i + 1]
        p = stop - 1
        while p >= start and indices[p] > i:  # j > i, descending: x_{i+1}, the newest, comes last
            lo += data[p] * x[indices[p]]
            p -= 1
        split = p
        if p >= start and indices[p] == i:
            aii = data[p] + shift
            up -= aii * xi
            p -= 1
        else:
            aii = diag[i] + shift
            up -= shift * xi
        w = omega / aii
        while p >= start:
            up -= data[p] * x[indices[p]]
            p -= 1
        xn = (xi + w * up) - w * lo
        x[i] = xn
        if fuse:
            d = xn - xi
            r[i] = (up - lo) - aii * d
            for p in range(split + 1, stop):
                r[indices[p]] -= data[p] * d
    rr = 0.0
    if fuse:
        for i in range(n):
            rr += r[i] * r[i]
    return rr


@numba.njit(cache=True)
def _csr_residual(indptr, indices, data, shift, b, x, r):
    """r ← b − (A + shift·I)x (the shift added to the stored diagonal entry); return ‖r‖²."""
    rr = 0.0
    for i in range(b.shape[0]):
        s = b[i]
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            a = data[p] + shift if j == i else data[p]
            s -= a * x[j]
        r[i] = s
        rr += s * s
    return rr


@numba.njit(cache=True)
def sor_sweep_csr(indptr, indices, data, diag, b, x, omega):
    """One forward SOR sweep on a CSR matrix, in place: x ← x + (D/ω + L)⁻¹(b − Ax).

    ``diag`` holds a_ii (nonzero; the kernel reads it only for a row without a stored diagonal entry).
    Correct for any order of the column indices within a row; sorted (canonical) indices make it fastest.
    """
    _csr_forward(indptr, indices, data, diag, 0.0, b, x, omega, x[:0], False)


@numba.njit(cache=True)
def sor_sweep_csr_backward(indptr, indices, data, diag, b, x, omega):
    """One backward SOR sweep on a CSR matrix, in place: x ← x + (D/ω + U)⁻¹(b − Ax)."""
    _csr_backward(indptr, indices, data, diag, 0.0, b, x, omega, x[:0], False)


@numba.njit(cache=True)
def sor_sweep_csr_fused(indptr, indices, data, diag, b, x, omega, r, backward):
    """One SOR sweep (forward, or backward if ``backward``) that also leaves r = b − Ax^new.

    Needs an exactly symmetric A with sorted column indices; returns ‖r‖₂.
    """
    if backward:
        return np.sqrt(_csr_backward(indptr, indices, data, diag, 0.0, b, x, omega, r, True))
    return np.sqrt(_csr_forward(indptr, indices, data, diag, 0.0, b, x, omega, r, True))


@numba.njit(cache=True)
def residual_csr(indptr, indices, data, b, x, r):
    """r ← b − Ax for a CSR matrix; returns ‖r‖₂."""
    return np.sqrt(_csr_residual(indptr, indices, data, 0.0, b, x, r))


# ---------------------------------------------------------------------------------------------
# 5-point stencil kernels: A = center·I + off·(neighbour sum), N×N grid, i = pN + q


@numba.njit(cache=True)
def _stencil_forward(center, off, N, b, x, omega, ring, fuse):
    """One forward sweep; with ``fuse`` return ‖b − Ax^new‖² (``ring``: N scratch entries)."""
    w = omega / center
    wo = w * off
    rr = 0.0
    for p in range(N):
        base = p * N
        west = 0.0  # x^new of the west neighbour (0 beyond the boundary)
        for q in range(N):
            i = base + q
            xi = x[i]
            up = b[i] - center * xi
            if q + 1 < N:
                up -= off * x[i + 1]
            if p + 1 < N:
                up -= off * x[i + N]
            lo = off * x[i - N] if p > 0 else 0.0
            xn = (xi + w * (up - lo)) - wo * west
            x[i] = xn
            if fuse:
                d = xn - xi
                if q > 0:
                    ring[q - 1] -= off * d  # east-neighbour term of r_{i−1}
                if p > 0:
                    rn = ring[q] - off * d  # south-neighbour term: r_{i−N} is complete
                    rr += rn * rn
                ring[q] = ((up - lo) - off * west) - center * d
            west = xn
    if fuse:
        for q in range(N):
            rr += ring[q] * ring[q]
    return rr


@numba.njit(cache=True)
def _stencil_backward(center, off, N, b, x, omega, ring, fuse):
    """One backward sweep; with ``fuse`` return ‖b − Ax^new‖² (``ring``: N scratch entries)."""
    w = omega / center
    wo = w * off
    rr = 0.0
    for p in range(N - 1, -1, -1):
        base = p * N
        east = 0.0  # x^new of the east neighbour
        for q in range(N - 1, -1, -1):
            i = base + q
            xi = x[i]
            up = b[i] - center * xi
            if q > 0:
                up -= off * x[i - 1]
            if p > 0:
                up -= off * x[i - N]
            lo = off * x[i + N] if p + 1 < N else 0.0
            xn = (xi + w * (up - lo)) - wo * east
            x[i] = xn
            if fuse:
                d = xn - xi
                if q + 1 < N:
                    ring[q + 1] -= off * d  # west-neighbour term of r_{i+1}
                if p + 1 < N:
                    rn = ring[q] - off * d  # north-neighbour term: r_{i+N} is complete
                    rr += rn * rn
                ring[q] = ((up - lo) - off * east) - center * d
            east = xn
    if fuse:
        for q in range(N - 1, -1, -1):  # the first grid row, completed last, in the sweep's order
            rr += ring[q] * ring[q]
    return rr


@numba.njit(cache=True)
def _stencil_residual(center, off, N, b, x):
    """‖b − Ax‖² for the stencil (nothing stored)."""
    rr = 0.0
    for p in range(N):
        for q in range(N):
            i = p * N + q
            s = b[i] - center * x[i]
            if q > 0:
                s -= off * x[i - 1]
            if q + 1 < N:
                s -= off * x[i + 1]
            if p > 0:
                s -= off * x[i - N]
            if p + 1 < N:
                s -= off * x[i + N]
            rr += s * s
    return rr


@numba.njit(cache=True)
def _stencil_matvec(center, off, N, x, y):
    """y ← Ax; return xᵀy."""
    xy = 0.0
    for p in range(N):
        for q in range(N):
            i = p * N + q
            s = center * x[i]
            if q > 0:
                s += off * x[i - 1]
            if q + 1 < N:
                s += off * x[i + 1]
            if p > 0:
                s += off * x[i - N]
            if p + 1 < N:
                s += off * x[i + N]
            y[i] = s
            xy += x[i] * s
    return xy


@numba.njit(cache=True)
def sor_sweep_stencil(center, off, N, b, x, omega):
    """One forward SOR sweep on the 5-point stencil (center, off) on an N×N grid, in place."""
    _stencil_forward(center, off, N, b, x, omega, x[:0], False)


@numba.njit(cache=True)
def sor_sweep_stencil_backward(center, off, N, b, x, omega):
    """One backward SOR sweep on the 5-point stencil, in place."""
    _stencil_backward(center, off, N, b, x, omega, x[:0], False)


@numba.njit(cache=True)
def sor_sweep_stencil_fused(center, off, N, b, x, omega, backward):
    """One SOR sweep on the stencil (backward if ``backward``); returns ‖b − Ax^new‖₂ from the same pass."""
    ring = np.empty(N)
    if backward:
        return np.sqrt(_stencil_backward(center, off, N, b, x, omega, ring, True))
    return np.sqrt(_stencil_forward(center, off, N, b, x, omega, ring, True))


@numba.njit(cache=True)
def residual_stencil(center, off, N, b, x):
    """‖b − Ax‖₂ for the stencil."""
    return np.sqrt(_stencil_residual(center, off, N, b, x))


# ---------------------------------------------------------------------------------------------
# Python entry point

Direction = Literal["forward", "backward", "symmetric"]


def sor_sweep(A, b, x, omega: float, direction: Direction = "forward"):
    r"""One SOR sweep on Ax = b, in place; returns x.

    Parameters
    ----------
    A
        A :class:`~solvers.sor.operators.Stencil5`, a scipy.sparse matrix (any format; converted to CSR)
        or a prepared :class:`~solvers.sor.operators.CsrData`; a nonzero diagonal.
    b
        Right-hand side, length n, finite.
    x
        The iterate, a float64 vector of length n, overwritten (numpy; on CuPy input the array path
        below is used and x is overwritten too).
    omega
        The relaxation parameter, 0 < ω < 2.
    direction
        ``"forward"`` (i = 0..n−1: x ← x + (D/ω+L)⁻¹(b − Ax)), ``"backward"`` (x ← x + (D/ω+U)⁻¹(b − Ax))
        or ``"symmetric"`` (forward then backward: x ← x + W̆_ω⁻¹(b − Ax), one SSOR step).

    Returns
    -------
    x
        The same array, updated.

    Notes
    -----
    numpy input runs the numba kernels (componentwise, in place). CuPy input (a ``cupyx.scipy.sparse``
    matrix or a Stencil5 with CuPy vectors) runs the matrix form with a sparse triangular solve.

    References
    ----------
    Khodak et al., ICLR 2024, Algorithm 1 (the SOR step) and Algorithm 8 (the SSOR step).
    """
    if direction not in ("forward", "backward", "symmetric"):
        raise ValueError(f"direction must be 'forward', 'backward' or 'symmetric', got {direction!r}")
    omega = check_omega(omega)
    if is_cupy(A) or is_cupy(b) or is_cupy(x):
        from solvers.sor._array import array_sweep

        return array_sweep(A, b, x, omega, direction)
    op = prepare(A)
    b = check_rhs(b, op.n)
    check_x_inplace(x, op.n)
    fwd = direction in ("forward", "symmetric")
    bwd = direction in ("backward", "symmetric")
    if isinstance(op, CsrData):
        if fwd:
            sor_sweep_csr(op.indptr, op.indices, op.data, op.diag, b, x, omega)
        if bwd:
            sor_sweep_csr_backward(op.indptr, op.indices, op.data, op.diag, b, x, omega)
    else:
        if fwd:
            sor_sweep_stencil(op.center, op.off, op.N, b, x, omega)
        if bwd:
            sor_sweep_stencil_backward(op.center, op.off, op.N, b, x, omega)
    return x
