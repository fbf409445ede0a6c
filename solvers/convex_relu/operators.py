r"""The linear maps of ADMM for C(𝒟) and the exact solvers of its u-step (spec §3.1, claim CR9).

The ADMM variable is the stacked (2P, d) array U2 = (u_1..u_P, z_1..z_P). With Dm the (n, P) mask and
S = 2Dm − 1 (never forming F or G, spec §7):

- F U2 = Σ_i D_iX(u_i − z_i) = rowsum(Dm ∘ X(U2[:P] − U2[P:])ᵀ)                        (n,)
- Fᵀe = (Xᵀ(Dm ∘ e), −Xᵀ(Dm ∘ e))                                                    (2P, d)
- (G U2)_i = (2D_i − I)Xu_i, the z-blocks with the same D_i                           (2P, n)
- GᵀS2 = ((S2 ∘ [S, S]ᵀ) X)                                                           (2P, d)

u-step system. Since (2D_i − I)² = I, GᵀG = I_{2P} ⊗ XᵀX, so B = I + GᵀG = I_{2P} ⊗ (I_d + XᵀX) with
the single inverse K = (I_d + XᵀX)⁻¹ (B⁻¹q = qK, K symmetric). Woodbury:

    (B + FᵀF/ρ)⁻¹q = B⁻¹q − B⁻¹Fᵀ(ρI_n + H)⁻¹FB⁻¹q,   H = FB⁻¹Fᵀ.

H: Fᵀe has blocks ±XᵀD_ie, B⁻¹ multiplies each by K, and F sums D_iXK(XᵀD_ie) over the u- and the
(negated twice) z-blocks, so H = 2Σ_i D_i(XKXᵀ)D_i = 2(XKXᵀ) ∘ (DmDmᵀ), an n×n PSD matrix.

Reduced u-step (derived, exact). Write q = (q₁, q₂) and u = (u₁, u₂) in the v- and w-slots and
p = u₁ + u₂, m = u₁ − u₂. B = I_{2P} ⊗ K⁻¹ acts the same on both halves and Fu = Z(u₁ − u₂) with
Z = [D_1X … D_PX] (n × dP; F = [Z, −Z]), so FᵀFu = (ZᵀZm, −ZᵀZm) and the system (B + FᵀF/ρ)u = q splits
into the sum and the difference of its halves:

    (I_P ⊗ K⁻¹) p = q₁ + q₂                     ⇒  p = (q₁ + q₂)K                 (rows),
    (I_P ⊗ K⁻¹ + 2ZᵀZ/ρ) m = q₁ − q₂             (a dP × dP SPD system),

and u = ((p + m)/2, (p − m)/2). :class:`DenseFactor` solves the second by an explicit symmetric inverse
(potrf + potri, (dP)³ per ρ) applied by one symv ((dP)² per solve, half the matrix read): at dP = 1280 one
symv takes 0.09 ms against 0.61 ms for two triangular solves with the factor (one BLAS thread), since
(dP)² = 1.6M doubles stay in the 32 MB L3. That is (dP)² per iteration against the full 2dP × 2dP
system's (2dP)², and it beats Woodbury's n² whenever dP < n. The Woodbury form of the same m-system,
with Z(I_P ⊗ K)Zᵀ = H/2, is m = rK − 2[Zᵀ(ρI + H)⁻¹Z(rK)]K, r = q₁ − q₂: what :class:`WoodburyFactor`
computes (its solve already touched only differences).

The cone splitting of ADMM (:mod:`~solvers.convex_relu.admm`) has no GᵀG block: its u-step matrix is
I + FᵀF/ρ, the same algebra with K = I_d (``cone_block=False`` on both factors and on :func:`lambda_max_H`):
p = q₁ + q₂ and (I + 2ZᵀZ/ρ)m = q₁ − q₂, and H = FFᵀ = 2(XXᵀ)∘(DmDmᵀ).

Multiply-add counts (the formulas of ``setup_flops`` / ``flops_per_solve``; CR8):

- setup: XᵀX nd², K d³, XKXᵀ = (XL)(XL)ᵀ with K = LLᵀ: nd² + n²d, DmDmᵀ n²P, then
  eigh ≈ 4n³ (tridiagonal reduction 4n³/3 plus eigenvectors), or (ρI + H)⁻¹ by Cholesky n³ (potrf
  n³/3 + potri 2n³/3, again per new ρ);
- per solve: qK 2Pd², F ndP + nP, the n×n solve (symv with the inverse n², or Q·diag·Qᵀ 2n²), Fᵀ
  nP + ndP, times K Pd²: 3Pd² + 2ndP + 2nP + n² (Cholesky) or + 2n² (eigh);
- dense (reduced): setup ZᵀZ n(dP)², XᵀX nd², K d³, then (dP)³ per ρ (potrf + potri); per solve
  p = (q₁ + q₂)K Pd² and the symv (dP)²: Pd² + (dP)².

The counts of :meth:`WoodburyFactor.solve_split` / :meth:`DenseFactor.solve_split` exclude the Pd sums
forming q₁ ± q₂ and the (p ± m)/2 of :meth:`solve`, which the ADMM iteration counts with its element-wise
work.

References
----------
Y. Bai, T. Gautam, S. Sojoudi, SIMODS 2023, arXiv:2201.01965 (Algorithm 3.1, its u-step).
S. Boyd et al., "Distributed Optimization and Statistical Learning via ADMM", FnT ML 2011 (§4.2.4).
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np

# scipy ships its own OpenBLAS: imported here, not lazily, so that it is loaded before a caller's
# threadpoolctl.threadpool_limits(1) and obeys it. Loaded inside the context it kept 2 threads, and on a
# busy 2-core machine each symv then waited ≈ 7 ms for the second thread (0.09 ms single-threaded).
from scipy.linalg import lapack
from scipy.linalg.blas import dsymv

from solvers._checks import check_int
from solvers._xp import array_namespace
from solvers.convex_relu._validate import check_rho

__all__ = ["FT", "GT", "DenseFactor", "F", "G", "WoodburyFactor", "block_norm_max", "dense_factor", "lambda_max_H",
           "woodbury_factor"]

DENSE_MAX = 4000  # largest dP for dense_factor: a (dP)² matrix of 128 MB


def F(U2: Any, X: Any, masks: Any) -> Any:
    """F U2 = rowsum(Dm ∘ X(U2[:P] − U2[P:])ᵀ), shape (n,)."""
    xp = array_namespace(U2, X, masks)
    P = masks.shape[1]
    return xp.sum(masks * (X @ (U2[:P] - U2[P:]).T), axis=1)


def FT(e: Any, X: Any, masks: Any) -> Any:
    """Fᵀe = (Xᵀ(Dm ∘ e), −Xᵀ(Dm ∘ e)) stacked, shape (2P, d)."""
    xp = array_namespace(e, X, masks)
    top = (masks * e[:, None]).T @ X
    return xp.concatenate([top, -top], axis=0)


def G(U2: Any, X: Any, signs: Any) -> Any:
    """(G U2)_i = (2D_i − I)X u_i for the 2P blocks (z-blocks use the same D_i), shape (2P, n)."""
    xp = array_namespace(U2, X, signs)
    return (xp.concatenate([signs, signs], axis=1) * (X @ U2.T)).T


def GT(S2: Any, X: Any, signs: Any) -> Any:
    """GᵀS2: block i is Xᵀ(2D_i − I)s_i, shape (2P, d)."""
    xp = array_namespace(S2, X, signs)
    return (S2 * xp.concatenate([signs, signs], axis=1).T) @ X


def _gram_inverse(X: Any, xp: Any) -> Any:
    """K = (I_d + XᵀX)⁻¹, symmetrised: the inverse of GᵀG's block I + XᵀX."""
    K = xp.linalg.inv(xp.eye(X.shape[1]) + X.T @ X)
    return 0.5 * (K + K.T)


def _cholesky(A: Any, xp: Any) -> Any:
    """Lower Cholesky factor (Fortran order on numpy, so LAPACK never copies it), or a ValueError."""
    try:
        L = xp.linalg.cholesky(A)
    except Exception as exc:  # numpy LinAlgError; CuPy may raise or return NaN
        raise ValueError(f"the u-step matrix is not positive definite ({exc})") from exc
    if not bool(xp.all(xp.isfinite(xp.diagonal(L)))):
        raise ValueError("the u-step matrix is not positive definite (non-finite Cholesky factor)")
    return np.asfortranarray(L) if xp is np else L


def _chol_solve(L: Any, b: Any, xp: Any) -> Any:  # pragma: no cover - needs CuPy
    """Solve (LLᵀ)x = b with the lower factor L (the CuPy path of :func:`_spd_inverse`)."""
    from cupyx.scipy.linalg import solve_triangular

    return solve_triangular(L.T, solve_triangular(L, b, lower=True), lower=False)


def _spd_inverse(A: Any, xp: Any) -> Any:
    """A⁻¹ for a symmetric positive definite A by Cholesky (LAPACK potrf + potri: n³ multiply-adds).

    On numpy only the lower triangle is filled (Fortran order), to be applied with BLAS symv, which
    reads half the matrix: a matrix-vector product is memory-bound here, and two triangular solves with
    the factor are about 3× slower than one symv with the inverse.
    """
    if xp is np:
        c, info = lapack.dpotrf(A, lower=1, clean=1, overwrite_a=0)
        if info != 0:
            raise ValueError(f"the u-step matrix is not positive definite (potrf info = {info})")
        inv, info = lapack.dpotri(c, lower=1, overwrite_c=1)
        if info != 0:  # pragma: no cover - potri fails only on a singular factor
            raise ValueError(f"the u-step matrix is singular (potri info = {info})")
        return np.asfortranarray(inv)
    L = _cholesky(A, xp)  # pragma: no cover - needs CuPy
    Linv = _chol_solve(L, xp.eye(A.shape[0]), xp)  # pragma: no cover
    return 0.5 * (Linv + Linv.T)  # pragma: no cover


def _sym_matvec(Ainv: Any, e: Any, xp: Any) -> Any:
    """Ainv·e for the inverse stored by :func:`_spd_inverse`."""
    if xp is np:
        return dsymv(1.0, Ainv, e, lower=1)
    return Ainv @ e  # pragma: no cover - needs CuPy


class _KBlock:
    """``times_K``: a·K for the slack splitting's K = (I + XᵀX)⁻¹, a itself for the cone splitting (K = I_d)."""

    K: Any
    cone_block: bool

    def times_K(self, a: Any) -> Any:
        return a @ self.K if self.cone_block else a


class WoodburyFactor(_KBlock):
    r"""(I + FᵀF/ρ + GᵀG)⁻¹ by the Woodbury identity with K = (I + XᵀX)⁻¹ and H = 2(XKXᵀ)∘(DmDmᵀ).

    ``cone_block=False``: the matrix I + FᵀF/ρ of ADMM's cone splitting (no GᵀG), that is K = I_d and
    H = 2(XXᵀ)∘(DmDmᵀ) = FFᵀ.

    ``method="eigh"``: H = QΛQᵀ once, then (ρI + H)⁻¹ = Q diag(1/(ρ + λ)) Qᵀ for every ρ.
    ``method="cholesky"``: (ρI + H)⁻¹ through its Cholesky factor (LAPACK potrf + potri, n³
    multiply-adds), computed for each new ρ and cached (at most ``cache`` values of ρ, the oldest dropped
    first): a cheaper setup than eigh (n³ against ≈ 4n³), for a fixed ρ or the few values residual
    balancing visits. The inverse is applied by one symmetric matrix-vector product (n² multiply-adds,
    half the matrix read): the n×n product is memory-bound, and measured at n = 2000 it is ≈ 3× faster
    than two triangular solves with the factor. Not thread-safe (the cache is mutable).

    Attributes
    ----------
    K, H
        (d, d) and (n, n) arrays (H is dropped after an eigh factorisation, kept for Cholesky to refactor).
    eigenvalues
        Λ (ascending) for ``eigh``; None for ``cholesky`` until :meth:`eigenvalues_of_H` is asked.
    setup_flops, flops_per_solve
        Multiply-adds of the setup (including the first factorisation) and of one :meth:`solve`.
    factor_flops
        Multiply-adds of all factorisations so far (Cholesky refactorisations included).
    factorizations
        Number of factorisations so far.
    """

    def __init__(self, X: Any, masks: Any, *, method: Literal["eigh", "cholesky"] = "cholesky",
                 rho: float | None = None, cache: int = 8, cone_block: bool = True) -> None:
        if method not in ("eigh", "cholesky"):
            raise ValueError(f"method must be 'eigh' or 'cholesky', got {method!r}")
        if method == "cholesky" and rho is not None:
            rho = check_rho(rho)
        self.cache = check_int("cache", cache, 1)
        xp = array_namespace(X, masks)
        self.xp, self.X, self.masks, self.method = xp, X, masks, method
        n, d = X.shape
        P = masks.shape[1]
        self.n, self.d, self.P = n, d, P
        self.cone_block = bool(cone_block)
        self.K = _gram_inverse(X, xp) if self.cone_block else xp.eye(d)
        XL = X @ _cholesky(self.K, xp) if self.cone_block else X
        self.H = 2.0 * (XL @ XL.T) * (masks @ masks.T)
        self.setup_flops = (2 * n * d * d + d ** 3 if self.cone_block else 0) + n * n * d + n * n * P
        self.flops_per_solve = ((3 * P * d * d if self.cone_block else 0) + 2 * n * d * P + 2 * n * P
                                + (2 if method == "eigh" else 1) * n * n)
        self.factor_flops = 0
        self.factorizations = 0
        self.eigenvalues = None
        self._inv: dict[float, Any] = {}
        if method == "eigh":
            lam, self.Q = xp.linalg.eigh(self.H)
            self.eigenvalues = xp.maximum(lam, 0.0)  # H is PSD; clip rounding below zero
            self.H = None
            self._count(4 * n ** 3)
        elif rho is not None:
            self._factor(rho)
        self.setup_flops += self.factor_flops

    def _count(self, flops: int) -> None:
        self.factor_flops += flops
        self.factorizations += 1

    def _factor(self, rho: float) -> Any:
        L = self._inv.get(rho)
        if L is None:
            if len(self._inv) >= self.cache:
                self._inv.pop(next(iter(self._inv)))
            A = self.H.copy()
            A[self.xp.diag_indices(self.n)] += rho  # never allocates ρI
            L = self._inv[rho] = _spd_inverse(A, self.xp)
            self._count(self.n ** 3)
        return L

    def inner_solve(self, e: Any, rho: float) -> Any:
        """(ρI_n + H)⁻¹e."""
        if self.method == "eigh":
            return self.Q @ ((self.Q.T @ e) / (rho + self.eigenvalues))
        return _sym_matvec(self._factor(rho), e, self.xp)

    def solve(self, q: Any, rho: float) -> Any:
        """(I + FᵀF/ρ + GᵀG)⁻¹q for a (2P, d) right-hand side q."""
        Bq = self.times_K(q)
        z = self.inner_solve(F(Bq, self.X, self.masks), rho)
        t = self.times_K((self.masks * z[:, None]).T @ self.X)
        out = Bq.copy()
        out[:self.P] -= t
        out[self.P:] += t
        return out

    def solve_split(self, qs: Any, qd: Any, rho: float) -> tuple[Any, Any]:
        """(p, m) = (u₁ + u₂, u₁ − u₂) of the u-step from qs = q₁ + q₂ and qd = q₁ − q₂, each (P, d).

        p = qs·K and m = rK − 2[Zᵀ(ρI + H)⁻¹Z(rK)]K with r = qd (module docstring); 3Pd² + 2ndP + 2nP + n²
        multiply-adds (+ n² for eigh; no 3Pd² when K = I), :attr:`flops_per_solve`.
        """
        rK = self.times_K(qd)
        z = self.inner_solve(self.xp.sum(self.masks * (self.X @ rK.T), axis=1), rho)
        return self.times_K(qs), rK - 2.0 * self.times_K((self.masks * z[:, None]).T @ self.X)

    def eigenvalues_of_H(self) -> Any:
        """The eigenvalues of H, ascending (computed once for ``cholesky``; costs an eigvalsh)."""
        if self.eigenvalues is None:
            self.eigenvalues = self.xp.maximum(self.xp.linalg.eigvalsh(self.H), 0.0)
        return self.eigenvalues


def lambda_max_H(X: Any, masks: Any, *, iters: int = 200, rtol: float = 1e-6, cone_block: bool = True) -> float:
    r"""λ_max(H), H = FB⁻¹Fᵀ = 2(XKXᵀ)∘(DmDmᵀ), by power iteration without forming H (O(ndP) a step).

    Deterministic start 𝟙/√n (same bits on every call; a start orthogonal to the top eigenvector would
    find a smaller eigenvalue); stops when the Rayleigh quotient changes by less than ``rtol``
    relatively. The Rayleigh quotient is a lower estimate of λ_max. ``cone_block=False``: K = I_d, so
    H = FFᵀ and λ_max(H) = λ_max(FᵀF) = ‖F‖², the Lipschitz constant of the cone splitting's loss.
    """
    xp = array_namespace(X, masks)
    K = _gram_inverse(X, xp) if cone_block else xp.eye(X.shape[1])
    x = xp.ones(X.shape[0]) / math.sqrt(X.shape[0])
    lam = 0.0
    for _ in range(check_int("iters", iters, 1)):
        t = ((masks * x[:, None]).T @ X) @ K  # B⁻¹Fᵀx, top blocks (the bottom ones are −t)
        hx = 2.0 * xp.sum(masks * (X @ t.T), axis=1)
        new = float(xp.dot(x, hx))
        nrm = float(xp.sqrt(xp.dot(hx, hx)))
        if nrm == 0.0:
            return 0.0
        x = hx / nrm
        if abs(new - lam) <= rtol * abs(new):
            return new
        lam = new
    return lam


def block_norm_max(X: Any, masks: Any) -> float:
    r"""max_i ‖D_iX‖₂² = max_i λ_max(XᵀD_iX): the largest squared norm of one group's block of F.

    The cone splitting's default ρ (:func:`~solvers.convex_relu.admm.default_rho`). The P Gram matrices
    XᵀD_iX are formed in chunks of patterns (at most about 4·10⁶ entries of D_iX at a time), then one batched
    eigvalsh of (P, d, d): nd²P + Pd³ multiply-adds.
    """
    xp = array_namespace(X, masks)
    n, d = X.shape
    P = masks.shape[1]
    step = max(1, 4_000_000 // max(n * d, 1))
    best = 0.0
    for a in range(0, P, step):
        M = masks[:, a:a + step].T  # (c, n)
        grams = (M[:, :, None] * X[None]).transpose(0, 2, 1) @ X  # (c, d, d); D_i² = D_i
        best = max(best, float(xp.max(xp.linalg.eigvalsh(grams)[:, -1])))
    return best


def woodbury_factor(X: Any, masks: Any, *, method: Literal["eigh", "cholesky"] = "cholesky",
                    rho: float | None = None, cone_block: bool = True) -> WoodburyFactor:
    """A :class:`WoodburyFactor` of the u-step system (``rho`` factors a Cholesky up front)."""
    return WoodburyFactor(X, masks, method=method, rho=rho, cone_block=cone_block)


class DenseFactor(_KBlock):
    r"""The u-step by the reduced dP × dP system M_m = I_P ⊗ K⁻¹ + 2ZᵀZ/ρ (module docstring), inverted per ρ.

    ``cone_block=False``: the system I + FᵀF/ρ of ADMM's cone splitting (no GᵀG): K = I_d, p = q₁ + q₂.

    Z = [D_1X … D_PX] (n × dP, built in row chunks, never kept); A = ZᵀZ is kept. The inverse of M_m (potrf +
    potri, (dP)³ multiply-adds) is cached per ρ (at most ``cache`` values, the oldest dropped first) and
    applied by one symv. :meth:`solve` equals the solve of the full 2dP × 2dP system :meth:`matrix` (the
    CR9 cross-check). For dP ≤ :data:`DENSE_MAX`; the better u-step whenever dP < n. Setup n(dP)² + nd² +
    d³ (+ (dP)³ per new ρ); per solve Pd² + (dP)². Not thread-safe (the cache is mutable).

    Attributes
    ----------
    A
        ZᵀZ, (dP, dP).
    K, Kinv
        (I_d + XᵀX)⁻¹ and I_d + XᵀX.
    setup_flops, flops_per_solve, factor_flops, factorizations
        As for :class:`WoodburyFactor`.
    """

    def __init__(self, X: Any, masks: Any, rho: float | None = None, cache: int = 8, cone_block: bool = True) -> None:
        xp = array_namespace(X, masks)
        n, d = X.shape
        P = masks.shape[1]
        m = P * d
        if m > DENSE_MAX:
            raise ValueError(f"masks: the dense u-step needs dP <= {DENSE_MAX}, got dP = {m}; use the Woodbury factor")
        self.xp, self.n, self.d, self.P, self.cache = xp, n, d, P, check_int("cache", cache, 1)
        A = xp.zeros((m, m))
        step = max(1, 2_000_000 // max(m, 1))
        for a in range(0, n, step):  # chunks of rows keep Z's memory bounded (one chunk at n·dP ≤ 2·10⁶)
            Z = (masks[a:a + step, :, None] * X[a:a + step, None, :]).reshape(-1, m)
            A += Z.T @ Z
        self.A = A
        self.cone_block = bool(cone_block)
        self.XtX = X.T @ X if self.cone_block else xp.zeros((d, d))
        self.Kinv = xp.eye(d) + self.XtX
        self.K = _gram_inverse(X, xp) if self.cone_block else xp.eye(d)
        self.setup_flops = n * m * m + (n * d * d + d ** 3 if self.cone_block else 0)
        self.flops_per_solve = (P * d * d if self.cone_block else 0) + m * m
        self.factor_flops = 0
        self.factorizations = 0
        self._inv: dict[float, Any] = {}
        if rho is not None:
            self._factor(check_rho(rho))
        self.setup_flops += self.factor_flops

    def matrix(self, rho: float) -> Any:
        """The full u-step matrix M = I + GᵀG + FᵀF/ρ, (2dP, 2dP) (for cross-checks)."""
        xp, m = self.xp, self.P * self.d
        M = xp.kron(xp.eye(2 * self.P), self.XtX) + xp.eye(2 * m)
        M[:m, :m] += self.A / rho
        M[m:, m:] += self.A / rho
        M[:m, m:] -= self.A / rho
        M[m:, :m] -= self.A / rho
        return M

    def reduced_matrix(self, rho: float) -> Any:
        """M_m = I_P ⊗ K⁻¹ + 2ZᵀZ/ρ, (dP, dP): the system of m = u₁ − u₂."""
        xp = self.xp
        return xp.kron(xp.eye(self.P), self.Kinv) + (2.0 / rho) * self.A

    def _factor(self, rho: float) -> Any:
        inv = self._inv.get(rho)
        if inv is None:
            if len(self._inv) >= self.cache:
                self._inv.pop(next(iter(self._inv)))
            inv = self._inv[rho] = _spd_inverse(self.reduced_matrix(rho), self.xp)
            self.factor_flops += (self.P * self.d) ** 3
            self.factorizations += 1
        return inv

    def solve_split(self, qs: Any, qd: Any, rho: float) -> tuple[Any, Any]:
        """(p, m) = (u₁ + u₂, u₁ − u₂) from qs = q₁ + q₂ and qd = q₁ − q₂ (each (P, d)): p = qs·K, m = M_m⁻¹qd."""
        m = _sym_matvec(self._factor(rho), qd.reshape(-1), self.xp)
        return self.times_K(qs), m.reshape(qd.shape)

    def solve(self, q: Any, rho: float) -> Any:
        """(I + FᵀF/ρ + GᵀG)⁻¹q for a (2P, d) right-hand side q, through the reduced system."""
        P = self.P
        p, m = self.solve_split(q[:P] + q[P:], q[:P] - q[P:], rho)
        return self.xp.concatenate([0.5 * (p + m), 0.5 * (p - m)], axis=0)


def dense_factor(X: Any, masks: Any, rho: float | None = None, cone_block: bool = True) -> DenseFactor:
    """A :class:`DenseFactor` of the u-step system (``rho`` factors it up front)."""
    return DenseFactor(X, masks, rho=rho, cone_block=cone_block)
