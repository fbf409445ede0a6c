r"""Cost tables with SIMD lanes: L independent SOR/SSOR solves advanced together, sweep by sweep.

A table cost[t, ω] needs T·G solves on systems of the same sparsity (A + c_t ii, b_t, ω_g). Each solve
is a chain of dependent row updates, so one solve cannot use the vector units; L solves can. A *job* is
one pair (t, g); the kernels below store L jobs side by side (x[i, v], b[i, v], lane v = one job) and
update row i of all L jobs in one inner loop over v, which LLVM vectorises.

Every lane performs exactly the floating-point operations of the scalar kernels in
:mod:`solvers.sor.sweeps`, in the same order (no fast-math anywhere), so a lane's iteration count and
residual are bit-identical to those of :func:`solvers.sor.solve.sor` on the same system; the tests
check this. The 5-point stencil is stored with a zero halo ((N+2)² rows), so that the boundary needs no
branches: a halo neighbour contributes off·0, which leaves every sum unchanged.

Jobs are ordered by ω and then by shift, so that the L jobs of a group have similar counts; a group runs
until each of its lanes has met the test (or diverged) or maxiter is reached. Lanes that finish early
keep iterating unobserved (their count was recorded when they first met the test).
"""

from __future__ import annotations

import numba
import numpy as np

from solvers.sor._simd import W as LANES
from solvers.sor._simd import vadd, vdiv, vload, vmul, vsplat, vstore, vsub

# ---------------------------------------------------------------------------------------------
# stencil (zero halo: grid row I = (p+1)(N+2) + q + 1, lanes at 8I .. 8I+7)


@numba.njit(cache=True)
def _st_forward(cen, w, wo, off, N, Bp, X, S, D, fuse, rr):
    """One forward sweep of 8 stencil systems; with ``fuse`` rr[v] = ‖b_v − A_v x_v^new‖².

    The residual of point i is r_i = s_i − c·d_i − off·d_{i+1} − off·d_{i+N} (d = x^new − x^old, s the row
    residual before the update, see :mod:`solvers.sor.sweeps`): S keeps s_i − c·d_i, D keeps d_i, and r_i is
    completed (and added to rr) at point i + N, in the scalar kernel's order of operations.
    """
    M8 = (N + 2) * LANES
    c = vload(cen, 0)
    wv = vload(w, 0)
    wov = vload(wo, 0)
    o = vsplat(off)
    acc = vsplat(0.0)
    for p in range(N):
        west = vsplat(0.0)  # carried in a register: the newest value, the loop-carried dependency
        for q in range(N):
            ii = ((p + 1) * (N + 2) + q + 1) * LANES
            xi = vload(X, ii)
            up = vsub(vload(Bp, ii), vmul(c, xi))
            up = vsub(up, vmul(o, vload(X, ii + LANES)))
            up = vsub(up, vmul(o, vload(X, ii + M8)))
            lo = vmul(o, vload(X, ii - M8))
            xn = vsub(vadd(xi, vmul(wv, vsub(up, lo))), vmul(wov, west))
            vstore(X, ii, xn)
            if fuse:
                d = vsub(xn, xi)
                vstore(D, ii, d)
                vstore(S, ii, vsub(vsub(vsub(up, lo), vmul(o, west)), vmul(c, d)))
                if p > 0:  # r of the north neighbour: its east term (from D), then its south term (d)
                    rn = vsub(vsub(vload(S, ii - M8), vmul(o, vload(D, ii - M8 + LANES))), vmul(o, d))
                    acc = vadd(acc, vmul(rn, rn))
            west = xn
    if fuse:
        for q in range(N):  # the last grid row: no south neighbour
            ii = (N * (N + 2) + q + 1) * LANES
            rn = vsub(vload(S, ii), vmul(o, vload(D, ii + LANES)))
            acc = vadd(acc, vmul(rn, rn))
        vstore(rr, 0, acc)


@numba.njit(cache=True)
def _st_backward(cen, w, wo, off, N, Bp, X, S, D, fuse, rr):
    """One backward sweep of 8 stencil systems (mirror of :func:`_st_forward`: r_i completes at i − N)."""
    M8 = (N + 2) * LANES
    c = vload(cen, 0)
    wv = vload(w, 0)
    wov = vload(wo, 0)
    o = vsplat(off)
    acc = vsplat(0.0)
    for p in range(N - 1, -1, -1):
        east = vsplat(0.0)
        for q in range(N - 1, -1, -1):
            ii = ((p + 1) * (N + 2) + q + 1) * LANES
            xi = vload(X, ii)
            up = vsub(vload(Bp, ii), vmul(c, xi))
            up = vsub(up, vmul(o, vload(X, ii - LANES)))
            up = vsub(up, vmul(o, vload(X, ii - M8)))
            lo = vmul(o, vload(X, ii + M8))
            xn = vsub(vadd(xi, vmul(wv, vsub(up, lo))), vmul(wov, east))
            vstore(X, ii, xn)
            if fuse:
                d = vsub(xn, xi)
                vstore(D, ii, d)
                vstore(S, ii, vsub(vsub(vsub(up, lo), vmul(o, east)), vmul(c, d)))
                if p + 1 < N:  # r of the south neighbour: its west term, then its north term (d)
                    rn = vsub(vsub(vload(S, ii + M8), vmul(o, vload(D, ii + M8 - LANES))), vmul(o, d))
                    acc = vadd(acc, vmul(rn, rn))
            east = xn
    if fuse:
        for q in range(N - 1, -1, -1):  # the first grid row, completed last
            ii = ((N + 2) + q + 1) * LANES
            rn = vsub(vload(S, ii), vmul(o, vload(D, ii - LANES)))
            acc = vadd(acc, vmul(rn, rn))
        vstore(rr, 0, acc)


@numba.njit(cache=True)
def _aligned_zeros(n):
    """n zeros whose first element is 64-byte aligned (one cache line per 8-lane vector)."""
    buf = np.zeros(n + LANES)
    off = ((-buf.ctypes.data) % 64) // 8
    return buf[off:off + n]


# ---------------------------------------------------------------------------------------------
# CSR (lanes of row i at 8i .. 8i+7)


@numba.njit(cache=True)
def _csr_forward(indptr, indices, data, diag, sh, om, B, X, R, fuse, rr):
    n = indptr.shape[0] - 1
    shv = vload(sh, 0)
    omv = vload(om, 0)
    for i in range(n):
        aii = vadd(vsplat(diag[i]), shv)
        w = vdiv(omv, aii)
        xi = vload(X, i * LANES)
        up = vload(B, i * LANES)
        lo = vsplat(0.0)
        start = indptr[i]
        stop = indptr[i + 1]
        p = start
        while p < stop and indices[p] < i:
            lo = vadd(lo, vmul(vsplat(data[p]), vload(X, indices[p] * LANES)))
            p += 1
        split = p
        if p < stop and indices[p] == i:
            up = vsub(up, vmul(aii, xi))
            p += 1
        else:
            up = vsub(up, vmul(shv, xi))
        while p < stop:
            up = vsub(up, vmul(vsplat(data[p]), vload(X, indices[p] * LANES)))
            p += 1
        xn = vsub(vadd(xi, vmul(w, up)), vmul(w, lo))
        vstore(X, i * LANES, xn)
        if fuse:
            d = vsub(xn, xi)
            vstore(R, i * LANES, vsub(vsub(up, lo), vmul(aii, d)))
            for p in range(start, split):
                j = indices[p] * LANES
                vstore(R, j, vsub(vload(R, j), vmul(vsplat(data[p]), d)))
    if fuse:
        _csr_sumsq(n, R, rr)


@numba.njit(cache=True)
def _csr_backward(indptr, indices, data, diag, sh, om, B, X, R, fuse, rr):
    n = indptr.shape[0] - 1
    shv = vload(sh, 0)
    omv = vload(om, 0)
    for i in range(n - 1, -1, -1):
        aii = vadd(vsplat(diag[i]), shv)
        w = vdiv(omv, aii)
        xi = vload(X, i * LANES)
        up = vload(B, i * LANES)
        lo = vsplat(0.0)
        start = indptr[i]
        stop = indptr[i + 1]
        p = stop - 1
        while p >= start and indices[p] > i:
            lo = vadd(lo, vmul(vsplat(data[p]), vload(X, indices[p] * LANES)))
            p -= 1
        split = p
        if p >= start and indices[p] == i:
            up = vsub(up, vmul(aii, xi))
            p -= 1
        else:
            up = vsub(up, vmul(shv, xi))
        while p >= start:
            up = vsub(up, vmul(vsplat(data[p]), vload(X, indices[p] * LANES)))
            p -= 1
        xn = vsub(vadd(xi, vmul(w, up)), vmul(w, lo))
        vstore(X, i * LANES, xn)
        if fuse:
            d = vsub(xn, xi)
            vstore(R, i * LANES, vsub(vsub(up, lo), vmul(aii, d)))
            for p in range(split + 1, stop):
                j = indices[p] * LANES
                vstore(R, j, vsub(vload(R, j), vmul(vsplat(data[p]), d)))
    if fuse:
        _csr_sumsq(n, R, rr)


@numba.njit(cache=True)
def _csr_sumsq(n, R, rr):
    acc = vsplat(0.0)
    for i in range(n):
        r = vload(R, i * LANES)
        acc = vadd(acc, vmul(r, r))
    vstore(rr, 0, acc)


@numba.njit(cache=True)
def _csr_residual(indptr, indices, data, sh, B, X, rr):
    """rr[v] = ‖b_v − (A + sh_v I)x_v‖² (the scalar residual pass, lane by lane)."""
    n = indptr.shape[0] - 1
    shv = vload(sh, 0)
    acc = vsplat(0.0)
    for i in range(n):
        s = vload(B, i * LANES)
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            a = vsplat(data[p])
            if j == i:
                a = vadd(a, shv)
            s = vsub(s, vmul(a, vload(X, j * LANES)))
        acc = vadd(acc, vmul(s, s))
    vstore(rr, 0, acc)


# ---------------------------------------------------------------------------------------------
# the table


@numba.njit(cache=True)
def count_table(kind, indptr, indices, data, diag, center, off, N, shifts, fuse, B, omegas, thresh, scale, strict,
                maxiter, ssor, iters, status, norms):
    """Fill iters[t, g], status[t, g], norms[t, g] for all T·G jobs, 8 jobs at a time (x0 = 0).

    ``omegas`` is (1, G) (one grid for all instances) or (T, G) (a grid per instance).

    ``thresh[t]`` is the stopping threshold of instance t (tol·‖b_t‖ or tol) and ``scale[t]`` divides the
    reported norm. Status: 0 capped, 1 converged, 2 diverged.
    """
    L = LANES
    T, n = B.shape
    G = omegas.shape[1]
    per_instance = omegas.shape[0] > 1
    order = np.argsort(shifts, kind="mergesort")
    J = T * G
    stencil = kind == 1
    rows = (N + 2) * (N + 2) if stencil else n
    X = _aligned_zeros(rows * L)
    Bl = _aligned_zeros(rows * L)
    R = _aligned_zeros(rows * L)
    D = _aligned_zeros(rows * L)
    sh = np.empty(L)
    om = np.empty(L)
    cen = np.empty(L)
    w = np.empty(L)
    wo = np.empty(L)
    thr = np.empty(L)
    rr = np.empty(L)
    job_t = np.empty(L, dtype=np.int64)
    job_g = np.empty(L, dtype=np.int64)
    done = np.zeros(L, dtype=np.bool_)
    for j0 in range(0, J, L):
        for v in range(L):
            j = min(j0 + v, J - 1)  # the last group is padded with copies of the last job
            g = j // T
            t = order[j % T]
            job_t[v] = t
            job_g[v] = g
            sh[v] = shifts[t]
            om[v] = omegas[t if per_instance else 0, g]
            thr[v] = thresh[t]
            done[v] = j0 + v >= J
            if stencil:
                c = center + shifts[t]
                cen[v] = c
                w[v] = om[v] / c
                wo[v] = w[v] * off
        X[:] = 0.0
        if stencil:
            for v in range(L):
                t = job_t[v]
                for p in range(N):
                    for q in range(N):
                        Bl[((p + 1) * (N + 2) + q + 1) * L + v] = B[t, p * N + q]
        else:
            for i in range(n):
                for v in range(L):
                    Bl[i * L + v] = B[job_t[v], i]
        k = 0
        left = 0
        for v in range(L):
            left += not done[v]
        while k < maxiter and left > 0:
            if stencil:
                if ssor:
                    _st_forward(cen, w, wo, off, N, Bl, X, R, D, False, rr)
                    _st_backward(cen, w, wo, off, N, Bl, X, R, D, True, rr)
                else:
                    _st_forward(cen, w, wo, off, N, Bl, X, R, D, True, rr)
            else:
                if ssor:
                    _csr_forward(indptr, indices, data, diag, sh, om, Bl, X, R, False, rr)
                    _csr_backward(indptr, indices, data, diag, sh, om, Bl, X, R, fuse, rr)
                else:
                    _csr_forward(indptr, indices, data, diag, sh, om, Bl, X, R, fuse, rr)
                if not fuse:
                    _csr_residual(indptr, indices, data, sh, Bl, X, rr)
            k += 1
            for v in range(L):
                if done[v]:
                    continue
                rn = np.sqrt(rr[v])
                st = -1
                if not rn < np.inf:
                    st = 2  # diverged
                elif rn < thr[v] or (not strict and rn == thr[v]):
                    st = 1  # converged
                elif k == maxiter:
                    st = 0  # capped
                if st >= 0:
                    done[v] = True
                    left -= 1
                    t = job_t[v]
                    g = job_g[v]
                    iters[t, g] = k
                    status[t, g] = st
                    norms[t, g] = rn / scale[t]
