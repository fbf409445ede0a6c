r"""Whole solves in one numba call: SOR / SSOR iterations with their stopping test, (P)CG, and tables.

Each kernel takes one operator in either form, chosen by ``kind`` (0: CSR arrays; 1: the 5-point
stencil (center, off, N)); the unused form gets empty arrays or zeros. Every operator may carry a
diagonal shift c (the matrix A + cI), which is how the tables of the shifted-Laplacian family are
computed without building T matrices.

Status codes returned with the iteration count: 0 capped (k = maxiter without meeting the test),
1 converged, 2 diverged (a non-finite residual norm), 3 CG breakdown (pᵀAp ≤ 0 or rᵀz ≤ 0: A, or the
preconditioner, is not positive definite).
"""

from __future__ import annotations

import numba
import numpy as np

from solvers.sor.sweeps import (
    _csr_backward,
    _csr_forward,
    _csr_residual,
    _stencil_backward,
    _stencil_forward,
    _stencil_matvec,
    _stencil_residual,
)

CAPPED, CONVERGED, DIVERGED, BREAKDOWN = 0, 1, 2, 3
CSR, STENCIL = 0, 1


@numba.njit(cache=True)
def sumsq(b):
    """Σ b_i², summed in index order (every norm of b in this package, so thresholds agree bit for bit)."""
    s = 0.0
    for i in range(b.shape[0]):
        s += b[i] * b[i]
    return s


@numba.njit(cache=True)
def rows_sumsq(B):
    """sumsq of every row of a 2-D array."""
    out = np.empty(B.shape[0])
    for t in range(B.shape[0]):
        out[t] = sumsq(B[t])
    return out


@numba.njit(cache=True)
def _sweep(kind, indptr, indices, data, diag, center, off, N, shift, b, x, omega, r, ring, fuse, backward):
    if kind == 0:
        if backward:
            return _csr_backward(indptr, indices, data, diag, shift, b, x, omega, r, fuse)
        return _csr_forward(indptr, indices, data, diag, shift, b, x, omega, r, fuse)
    if backward:
        return _stencil_backward(center + shift, off, N, b, x, omega, ring, fuse)
    return _stencil_forward(center + shift, off, N, b, x, omega, ring, fuse)


@numba.njit(cache=True)
def _residual(kind, indptr, indices, data, center, off, N, shift, b, x, r):
    if kind == 0:
        return _csr_residual(indptr, indices, data, shift, b, x, r)
    return _stencil_residual(center + shift, off, N, b, x)


@numba.njit(cache=True)
def solve_sor(kind, indptr, indices, data, diag, center, off, N, shift, fuse, b, x, omega, thresh, strict,
              maxiter, ssor, r, ring, hist):
    """SOR (Algorithm 1) or SSOR (Algorithm 8) from x (overwritten); returns (k, status, ‖r_k‖₂).

    Each iteration is one forward sweep (SOR) or a forward then a backward sweep (SSOR), then the test
    ‖r_k‖ < thresh (``strict``) or ‖r_k‖ ≤ thresh. With ``fuse`` (symmetric A) the residual comes out of
    the last sweep; otherwise from a residual pass. ``hist`` (length maxiter, or 0 to skip) gets ‖r_k‖.
    """
    k = 0
    rn = np.inf
    status = 0  # capped
    record = hist.shape[0] > 0
    while k < maxiter:
        if ssor:
            _sweep(kind, indptr, indices, data, diag, center, off, N, shift, b, x, omega, r, ring, False, False)
            rr = _sweep(kind, indptr, indices, data, diag, center, off, N, shift, b, x, omega, r, ring, fuse, True)
        else:
            rr = _sweep(kind, indptr, indices, data, diag, center, off, N, shift, b, x, omega, r, ring, fuse, False)
        if not fuse:
            rr = _residual(kind, indptr, indices, data, center, off, N, shift, b, x, r)
        k += 1
        rn = np.sqrt(rr)
        if record:
            hist[k - 1] = rn
        if not rn < np.inf:
            status = 2  # diverged
            break
        if rn < thresh or (not strict and rn == thresh):
            status = 1  # converged
            break
    return k, status, rn


# ---------------------------------------------------------------------------------------------
# (P)CG


@numba.njit(cache=True)
def _csr_matvec(indptr, indices, data, shift, x, y):
    """y ← (A + shift·I)x; return xᵀy."""
    xy = 0.0
    for i in range(x.shape[0]):
        s = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            a = data[p] + shift if j == i else data[p]
            s += a * x[j]
        y[i] = s
        xy += x[i] * s
    return xy


@numba.njit(cache=True)
def _csr_ssor_precond(indptr, indices, data, diag, shift, omega, r, z):
    """z ← W̆_ω⁻¹ r = ω(2−ω)(D+ωU)⁻¹ D (D+ωL)⁻¹ r (sorted indices); return rᵀz."""
    n = r.shape[0]
    scale = omega * (2.0 - omega)
    for i in range(n):
        s = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            if j >= i:
                break
            s += data[p] * z[j]
        z[i] = (scale * r[i] - omega * s) / (diag[i] + shift)
    rz = 0.0
    for i in range(n - 1, -1, -1):
        s = 0.0
        for p in range(indptr[i + 1] - 1, indptr[i] - 1, -1):
            j = indices[p]
            if j <= i:
                break
            s += data[p] * z[j]
        zi = z[i] - omega * s / (diag[i] + shift)
        z[i] = zi
        rz += r[i] * zi
    return rz


@numba.njit(cache=True)
def _stencil_ssor_precond(center, off, N, omega, r, z):
    """z ← W̆_ω⁻¹ r for the stencil; return rᵀz."""
    scale = omega * (2.0 - omega)
    for p in range(N):
        for q in range(N):
            i = p * N + q
            s = 0.0
            if p > 0:
                s += off * z[i - N]
            if q > 0:
                s += off * z[i - 1]
            z[i] = (scale * r[i] - omega * s) / center
    rz = 0.0
    for p in range(N - 1, -1, -1):
        for q in range(N - 1, -1, -1):
            i = p * N + q
            s = 0.0
            if p + 1 < N:
                s += off * z[i + N]
            if q + 1 < N:
                s += off * z[i + 1]
            zi = z[i] - omega * s / center
            z[i] = zi
            rz += r[i] * zi
    return rz


@numba.njit(cache=True)
def _matvec(kind, indptr, indices, data, center, off, N, shift, x, y):
    if kind == 0:
        return _csr_matvec(indptr, indices, data, shift, x, y)
    return _stencil_matvec(center + shift, off, N, x, y)


@numba.njit(cache=True)
def _precond(kind, indptr, indices, data, diag, center, off, N, shift, omega, r, z):
    if omega <= 0.0:  # plain CG: z = r
        rz = 0.0
        for i in range(r.shape[0]):
            z[i] = r[i]
            rz += r[i] * r[i]
        return rz
    if kind == 0:
        return _csr_ssor_precond(indptr, indices, data, diag, shift, omega, r, z)
    return _stencil_ssor_precond(center + shift, off, N, omega, r, z)


@numba.njit(cache=True)
def solve_pcg(kind, indptr, indices, data, diag, center, off, N, shift, b, x, omega, thresh, maxiter, r, z, p, q,
              hist):
    """CG from x (overwritten), preconditioned by W̆_ω (plain CG for ω ≤ 0); returns (k, status, ‖r_k‖₂).

    Stops when the recursively updated residual satisfies ‖r_k‖ ≤ thresh (tested first at k = 0: a warm
    start that already meets it costs 0 iterations). ``hist`` (length maxiter, or 0) gets ‖r_k‖, k ≥ 1.
    """
    n = b.shape[0]
    _matvec(kind, indptr, indices, data, center, off, N, shift, x, q)
    rr = 0.0
    for i in range(n):
        r[i] = b[i] - q[i]
        rr += r[i] * r[i]
    rn = np.sqrt(rr)
    if not rn < np.inf:
        return 0, 2, rn  # diverged
    if rn <= thresh:
        return 0, 1, rn  # converged
    record = hist.shape[0] > 0
    rz = _precond(kind, indptr, indices, data, diag, center, off, N, shift, omega, r, z)
    if not rz > 0.0:
        return 0, 3, rn  # breakdown
    for i in range(n):
        p[i] = z[i]
    k = 0
    status = 0  # capped
    while k < maxiter:
        pq = _matvec(kind, indptr, indices, data, center, off, N, shift, p, q)
        if not pq > 0.0:
            status = 3  # breakdown
            break
        alpha = rz / pq
        rr = 0.0
        for i in range(n):
            x[i] += alpha * p[i]
            ri = r[i] - alpha * q[i]
            r[i] = ri
            rr += ri * ri
        k += 1
        rn = np.sqrt(rr)
        if record:
            hist[k - 1] = rn
        if not rn < np.inf:
            status = 2  # diverged
            break
        if rn <= thresh:
            status = 1  # converged
            break
        rz_new = _precond(kind, indptr, indices, data, diag, center, off, N, shift, omega, r, z)
        if not rz_new > 0.0:
            status = 3  # breakdown
            break
        beta = rz_new / rz
        rz = rz_new
        for i in range(n):
            p[i] = z[i] + beta * p[i]
    return k, status, rn


@numba.njit(cache=True)
def pcg_table(kind, indptr, indices, data, diag, center, off, N, shift, b, x0, omegas, thresh, maxiter, iters,
              status, norms):
    """SSOR-PCG from x0 for every ω in ``omegas`` on one system; fills iters, status and ‖r‖ per ω."""
    n = b.shape[0]
    x = np.empty(n)
    r = np.empty(n)
    z = np.empty(n)
    p = np.empty(n)
    q = np.empty(n)
    hist = np.empty(0)
    for g in range(omegas.shape[0]):
        x[:] = x0
        k, st, rn = solve_pcg(kind, indptr, indices, data, diag, center, off, N, shift, b, x, omegas[g], thresh,
                              maxiter, r, z, p, q, hist)
        iters[g] = k
        status[g] = st
        norms[g] = rn
