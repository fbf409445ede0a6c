"""Numba kernels of the EF21 family: TopK selection and one fused pass per method and round.

Every kernel is serial, compiled once and cached on disk, and takes every parameter as an argument.
The fused kernels read each client row once: they form the compressor's input u_i on the fly, pick
its TopK entries (stable order of (−|u_j|, j), the order of ``np.argsort(-abs(u), kind="stable")``),
update the client state in place at those entries, accumulate w_i·c_i into the server aggregate and
return the per-client estimator error. For 1 < K < d the row goes into an L1-resident scratch buffer
and the K kept indices are selected from it: for K ≤ 16 in one pass that keeps the K best (key, index)
pairs (:func:`_select_small`), for larger K through the K-th largest |u_j| by a partial selection
(``np.partition``) and one more pass taking the entries above it and the lowest-index ties; K = d keeps
every entry.

K = 1 (Top1) is one vectorised pass per row, the argmax done on integer keys. For a float64 x that is
not nan, the bits of x with the sign bit cleared, read as an int64, are ordered exactly as |x| (±0 → 0,
±inf → 0x7FF0…0); a nan reads above that and is mapped to −1, so nan ranks below every number as in
numpy's sort. An int64 max reduction vectorises without any fast-math flag (a branchy float argmax
does not), so the pass is, per block of ``block`` entries: compute u_j (strict IEEE arithmetic, the
bits of the per-client loop), store it to the scratch row, and reduce max key and Σ u_j² (the only
reassociated sum, :func:`_radd`). The first block whose max beats every earlier block holds the lowest
index of the row's max, which one short pass over that block finds; the estimator error is the other
blocks' sums plus that block's sum without the kept entry, summed exactly (never a total minus the kept
square, which would cancel when the kept entry dominates the row).

A nan entry never makes a kernel index outside the row; the caller sees it through the estimator error
and reports divergence.

Two details keep the Top1 loops vectorised: indices into a sub-range are cast to uint64 (a signed index
gets numba's negative-index wraparound, which LLVM turns into gathers), and the per-block loops are
inlined by numba (``inline="always"``) rather than called, which would cost a call and reference-count
updates of every array argument per block.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import types
from numba.extending import intrinsic

_jit = numba.njit(cache=True)
_jit_inline = numba.njit(cache=True, inline="always")
# Only for the sums of squares that make up the estimator error: reassociation (and contraction) change
# their last bits (the error is compared at 1e-12), never which entry is kept or any state entry.
_jit_sum = numba.njit(cache=True, fastmath={"reassoc", "nsz", "arcp", "contract", "afn"})


@intrinsic
def _radd(typingctx, a, b):
    """a + b carrying LLVM's ``reassoc`` flag, so a running sum inside a strict loop vectorises.

    Every other operation of the loop keeps strict IEEE semantics (numba's fastmath is per function).
    """
    sig = types.float64(types.float64, types.float64)

    def codegen(context, builder, signature, args):
        return builder.fadd(args[0], args[1], flags=("reassoc",))

    return sig, codegen


@_jit
def _key(u):
    """Sort key |u|, with nan below every number (numpy sorts nan last)."""
    a = abs(u)
    if a != a:
        return -1.0
    return a


@_jit
def _bits_key(b):
    """The integer key of a float64 from its bits ``b`` (int64): ordered as |x|, nan → −1."""
    k = b & np.int64(0x7FFFFFFFFFFFFFFF)
    return k if k <= np.int64(0x7FF0000000000000) else np.int64(-1)


@_jit
def _first_key(bits, lo, hi, best):
    """The lowest j in [lo, hi) with key ``best`` (``hi`` if none), a vectorised min reduction."""
    jb = hi
    for j in range(lo, hi):
        jj = np.uint64(j)  # unsigned: no negative-index wraparound, so the loop vectorises
        jb = min(jb, j if _bits_key(bits[jj]) == best else hi)
    return jb


@_jit_sum
def _sumsq_skip(x, lo, hi, skip):
    """Σ_{lo ≤ j < hi, j ≠ skip} x_j²."""
    s = 0.0
    for j in range(lo, hi):
        jj = np.uint64(j)
        v = x[jj]
        s += 0.0 if j == skip else v * v
    return s


@_jit_sum
def _sumsq_diff_skip(a, b, i, lo, hi, skip):
    """Σ_{lo ≤ j < hi, j ≠ skip} (a_ij − b_ij)²."""
    s = 0.0
    for j in range(lo, hi):
        jj = np.uint64(j)
        r = a[i, jj] - b[i, jj]
        s += 0.0 if j == skip else r * r
    return s


@_jit
def _top1(x, bits, block):
    """Index of the largest |x_j| (lowest index on ties, nan below every number); ``bits`` is x as int64."""
    d = x.shape[0]
    best = np.int64(-2)
    bs = 0
    for b in range(0, d, block):
        m = np.int64(-1)
        for j in range(b, min(b + block, d)):
            m = max(m, _bits_key(bits[np.uint64(j)]))
        if m > best:
            best = m
            bs = b
    return _first_key(bits, bs, min(bs + block, d), best)


@_jit
def _insert(kb, ib, p, key, j):
    """Put (key, j) into the kept list (keys descending) at or before slot p, after every key ≥ key."""
    while p > 0 and kb[p - 1] < key:
        kb[p] = kb[p - 1]
        ib[p] = ib[p - 1]
        p -= 1
    kb[p] = key
    ib[p] = j


@_jit
def _select_small(a, k, sel, kb, ib):
    """:func:`_select` for small k < d in one pass: keep the k best (key, index) pairs in (−key, index) order.

    Indices come in ascending order, so a later entry enters only when its key beats the k-th kept key
    strictly (on a tie the kept, lower index wins) and goes after every kept key ≥ its own. O(d) when
    entries rarely enter (O(d·k) at worst, for keys ascending along the row).
    """
    d = a.shape[0]
    for j in range(k):
        _insert(kb, ib, j, a[j], j)
    kth = kb[k - 1]
    for j in range(k, d):
        if a[j] > kth:
            _insert(kb, ib, k - 1, a[j], j)
            kth = kb[k - 1]
    for m in range(k):  # the kept indices, sorted ascending
        j = ib[m]
        p = m
        while p > 0 and sel[p - 1] > j:
            sel[p] = sel[p - 1]
            p -= 1
        sel[p] = j


@_jit
def _select_scratch(k):
    """(sel, kb, ib) for :func:`_select`: the one-pass selection's buffers only for k ≤ 16, where its
    O(d·k) worst case stays small."""
    small = k if k <= 16 else 0
    return np.empty(k, dtype=np.int64), np.empty(small), np.empty(small, dtype=np.int64)


@_jit
def _select(a, k, sel, kb, ib):
    """Write into ``sel`` (ascending) the indices of the k largest keys ``a``, ties to the lowest index.

    For 2 ≤ k; k = 1 is the integer-key argmax (:func:`_top1`). ``kb``, ``ib`` are the scratch of
    :func:`_select_small`, taken when they hold k entries (:func:`_select_scratch`); else a partial sort.
    """
    d = a.shape[0]
    if k >= d:
        for j in range(d):
            sel[j] = j
        return
    if k <= kb.shape[0]:
        _select_small(a, k, sel, kb, ib)
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
    bits = a.view(np.int64)
    sel, kb, ib = _select_scratch(kk)
    for i in range(n):
        if kk == 1:
            for j in range(d):
                a[j] = V[i, j]
            jb = _top1(a, bits, 256)
            out[i, jb] = V[i, jb]
        else:
            for j in range(d):
                a[j] = _key(V[i, j])
            _select(a, kk, sel, kb, ib)
            for m in range(kk):
                out[i, sel[m]] = V[i, sel[m]]


@_jit_inline
def _ef21_block(grads, g, i, s, x, bits, lo, hi):
    """x_j = u_ij = s·∇f_ij − g_ij on [lo, hi); returns (max key, Σ u_ij²)."""
    m = np.int64(-1)
    q = 0.0
    for j in range(lo, hi):
        jj = np.uint64(j)
        u = s * grads[i, jj] - g[i, jj]
        x[jj] = u
        m = max(m, _bits_key(bits[jj]))
        q = _radd(q, u * u)
    return m, q


@_jit
def ef21_topk(grads, g, g_mean, scale, weight, k, err):
    """One EF21 / EF21-W client round with TopK, in place.

    u_i = scale_i·∇f_i − g_i, c_i = TopK(u_i), g_i += c_i, g_mean += weight_i·c_i,
    err_i = ‖u_i − c_i‖² = ‖g_i^{new} − scale_i·∇f_i‖².
    """
    n, d = grads.shape
    kk = min(k, d)
    u = np.empty(d)
    if kk == 1:
        block = 256  # 4 blocks of a d = 1000 row: few horizontal reductions, a short final pass
        bits = u.view(np.int64)
        for i in range(n):
            best = np.int64(-2)
            bs = 0
            rest = 0.0  # Σ u² over the blocks other than the leading one
            qb = 0.0
            for b in range(0, d, block):
                m, q = _ef21_block(grads, g, i, scale[i], u, bits, b, min(b + block, d))
                if m > best:
                    rest += qb
                    best = m
                    bs = b
                    qb = q
                else:
                    rest += q
            be = min(bs + block, d)
            jb = _first_key(bits, bs, be, best)
            ub = u[jb]
            g[i, jb] += ub
            g_mean[jb] += weight[i] * ub
            err[i] = rest + _sumsq_skip(u, bs, be, jb)
        return
    a = np.empty(d)
    sel, kb, ib = _select_scratch(kk)
    for i in range(n):
        s = scale[i]
        for j in range(d):
            uj = s * grads[i, j] - g[i, j]
            u[j] = uj
            a[j] = _key(uj)
        _select(a, kk, sel, kb, ib)
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


@_jit_inline
def _ef14_block(grads, e, i, gamma, x, bits, lo, hi):
    """e_ij = x_j = u_ij = e_ij + γ∇f_ij on [lo, hi); returns (max key, Σ u_ij²)."""
    m = np.int64(-1)
    q = 0.0
    for j in range(lo, hi):
        jj = np.uint64(j)
        u = e[i, jj] + gamma * grads[i, jj]
        e[i, jj] = u
        x[jj] = u
        m = max(m, _bits_key(bits[jj]))
        q = _radd(q, u * u)
    return m, q


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
        block = 256
        x = np.empty(d)
        bits = x.view(np.int64)
        for i in range(n):
            best = np.int64(-2)
            bs = 0
            rest = 0.0
            qb = 0.0
            for b in range(0, d, block):
                m, q = _ef14_block(grads, e, i, gamma, x, bits, b, min(b + block, d))
                if m > best:
                    rest += qb
                    best = m
                    bs = b
                    qb = q
                else:
                    rest += q
            be = min(bs + block, d)
            jb = _first_key(bits, bs, be, best)
            ub = x[jb]
            e[i, jb] = ub - ub
            v_mean[jb] += weight[i] * ub
            err[i] = rest + _sumsq_skip(x, bs, be, jb)
        return
    a = np.empty(d)
    sel, kb, ib = _select_scratch(kk)
    for i in range(n):
        for j in range(d):
            u = e[i, j] + gamma * grads[i, j]
            e[i, j] = u
            a[j] = _key(u)
        _select(a, kk, sel, kb, ib)
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


@_jit_inline
def _econtrol_block(grads, e, h, i, eta, x, bits, lo, hi):
    """x_j = u_ij = η e_ij + ∇f_ij − h_ij and e_ij ← e_ij + ∇f_ij − h_ij on [lo, hi);
    returns (max key of u, Σ (h_ij − ∇f_ij)²)."""
    m = np.int64(-1)
    q = 0.0
    for j in range(lo, hi):
        jj = np.uint64(j)
        gj = grads[i, jj]
        hj = h[i, jj]
        ej = e[i, jj]
        x[jj] = eta * ej + gj - hj
        e[i, jj] = ej + gj - hj  # Δ_ij = 0 unless j is kept (fixed by the caller)
        m = max(m, _bits_key(bits[jj]))
        r = hj - gj
        q = _radd(q, r * r)
    return m, q


@_jit
def econtrol_topk(grads, e, h, h_mean, eta, weight, k, err):
    """One EControl client round with TopK, in place (the reconstructed rule of spec §3).

    u_i = η e_i + ∇f_i − h_i, Δ_i = TopK(u_i), e_i = e_i + ∇f_i − h_i − Δ_i, h_i += Δ_i,
    h_mean += weight_i·Δ_i, err_i = ‖h_i^{new} − ∇f_i‖².
    """
    n, d = grads.shape
    kk = min(k, d)
    u = np.empty(d)
    if kk == 1:
        block = 256
        bits = u.view(np.int64)
        for i in range(n):
            best = np.int64(-2)
            bs = 0
            rest = 0.0  # Σ (h − ∇f)² over the blocks other than the leading one
            qb = 0.0
            for b in range(0, d, block):
                m, q = _econtrol_block(grads, e, h, i, eta, u, bits, b, min(b + block, d))
                if m > best:
                    rest += qb
                    best = m
                    bs = b
                    qb = q
                else:
                    rest += q
            be = min(bs + block, d)
            jb = _first_key(bits, bs, be, best)
            rest += _sumsq_diff_skip(h, grads, i, bs, be, jb)
            ub = u[jb]
            e[i, jb] = e[i, jb] - ub
            h[i, jb] += ub
            h_mean[jb] += weight[i] * ub
            r = h[i, jb] - grads[i, jb]
            err[i] = rest + r * r
        return
    a = np.empty(d)
    sel, kb, ib = _select_scratch(kk)
    for i in range(n):
        for j in range(d):
            gj = grads[i, j]
            hj = h[i, j]
            ej = e[i, j]
            uj = eta * ej + gj - hj
            e[i, j] = ej + gj - hj
            u[j] = uj
            a[j] = _key(uj)
        _select(a, kk, sel, kb, ib)
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
