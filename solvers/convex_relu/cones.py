r"""Exact Euclidean projection onto the pattern cones, and the prox of the group norm on them.

The cone of pattern i is K_i = {v ∈ R^d : (2D_i − I)Xv ≥ 0}, a polyhedral cone with n rows
a_k = s_k x_k (s = 2D_i − 𝟙 the signs). The projection Π_K(a) = argmin ‖v − a‖² over K is the primal of
the non-negative least-squares dual

    min_{μ ≥ 0} ½‖a + Aᵀμ‖²,   Π_K(a) = a + Aᵀμ*,

whose optimality conditions are μ ≥ 0, Ap ≥ 0 and μ_k(Ap)_k = 0 (Moreau). :func:`project_groups` solves it
by the Lawson–Hanson active-set method (Lawson & Hanson 1974, ch. 23): the passive rows R (μ_R > 0) hold
(Ap)_R = 0, so p is a projected onto the null space of A_R; the row of most negative (Ap)_k joins R, and a
row whose multiplier would turn negative leaves it after the interpolation step. The passive rows stay
linearly independent (Lawson–Hanson, Lemma 23.17), so |R| ≤ d and every small system is |R| × |R|. One
step costs one product Xp (nd multiply-adds) and an |R| × |R| solve. A cold start takes at least as many
steps as rows end up passive (up to d − 1 on an extreme ray); a warm start from the previous passive set
(ADMM's iterates move little) makes most projections take zero to two steps once ADMM has settled.

**The prox of β‖·‖ + 𝟙_K on a cone** (derived here). For a closed convex cone K and t > 0,

    prox_{t‖·‖ + 𝟙_K}(a) = max(0, 1 − t/‖p‖)·p,   p = Π_K(a).

Proof: a − p ∈ N_K(p) = {w ∈ K° : ⟨w, p⟩ = 0}, and N_K(cp) = N_K(p) for c > 0. If ‖p‖ > t, v = cp with
c = 1 − t/‖p‖ gives v − a + t·p/‖p‖ = p − a ∈ −N_K(v), the optimality condition 0 ∈ v − a + t∂‖v‖ + N_K(v).
If ‖p‖ ≤ t, v = 0: a = p + (a − p) ∈ tB + K° = t∂‖0‖ + N_K(0). Since ‖Π_K(a)‖ ≤ ‖a‖ (K contains 0 and
Π_K is non-expansive with Π_K(0) = 0), a group with ‖a‖ ≤ t is zero without projecting.

References
----------
C. L. Lawson, R. J. Hanson, *Solving Least Squares Problems*, Prentice-Hall 1974, ch. 23 (NNLS).
J. J. Moreau, "Décomposition orthogonale d'un espace hilbertien selon deux cônes mutuellement polaires",
C. R. Acad. Sci. Paris 255, 1962.
Y. Yu, "On decomposing the proximal map", NeurIPS 2013 (prox of a sum).
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from solvers._xp import array_namespace, to_numpy

__all__ = ["ConeProjector", "project_groups"]

#: Optimality tolerance of a row: (Ap)_k ≥ −TOL·‖x_k‖·‖a‖ ends the active-set method.
TOL = 1e-11


@numba.njit(cache=True)
def _solve_passive(X: np.ndarray, s: np.ndarray, a: np.ndarray, R: np.ndarray, r: int, zeta: np.ndarray) -> int:
    """ζ_R = −(A_RA_Rᵀ)⁻¹A_Ra (Cholesky of the Gram matrix, a 1e-14·trace ridge); returns multiply-adds."""
    d = X.shape[1]
    G = np.empty((r, r))
    b = np.empty(r)
    for i in range(r):
        ki = R[i]
        acc = 0.0
        for j in range(d):
            acc += X[ki, j] * a[j]
        b[i] = -s[ki] * acc
        for m in range(i + 1):
            km = R[m]
            acc = 0.0
            for j in range(d):
                acc += X[ki, j] * X[km, j]
            G[i, m] = s[ki] * s[km] * acc
    trace = 0.0
    for i in range(r):
        trace += G[i, i]
    ridge = 1e-14 * trace
    # Cholesky G = LLᵀ in place (lower), then two triangular solves
    for i in range(r):
        for m in range(i + 1):
            acc = G[i, m] + (ridge if i == m else 0.0)
            for j in range(m):
                acc -= G[i, j] * G[m, j]
            if i == m:
                G[i, i] = np.sqrt(max(acc, 1e-300))
            else:
                G[i, m] = acc / G[m, m]
    for i in range(r):
        acc = b[i]
        for j in range(i):
            acc -= G[i, j] * zeta[j]
        zeta[i] = acc / G[i, i]
    for i in range(r - 1, -1, -1):
        acc = zeta[i]
        for j in range(i + 1, r):
            acc -= G[j, i] * zeta[j]
        zeta[i] = acc / G[i, i]
    return r * d + r * (r + 1) // 2 * d + r * r * r // 6 + r * r


@numba.njit(cache=True)
def _primal(X: np.ndarray, s: np.ndarray, a: np.ndarray, R: np.ndarray, r: int, mu: np.ndarray, p: np.ndarray) -> None:
    """p = a + A_Rᵀμ_R."""
    d = X.shape[1]
    for j in range(d):
        p[j] = a[j]
    for i in range(r):
        c = s[R[i]] * mu[i]
        for j in range(d):
            p[j] += c * X[R[i], j]


@numba.njit(cache=True)
def _project_one(X: np.ndarray, xnorm: np.ndarray, s: np.ndarray, a: np.ndarray, R: np.ndarray, r: int,
                 max_steps: int, p: np.ndarray) -> tuple[int, int, int]:
    """Π_K(a) into p by Lawson–Hanson from the warm passive set R[:r]; returns (r, steps, multiply-adds).

    steps = −1 when ``max_steps`` outer steps did not reach optimality (p is then the last feasible-dual
    iterate, not the projection).
    """
    n, d = X.shape
    mu = np.zeros(d)
    zeta = np.zeros(d)
    flops = 0
    na = 0.0
    for j in range(d):
        na += a[j] * a[j]
    na = np.sqrt(na)
    # a feasible warm start: drop the most negative multiplier until all are positive
    while r > 0:
        flops += _solve_passive(X, s, a, R, r, zeta)
        worst, at = 0.0, -1
        for i in range(r):
            if zeta[i] <= worst:
                worst, at = zeta[i], i
        if at < 0:
            break
        R[at] = R[r - 1]
        r -= 1
    for i in range(r):
        mu[i] = zeta[i]
    steps = 0
    while True:
        if r >= d:  # d independent passive rows: the null space is {0}, the apex
            for j in range(d):
                p[j] = 0.0
            return r, steps, flops
        _primal(X, s, a, R, r, mu, p)
        flops += (r + 1) * d
        # w = Ap, and the most violated row outside R
        worst, at = 0.0, -1
        for k in range(n):
            acc = 0.0
            for j in range(d):
                acc += X[k, j] * p[j]
            w = s[k] * acc
            if w < -TOL * xnorm[k] * na and w < worst:
                worst, at = w, k
        flops += n * d
        if at < 0:
            return r, steps, flops
        for i in range(r):
            if R[i] == at:  # rounding: a passive row reads as violated; the projection is as exact as it gets
                return r, steps, flops
        if steps >= max_steps:
            return r, -1, flops
        steps += 1
        R[r] = at
        mu[r] = 0.0
        r += 1
        while True:  # Lawson–Hanson inner loop: interpolate back to μ ≥ 0
            flops += _solve_passive(X, s, a, R, r, zeta)
            ok = True
            for i in range(r):
                if zeta[i] <= 0.0:
                    ok = False
            if ok:
                for i in range(r):
                    mu[i] = zeta[i]
                break
            step, drop = 1.0, -1
            for i in range(r):
                if zeta[i] <= 0.0:
                    t = mu[i] / (mu[i] - zeta[i])
                    if t < step:
                        step, drop = t, i
            for i in range(r):
                mu[i] += step * (zeta[i] - mu[i])
            mu[drop] = 0.0
            i = 0
            while i < r:  # remove every row whose multiplier reached 0
                if mu[i] <= 0.0:
                    R[i] = R[r - 1]
                    mu[i] = mu[r - 1]
                    r -= 1
                else:
                    i += 1
            if r == 0:
                break


@numba.njit(cache=True)
def _prox_kernel(X: np.ndarray, xnorm: np.ndarray, ST: np.ndarray, A: np.ndarray, t: float, R: np.ndarray,
                 rcount: np.ndarray, max_steps: int, out: np.ndarray, stats: np.ndarray) -> None:
    """out_g = max(0, 1 − t/‖Π_{K_g}(A_g)‖)·Π_{K_g}(A_g) for every group g (t = 0: the projection alone).

    stats += (groups projected, outer steps, failures, multiply-adds).
    """
    G, d = A.shape
    p = np.empty(d)
    for g in range(G):
        na = 0.0
        for j in range(d):
            na += A[g, j] * A[g, j]
        if t > 0.0 and na <= t * t:  # ‖Π(a)‖ ≤ ‖a‖ ≤ t: zero without projecting
            for j in range(d):
                out[g, j] = 0.0
            continue
        r, steps, flops = _project_one(X, xnorm, ST[g], A[g], R[g], rcount[g], max_steps, p)
        rcount[g] = r
        stats[0] += 1
        stats[3] += flops + d
        if steps < 0:
            stats[2] += 1
        else:
            stats[1] += steps
        npn = 0.0
        for j in range(d):
            npn += p[j] * p[j]
        npn = np.sqrt(npn)
        c = 1.0 if t == 0.0 else (max(0.0, 1.0 - t / npn) if npn > 0.0 else 0.0)
        for j in range(d):
            out[g, j] = c * p[j]


class ConeProjector:
    r"""Projections onto the 2P cones K_g of C(𝒟) (v- and w-groups share K_i), warm-started call to call.

    Keeps the passive set of every group between calls, so a sequence of nearby points (ADMM's) costs
    one or two active-set steps per group. The kernel is a numba loop on the host; CuPy inputs are
    copied to the host and back (a (2P, d) array per call).

    Parameters
    ----------
    X
        (n, d) data with the bias column.
    signs
        (n, P) signs 2D − 1 of the patterns.
    max_steps
        Outer Lawson–Hanson steps allowed per projection (≥ 1); one that needs more is counted in
        :attr:`failures` and its last iterate returned (its group may then violate its cone).

    Attributes
    ----------
    projections, steps, failures, flops
        Running totals: projections done, active-set steps taken, projections stopped by ``max_steps``,
        multiply-adds.
    """

    def __init__(self, X: Any, signs: Any, max_steps: int = 200) -> None:
        Xh = np.ascontiguousarray(to_numpy(X), dtype=np.float64)
        Sh = np.asarray(to_numpy(signs), dtype=np.float64)
        if Sh.ndim != 2 or Sh.shape[0] != Xh.shape[0]:
            raise ValueError(f"signs must be (n, P) with n = {Xh.shape[0]}, got shape {Sh.shape}")
        self.X = Xh
        self.xnorm = np.sqrt(np.sum(Xh * Xh, axis=1))
        self.ST = np.ascontiguousarray(np.concatenate([Sh, Sh], axis=1).T)  # (2P, n)
        G, d = self.ST.shape[0], Xh.shape[1]
        self.max_steps = int(max_steps)
        self.R = np.zeros((G, d), dtype=np.int64)
        self.rcount = np.zeros(G, dtype=np.int64)
        self._stats = np.zeros(4, dtype=np.int64)

    projections = property(lambda self: int(self._stats[0]))
    steps = property(lambda self: int(self._stats[1]))
    failures = property(lambda self: int(self._stats[2]))
    flops = property(lambda self: int(self._stats[3]))

    def prox(self, A: Any, t: float) -> Any:
        """max(0, 1 − t/‖Π_{K_g}(A_g)‖)·Π_{K_g}(A_g) for every row g of the (2P, d) array A (module docstring)."""
        xp = array_namespace(A)
        Ah = np.ascontiguousarray(to_numpy(A), dtype=np.float64)
        if Ah.shape != (self.ST.shape[0], self.X.shape[1]):
            raise ValueError(f"A must be ({self.ST.shape[0]}, {self.X.shape[1]}), got shape {Ah.shape}")
        out = np.empty_like(Ah)
        _prox_kernel(self.X, self.xnorm, self.ST, Ah, float(t), self.R, self.rcount, self.max_steps, out,
                     self._stats)
        return out if xp is np else xp.asarray(out)  # pragma: no branch

    def project(self, A: Any) -> Any:
        """Π_{K_g}(A_g) for every row g of the (2P, d) array A."""
        return self.prox(A, 0.0)


def project_groups(X: Any, signs: Any, V: Any, W: Any) -> tuple[Any, Any]:
    """The exact projections (Π_{K_i}(v_i), Π_{K_i}(w_i)) of (P, d) weights onto their pattern cones."""
    xp = array_namespace(V, W)
    P = V.shape[0]
    out = ConeProjector(X, signs).project(xp.concatenate([V, W], axis=0))
    return out[:P], out[P:]
