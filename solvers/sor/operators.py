r"""The operators of the SOR solvers: the 2-D Laplacian as a CSR matrix and the matrix-free 5-point stencil.

The model problem of Young's theory (spec sor_bandit.md §5–6) is the 5-point discretisation of −Δ on an
N×N interior grid, h = 1/(N+1), zero Dirichlet boundary, unknowns in lexicographic order i = pN + q
(p the grid row, q the column):

    P_N = I ⊗ T + T ⊗ I,   T = tridiag(−1, 2, −1),

so P_N has 4 on the diagonal and −1 for each of the (up to) 4 grid neighbours. Both families used by the
simulations are "center·I + off·(neighbour sum)":

- the shifted Laplacian A = P_N + cI: center = 4 + c, off = −1 (Generator A);
- the Crank–Nicolson heat matrix A = I + rP_N: center = 1 + 4r, off = −r (Generator B).

:class:`Stencil5` stores only (N, center, off); its spectrum is known in closed form,

    λ_jk = center + 2·off·(cos jπh + cos kπh),   j, k = 1..N,

so λ_min = center − 4|off|cos πh, and the Jacobi matrix I − D⁻¹A = −(off/center)·(neighbour sum) has
spectral radius β = 4|off|cos(πh)/|center| (see :func:`solvers.sor.young.jacobi_radius`).

General sparse input goes through :func:`prepare`, which validates a matrix once (square, finite, a
diagonal entry in every row) and returns the :class:`CsrData` the numba kernels take, with the diagonal
and a measured asymmetry.

References
----------
M. Khodak, E. Chow, M.-F. Balcan, A. Talwalkar, "Learning to Relax: Setting Solver Parameters Across a
Sequence of Linear System Instances", ICLR 2024, arXiv:2310.02246, App. G.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numba
import numpy as np
import scipy.sparse as sp

from solvers._checks import check_int, check_real
from solvers._xp import array_namespace, is_cupy

__all__ = ["CsrData", "Operator", "Stencil5", "laplacian_2d", "prepare"]


def laplacian_2d(N: int, shift: float = 0.0) -> sp.csr_matrix:
    r"""The 2-D 5-point Laplacian P_N + shift·I as a CSR matrix (float64, sorted indices).

    Parameters
    ----------
    N
        Interior grid points per side (n = N² unknowns, h = 1/(N+1)), N ≥ 1.
    shift
        The diagonal shift c; A = P_N + cI is SPD iff c > −4(1 − cos πh) (c > −0.162028 for N = 10).

    Returns
    -------
    scipy.sparse.csr_matrix
        P_N = I ⊗ T + T ⊗ I + cI, T = tridiag(−1, 2, −1), lexicographic order.
    """
    N = check_int("N", N, 1)
    shift = check_real("shift", shift)
    T = sp.diags([-np.ones(N - 1), 2.0 * np.ones(N), -np.ones(N - 1)], [-1, 0, 1], format="csr")
    eye = sp.identity(N, format="csr")
    A = (sp.kron(eye, T) + sp.kron(T, eye) + shift * sp.identity(N * N)).tocsr()
    A.sum_duplicates()
    A.sort_indices()
    return sp.csr_matrix(A, dtype=np.float64)


@dataclass(frozen=True)
class Stencil5:
    r"""The matrix-free 5-point operator A = center·I + off·(sum of the 4 grid neighbours), N×N grid.

    Zero Dirichlet boundary (a missing neighbour contributes nothing), lexicographic order i = pN + q.
    Symmetric by construction; SPD iff center > 4|off|cos(π/(N+1)) (:attr:`lambda_min` > 0).

    Parameters
    ----------
    N
        Grid points per side, N ≥ 1 (n = N²).
    center
        The diagonal entry (the same in every row).
    off
        The coupling to each neighbour.

    Examples
    --------
    >>> Stencil5.laplacian(10, 0.45) == Stencil5(10, 4.45, -1.0)
    True
    """

    N: int
    center: float
    off: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "N", check_int("N", self.N, 1))
        object.__setattr__(self, "center", check_real("center", self.center))
        object.__setattr__(self, "off", check_real("off", self.off))

    @classmethod
    def laplacian(cls, N: int, shift: float = 0.0) -> Stencil5:
        """P_N + shift·I: center = 4 + shift, off = −1."""
        return cls(N, 4.0 + check_real("shift", shift), -1.0)

    @classmethod
    def heat(cls, N: int, r: float) -> Stencil5:
        """The Crank–Nicolson matrix I + r·P_N (r = κΔt/(2Δx²) > 0): center = 1 + 4r, off = −r."""
        r = check_real("r", r)
        if r <= 0:
            raise ValueError(f"r must be > 0, got {r!r}")
        return cls(N, 1.0 + 4.0 * r, -r)

    @property
    def n(self) -> int:
        """The number of unknowns N²."""
        return self.N * self.N

    @property
    def shape(self) -> tuple[int, int]:
        """(n, n)."""
        return (self.n, self.n)

    @property
    def lambda_min(self) -> float:
        """The smallest eigenvalue center − 4|off|cos(π/(N+1))."""
        return self.center - 4.0 * abs(self.off) * math.cos(math.pi / (self.N + 1))

    @property
    def lambda_max(self) -> float:
        """The largest eigenvalue center + 4|off|cos(π/(N+1))."""
        return self.center + 4.0 * abs(self.off) * math.cos(math.pi / (self.N + 1))

    def diagonal(self) -> np.ndarray:
        """The diagonal (center in every entry), length n."""
        return np.full(self.n, self.center)

    def to_csr(self) -> sp.csr_matrix:
        """The same operator as a CSR matrix (float64, sorted indices)."""
        N = self.N
        S = sp.diags([np.ones(N - 1), np.ones(N - 1)], [-1, 1], format="csr")
        eye = sp.identity(N, format="csr")
        A = (self.off * (sp.kron(eye, S) + sp.kron(S, eye)) + self.center * sp.identity(N * N)).tocsr()
        A.eliminate_zeros()
        A.sum_duplicates()
        A.sort_indices()
        return sp.csr_matrix(A, dtype=np.float64)

    def matvec(self, x):
        """A @ x for a vector x of length n (numpy or CuPy; the result has x's namespace)."""
        xp = array_namespace(x)
        if x.shape != (self.n,):
            raise ValueError(f"x must have shape ({self.n},), got {x.shape}")
        N = self.N
        X = x.reshape(N, N)
        Y = self.center * X
        nb = xp.zeros_like(X)
        nb[1:, :] += X[:-1, :]
        nb[:-1, :] += X[1:, :]
        nb[:, 1:] += X[:, :-1]
        nb[:, :-1] += X[:, 1:]
        return (Y + self.off * nb).reshape(-1)

    def __matmul__(self, x):
        return self.matvec(x)


class CsrData(NamedTuple):
    """A validated CSR matrix as the kernels take it.

    Attributes
    ----------
    indptr, indices, data
        The CSR arrays (canonical: sorted indices, no duplicates; data float64).
    diag
        The diagonal a_ii (float64, every entry nonzero).
    n
        The order of the matrix.
    asymmetry
        max over stored entries of |a_ij − a_ji| / max(|a_ij|, |a_ji|) (0 for an exactly symmetric
        matrix; inf when a_ji is not stored). The fused SOR residual needs exact symmetry; CG needs ≤ 1e-12.
    """

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    diag: np.ndarray
    n: int
    asymmetry: float

    @property
    def symmetric(self) -> bool:
        """Exactly symmetric (the fused-residual kernels use a_ji for a_ij)."""
        return self.asymmetry == 0.0


Operator = Stencil5 | CsrData


@numba.njit(cache=True)
def _inspect_csr(indptr, indices, data, n):
    """One pass over a canonical CSR matrix: (diag, all finite, asymmetry, first row with a zero diagonal)."""
    diag = np.zeros(n)
    finite = True
    asym = 0.0
    zero_row = -1
    for i in range(n):
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            v = data[p]
            if not abs(v) < np.inf:
                finite = False
            if j == i:
                diag[i] = v
                continue
            if v == 0.0:
                continue
            # binary search for (j, i) in row j
            lo = indptr[j]
            hi = indptr[j + 1]
            while lo < hi:
                mid = (lo + hi) // 2
                if indices[mid] < i:
                    lo = mid + 1
                else:
                    hi = mid
            if lo < indptr[j + 1] and indices[lo] == i:
                u = data[lo]
                if u != v:
                    rel = abs(u - v) / max(abs(u), abs(v))
                    if not rel <= asym:
                        asym = rel
            else:
                asym = np.inf
        if diag[i] == 0.0 and zero_row < 0:
            zero_row = i
    return diag, finite, asym, zero_row


def prepare(A, *, name: str = "A", positive_diagonal: bool = False) -> Operator:
    """Validate an operator once and return what the kernels take.

    Parameters
    ----------
    A
        A :class:`Stencil5`, a :class:`CsrData` (returned as is), a scipy.sparse matrix or array of any
        format, or a dense 2-D numpy array (converted to CSR).
    name
        The argument's name in error messages.
    positive_diagonal
        Require a_ii > 0 (SSOR-PCG, CG) instead of a_ii ≠ 0.

    Raises
    ------
    TypeError
        A is none of the above, or complex.
    ValueError
        A is not square or empty, has a non-finite entry, or a zero (non-positive) diagonal entry.
    """
    if isinstance(A, Stencil5):
        if A.center == 0 or (positive_diagonal and A.center < 0):
            rule = "> 0" if positive_diagonal else "nonzero"
            raise ValueError(f"{name} must have a {rule} diagonal, got center = {A.center!r}")
        return A
    if isinstance(A, CsrData):
        if positive_diagonal and not np.all(A.diag > 0):
            raise ValueError(f"{name} must have a positive diagonal (a_ii > 0)")
        return A
    if is_cupy(A):
        raise TypeError(f"{name}: CuPy matrices take the array path (backend='array'), not the kernels")
    if isinstance(A, np.ndarray):
        if A.ndim != 2:
            raise ValueError(f"{name} must be a square matrix, got an array of shape {A.shape}")
        A = sp.csr_matrix(A)
    elif not sp.issparse(A):
        raise TypeError(f"{name} must be a scipy.sparse matrix, a dense 2-D array or a Stencil5, "
                        f"got {type(A).__name__}")
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"{name} must be square, got shape {A.shape}")
    if A.shape[0] == 0:
        raise ValueError(f"{name} must be non-empty, got shape {A.shape}")
    if A.dtype.kind == "c":
        raise TypeError(f"{name} must be real, got dtype {A.dtype}")
    if A.dtype.kind not in "fiub":
        raise TypeError(f"{name} must be numeric, got dtype {A.dtype}")
    if A.format != "csr" or A.dtype != np.float64:
        A = sp.csr_matrix(A, dtype=np.float64)
    if not A.has_canonical_format:
        A = A.copy()  # never reorder the caller's arrays
        A.sum_duplicates()
    n = A.shape[0]
    diag, finite, asym, zero_row = _inspect_csr(A.indptr, A.indices, A.data, n)
    if not finite:
        raise ValueError(f"{name} must be finite, got non-finite entries")
    if zero_row >= 0:
        raise ValueError(f"{name} must have a nonzero diagonal, a_ii = 0 at row {zero_row}")
    if positive_diagonal and not np.all(diag > 0):
        raise ValueError(f"{name} must have a positive diagonal (a_ii > 0), "
                         f"a_ii = {diag[np.argmin(diag)]!r} at row {int(np.argmin(diag))}")
    return CsrData(A.indptr, A.indices, A.data, diag, n, float(asym))
