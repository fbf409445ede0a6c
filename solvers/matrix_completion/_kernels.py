r"""Numba kernels of the row solvers (numpy path): one pass over the CSR entries per call, serial.

Every kernel takes the observations of the rows to solve in CSR form (``row_ptr``, ``cols``, ``vals``),
the design B (n×k), and ``row_ids``, the rows to process; each row's work stays inside the row, so its
entries are read from cache for all CG steps. Each kernel **counts the multiply-adds it executes** per
row (``flops``), one per multiply-add, division or square root, so that the closed-form cost formulas of
:mod:`solvers.matrix_completion.cost` can be tested against the work actually done.

Row i has design A_i = B_{Ω_i,:} (|Ω_i| × k) and right-hand side b_i = M_{i,Ω_i}.
"""

from __future__ import annotations

import math

import numba
import numpy as np

OK, FLAG_FEW, FLAG_CHOL, FLAG_COND = 0, 1, 2, 3


@numba.njit(cache=True)
def _tri_solve_lower(L, b, x, k):
    """x = L⁻¹b for lower-triangular L (k(k+1)/2 operations)."""
    for i in range(k):
        acc = b[i]
        for p in range(i):
            acc -= L[i, p] * x[p]
        x[i] = acc / L[i, i]


@numba.njit(cache=True)
def _tri_solve_lower_t(L, b, x, k):
    """x = L⁻ᵀb for lower-triangular L (k(k+1)/2 operations)."""
    for i in range(k - 1, -1, -1):
        acc = b[i]
        for p in range(i + 1, k):
            acc -= L[p, i] * x[p]
        x[i] = acc / L[i, i]


@numba.njit(cache=True)
def exact_rows(row_ptr, cols, vals, B, row_ids, cond_max, X, flag, flops):
    r"""Normal equations G_i x = c_i by Cholesky, row by row, with a condition guard.

    For each i in ``row_ids``: G_i = A_iᵀA_i (upper triangle, |Ω_i|·k(k+1)/2) and c_i = A_iᵀb_i
    (|Ω_i|·k) in one pass over the row's entries; Cholesky G_i = LLᵀ (k(k+1)(k+2)/6 operations); a
    condition estimate tr(G_i)·‖G_i⁻¹v‖ after two normalised inverse iterations from v = 1/√k
    (2(k² + 3k) + k); then two triangular solves (k(k+1)). Rows with |Ω_i| < k (``flag`` 1), a
    non-positive pivot (2) or an estimated cond(G_i) > ``cond_max`` (3) are left to the caller's
    minimum-norm least squares; X[i] is written only for rows with flag 0.
    """
    k = B.shape[1]
    G = np.empty((k, k))
    c = np.empty(k)
    v = np.empty(k)
    w = np.empty(k)
    y = np.empty(k)
    for t in range(row_ids.shape[0]):
        i = row_ids[t]
        a, e = row_ptr[i], row_ptr[i + 1]
        L = e - a
        if L < k:
            flag[i] = FLAG_FEW
            flops[i] = 0
            continue
        G[:, :] = 0.0
        c[:] = 0.0
        for q in range(a, e):
            j = cols[q]
            bv = vals[q]
            for p in range(k):
                bp = B[j, p]
                c[p] += bv * bp
                for r in range(p, k):
                    G[p, r] += bp * B[j, r]
        f = L * (k * (k + 1) // 2 + k)
        # Cholesky on the upper triangle, L stored in the lower one (G[r, p] for r >= p).
        ok = True
        for p in range(k):
            d = G[p, p]
            for s in range(p):
                d -= G[p, s] * G[p, s]
            f += p + 1
            if not (d > 0.0):
                ok = False
                break
            d = math.sqrt(d)
            G[p, p] = d
            for r in range(p + 1, k):
                acc = G[p, r]
                for s in range(p):
                    acc -= G[r, s] * G[p, s]
                G[r, p] = acc / d
                f += p + 1
        if not ok:
            flag[i] = FLAG_CHOL
            flops[i] = f
            continue
        # tr(G_i) = Σ_p ‖L_{p,:}‖² ≥ λ_max(G_i), read off the Cholesky factor.
        tr = 0.0
        for p in range(k):
            for s in range(p + 1):
                tr += G[p, s] * G[p, s]
        f += k * (k + 1) // 2
        for p in range(k):
            v[p] = 1.0 / math.sqrt(k)
        nw = 0.0
        for _ in range(2):
            _tri_solve_lower(G, v, y, k)
            _tri_solve_lower_t(G, y, w, k)
            nw = 0.0
            for p in range(k):
                nw += w[p] * w[p]
            nw = math.sqrt(nw)
            for p in range(k):
                v[p] = w[p] / nw
        f += 2 * (k * (k + 1) + 2 * k)
        if tr * nw > cond_max:
            flag[i] = FLAG_COND
            flops[i] = f
            continue
        _tri_solve_lower(G, c, y, k)
        _tri_solve_lower_t(G, y, w, k)
        f += k * (k + 1)
        for p in range(k):
            X[i, p] = w[p]
        flag[i] = OK
        flops[i] = f


@numba.njit(cache=True)
def row_gram(row_ptr, cols, B, row_ids, G):
    """G[t] = A_iᵀA_i (full symmetric k×k) for i = row_ids[t]; |Ω_i|·k(k+1)/2 each."""
    k = B.shape[1]
    for t in range(row_ids.shape[0]):
        i = row_ids[t]
        g = G[t]
        g[:, :] = 0.0
        for q in range(row_ptr[i], row_ptr[i + 1]):
            j = cols[q]
            for p in range(k):
                bp = B[j, p]
                for r in range(p, k):
                    g[p, r] += bp * B[j, r]
        for p in range(k):
            for r in range(p + 1, k):
                g[r, p] = g[p, r]


@numba.njit(cache=True)
def pcgls_rows(row_ptr, cols, vals, B, bn2, row_ids, X, steps_max, theta, sigmin2, R, precond, floor2, steps,
               certified, flops):
    r"""(Preconditioned) CGLS on every row's least squares min‖A_ix − b_i‖, warm-started from X[i].

    Without ``precond`` this is CG on the normal equations A_iᵀA_ix = A_iᵀb_i; with it, CGLS on
    A_iR_i⁻¹y = b_i (x = R_i⁻¹y), R_i = ``R[i]`` upper triangular. Per row: at most ``steps_max``
    steps, stopping early when γ = ‖R⁻ᵀA_iᵀr‖² is not positive, or, if ``theta`` ≥ 0, on the
    certified rule ‖A_iᵀz‖² ≤ θ·σ_min(A_i)²·‖z‖² (θ = 1 − (1+ε₀)⁻², ``sigmin2[i]`` = σ_min(A_i)²,
    z = A_ix − b_i), tested before every step. A row also stops at the floating-point floor,
    ‖A_iᵀr‖² ≤ ``floor2``·‖A_i‖_F²·‖r‖² (‖A_i‖_F² = Σ_ω ``bn2[j(ω)]``, the squared row norms of B):
    past it, the recursively updated residual drifts and CG's α = γ/‖q‖² is rounding noise that can
    grow without bound. Counts, with L = |Ω_i|:

    - start (‖A_i‖_F², residual r = b_i − A_ix, the first gradient and ‖r‖²): 2Lk + 2L + k, plus
      k(k+1)/2 + k with ``precond``;
    - each step (q = A_ip̂, α, x, r, then the next gradient, ‖r‖² and p): 2Lk + 3L + 3k, plus
      k(k+1) + k with ``precond``;
    - without certification, the step that reaches ``steps_max`` skips the next gradient, which no one
      reads: Lk + L + 2k fewer, and k(k+1)/2 + k fewer with ``precond``.
    """
    k = B.shape[1]
    r = np.empty(16)
    qv = np.empty(16)
    s = np.empty(k)
    st = np.empty(k)
    p = np.empty(k)
    ph = np.empty(k)
    x = np.empty(k)
    cert = theta >= 0.0
    tri = k * (k + 1) // 2
    for t in range(row_ids.shape[0]):
        i = row_ids[t]
        a, e = row_ptr[i], row_ptr[i + 1]
        L = e - a
        if r.shape[0] < L:
            r = np.empty(2 * L)
            qv = np.empty(2 * L)
        for c in range(k):
            x[c] = X[i, c]
        anorm2 = 0.0
        for q in range(L):
            j = cols[a + q]
            anorm2 += bn2[j]
            acc = vals[a + q]
            for c in range(k):
                acc -= B[j, c] * x[c]
            r[q] = acc
        f = 2 * L * k + 2 * L + k
        if precond:
            f += tri + k
        n_steps = 0
        is_cert = False
        gamma = 0.0
        g_plain = 0.0
        rr = 0.0
        first = True
        while True:
            # s = A_iᵀr, s̃ = R⁻ᵀs, γ = ‖s̃‖², and the certificate's ‖A_iᵀr‖², ‖r‖².
            for c in range(k):
                s[c] = 0.0
            for q in range(L):
                j = cols[a + q]
                rq = r[q]
                for c in range(k):
                    s[c] += rq * B[j, c]
            if precond:
                for c in range(k):
                    acc = s[c]
                    for d in range(c):
                        acc -= R[i, d, c] * st[d]
                    st[c] = acc / R[i, c, c]
            else:
                for c in range(k):
                    st[c] = s[c]
            g_new = 0.0
            for c in range(k):
                g_new += st[c] * st[c]
            rr = 0.0
            for q in range(L):
                rr += r[q] * r[q]
            if precond:
                g_plain = 0.0
                for c in range(k):
                    g_plain += s[c] * s[c]
            else:
                g_plain = g_new
            if first:
                for c in range(k):
                    p[c] = st[c]
                first = False
            else:
                beta = g_new / gamma
                for c in range(k):
                    p[c] = st[c] + beta * p[c]
            gamma = g_new
            if cert and g_plain <= theta * sigmin2[i] * rr:
                is_cert = True
                break
            if n_steps >= steps_max or not (gamma > 0.0) or g_plain <= floor2 * anorm2 * rr:
                break
            # One step: p̂ = R⁻¹p, q = A_ip̂, α = γ/‖q‖², x += αp̂, r −= αq.
            if precond:
                for c in range(k - 1, -1, -1):
                    acc = p[c]
                    for d in range(c + 1, k):
                        acc -= R[i, c, d] * ph[d]
                    ph[c] = acc / R[i, c, c]
            else:
                for c in range(k):
                    ph[c] = p[c]
            delta = 0.0
            for q in range(L):
                j = cols[a + q]
                acc = 0.0
                for c in range(k):
                    acc += B[j, c] * ph[c]
                qv[q] = acc
                delta += acc * acc
            if not (delta > 0.0):
                break
            alpha = gamma / delta
            for c in range(k):
                x[c] += alpha * ph[c]
            for q in range(L):
                r[q] -= alpha * qv[q]
            n_steps += 1
            if n_steps >= steps_max and not cert:
                f += L * k + 2 * L + k + (tri if precond else 0)
                break
            f += 2 * L * k + 3 * L + 3 * k
            if precond:
                f += 2 * tri + k
        steps[i] = n_steps
        certified[i] = is_cert
        flops[i] = f
        for c in range(k):
            X[i, c] = x[c]


@numba.njit(cache=True)
def sketch_rows(row_ptr, cols, vals, B, row_ids, S, h, sgn, gaussian, s, X, R, ok, flops):
    r"""Sketch-and-solve start and preconditioner per row: S_i[A_i | b_i] = Q_i[R_i | y_i], x₀ = R_i⁻¹y_i.

    The sketch of row i takes the columns Ω_i of one sketch drawn per call: Gaussian, S_i = Sᵀ_{:,Ω_i}
    with S (n×s) i.i.d. N(0, 1) (``gaussian``), or CountSketch, entry ω of row i added with sign
    ``sgn[j]`` to sketch row ``h[j]``, j = j(ω). Since a row's columns are distinct, every S_i is exactly
    a Gaussian (resp. CountSketch) matrix; rows share the draw. Counts: applying the sketch to
    [A_i | b_i] costs |Ω_i|·s·(k+1) (Gaussian) or |Ω_i|·(k+1) (CountSketch); Householder QR of the
    s×(k+1) result Σ_{c<k} (s−c)(1 + 2(k−c)); x₀ = R⁻¹y, k(k+1)/2. A row whose R has a zero or tiny
    pivot (|R_cc| ≤ 1e-12·max|R_dd|) gets ``ok[i] = False`` and is left to the caller.
    """
    k = B.shape[1]
    SA = np.empty((s, k + 1))
    v = np.empty(s)
    for t in range(row_ids.shape[0]):
        i = row_ids[t]
        a, e = row_ptr[i], row_ptr[i + 1]
        L = e - a
        SA[:, :] = 0.0
        if gaussian:
            for q in range(a, e):
                j = cols[q]
                bv = vals[q]
                for u in range(s):
                    g = S[j, u]
                    for c in range(k):
                        SA[u, c] += g * B[j, c]
                    SA[u, k] += g * bv
            f = L * s * (k + 1)
        else:
            for q in range(a, e):
                j = cols[q]
                u = h[j]
                g = sgn[j]
                for c in range(k):
                    SA[u, c] += g * B[j, c]
                SA[u, k] += g * vals[q]
            f = L * (k + 1)
        good = True
        for c in range(k):
            nrm2 = 0.0
            for u in range(c, s):
                nrm2 += SA[u, c] * SA[u, c]
            f += (s - c) * (1 + 2 * (k - c))
            if not (nrm2 > 0.0):
                good = False
                break
            x0 = SA[c, c]
            alpha = -math.sqrt(nrm2) if x0 >= 0.0 else math.sqrt(nrm2)
            vtv = 2.0 * (nrm2 - alpha * x0)
            v[0] = x0 - alpha
            for u in range(c + 1, s):
                v[u - c] = SA[u, c]
            for d in range(c + 1, k + 1):
                w = 0.0
                for u in range(c, s):
                    w += v[u - c] * SA[u, d]
                w = 2.0 * w / vtv
                for u in range(c, s):
                    SA[u, d] -= w * v[u - c]
            SA[c, c] = alpha
            for u in range(c + 1, s):
                SA[u, c] = 0.0
        if good:
            big = 0.0
            for c in range(k):
                big = max(big, abs(SA[c, c]))
            for c in range(k):
                if not (abs(SA[c, c]) > 1e-12 * big):
                    good = False
        if not good:
            ok[i] = False
            flops[i] = f
            continue
        for c in range(k - 1, -1, -1):
            acc = SA[c, k]
            for d in range(c + 1, k):
                acc -= SA[c, d] * X[i, d]
            X[i, c] = acc / SA[c, c]
        f += k * (k + 1) // 2
        for c in range(k):
            for d in range(k):
                R[i, c, d] = SA[c, d] if d >= c else 0.0
        ok[i] = True
        flops[i] = f


@numba.njit(cache=True)
def row_residual_sq(row_ptr, cols, vals, B, X, out):
    """out[i] = ‖A_iX[i] − b_i‖² for every row (|Ω|(k+1) operations)."""
    k = B.shape[1]
    for i in range(row_ptr.shape[0] - 1):
        acc2 = 0.0
        for q in range(row_ptr[i], row_ptr[i + 1]):
            j = cols[q]
            acc = -vals[q]
            for c in range(k):
                acc += B[j, c] * X[i, c]
            acc2 += acc * acc
        out[i] = acc2


@numba.njit(cache=True)
def sampled_residual_sq(row_ptr, cols, vals, U, V):
    """(Σ_Ω (⟨U_i, V_j⟩ − M_ij)², Σ_Ω M_ij²) over the observed entries, without forming UVᵀ."""
    k = U.shape[1]
    num = 0.0
    den = 0.0
    for i in range(row_ptr.shape[0] - 1):
        for q in range(row_ptr[i], row_ptr[i + 1]):
            j = cols[q]
            acc = -vals[q]
            for c in range(k):
                acc += U[i, c] * V[j, c]
            num += acc * acc
            den += vals[q] * vals[q]
    return num, den


@numba.njit(cache=True)
def sampled_product(rows, cols, U, V, out):
    """out[ω] = ⟨U_{i(ω)}, V_{j(ω)}⟩ for the given index pairs."""
    k = U.shape[1]
    for q in range(rows.shape[0]):
        i = rows[q]
        j = cols[q]
        acc = 0.0
        for c in range(k):
            acc += U[i, c] * V[j, c]
        out[q] = acc
