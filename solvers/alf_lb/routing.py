r"""Top-K routing of a batch on biased scores, with per-expert loads.

For scores s ∈ R^{n×E} and a bias b ∈ R^E, token j goes to

    S_j = TopK_i (s_ji + b_i),   x_ji = 1[i ∈ S_j],   load_i = Σ_j x_ji,

the K largest biased scores, ties broken by the lower expert index (a stable sort by (−value, index)).
The bias chooses the experts and nothing else: the gate weights are computed from the *unbiased*
scores, w_ji = s_ji / Σ_{k∈S_j} s_jk (Wang et al. 2024, eq. 3–5). With b = −p, biased top-K is the
exact best response x(p) of the Lagrangian of the assignment LP (Han & Zhong 2025; claim
``alf_lb.best_response``).

Two implementations compute the same routing:
- numba kernels (CPU, numpy input), serial and deterministic. The tiled kernel (K ≤ 16, batches of
  at least 16 tokens) works on tiles of 16 tokens with explicit 16-lane SIMD: a threshold pass
  leaves ≈ K candidates per token, which an insertion network orders (see :func:`_tile_kernel`).
  The scalar kernel keeps each token's K best by insertion in one pass over its E scores (K > 16,
  short batches, and the tokens the tiled kernel hands back). Both are exact, ties included, and
  report non-finite scores;
- an array path (numpy reference, and the same code on CuPy arrays): a stable argsort of −(s + b).

:func:`route_batch` routes S independent batches (seeds) at once, scores (S, n, E) with a bias per
seed: the numba kernel once per seed on the CPU, or one argsort over the whole (S, n, E) array (CuPy).

References
----------
L. Wang, H. Gao, C. Zhao, X. Sun, D. Dai, "Auxiliary-Loss-Free Load Balancing Strategy for
Mixture-of-Experts", arXiv 2408.15664, Algorithm 1.
X.Y. Han, Y. Zhong, "A Theoretical Framework for Auxiliary-Loss-Free Load Balancing of Sparse
Mixture-of-Experts in Large-Scale AI Models", arXiv 2512.03915.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

import numba
import numpy as np

from solvers._xp import array_namespace, bincount, is_cupy
from solvers.alf_lb._simd import W as _W
from solvers.alf_lb._simd import (
    _popcount,
    _tile_threshold,
    _tile_topk,
    _vadd,
    _vcompress_store,
    _vexp_finite,
    _vexp_max,
    _vge_bits,
    _viota,
    _vload,
    _vload_part,
    _vmax,
    _vmin,
    _vsplat,
    _vstore,
)
from solvers.alf_lb._validate import check_bias, check_K, check_score_batch, check_scores

__all__ = ["Routing", "route", "route_batch", "topk_insert"]

Backend = Literal["auto", "numba", "numpy"]


@dataclass(frozen=True)
class Routing:
    """The routing of one batch (or of S batches, with a leading seed axis on every array).

    Attributes
    ----------
    experts
        (n, K) int64: the chosen experts of each token, by decreasing biased score (ties: lower index).
    scores
        (n, K): the *unbiased* scores s_ji of the chosen experts (the bias never enters them).
    loads
        (E,) int64: tokens per expert, Σ loads = K·n.
    """

    experts: np.ndarray
    scores: np.ndarray
    loads: np.ndarray

    @property
    def n_experts(self) -> int:
        """E."""
        return int(self.loads.shape[-1])

    def gate_weights(self):
        """w_ji = s_ji / Σ_{k∈S_j} s_jk from the unbiased scores (needs positive scores, e.g. sigmoid)."""
        xp = array_namespace(self.scores)
        # summed in expert-index order, so a bias that reorders the same set gives identical weights
        by_index = xp.take_along_axis(self.scores, xp.argsort(self.experts, axis=-1), axis=-1)
        total = by_index.sum(axis=-1, keepdims=True)
        if not bool(xp.all(total > 0)):
            raise ValueError("scores: normalised gate weights need a positive score sum per token "
                             "(use sigmoid or softmax affinities)")
        return self.scores / total

    def assignment(self):
        """The dense 0/1 assignment x ∈ {0,1}^{n×E} (int8; (S, n, E) for S batches); for small batches and tests."""
        xp = array_namespace(self.experts)
        hit = self.experts[..., None] == xp.arange(self.n_experts)  # (..., n, K, E)
        return hit.any(axis=-2).astype(xp.int8)


@numba.njit(cache=True, inline="always")
def topk_insert(vals, idx, count, K, v, i):
    """Insert (v, i) into the descending top list ``vals[:count]``/``idx``; return the new count.

    Scanning experts in increasing index and inserting only on a strictly larger value keeps the
    lower index first among equal values, i.e. the stable order by (−value, index).
    """
    if count == K:
        if not v > vals[K - 1]:
            return count
        pos = K - 1
    else:
        pos = count
        count += 1
    while pos > 0 and vals[pos - 1] < v:
        vals[pos] = vals[pos - 1]
        idx[pos] = idx[pos - 1]
        pos -= 1
    vals[pos] = v
    idx[pos] = i
    return count


# ---------------------------------------------------------------------------------------------
# scalar kernel


@numba.njit(cache=True)
def _route_token(flat, E, bias, K, j, experts, chosen, loads, vals, idx):
    """Route token j (row ``flat[j*E:(j+1)*E]``) by insertion; return whether its scores are finite."""
    row = j * E
    finite = True
    count = 0
    for r in range(K):
        idx[r] = 0  # a valid index even if a nan kept the list short (the caller raises then)
    for i in range(E):
        x = flat[row + i]
        finite &= abs(x) < np.inf
        count = topk_insert(vals, idx, count, K, x + bias[i], i)
    for r in range(K):
        e = idx[r]
        experts[j, r] = e
        chosen[j, r] = flat[row + e]
        loads[e] += 1
    return finite


@numba.njit(cache=True)
def _route_kernel(flat, E, bias, K, experts, chosen, loads):
    """Top-K of s_j + b for every token j by insertion; return whether all scores are finite."""
    vals = np.empty(K, dtype=flat.dtype)
    idx = np.empty(K, dtype=np.int64)
    finite = True
    for j in range(experts.shape[0]):
        finite &= _route_token(flat, E, bias, K, j, experts, chosen, loads, vals, idx)
    return finite


# ---------------------------------------------------------------------------------------------
# tiled kernel


@functools.cache
def _tile_kernel(K: int):
    """The tiled routing kernel for this K ≤ _W (compiled once per K and dtype, cached on disk).

    Tiles of _W = 16 consecutive tokens; v = s_j + b (in the scores' dtype), and the experts fall
    into the _W groups g = {i : i mod _W = g} (−inf pads the last chunk when _W ∤ E). Per tile:

    1. group values: the H largest v_ji of each group, H = 1 for K ≤ 8 and 2 above (a running max,
       and second max, over the chunks of _W experts); the finiteness check of the scores is folded
       into this pass;
    2. threshold: τ_j = the K-th largest of token j's H·_W group values (:func:`_tile_threshold`,
       lanes = tokens);
    3. candidates: the experts with v_ji ≥ τ_j, compress-stored in increasing expert order;
    4. the stable top-K of at most H·_W candidates per token (:func:`_tile_topk`, lanes = tokens);
    5. experts, unbiased scores and loads, token by token.

    Exactness: the K largest group values belong to K distinct experts with v ≥ τ_j (or τ_j = −inf),
    so the K-th largest v_j is ≥ τ_j and every expert of S_j is a candidate; the stable top-K of a
    set containing S_j is S_j, in the same order. τ_j is close to the K-th largest v_j: with E = 64
    and normal scores a token has ≈ 6.9 candidates for K = 6 (H = 1) and ≈ 17 for K = 16 (H = 2).
    A token with more than H·_W candidates (many ties at τ_j) or fewer than K finite ones (−inf
    after an overflow of s + b) is routed again by the scalar :func:`_route_token`, and so are the
    n mod _W tokens after the last tile. A nan is never a candidate (v ≥ τ_j is false), so even
    non-finite scores, which the caller rejects afterwards, only ever index valid experts.

    Call the returned kernel from Python only. Numba gives the per-K closures of one factory the same
    symbol names, so another jitted function calling two of them (or a cached one) may link the wrong K.
    """
    W, H = _W, 1 + (K > 8)

    @numba.njit(cache=True)
    def kernel(flat, E, bias, experts, chosen, loads):
        n, k = experts.shape  # k = K, not as a literal: _route_token is compiled once per dtype
        dt = flat.dtype
        ninf = dt.type(-np.inf)
        C, rem = divmod(E, W)  # full chunks of W experts, experts in the last partial chunk
        S = E + 2 * W  # candidate row stride: room for all E experts and H*W slots
        M = np.empty(H * W * W, dtype=dt)  # group values: M[h*W*W + t*W + g]
        TAU = np.empty(W, dtype=dt)
        CV = np.empty(W * S, dtype=dt)  # candidate values, token-major
        CI = np.empty(W * S, dtype=np.int32)  # candidate experts
        IDX = np.empty(W * W, dtype=np.int32)  # top-K experts, token-major
        OFF = np.empty(W, dtype=np.int64)  # candidates per token
        vals = np.empty(K, dtype=dt)
        idx = np.empty(K, dtype=np.int64)
        vninf = _vsplat(ninf, _vload(M, 0))
        btail = _vload_part(bias, C * W, rem, ninf) if rem else vninf  # −inf pads the last chunk of v
        expo = _vsplat(0, vninf)
        finite = True
        for j0 in range(0, n - W + 1, W):
            # 1. group values (and finiteness)
            for t in range(W):
                row = (j0 + t) * E
                m1 = vninf
                m2 = vninf
                for c in range(C + (rem > 0)):
                    if c < C:
                        s = _vload(flat, row + c * W)
                        expo = _vexp_max(expo, s)
                        v = _vadd(s, _vload(bias, c * W))
                    else:
                        s = _vload_part(flat, row + c * W, rem, 0)
                        expo = _vexp_max(expo, s)
                        v = _vadd(s, btail)
                    if H == 2:
                        m2 = _vmax(m2, _vmin(m1, v))
                    m1 = _vmax(m1, v)
                _vstore(M, t * W, m1)
                if H == 2:
                    _vstore(M, W * W + t * W, m2)
            # 2. thresholds
            _vstore(TAU, 0, _tile_threshold(M, K, H))
            # 3. candidates; chunk-major, so that the W tokens' offset chains interleave
            for t in range(W):
                for h in range(H):
                    _vstore(CV, t * S + h * W, vninf)
                OFF[t] = 0
            for c in range(C + (rem > 0)):
                b = _vload(bias, c * W) if c < C else btail
                iota = _viota(c * W)
                for t in range(W):
                    row = (j0 + t) * E + c * W
                    v = _vadd(_vload(flat, row) if c < C else _vload_part(flat, row, rem, 0), b)
                    bits = _vge_bits(v, TAU[t])
                    off = OFF[t]
                    _vcompress_store(CV, t * S + off, v, bits)
                    _vcompress_store(CI, t * S + off, iota, bits)
                    OFF[t] = off + _popcount(bits)
            nslots = 0
            redo = np.uint64(0)
            for t in range(W):
                nslots = max(nslots, OFF[t])
                if OFF[t] > H * W:
                    redo |= np.uint64(1) << np.uint64(t)
            # 4. top-K of the candidates
            redo |= _tile_topk(CV, CI, S, nslots, K, H, IDX)
            # 5. outputs (unsigned indices: no wraparound code)
            for t in range(W):
                j = j0 + t
                if redo >> np.uint64(t) & np.uint64(1):
                    _route_token(flat, E, bias, k, j, experts, chosen, loads, vals, idx)
                    continue
                row = np.uint64(j * E)
                for r in range(K):
                    e = np.uint64(IDX[t * W + r])
                    experts[j, r] = e
                    chosen[j, r] = flat[row + e]
                    loads[e] += 1
        for j in range(n - n % W, n):
            finite &= _route_token(flat, E, bias, k, j, experts, chosen, loads, vals, idx)
        return finite and _vexp_finite(expo)

    return kernel


def _route_numba(scores: np.ndarray, bias: np.ndarray, K: int) -> Routing | None:
    """Route with the numba kernels; None when some score is not finite."""
    n, E = scores.shape
    scores = np.ascontiguousarray(scores)
    experts = np.empty((n, K), dtype=np.int64)
    chosen = np.empty((n, K), dtype=scores.dtype)
    loads = np.zeros(E, dtype=np.int64)
    flat, b = scores.reshape(-1), bias.astype(scores.dtype)
    if n >= _W and K <= _W:
        finite = _tile_kernel(K)(flat, E, b, experts, chosen, loads)
    else:
        finite = _route_kernel(flat, E, b, K, experts, chosen, loads)
    return Routing(experts, chosen, loads) if finite else None


def _route_array(scores, bias, K: int) -> Routing:
    """Reference path, numpy or CuPy: stable argsort of −(s + b); CuPy's sort is always stable.

    ``scores`` (n, E) with ``bias`` (E,), or (S, n, E) with ``bias`` (E,) or (S, E); the loads of seed s
    are counted by one bincount of the experts offset by s·E (:func:`solvers._xp.bincount`: no host read).
    """
    xp = array_namespace(scores)
    E = scores.shape[-1]
    biased = scores + bias.astype(scores.dtype)[..., None, :]
    order = xp.argsort(-biased, axis=-1) if is_cupy(scores) else np.argsort(-biased, axis=-1, kind="stable")
    experts = order[..., :K].astype(xp.int64)
    chosen = xp.take_along_axis(scores, experts, axis=-1)
    if scores.ndim == 2:
        loads = bincount(experts.ravel(), minlength=E).astype(xp.int64)
    else:
        S = scores.shape[0]
        shifted = experts + (xp.arange(S, dtype=xp.int64) * E)[:, None, None]
        loads = bincount(shifted.ravel(), minlength=S * E).astype(xp.int64).reshape(S, E)
    return Routing(experts, chosen, loads)


def _kernel_ready(scores) -> bool:
    """A non-empty 2-D float32/float64 numpy array: the kernels take it as it is."""
    return (type(scores) is np.ndarray and scores.ndim == 2 and scores.dtype in (np.float32, np.float64)
            and scores.size > 0)


def route(scores, K: int, bias=None, *, backend: Backend = "auto") -> Routing:
    r"""Route a batch: top-K experts of each token on the biased scores s + b, and the loads.

    Parameters
    ----------
    scores
        (n, E) finite router scores (numpy or CuPy; float32 stays float32).
    K
        Experts per token, 1 ≤ K ≤ E.
    bias
        (E,) bias b added for the selection only (None: plain top-K, b = 0).
    backend
        ``"numba"`` (CPU kernels), ``"numpy"`` (argsort reference) or ``"auto"`` (numba for numpy
        input, the array path on CuPy input). Float dtypes other than float32/float64 (e.g.
        float16) take the reference path under ``"numba"`` too.

    Returns
    -------
    Routing
        Experts (n, K), their unbiased scores (n, K) and the loads (E,).

    Notes
    -----
    S_j = TopK_i(s_ji + b_i) with ties to the lower index; Σ_i load_i = K·n. The biased score is
    formed in the scores' precision, identically in both paths, so they agree exactly. On a
    float32/float64 numpy array the kernel checks finiteness in its own pass over the scores
    (instead of a separate ``isfinite`` pass) and a non-finite score raises the same error after it.
    """
    fast = backend != "numpy" and _kernel_ready(scores)
    if not fast:
        scores = check_scores(scores)
    E = scores.shape[1]
    K = check_K(K, E)
    xp = array_namespace(scores)
    bias = check_bias(bias, E, xp)
    if backend not in ("auto", "numba", "numpy"):
        raise ValueError(f"backend must be 'auto', 'numba' or 'numpy', got {backend!r}")
    if is_cupy(scores):
        if backend == "numba":
            raise ValueError("backend='numba' runs on the CPU only; CuPy scores take backend='auto'")
        return _route_array(scores, bias, K)
    if backend == "numpy" or scores.dtype not in (np.float32, np.float64):
        return _route_array(scores, bias, K)
    routing = _route_numba(scores, bias, K)
    if routing is None:  # a non-finite score: the validator raises the argument's error
        routing = _route_array(check_scores(scores), bias, K)
    return routing


def route_batch(scores, K: int, bias=None, *, backend: Backend = "auto") -> Routing:
    r"""Route S independent batches at once: scores (S, n, E), one bias per seed.

    Parameters
    ----------
    scores
        (S, n, E) finite router scores (numpy or CuPy): batch s is ``scores[s]``.
    K
        Experts per token, 1 ≤ K ≤ E.
    bias
        None (b = 0), (E,) shared by every seed, or (S, E): the bias of seed s.
    backend
        ``"numba"`` (the CPU kernel of :func:`route`, once per seed), ``"numpy"`` (one stable argsort
        of the whole (S, n, E) array; the CuPy path) or ``"auto"`` (numba for numpy input).

    Returns
    -------
    Routing
        experts (S, n, K), unbiased scores (S, n, K), loads (S, E); entry s equals
        ``route(scores[s], K, bias[s])`` exactly (same experts, ties included, in both paths).
    """
    scores = check_score_batch(scores)
    S, _, E = scores.shape
    K = check_K(K, E)
    xp = array_namespace(scores)
    if bias is None:
        bias = xp.zeros((S, E))
    else:
        bias = xp.asarray(bias, dtype=float)
        if bias.shape == (E,):
            bias = xp.broadcast_to(bias, (S, E))
        if bias.shape != (S, E):
            raise ValueError(f"bias must have shape ({E},) or (S, E) = ({S}, {E}), got {bias.shape}")
        if not bool(xp.all(xp.isfinite(bias))):
            raise ValueError("bias must be finite, got non-finite entries")
    if backend not in ("auto", "numba", "numpy"):
        raise ValueError(f"backend must be 'auto', 'numba' or 'numpy', got {backend!r}")
    if is_cupy(scores) and backend == "numba":
        raise ValueError("backend='numba' runs on the CPU only; CuPy scores take backend='auto'")
    if is_cupy(scores) or backend == "numpy" or scores.dtype not in (np.float32, np.float64):
        return _route_array(scores, bias, K)
    parts = [_route_numba(scores[s], bias[s], K) for s in range(S)]  # finite: checked above
    return Routing(np.stack([p.experts for p in parts]), np.stack([p.scores for p in parts]),
                   np.stack([p.loads for p in parts]))
