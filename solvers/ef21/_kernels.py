"""Numba kernels of the EF21 family: TopK selection and one fused pass per method and round.

Every kernel is serial, compiled once and cached on disk, and takes every parameter as an argument.
The fused kernels read each client row once: they form the compressor's input u_i on the fly, pick
its TopK entries (stable order of (−|u_j|, j), the order of ``np.argsort(-abs(u), kind="stable")``),
update the client state in place at those entries, accumulate w_i·c_i into the server aggregate and
return the per-client estimator error. For K = 1 the selection is a single argmax pass and the row is
never copied; for 1 < K < d the row goes into an L1-resident scratch buffer, the K-th largest |u_j| is
found by a partial selection (``np.partition``), and one more pass over the scratch takes the entries
above it and the lowest-index ties; K = d keeps every entry.

A nan entry ranks below every number (key −1), as in numpy's sort, so the kernels never index
outside the row; the caller sees the nan through the estimator error and reports divergence.
"""

from __future__ import annotations

import numba
import numpy as np

_jit = numba.njit(cache=True)


@_jit
def _key(u):
    """Sort key |u|, with nan below every number (numpy sorts nan last)."""
    a = abs(u)
    if a != a:
        return -1.0
    return a


@_jit
def _select(a, k, sel):
    """Write into ``sel`` (ascending) the indices of the k largest keys ``a``, ties to the lowest index.

    For 2 ≤ k; k = 1 is an argmax pass inlined in the callers.
    """
    d = a.shape[0]
    if k >= d:
        for j in range(d):
            sel[j] = j
        return
    tau = np.partition(a, d - k)[d - k]  # the k-th largest key
    above = 0
    for j in range(d):
        if a[j] > tau:
            above += 1
    ties = k - above
    m = 0
    for j in range(d):
        if a[j] > tau:
            sel[m] = j
            m += 1
        elif a[j] == tau and ties > 0:
            sel[m] = j
            m += 1
            ties -= 1


@_jit
def topk_rows(V, k, out):
    """out[i] = TopK(V[i]) for every row (``out`` zero on entry)."""
    n, d = V.shape
    kk = min(k, d)
    a = np.empty(d)
    sel = np.empty(kk, dtype=np.int64)
    for i in range(n):
        if kk == 1:
            best = -2.0
            jb = 0
            for j in range(d):
                key = _key(V[i, j])
                if key > best:
                    best = key
                    jb = j
            out[i, jb] = V[i, jb]
        else:
            for j in range(d):
                a[j] = _key(V[i, j])
            _select(a, kk, sel)
            for m in range(kk):
                out[i, sel[m]] = V[i, sel[m]]


@_jit
def ef21_topk(grads, g, g_mean, scale, weight, k, err):
    """One EF21 / EF21-W client round with TopK, in place.

    u_i = scale_i·∇f_i − g_i, c_i = TopK(u_i), g_i += c_i, g_mean += weight_i·c_i,
    err_i = ‖u_i − c_i‖² = ‖g_i^{new} − scale_i·∇f_i‖².
    """
    n, d = grads.shape
    kk = min(k, d)
    if kk == 1:
        for i in range(n):
            s = scale[i]
            best = -2.0
            jb = 0
            ub = 0.0
            rest = 0.0
            for j in range(d):
                u = s * grads[i, j] - g[i, j]
                key = _key(u)
                if key > best:
                    rest += ub * ub  # the previous leader leaves the kept set
                    best = key
                    jb = j
                    ub = u
                else:
                    rest += u * u
            g[i, jb] += ub
            g_mean[jb] += weight[i] * ub
            err[i] = rest
        return
    u = np.empty(d)
    a = np.empty(d)
    sel = np.empty(kk, dtype=np.int64)
    for i in range(n):
        s = scale[i]
        for j in range(d):
            uj = s * grads[i, j] - g[i, j]
            u[j] = uj
            a[j] = _key(uj)
        _select(a, kk, sel)
        m = 0
        rest = 0.0
        for j in range(d):
            if m < kk and sel[m] == j:
                g[i, j] += u[j]
                g_mean[j] += weight[i] * u[j]
                m += 1
            else:
                rest += u[j] * u[j]
        err[i] = rest


@_jit
def ef14_topk(grads, e, v_mean, gamma, weight, k, err):
    """One EF14 client round with TopK, in place.

    u_i = e_i + γ∇f_i, v_i = TopK(u_i), e_i = u_i − v_i, v_mean = Σ_i weight_i·v_i (overwritten),
    err_i = ‖e_i^{new}‖².
    """
    n, d = grads.shape
    kk = min(k, d)
    for j in range(d):
        v_mean[j] = 0.0
    if kk == 1:
        for i in range(n):
            best = -2.0
            jb = 0
            ub = 0.0
            rest = 0.0
            for j in range(d):
                u = e[i, j] + gamma * grads[i, j]
                e[i, j] = u
                key = _key(u)
                if key > best:
                    rest += ub * ub
                    best = key
                    jb = j
                    ub = u
                else:
                    rest += u * u
            e[i, jb] = ub - ub
            v_mean[jb] += weight[i] * ub
            err[i] = rest
        return
    a = np.empty(d)
    sel = np.empty(kk, dtype=np.int64)
    for i in range(n):
        for j in range(d):
            u = e[i, j] + gamma * grads[i, j]
            e[i, j] = u
            a[j] = _key(u)
        _select(a, kk, sel)
        m = 0
        rest = 0.0
        for j in range(d):
            u = e[i, j]
            if m < kk and sel[m] == j:
                e[i, j] = u - u
                v_mean[j] += weight[i] * u
                m += 1
            else:
                rest += u * u
        err[i] = rest


@_jit
def econtrol_topk(grads, e, h, h_mean, eta, weight, k, err):
    """One EControl client round with TopK, in place (the reconstructed rule of spec §3).

    u_i = η e_i + ∇f_i − h_i, Δ_i = TopK(u_i), e_i = e_i + ∇f_i − h_i − Δ_i, h_i += Δ_i,
    h_mean += weight_i·Δ_i, err_i = ‖h_i^{new} − ∇f_i‖².
    """
    n, d = grads.shape
    kk = min(k, d)
    if kk == 1:
        for i in range(n):
            best = -2.0
            jb = 0
            ub = 0.0
            rb = 0.0
            rest = 0.0
            for j in range(d):
                gj = grads[i, j]
                hj = h[i, j]
                ej = e[i, j]
                u = eta * ej + gj - hj
                e[i, j] = ej + gj - hj  # Δ_ij = 0 unless j is kept (fixed below)
                r = hj - gj
                key = _key(u)
                if key > best:
                    rest += rb * rb
                    best = key
                    jb = j
                    ub = u
                    rb = r
                else:
                    rest += r * r
            e[i, jb] = e[i, jb] - ub
            h[i, jb] += ub
            h_mean[jb] += weight[i] * ub
            r = h[i, jb] - grads[i, jb]
            err[i] = rest + r * r
        return
    u = np.empty(d)
    a = np.empty(d)
    sel = np.empty(kk, dtype=np.int64)
    for i in range(n):
        for j in range(d):
            gj = grads[i, j]
            hj = h[i, j]
            ej = e[i, j]
            uj = eta * ej + gj - hj
            e[i, j] = ej + gj - hj
            u[j] = uj
            a[j] = _key(uj)
        _select(a, kk, sel)
        m = 0
        rest = 0.0
        for j in range(d):
            if m < kk and sel[m] == j:
                e[i, j] = e[i, j] - u[j]
                h[i, j] += u[j]
                h_mean[j] += weight[i] * u[j]
                m += 1
            r = h[i, j] - grads[i, j]
            rest += r * r
        err[i] = rest
