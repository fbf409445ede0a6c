r"""Top-K routing of a batch on biased scores, with per-expert loads.

For scores s ∈ R^{n×E} and a bias b ∈ R^E, token j goes to

    S_j = TopK_i (s_ji + b_i),   x_ji = 1[i ∈ S_j],   load_i = Σ_j x_ji,

the K largest biased scores, ties broken by the lower expert index (a stable sort by (−value, index)).
The bias chooses the experts and nothing else: the gate weights are computed from the *unbiased*
scores, w_ji = s_ji / Σ_{k∈S_j} s_jk (Wang et al. 2024, eq. 3–5). With b = −p, biased top-K is the
exact best response x(p) of the Lagrangian of the assignment LP (Han & Zhong 2025; claim
``alf_lb.best_response``).

Two implementations compute the same routing:
- a numba kernel (CPU, numpy input): one pass over each token's E scores keeping the K best by
  insertion, tokens split into blocks run in parallel, loads counted per block and summed;
- an array path (numpy reference, and the same code on CuPy arrays): a stable argsort of −(s + b).

References
----------
L. Wang, H. Gao, C. Zhao, X. Sun, D. Dai, "Auxiliary-Loss-Free Load Balancing Strategy for
Mixture-of-Experts", arXiv 2408.15664, Algorithm 1.
X.Y. Han, Y. Zhong, "A Theoretical Framework for Auxiliary-Loss-Free Load Balancing of Sparse
Mixture-of-Experts in Large-Scale AI Models", arXiv 2512.03915.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numba
import numpy as np

from solvers._xp import array_namespace, is_cupy
from solvers.alf_lb._validate import check_bias, check_K, check_scores

__all__ = ["Routing", "route", "topk_insert"]

Backend = Literal["auto", "numba", "numpy"]
#: Tokens per block of the parallel kernel (one scratch buffer and one count row per block).
_BLOCK = 2048


@dataclass(frozen=True)
class Routing:
    """The routing of one batch.

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
        return int(self.loads.shape[0])

    def gate_weights(self):
        """w_ji = s_ji / Σ_{k∈S_j} s_jk from the unbiased scores (needs positive scores, e.g. sigmoid)."""
        xp = array_namespace(self.scores)
        # summed in expert-index order, so a bias that reorders the same set gives identical weights
        by_index = xp.take_along_axis(self.scores, xp.argsort(self.experts, axis=1), axis=1)
        total = by_index.sum(axis=1, keepdims=True)
        if not bool(xp.all(total > 0)):
            raise ValueError("scores: normalised gate weights need a positive score sum per token "
                             "(use sigmoid or softmax affinities)")
        return self.scores / total

    def assignment(self):
        """The dense 0/1 assignment x ∈ {0,1}^{n×E} (int8); for small batches and tests."""
        xp = array_namespace(self.experts)
        n = self.experts.shape[0]
        x = xp.zeros((n, self.n_experts), dtype=xp.int8)
        x[xp.arange(n)[:, None], self.experts] = 1
        return x


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


@numba.njit(cache=True, parallel=True)
def _route_kernel(scores, bias, K, block, experts, chosen, counts):
    """Top-K of s_j + b for every token j; per-block expert counts into ``counts``."""
    n, E = scores.shape
    n_blocks = counts.shape[0]
    for blk in numba.prange(n_blocks):
        vals = np.empty(K, dtype=scores.dtype)
        idx = np.empty(K, dtype=np.int64)
        for j in range(blk * block, min(n, (blk + 1) * block)):
            count = 0
            for i in range(E):
                count = topk_insert(vals, idx, count, K, scores[j, i] + bias[i], i)
            for r in range(K):
                e = idx[r]
                experts[j, r] = e
                chosen[j, r] = scores[j, e]
                counts[blk, e] += 1


def _route_numba(scores: np.ndarray, bias: np.ndarray, K: int) -> Routing:
    n, E = scores.shape
    scores = np.ascontiguousarray(scores)
    n_blocks = -(-n // _BLOCK)
    experts = np.empty((n, K), dtype=np.int64)
    chosen = np.empty((n, K), dtype=scores.dtype)
    counts = np.zeros((n_blocks, E), dtype=np.int64)
    _route_kernel(scores, bias.astype(scores.dtype), K, _BLOCK, experts, chosen, counts)
    return Routing(experts, chosen, counts.sum(axis=0))


def _route_array(scores, bias, K: int) -> Routing:
    """Reference path, numpy or CuPy: stable argsort of −(s + b); CuPy's sort is always stable."""
    xp = array_namespace(scores)
    E = scores.shape[1]
    biased = scores + bias.astype(scores.dtype)
    order = xp.argsort(-biased, axis=1) if is_cupy(scores) else np.argsort(-biased, axis=1, kind="stable")
    experts = order[:, :K].astype(xp.int64)
    chosen = xp.take_along_axis(scores, experts, axis=1)
    loads = xp.bincount(experts.ravel(), minlength=E).astype(xp.int64)
    return Routing(experts, chosen, loads)


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
        ``"numba"`` (CPU kernel), ``"numpy"`` (argsort reference) or ``"auto"`` (numba for numpy
        input, the array path on CuPy input).

    Returns
    -------
    Routing
        Experts (n, K), their unbiased scores (n, K) and the loads (E,).

    Notes
    -----
    S_j = TopK_i(s_ji + b_i) with ties to the lower index; Σ_i load_i = K·n. The biased score is
    formed in the scores' precision, identically in both paths, so they agree exactly.
    """
    scores = check_scores(scores)
    n, E = scores.shape
    K = check_K(K, E)
    xp = array_namespace(scores)
    bias = check_bias(bias, E, xp)
    if backend not in ("auto", "numba", "numpy"):
        raise ValueError(f"backend must be 'auto', 'numba' or 'numpy', got {backend!r}")
    if is_cupy(scores):
        if backend == "numba":
            raise ValueError("backend='numba' runs on the CPU only; CuPy scores take backend='auto'")
        return _route_array(scores, bias, K)
    if backend == "numpy":
        return _route_array(scores, bias, K)
    return _route_numba(scores, bias, K)
