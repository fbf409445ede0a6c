r"""Young's theory of SOR: the Jacobi radius β, ρ(M_ω) in closed form, ω*, and dense iteration matrices.

For a consistently ordered matrix with real Jacobi eigenvalues (e.g. SPD in a red-black or
lexicographic 5-point ordering), with β = ρ(I − D⁻¹A) < 1 (spec sor_bandit.md §4, claim 1):

    ρ(M_ω) = ¼(ωβ + √(ω²β² − 4(ω−1)))²   for 0 < ω ≤ ω*,
           = ω − 1                        for ω* ≤ ω < 2,
    ω* = 2/(1 + √(1−β²)) = 1 + (β/(1+√(1−β²)))²,

so ρ(M_1) = β² (Gauss–Seidel) and ρ(M_{ω*}) = ω* − 1. ρ(C_ω) = ρ(M_ω) since C_ω = I − AW_ω⁻¹ = AM_ωA⁻¹.

**The 5-point stencil in closed form.** For A = center·I + off·S (S the neighbour-sum operator of the
N×N grid with zero Dirichlet boundary), D = center·I and I − D⁻¹A = −(off/center)S. S = I⊗S₁ + S₁⊗I
with S₁ = tridiag(1, 0, 1), whose eigenvalues are 2cos(jπh), j = 1..N, h = 1/(N+1); so S has the
eigenvalues 2cos(jπh) + 2cos(kπh), of largest modulus 4cos(πh) (j = k = 1, or j = k = N), and

    β = 4|off|·cos(πh)/|center|.

For the Laplacian (center 4 + c, off −1) this is β(c) = 4cos(πh)/(4+c), β(0) = cos πh; for the
Crank–Nicolson heat matrix (center 1 + 4r, off −r), β = 4r·cos(πh)/(1+4r).

References
----------
D.M. Young, Iterative Solution of Large Linear Systems (1971), Thm 6.2.3; M. Khodak et al., "Learning
to Relax", ICLR 2024, arXiv:2310.02246, §2 (Young's formula, eq. (2)) and App. G.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from solvers.sor._validate import check_omega
from solvers.sor.operators import CsrData, Stencil5, prepare

__all__ = [
    "jacobi_radius",
    "optimal_omega",
    "sor_iteration_matrix",
    "sor_residual_matrix",
    "ssor_iteration_matrix",
    "young_radius",
]

#: Largest order for which the dense matrices (and the dense Jacobi eigenvalues) are formed.
DENSE_LIMIT = 4096


def _csr(op: CsrData) -> sp.csr_matrix:
    return sp.csr_matrix((op.data, op.indices, op.indptr), shape=(op.n, op.n))


def jacobi_radius(A, *, dense_limit: int = 2000) -> float:
    r"""β = ρ(I − D⁻¹A), the spectral radius of the Jacobi iteration matrix.

    Parameters
    ----------
    A
        A :class:`~solvers.sor.operators.Stencil5` (closed form 4|off|cos(π/(N+1))/|center|), or a sparse
        or dense matrix with a nonzero diagonal.
    dense_limit
        Up to this order the eigenvalues are computed densely; above it by ARPACK (``eigsh`` on the
        symmetric D^{-1/2}AD^{-1/2} when A is symmetric with a positive diagonal, else ``eigs``).

    Returns
    -------
    float
        β ≥ 0 (for SPD A, β = max |1 − λ| over the eigenvalues λ of D^{-1/2}AD^{-1/2}).
    """
    op = prepare(A)
    if isinstance(op, Stencil5):
        if op.N == 1:
            return 0.0
        return 4.0 * abs(op.off) * math.cos(math.pi / (op.N + 1)) / abs(op.center)
    M = _csr(op)
    n = op.n
    sym = op.asymmetry <= 1e-12 and bool(np.all(op.diag > 0))
    if sym:
        s = 1.0 / np.sqrt(op.diag)
        J = sp.identity(n, format="csr") - sp.diags(s) @ M @ sp.diags(s)
        J = ((J + J.T) * 0.5).tocsr()
        if n <= dense_limit:
            return float(np.max(np.abs(np.linalg.eigvalsh(J.toarray()))))
        vals = spla.eigsh(J, k=2, which="LM", return_eigenvectors=False, tol=1e-12)
        return float(np.max(np.abs(vals)))
    J = sp.identity(n, format="csr") - sp.diags(1.0 / op.diag) @ M
    if n <= dense_limit:
        return float(np.max(np.abs(np.linalg.eigvals(J.toarray()))))
    vals = spla.eigs(J, k=2, which="LM", return_eigenvectors=False, tol=1e-12)
    return float(np.max(np.abs(vals)))


def _check_beta(beta, name: str = "beta") -> np.ndarray:
    arr = np.asarray(beta)
    if arr.dtype.kind not in "fiu" or arr.dtype == bool:
        raise TypeError(f"{name} must be real, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if not np.all((arr >= 0.0) & (arr < 1.0)):
        raise ValueError(f"{name} must satisfy 0 <= {name} < 1 (a convergent Jacobi iteration), got {beta!r}")
    return arr


def _out(x: np.ndarray):
    return float(x) if x.ndim == 0 else x


def optimal_omega(beta):
    r"""Young's optimal relaxation ω* = 2/(1 + √(1−β²)) = 1 + (β/(1+√(1−β²)))², vectorised over β ∈ [0, 1)."""
    b = _check_beta(beta)
    return _out(1.0 + (b / (1.0 + np.sqrt(1.0 - b * b))) ** 2)


def young_radius(omega, beta):
    r"""ρ(M_ω) by Young's formula, vectorised over ω (and β, broadcast).

    ρ = ¼(ωβ + √(ω²β² − 4(ω−1)))² on (0, ω*], ω − 1 on [ω*, 2).

    Parameters
    ----------
    omega
        Relaxation parameter(s), each in (0, 2).
    beta
        Jacobi radius (radii) in [0, 1).

    Returns
    -------
    float or ndarray
        The spectral radius of the SOR iteration matrix (of C_ω too).
    """
    w = np.asarray(omega)
    if w.dtype.kind not in "fiu" or w.dtype == bool:
        raise TypeError(f"omega must be real, got dtype {w.dtype}")
    w = w.astype(np.float64)
    if not np.all((w > 0.0) & (w < 2.0)):
        raise ValueError(f"omega must satisfy 0 < omega < 2, got {omega!r}")
    b = _check_beta(beta)
    w, b = np.broadcast_arrays(w, b)
    star = 1.0 + (b / (1.0 + np.sqrt(1.0 - b * b))) ** 2
    disc = np.maximum(w * w * b * b - 4.0 * (w - 1.0), 0.0)  # ≥ 0 below ω*; rounding at ω* clipped
    below = 0.25 * (w * b + np.sqrt(disc)) ** 2
    return _out(np.where(w < star, below, w - 1.0))  # at ω* itself: ω* − 1, without the √0 of rounding


def _dense(A, name: str = "A") -> np.ndarray:
    op = prepare(A, name=name)
    if op.n > DENSE_LIMIT:
        raise ValueError(f"{name} has order {op.n}; dense iteration matrices need n <= {DENSE_LIMIT}")
    M = op.to_csr() if isinstance(op, Stencil5) else _csr(op)
    return M.toarray()


def sor_iteration_matrix(A, omega: float) -> np.ndarray:
    r"""The dense SOR error-propagation matrix M_ω = I − W_ω⁻¹A, W_ω = D/ω + L (small n)."""
    omega = check_omega(omega)
    Ad = _dense(A)
    W = np.tril(Ad, -1) + np.diag(np.diag(Ad) / omega)
    return np.eye(Ad.shape[0]) - sla.solve_triangular(W, Ad, lower=True)


def sor_residual_matrix(A, omega: float) -> np.ndarray:
    r"""The dense residual-propagation matrix C_ω = I − AW_ω⁻¹ = AM_ωA⁻¹ (r_k = C_ω^k r_0; small n)."""
    omega = check_omega(omega)
    Ad = _dense(A)
    W = np.tril(Ad, -1) + np.diag(np.diag(Ad) / omega)
    AWinv = sla.solve_triangular(W, Ad.T, lower=True, trans="T").T  # (W⁻ᵀAᵀ)ᵀ = AW⁻¹
    return np.eye(Ad.shape[0]) - AWinv


def ssor_iteration_matrix(A, omega: float) -> np.ndarray:
    r"""The dense SSOR error-propagation matrix I − W̆_ω⁻¹A, W̆_ω = (D+ωL)D⁻¹(D+ωU)/(ω(2−ω)).

    Equal to the product M_ω^{backward} M_ω of a forward and a backward sweep (for any A; U = Lᵀ when A
    is symmetric).
    """
    omega = check_omega(omega)
    Ad = _dense(A)
    d = np.diag(Ad)
    lo = np.tril(Ad, -1) * omega + np.diag(d)
    up = np.triu(Ad, 1) * omega + np.diag(d)
    Y = sla.solve_triangular(lo, Ad, lower=True)
    Z = sla.solve_triangular(up, d[:, None] * Y, lower=False)
    return np.eye(Ad.shape[0]) - omega * (2.0 - omega) * Z
