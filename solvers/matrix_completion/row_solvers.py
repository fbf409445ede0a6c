r"""Batched row regressions of AltMin: for a design B (n×k), solve min‖A_ix − b_i‖ for every row i at once.

Row i of the observations has columns Ω_i and values b_i = M_{i,Ω_i}; its design is A_i = B_{Ω_i,:}.
A solver is a small frozen object with ``solve(obs, B, x0=None, *, rng=None, backend="auto")`` that
returns a :class:`RowSolve` with the (m, k) solutions, the multiply-adds it did (``flops``, exact, see
:mod:`~solvers.matrix_completion.cost`) and per-row diagnostics. Build them with:

- :func:`exact`: Cholesky of the normal equations G_i = A_iᵀA_i, c_i = A_iᵀb_i, formed in one pass over
  the entries; rows with |Ω_i| < k or cond(G_i) above ``cond_max`` (and only those) get the
  minimum-norm least-squares solution through the SVD of A_i (JNS13's exact AltMin step).
- :func:`cg`: CGLS on every row's normal equations, warm-started, per-row step sizes α_i, β_i, at most
  ``steps`` steps; with ``tol`` = ε₀, a row stops as soon as the certified rule
  ‖A_iᵀz‖²/σ_min(A_i)² ≤ (1 − (1+ε₀)⁻²)‖z‖² holds, which implies ε₀-accuracy (spec §3.2): z = A_ix − b_i
  and e = x − x*_i satisfy A_iᵀz = A_iᵀA_ie, so ‖A_ie‖ ≤ ‖A_iᵀz‖/σ_min(A_i), and Pythagoras gives
  ‖z‖² = ‖z*_i‖² + ‖A_ie‖², hence ‖z‖² ≤ ‖z*_i‖² + (1 − (1+ε₀)⁻²)‖z‖², i.e. ‖z‖ ≤ (1+ε₀)‖z*_i‖.
- :func:`sketch_precond`: sketch-and-precondition (Rokhlin–Tygert, Blendenpik): S_i[A_i | b_i] =
  Q_i[R_i | y_i] with s = s_factor·k sketch rows, x₀ = R_i⁻¹y_i, then ⌈c·log(1/ε₀)⌉ steps of CGLS on
  A_iR_i⁻¹. *Reconstructed*: the paper's sketch type, size and inner method are not confirmed.
- :func:`inject`: the exact solution plus a random-direction error of norm δ‖z*_i‖/σ_min(A_i) and an
  optional absolute error of norm η per row (experiments on robustness, MC3).

Accuracy is measured on the norm: x′ is ε₀-accurate if ‖A_ix′ − b_i‖ ≤ (1+ε₀)‖z*_i‖ (spec §2; the
paper may measure it on the square, which is not confirmed).

On numpy arrays the work is done by the numba kernels of :mod:`~solvers.matrix_completion._kernels`
(``backend="numba"``); CuPy arrays take the ``"xp"`` path (segment sums by a sync-free ``bincount``, batched
``eigh`` / ``qr`` / ``svd``), which can also be forced on numpy arrays for testing. The ``xp`` path
reports the same flops model (its exact solve uses ``eigh``, counted by :func:`~.cost.eigh_flops`),
counted on the device; its per-row diagnostics (``steps``, ``certified``, ``lstsq_rows``) stay in the
input's namespace, so a CuPy solve reads only scalars on the host: the flop count, the number of rows
of the SVD path and their largest length (a boolean selection), and one "any row still active" flag per
CG step.

References
----------
Y. Gu, Z. Song, J. Yin, L. Zhang, "Low Rank Matrix Completion via Robust Alternating Minimization in
Nearly Linear Time", ICLR 2024, arXiv:2302.11068 (robust AltMin, approximate regression solves).
P. Jain, P. Netrapalli, S. Sanghavi, "Low-rank Matrix Completion using Alternating Minimization",
STOC 2013, arXiv:1212.0467 (exact AltMin).
V. Rokhlin, M. Tygert, PNAS 2008; H. Avron, P. Maymounkov, S. Toledo, "Blendenpik", SISC 2010.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

from solvers._checks import check_int, check_positive
from solvers._xp import array_namespace, bincount, is_cupy
from solvers.matrix_completion import _kernels as K
from solvers.matrix_completion import cost
from solvers.matrix_completion.observations import Observations

__all__ = [
    "CG",
    "Exact",
    "Inject",
    "RowSolve",
    "SketchPrecond",
    "Solver",
    "cg",
    "exact",
    "inject",
    "row_residuals",
    "row_sigma_min",
    "sketch_precond",
]

Backend = Literal["auto", "numba", "xp"]

# CG stops a row once ‖A_iᵀr‖ ≤ 8ε·‖A_i‖_F·‖r‖ (ε the float64 unit roundoff): that is a backward-stable
# least-squares solution, and further steps only amplify rounding (α = γ/‖q‖² of two noise terms).
FLOOR2 = (8.0 * float(np.finfo(np.float64).eps)) ** 2


@dataclass(frozen=True, eq=False)
class RowSolve:
    """The solutions of all row regressions of one half-step.

    Attributes
    ----------
    X
        (m, k) solutions, row i minimising ‖A_ix − b_i‖ (approximately, for the inexact solvers).
    flops
        Multiply-adds done (exact count of the kernels, plus the models of :mod:`.cost` for LAPACK calls).
    steps
        (m,) CG steps taken per row (0 for rows solved directly). The per-row arrays are numpy, or CuPy
        on the xp path with CuPy input.
    lstsq_rows
        Indices of the rows solved by the minimum-norm SVD path (|Ω_i| < k or ill-conditioned).
    certified
        (m,) bool, rows that met the certified stopping rule (all False without certification).
    underdetermined
        Number of rows with |Ω_i| < k (their solution is not unique: MC8).
    """

    X: Any
    flops: int
    steps: Any
    lstsq_rows: Any
    certified: Any
    underdetermined: int


class Solver(Protocol):
    """What AltMin needs from a row solver."""

    name: str

    def solve(self, obs: Observations, B: Any, x0: Any = None, *, rng: np.random.Generator | None = None,
              backend: Backend = "auto") -> RowSolve: ...


# ----------------------------------------------------------------------------------------------------
# argument handling


def _check_backend(backend: Any, xp: Any) -> str:
    if backend not in ("auto", "numba", "xp"):
        raise ValueError(f"backend must be 'auto', 'numba' or 'xp', got {backend!r}")
    if backend == "numba" and xp is not np:
        raise ValueError("backend='numba' needs numpy arrays; CuPy arrays take backend='xp'")
    return "numba" if (backend == "auto" and xp is np) else ("xp" if backend == "auto" else backend)


def _prepare(obs: Any, B: Any, x0: Any) -> tuple[Any, Any, Any, int, int]:
    if not isinstance(obs, Observations):
        raise TypeError(f"obs must be Observations, got {type(obs).__name__}")
    xp = array_namespace(obs.values, B)
    B = B if is_cupy(B) else np.asarray(B)
    if B.ndim != 2 or B.shape[0] != obs.shape[1] or B.shape[1] < 1:
        raise ValueError(f"B must have shape (n, k) = ({obs.shape[1]}, k >= 1), got {tuple(B.shape)}")
    B = xp.ascontiguousarray(B.astype(xp.float64))
    if not bool(xp.all(xp.isfinite(B))):
        raise ValueError("B must be finite")
    m, k = obs.shape[0], B.shape[1]
    if x0 is None:
        X = xp.zeros((m, k))
    else:
        x0 = x0 if is_cupy(x0) else np.asarray(x0)
        if x0.shape != (m, k):
            raise ValueError(f"x0 must have shape (m, k) = ({m}, {k}), got {tuple(x0.shape)}")
        X = xp.array(x0, dtype=xp.float64, copy=True)
        if not bool(xp.all(xp.isfinite(X))):
            raise ValueError("x0 must be finite")
    return xp, B, X, m, k


def _rng(own: Any, given: Any, who: str) -> np.random.Generator:
    r = own if own is not None else given
    if isinstance(r, np.random.Generator):
        return r
    if isinstance(r, int | np.integer) and not isinstance(r, bool):
        return np.random.default_rng(int(r))
    raise TypeError(f"rng must be a numpy Generator or int seed for {who}, got {type(r).__name__}")


# ----------------------------------------------------------------------------------------------------
# shared pieces (numpy and xp)


def _minnorm_rows(xp: Any, obs: Observations, B: Any, idx: Any, X: Any) -> int:
    """Minimum-norm least squares x = A_i⁺b_i for the rows ``idx`` through one batched SVD; returns flops.

    The rows are padded with zero rows to P = max |Ω_i| (zero rows change neither A_i⁺b_i nor the
    singular values); singular values below ε·max(|Ω_i|, k)·σ₁ are cut, as ``np.linalg.lstsq`` does.
    """
    f = int(idx.shape[0])
    if f == 0:
        return 0
    k = B.shape[1]
    counts = (obs.row_ptr[1:] - obs.row_ptr[:-1])[idx]
    P = int(counts.max()) if f else 0
    if P == 0:
        X[idx] = 0.0
        return 0
    ar = xp.arange(P)
    valid = ar[None, :] < counts[:, None]
    pos = xp.where(valid, obs.row_ptr[idx][:, None] + ar[None, :], 0)
    A = B[obs.cols[pos]] * valid[:, :, None]
    b = xp.where(valid, obs.values[pos], 0.0)
    u, sv, vt = xp.linalg.svd(A, full_matrices=False)
    cut = np.finfo(np.float64).eps * xp.maximum(counts, k) * sv[:, :1].reshape(-1)
    keep = sv > cut[:, None]
    inv = xp.where(keep, 1.0 / xp.where(keep, sv, 1.0), 0.0)
    ub = xp.einsum("fpk,fp->fk", u, b) * inv
    X[idx] = xp.einsum("fkj,fk->fj", vt, ub)
    return f * cost.svd_lstsq_flops(P, k)


def _segsum(xp: Any, rows: Any, w: Any, m: int) -> Any:
    """Σ over each row's entries of w (|Ω|,) or of every column of w (|Ω|, c)."""
    if w.ndim == 1:
        return bincount(rows, weights=w, minlength=m)
    return xp.stack([bincount(rows, weights=w[:, c], minlength=m) for c in range(w.shape[1])], axis=1)


def _xp_gram(xp: Any, obs: Observations, B: Any, with_rhs: bool) -> tuple[Any, Any]:
    """G (m,k,k) and c (m,k) by k(k+1)/2 + k weighted bincounts."""
    m, k = obs.shape[0], B.shape[1]
    Bj = B[obs.cols]
    G = xp.empty((m, k, k))
    for p in range(k):
        for r in range(p, k):
            g = bincount(obs.rows, weights=Bj[:, p] * Bj[:, r], minlength=m)
            G[:, p, r] = g
            G[:, r, p] = g
    c = _segsum(xp, obs.rows, Bj * obs.values[:, None], m) if with_rhs else None
    return G, c


def row_sigma_min(obs: Observations, B: Any) -> tuple[Any, int]:
    """(σ_min(A_i)² for every row (0 when |Ω_i| < k), flops): eigenvalues of the k×k Gram matrices.

    Uses the smallest eigenvalue of G_i = A_iᵀA_i (clipped at 0); counts |Ω|k(k+1)/2 + m·eigvalsh.
    """
    xp = array_namespace(obs.values, B)
    m, k = obs.shape[0], B.shape[1]
    if xp is np:
        G = np.empty((m, k, k))
        K.row_gram(obs.row_ptr, obs.cols, np.ascontiguousarray(B, dtype=np.float64), np.arange(m), G)
    else:
        G, _ = _xp_gram(xp, obs, B, with_rhs=False)
    lam = xp.linalg.eigvalsh(G)[:, 0]
    lam = xp.where(obs.row_counts >= k, xp.maximum(lam, 0.0), 0.0)
    return lam, cost.gram_flops(obs.row_counts, k) + m * cost.eigvalsh_flops(k)


def row_residuals(obs: Observations, B: Any, X: Any) -> Any:
    """‖A_iX_i − b_i‖² for every row (numba on numpy, segment sums on CuPy)."""
    xp = array_namespace(obs.values, B, X)
    if xp is np:
        out = np.empty(obs.shape[0])
        K.row_residual_sq(obs.row_ptr, obs.cols, obs.values, np.ascontiguousarray(B, dtype=np.float64),
                          np.ascontiguousarray(X, dtype=np.float64), out)
        return out
    z = xp.sum(B[obs.cols] * X[obs.rows], axis=1) - obs.values
    return _segsum(xp, obs.rows, z * z, obs.shape[0])


# ----------------------------------------------------------------------------------------------------
# exact


def _exact_numba(obs: Observations, B: Any, X: Any, row_ids: np.ndarray, cond_max: float) -> tuple[int, Any]:
    m = obs.shape[0]
    flag = np.zeros(m, dtype=np.int64)
    flops = np.zeros(m, dtype=np.int64)
    K.exact_rows(obs.row_ptr, obs.cols, obs.values, B, row_ids, cond_max, X, flag, flops)
    bad = row_ids[flag[row_ids] != K.OK]
    f = int(flops[row_ids].sum()) + _minnorm_rows(np, obs, B, bad, X)
    return f, bad


def _exact_xp(xp: Any, obs: Observations, B: Any, X: Any, row_ids: Any, cond_max: float) -> tuple[int, Any]:
    k = B.shape[1]
    G, c = _xp_gram(xp, obs, B, with_rhs=True)
    G, c = G[row_ids], c[row_ids]
    lam, Q = xp.linalg.eigh(G)
    counts = obs.row_counts[row_ids]
    good = (counts >= k) & (lam[:, 0] > lam[:, -1] / cond_max) & (lam[:, -1] > 0)
    lam_safe = xp.where(good[:, None], lam, 1.0)
    sol = xp.einsum("rij,rj->ri", Q, xp.einsum("rji,rj->ri", Q, c) / lam_safe)
    X[row_ids[good]] = sol[good]
    bad = row_ids[~good]
    n = int(row_ids.shape[0])
    f = cost.gram_flops(counts, k) + int(xp.sum(counts)) * k + n * (cost.eigh_flops(k) + 2 * k * k + k)
    return f + _minnorm_rows(xp, obs, B, bad, X), bad


def _exact_rows(xp: Any, backend: str, obs: Observations, B: Any, X: Any, row_ids: Any,
                cond_max: float) -> tuple[int, Any]:
    if backend == "numba":
        return _exact_numba(obs, B, X, row_ids, cond_max)
    return _exact_xp(xp, obs, B, X, row_ids, cond_max)


@dataclass(frozen=True)
class Exact:
    """Exact row solves (see :func:`exact`)."""

    cond_max: float = 1e6
    name: str = field(default="exact", init=False)

    def solve(self, obs: Observations, B: Any, x0: Any = None, *, rng: np.random.Generator | None = None,
              backend: Backend = "auto") -> RowSolve:
        """Solve every row exactly; ``x0`` and ``rng`` are ignored."""
        xp, B, X, m, k = _prepare(obs, B, None)
        be = _check_backend(backend, xp)
        f, bad = _exact_rows(xp, be, obs, B, X, xp.arange(m), self.cond_max)
        return RowSolve(X=X, flops=int(f), steps=xp.zeros(m, dtype=xp.int64), lstsq_rows=bad,
                        certified=xp.zeros(m, dtype=bool), underdetermined=_under(obs, k))


def _under(obs: Observations, k: int) -> int:
    xp = array_namespace(obs.row_counts)
    return int(xp.sum(obs.row_counts < k))


def exact(cond_max: float = 1e6) -> Exact:
    r"""Exact least squares per row: x*_i = argmin‖A_ix − b_i‖ (JNS13's AltMin step).

    G_i = A_iᵀA_i and c_i = A_iᵀb_i are accumulated in one pass over the entries, then every G_i is
    factored by Cholesky (work |Ω|k²/2 + mk³/6, see :mod:`~solvers.matrix_completion.cost`). Rows with
    |Ω_i| < k, a failed Cholesky, or an estimated cond(G_i) > ``cond_max`` (only those) get the
    minimum-norm solution A_i⁺b_i from one batched SVD. A fixed ridge is never added (it would bias
    every row by about λ/σ_min(G_i) and create a false floor, spec §7).

    Parameters
    ----------
    cond_max
        Threshold on the estimate tr(G_i)·‖G_i⁻¹v‖ of cond(G_i) = cond(A_i)² above which the row is
        solved through the SVD instead (the normal equations lose cond(A_i)²·ε relative accuracy).
    """
    return Exact(cond_max=check_positive("cond_max", cond_max))


# ----------------------------------------------------------------------------------------------------
# CG


def _pcgls(xp: Any, backend: str, obs: Observations, B: Any, X: Any, row_ids: Any, steps_max: int,
           theta: float, sigmin2: Any, Rinv_or_R: Any, precond: bool) -> tuple[int, np.ndarray, np.ndarray]:
    """Run (P)CGLS on ``row_ids``; returns (flops, steps (m,), certified (m,))."""
    m, k = obs.shape[0], B.shape[1]
    if backend == "numba":
        steps = np.zeros(m, dtype=np.int64)
        cert = np.zeros(m, dtype=np.bool_)
        flops = np.zeros(m, dtype=np.int64)
        s2 = sigmin2 if sigmin2 is not None else np.zeros(0)
        R = Rinv_or_R if precond else np.zeros((0, k, k))
        bn2 = np.einsum("jk,jk->j", B, B)
        K.pcgls_rows(obs.row_ptr, obs.cols, obs.values, B, bn2, row_ids, X, steps_max, theta, s2, R, precond,
                     FLOOR2, steps, cert, flops)
        return int(flops[row_ids].sum()) + B.size, steps, cert
    return _pcgls_xp(xp, obs, B, X, row_ids, steps_max, theta, sigmin2, Rinv_or_R, precond)


def _pcgls_xp(xp: Any, obs: Observations, B: Any, X: Any, row_ids: Any, steps_max: int, theta: float,
              sigmin2: Any, Rinv: Any, precond: bool) -> tuple[int, np.ndarray, np.ndarray]:
    """The batched form of ``pcgls_rows``: every row steps at once, with per-row α_i, β_i and masks."""
    m, k = obs.shape[0], B.shape[1]
    rows, Bj = obs.rows, B[obs.cols]
    sel = xp.zeros(m, dtype=bool)
    sel[row_ids] = True
    cert_on = theta >= 0.0

    def pre_t(s: Any) -> Any:  # R⁻ᵀs
        return xp.einsum("mji,mj->mi", Rinv, s) if precond else s

    def pre(p: Any) -> Any:  # R⁻¹p
        return xp.einsum("mij,mj->mi", Rinv, p) if precond else p

    anorm2 = _segsum(xp, rows, xp.sum(Bj * Bj, axis=1), m)
    r = obs.values - xp.sum(Bj * X[rows], axis=1)
    s = _segsum(xp, rows, r[:, None] * Bj, m)
    st = pre_t(s)
    gamma = xp.sum(st * st, axis=1)
    rr = _segsum(xp, rows, r * r, m)
    g_plain = xp.sum(s * s, axis=1)
    p = st
    active = sel.copy()
    certified = xp.zeros(m, dtype=bool)
    steps = xp.zeros(m, dtype=xp.int64)
    for _ in range(steps_max + 1):
        if cert_on:
            now = active & (g_plain <= theta * sigmin2 * rr)
            certified |= now
            active &= ~now
        active &= (steps < steps_max) & (gamma > 0) & (g_plain > FLOOR2 * anorm2 * rr)
        if not bool(xp.any(active)):
            break
        ph = pre(p)
        q = xp.sum(Bj * ph[rows], axis=1)
        delta = _segsum(xp, rows, q * q, m)
        active &= delta > 0
        alpha = xp.where(active, gamma / xp.where(delta > 0, delta, 1.0), 0.0)
        X += alpha[:, None] * ph
        r = r - alpha[rows] * q
        steps += active
        s = _segsum(xp, rows, r[:, None] * Bj, m)
        st = pre_t(s)
        g_new = xp.sum(st * st, axis=1)
        beta = xp.where(active, g_new / xp.where(gamma > 0, gamma, 1.0), 0.0)
        p = xp.where(active[:, None], st + beta[:, None] * p, p)
        gamma = xp.where(active, g_new, gamma)
        rr = xp.where(active, _segsum(xp, rows, r * r, m), rr)
        g_plain = xp.where(active, xp.sum(s * s, axis=1), g_plain)
    f = cost.pcgls_flops(obs.row_counts[row_ids], k, steps[row_ids], steps_max=steps_max, precond=precond,
                         certify=cert_on)
    return int(xp.sum(f)) + int(B.size), steps, certified


@dataclass(frozen=True)
class CG:
    """Warm-started CGLS row solves (see :func:`cg`)."""

    steps: int = 3
    tol: float | None = None
    name: str = field(default="cg", init=False)

    def solve(self, obs: Observations, B: Any, x0: Any = None, *, rng: np.random.Generator | None = None,
              backend: Backend = "auto") -> RowSolve:
        """At most ``steps`` CGLS steps per row from ``x0`` (zeros when None); ``rng`` is ignored."""
        xp, B, X, m, k = _prepare(obs, B, x0)
        be = _check_backend(backend, xp)
        f = 0
        sigmin2 = None
        theta = -1.0
        if self.tol is not None:
            sigmin2, f = row_sigma_min(obs, B)
            theta = 1.0 - (1.0 + self.tol) ** -2
        row_ids = xp.arange(m)
        fc, steps, cert = _pcgls(xp, be, obs, B, X, row_ids, self.steps, theta, sigmin2, None, False)
        return RowSolve(X=X, flops=int(f + fc), steps=steps, lstsq_rows=xp.zeros(0, dtype=xp.int64),
                        certified=cert, underdetermined=_under(obs, k))


def cg(steps: int = 3, tol: float | None = None) -> CG:
    r"""Conjugate gradients (CGLS) on every row's normal equations A_iᵀA_ix = A_iᵀb_i, warm-started.

    Each step is two O(|Ω|k) passes, q = A_ip (t_ω = ⟨B_{j(ω)}, p_{i(ω)}⟩) and A_iᵀr
    ((Gx)_i = Σ_ω t_ω B_{j(ω)}), with per-row α_i = γ_i/‖q_i‖² and β_i = γ_i'/γ_i (a row stops when a
    denominator vanishes). For incoherent orthonormal B, G_i/p ≈ I_k and CG contracts fast.

    Parameters
    ----------
    steps
        Maximum number of CG steps per row (≥ 0); work Θ(steps·|Ω|k) (MC7).
    tol
        ε₀ of the certified stopping rule ‖A_iᵀz‖²/σ_min(A_i)² ≤ (1 − (1+ε₀)⁻²)‖z‖², which implies
        ‖A_ix − b_i‖ ≤ (1+ε₀)‖z*_i‖ (spec §3.2). σ_min(A_i) is the exact one, from the eigenvalues of the
        k×k G_i (an extra |Ω|k²/2 + m·O(k³)). None: run ``steps`` steps.
    """
    steps = check_int("steps", steps, 0)
    if tol is not None:
        tol = check_positive("tol", tol)
    return CG(steps=steps, tol=tol)


# ----------------------------------------------------------------------------------------------------
# sketch-and-precondition


def _sketch_xp(xp: Any, obs: Observations, B: Any, X: Any, big: Any, S: Any, h: Any, sgn: Any, gaussian: bool,
               s: int) -> tuple[int, Any, Any, Any]:
    """Batched form of ``sketch_rows``: returns (flops, R (m,k,k), Rinv (m,k,k), ok rows mask)."""
    m, k = obs.shape[0], B.shape[1]
    BA = xp.concatenate([B[obs.cols], obs.values[:, None]], axis=1)  # (|Ω|, k+1)
    if gaussian:
        SA = xp.stack([_segsum(xp, obs.rows, S[obs.cols, u][:, None] * BA, m) for u in range(s)], axis=1)
    else:
        key = obs.rows * s + h[obs.cols]
        W = sgn[obs.cols][:, None] * BA
        SA = xp.stack([bincount(key, weights=W[:, c], minlength=m * s) for c in range(k + 1)], axis=1)
        SA = SA.reshape(m, s, k + 1)
    Rf = xp.linalg.qr(SA[big], mode="r")  # (b, k+1, k+1)
    R = Rf[:, :k, :k]
    d = xp.abs(xp.diagonal(R, axis1=1, axis2=2))
    okb = xp.all(d > 1e-12 * xp.max(d, axis=1, keepdims=True), axis=1)
    eye = xp.broadcast_to(xp.eye(k), R.shape)
    Rsafe = xp.where(okb[:, None, None], R, eye)
    Rinv_b = xp.linalg.inv(Rsafe)
    X[big] = xp.where(okb[:, None], xp.einsum("bij,bj->bi", Rinv_b, Rf[:, :k, k]), X[big])
    Rinv = xp.broadcast_to(xp.eye(k), (m, k, k)).copy()
    Rinv[big] = Rinv_b
    ok = xp.zeros(m, dtype=bool)
    ok[big] = okb
    counts = obs.row_counts[big]
    f = int(xp.sum(cost.sketch_apply_flops(counts, k, s, gaussian)))
    f += int(counts.shape[0]) * cost.householder_flops(s, k)
    return f, R, Rinv, ok


@dataclass(frozen=True)
class SketchPrecond:
    """Sketch-and-precondition row solves (see :func:`sketch_precond`)."""

    s_factor: int = 4
    sketch: str = "gaussian"
    eps0: float = 1e-2
    c: float = 1.0
    certify: bool = False
    rng: Any = None
    name: str = field(default="sketch_precond", init=False)

    @property
    def steps(self) -> int:
        """⌈c·log(1/ε₀)⌉ preconditioned CG steps per row."""
        return max(0, math.ceil(self.c * math.log(1.0 / self.eps0)))

    def solve(self, obs: Observations, B: Any, x0: Any = None, *, rng: np.random.Generator | None = None,
              backend: Backend = "auto") -> RowSolve:
        """Sketch, then ⌈c·log(1/ε₀)⌉ steps of CGLS preconditioned by R_i; ``x0`` is not used."""
        xp, B, X, m, k = _prepare(obs, B, None)
        be = _check_backend(backend, xp)
        gen = _rng(self.rng, rng, "sketch_precond")
        s = self.s_factor * k
        n = obs.shape[1]
        gaussian = self.sketch == "gaussian"
        if gaussian:
            S_h, h_h, sgn_h = gen.standard_normal((n, s)), np.zeros(0, dtype=np.int64), np.zeros(0)
        else:
            S_h = np.zeros((0, s))
            h_h = gen.integers(0, s, n)
            sgn_h = gen.integers(0, 2, n) * 2.0 - 1.0
        counts = obs.row_counts
        small = xp.nonzero(counts <= s)[0]
        big = xp.nonzero(counts > s)[0]
        if be == "numba":
            R = np.zeros((m, k, k))
            ok = np.ones(m, dtype=np.bool_)
            fl = np.zeros(m, dtype=np.int64)
            K.sketch_rows(obs.row_ptr, obs.cols, obs.values, B, big, S_h, h_h, sgn_h, gaussian, s, X, R, ok, fl)
            f = int(fl[big].sum())
            prec = R
        else:
            S, h, sgn = xp.asarray(S_h), xp.asarray(h_h), xp.asarray(sgn_h)
            f, _, prec, ok = _sketch_xp(xp, obs, B, X, big, S, h, sgn, gaussian, s)
        failed = big[~ok[big]]
        big = big[ok[big]]
        direct = xp.concatenate([small, failed])
        fe, bad = _exact_rows(xp, be, obs, B, X, xp.sort(direct), 1e6)
        sigmin2 = None
        theta = -1.0
        if self.certify:
            sigmin2, fs = row_sigma_min(obs, B)
            f += fs
            theta = 1.0 - (1.0 + self.eps0) ** -2
        fc, steps, cert = _pcgls(xp, be, obs, B, X, big, self.steps, theta, sigmin2, prec, True)
        return RowSolve(X=X, flops=int(f + fe + fc), steps=steps, lstsq_rows=bad, certified=cert,
                        underdetermined=_under(obs, k))


def sketch_precond(s_factor: int = 4, sketch: Literal["gaussian", "countsketch"] = "gaussian", eps0: float = 1e-2,
                   c: float = 1.0, *, certify: bool = False, rng: np.random.Generator | int | None = None
                   ) -> SketchPrecond:
    r"""Sketch-and-precondition least squares per row (a Rokhlin–Tygert / Blendenpik member).

    For every row with |Ω_i| > s = s_factor·k: S_i[A_i | b_i] = Q_i[R_i | y_i] (Householder QR of the
    s×(k+1) sketch), x₀ = R_i⁻¹y_i (sketch-and-solve), then ⌈c·log(1/ε₀)⌉ steps of CGLS on A_iR_i⁻¹
    (CG on the normal equations preconditioned by R_i). Rows with |Ω_i| ≤ s, or whose sketch is rank
    deficient, are solved exactly. *Reconstructed*: the paper's sketch, its size and the inner method
    are not confirmed (spec §3.2).

    The sketch of row i is the restriction to Ω_i of one draw per call: an n×s Gaussian S (S_i = S_{Ω_i}ᵀ)
    or a CountSketch hash h: [n] → [s] with signs. A row's columns are distinct, so each S_i has exactly
    the law of a Gaussian (CountSketch) sketch of its own; rows share the draw, which the per-row
    guarantee does not need, and only n·s numbers are drawn.

    Cost per call (MC7): Gaussian Σ_i |Ω_i|s(k+1) = Θ(s_factor·|Ω|k²) to apply the sketch, CountSketch
    Θ(|Ω|k); QR m·O(sk²); CG Θ(|Ω|k log(1/ε₀)). Only the CountSketch variant is Õ(|Ω|k); with s = O(k)
    rows CountSketch is not a subspace embedding, so its preconditioner is weaker.

    Parameters
    ----------
    s_factor
        Sketch rows per unknown, s = s_factor·k (≥ 1).
    sketch
        ``"gaussian"`` or ``"countsketch"``.
    eps0
        Target accuracy ε₀ in (0, 1); sets the number of steps.
    c
        Steps per log(1/ε₀) (> 0).
    certify
        Also stop every row by the certified rule at ε₀ (needs σ_min(A_i), from G_i's eigenvalues).
    rng
        Generator (or seed) for the sketch; None: the one passed to ``solve`` (AltMin passes its own).
    """
    s_factor = check_int("s_factor", s_factor, 1)
    if sketch not in ("gaussian", "countsketch"):
        raise ValueError(f"sketch must be 'gaussian' or 'countsketch', got {sketch!r}")
    eps0 = check_positive("eps0", eps0)
    if eps0 >= 1:
        raise ValueError(f"eps0 must lie in (0, 1), got {eps0}")
    c = check_positive("c", c)
    if rng is not None:
        rng = _rng(rng, None, "sketch_precond")
    return SketchPrecond(s_factor=s_factor, sketch=sketch, eps0=eps0, c=c, certify=bool(certify), rng=rng)


# ----------------------------------------------------------------------------------------------------
# inject


@dataclass(frozen=True)
class Inject:
    """Exact solves with injected errors (see :func:`inject`)."""

    delta: float
    eta: float = 0.0
    rng: Any = None
    name: str = field(default="inject", init=False)

    def solve(self, obs: Observations, B: Any, x0: Any = None, *, rng: np.random.Generator | None = None,
              backend: Backend = "auto") -> RowSolve:
        """x*_i plus δ‖z*_i‖/σ_min(A_i)·u_i plus η·w_i with u_i, w_i uniform on the unit sphere."""
        base = Exact().solve(obs, B, backend=backend)
        xp, B, _, m, k = _prepare(obs, B, None)
        gen = _rng(self.rng, rng, "inject")
        X, f = base.X, base.flops
        if self.delta > 0:
            z2 = row_residuals(obs, B, X)
            s2, fs = row_sigma_min(obs, B)
            f += fs + obs.nnz * (k + 1)
            ok = s2 > 0
            size = xp.where(ok, self.delta * xp.sqrt(z2) / xp.sqrt(xp.where(ok, s2, 1.0)), 0.0)
            X = X + size[:, None] * xp.asarray(_sphere(gen, m, k))
            f += 3 * m * k
        if self.eta > 0:
            X = X + self.eta * xp.asarray(_sphere(gen, m, k))
            f += 3 * m * k
        return RowSolve(X=X, flops=int(f), steps=base.steps, lstsq_rows=base.lstsq_rows,
                        certified=base.certified, underdetermined=base.underdetermined)


def _sphere(gen: np.random.Generator, m: int, k: int) -> np.ndarray:
    g = gen.standard_normal((m, k))
    return g / np.linalg.norm(g, axis=1, keepdims=True)


def inject(delta: float, eta: float = 0.0, rng: np.random.Generator | int | None = None) -> Inject:
    r"""Exact solves plus controlled errors, for the robustness experiments (MC3, MC4).

    Row i gets x*_i + δ‖z*_i‖/σ_min(A_i)·u_i + η·w_i, u_i and w_i independent and uniform on the unit
    sphere. The relative part is the size the forward-error lemma allows for an ε₀-accurate solve with
    δ = √(3ε₀) (MC4); rows with σ_min(A_i) = 0 (|Ω_i| < k) get no relative error.

    Parameters
    ----------
    delta
        Relative error size δ ≥ 0.
    eta
        Absolute error size η ≥ 0.
    rng
        Generator (or seed) of the directions; None: the one passed to ``solve``.
    """
    delta = check_positive("delta", delta, allow_zero=True)
    eta = check_positive("eta", eta, allow_zero=True)
    if rng is not None:
        rng = _rng(rng, None, "inject")
    return Inject(delta=delta, eta=eta, rng=rng)
