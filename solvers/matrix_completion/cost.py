r"""Closed-form multiply-add counts of the row solvers (spec MC7), one function per kind of work.

One operation is one multiply-add, division or square root. The numba kernels count the operations
they execute; the functions here give the same numbers from |Ω_i|, k and the CG steps taken, and the
tests hold the two equal. Per row, with L = |Ω_i|, T(k) = k(k+1)/2:

- exact (Cholesky of the normal equations): L(T(k) + k) to form G_i, c_i; k(k+1)(k+2)/6 for Cholesky;
  T(k) for tr(G_i); 2(k(k+1) + 2k) for the two inverse iterations of the condition estimate; k(k+1) for
  the two triangular solves. Summed over rows: |Ω|k²/2 + mk³/6 to leading order (Cholesky, where the
  spec's |Ω|k²/2 + mk³/3 counts an LU solve).
- CG / CGLS, per row with S steps: 2Lk + 2L + k to start, 2Lk + 3L + 3k per step (the Θ(s|Ω|k) of
  MC7); preconditioning adds T(k) + k at the start and 2T(k) + k per step.
- sketch: |Ω_i|s(k+1) (Gaussian) or |Ω_i|(k+1) (CountSketch) to apply the sketch to [A_i | b_i],
  Σ_{c<k} (s−c)(1 + 2(k−c)) for Householder QR, T(k) for x₀.

LAPACK calls are counted by models, not instruction counts: ``eigvalsh`` of a k×k matrix as
⌈2k³/3⌉ + k² (Householder tridiagonalisation, then the tridiagonal QR), ``eigh`` as 3k³, and the SVD of
a padded P×k design as 2Pk² + 11k³ (Golub–Van Loan's R-SVD) plus Pk + k² to apply it.

References
----------
Spec ``matrix_completion.md`` §3.2 and claim MC7 (cost model).

The per-row functions take numpy or CuPy arrays (the result is in their namespace), so that the GPU path
of the row solvers counts on the device and reads one integer per call.
"""

from __future__ import annotations

import numpy as np

from solvers._xp import array_namespace

__all__ = [
    "eigh_flops",
    "eigvalsh_flops",
    "exact_row_flops",
    "gram_flops",
    "householder_flops",
    "pcgls_flops",
    "sketch_apply_flops",
    "svd_lstsq_flops",
]


def _tri(k: int) -> int:
    return k * (k + 1) // 2


def gram_flops(counts: np.ndarray, k: int) -> int:
    """Σ_i |Ω_i|·k(k+1)/2: the upper triangles of every G_i = A_iᵀA_i."""
    xp = array_namespace(counts)
    return int(xp.sum(xp.asarray(counts, dtype=xp.int64))) * _tri(k)


def exact_row_flops(counts: np.ndarray, k: int) -> np.ndarray:
    """Per row, the work of the Cholesky path (rows with |Ω_i| ≥ k that pass the condition guard)."""
    L = np.asarray(counts, dtype=np.int64)
    per_row = k * (k + 1) * (k + 2) // 6 + _tri(k) + 2 * (k * (k + 1) + 2 * k) + k * (k + 1)
    return L * (_tri(k) + k) + per_row


def eigvalsh_flops(k: int) -> int:
    """Model count of the eigenvalues of one symmetric k×k matrix: ⌈2k³/3⌉ + k²."""
    return -(-2 * k**3 // 3) + k * k


def eigh_flops(k: int) -> int:
    """Model count of eigenvalues and eigenvectors of one symmetric k×k matrix: 3k³."""
    return 3 * k**3


def svd_lstsq_flops(P: int, k: int) -> int:
    """Model count of a minimum-norm least-squares solve through the SVD of a P×k design."""
    return 2 * P * k * k + 11 * k**3 + P * k + k * k


def pcgls_flops(counts: np.ndarray, k: int, steps: np.ndarray, *, steps_max: int, precond: bool = False,
                certify: bool = False) -> np.ndarray:
    """Per row, the work of :func:`~solvers.matrix_completion._kernels.pcgls_rows` after ``steps`` steps.

    Start 2Lk + 2L + k (+ T(k) + k with ``precond``); each step 2Lk + 3L + 3k (+ 2T(k) + k); without
    ``certify``, a row that reached ``steps_max`` (≥ 1) skipped its last gradient: Lk + L + 2k
    (+ T(k) + k) fewer. (‖r‖² and ‖A_iᵀr‖² are computed in every gradient, for the floating-point floor
    test and the certificate alike.)
    """
    xp = array_namespace(counts, steps)
    L = xp.asarray(counts, dtype=xp.int64)
    S = xp.asarray(steps, dtype=xp.int64)
    tri = _tri(k)
    start = 2 * L * k + 2 * L + k + (tri + k if precond else 0)
    step = 2 * L * k + 3 * L + 3 * k + (2 * tri + k if precond else 0)
    total = start + S * step
    if not certify:
        skipped = (S >= steps_max) & (S >= 1)
        total = total - xp.where(skipped, L * k + L + 2 * k + (tri + k if precond else 0), 0)
    return total


def sketch_apply_flops(counts: np.ndarray, k: int, s: int, gaussian: bool) -> np.ndarray:
    """Per row, applying the sketch to [A_i | b_i]: |Ω_i|s(k+1) (Gaussian) or |Ω_i|(k+1) (CountSketch)."""
    xp = array_namespace(counts)
    return xp.asarray(counts, dtype=xp.int64) * (s if gaussian else 1) * (k + 1)


def householder_flops(s: int, k: int) -> int:
    """Householder QR of the s×(k+1) sketched [S_iA_i | S_ib_i]: Σ_{c<k} (s−c)(1 + 2(k−c)), then x₀ = R⁻¹y."""
    return sum((s - c) * (1 + 2 * (k - c)) for c in range(k)) + _tri(k)
