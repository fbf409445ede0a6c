r"""Error measures of matrix completion computed from factors, never from an m×n matrix (spec §2, §7).

- :func:`coherence`: μ(U) = √(m/k)·max_i ‖U_{i,:}‖₂ for an orthonormal U.
- :func:`subspace_dist`: dist(U, W) = ‖(I − UUᵀ)W‖₂ = ‖W − U(UᵀW)‖₂, the sine of the largest principal
  angle, computed from the projection residual (√(1 − σ_min(UᵀW)²) loses all accuracy below ~1e-8).
- :func:`rel_error`: relF(X) = ‖X − M‖_F/‖M‖_F for X = FGᵀ and M = U*Σ*V*ᵀ, from
  X − M = [F, −U*Σ*]·[G, V*]ᵀ: QR both (m×2k and n×2k) factors, then ‖R₁R₂ᵀ‖_F (Gram traces cancel).
- :func:`sampled_residual`: res_Ω(X) = ‖P_Ω(X − M)‖_F/‖P_Ω(M)‖_F over the observed entries (numba
  kernel on numpy arrays).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from solvers._xp import array_namespace
from solvers.matrix_completion import _kernels as K
from solvers.matrix_completion.observations import Observations

__all__ = ["Truth", "coherence", "rel_error", "sampled_residual", "subspace_dist"]


class Truth(NamedTuple):
    """The ground truth M = U*·diag(s)·V*ᵀ, for diagnostics only (U*, V* orthonormal)."""

    U: Any  # (m, k)
    V: Any  # (n, k)
    s: Any  # (k,) singular values


def coherence(U: Any) -> float:
    """μ(U) = √(m/k)·max_i ‖U_{i,:}‖₂, in [1, √(m/k)] for an orthonormal m×k U."""
    xp = array_namespace(U)
    m, k = U.shape
    return float(np.sqrt(m / k) * xp.sqrt(xp.max(xp.sum(U * U, axis=1))))


def _spectral_norm(xp: Any, A: Any) -> float:
    # ‖A‖₂ of a tall m×k matrix from its k×k R factor (the SVD of m×k directly costs the same, mk²).
    R = xp.linalg.qr(A, mode="r")
    return float(xp.linalg.svd(R, compute_uv=False)[0])


def subspace_dist(U: Any, W: Any) -> float:
    """dist(U, W) = ‖W − U(UᵀW)‖₂ for orthonormal U, W (m×k): the sine of the largest principal angle."""
    xp = array_namespace(U, W)
    return _spectral_norm(xp, W - U @ (U.T @ W))


def rel_error(F: Any, G: Any, truth: Truth) -> float:
    r"""relF(FGᵀ) = ‖FGᵀ − U*Σ*V*ᵀ‖_F / ‖Σ*‖_F from factors: ‖R₁R₂ᵀ‖_F with [F, −U*Σ*] = Q₁R₁, [G, V*] = Q₂R₂."""
    xp = array_namespace(F, G, truth.U)
    R1 = xp.linalg.qr(xp.concatenate([F, -truth.U * truth.s[None, :]], axis=1), mode="r")
    R2 = xp.linalg.qr(xp.concatenate([G, truth.V], axis=1), mode="r")
    return float(xp.linalg.norm(R1 @ R2.T) / xp.linalg.norm(truth.s))


def sampled_residual(obs: Observations, F: Any, G: Any) -> float:
    """res_Ω(FGᵀ) = ‖P_Ω(FGᵀ − M)‖_F / ‖P_Ω(M)‖_F (1.0·‖…‖ when P_Ω(M) = 0 is reported as the numerator)."""
    xp = array_namespace(obs.values, F, G)
    if xp is np:
        num, den = K.sampled_residual_sq(obs.row_ptr, obs.cols, obs.values, np.ascontiguousarray(F, dtype=float),
                                         np.ascontiguousarray(G, dtype=float))
    else:
        z = xp.sum(F[obs.rows] * G[obs.cols], axis=1) - obs.values
        num, den = float(xp.sum(z * z)), float(xp.sum(obs.values**2))
    return float(np.sqrt(num / den)) if den > 0 else float(np.sqrt(num))
