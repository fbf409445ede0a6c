r"""Matrix completion by robust alternating minimization: the claims as pure functions.

Setting (spec ``matrix_completion.md`` §2). M = U*Σ*V*ᵀ ∈ R^{m×n} has rank k, with U* ∈ R^{m×k} and
V* ∈ R^{n×k} orthonormal, σ₁ ≥ … ≥ σ_k > 0 and κ = σ₁/σ_k. The incoherence of an orthonormal
U ∈ R^{m×k} is μ(U) = √(m/k)·max_i ‖U_{i,:}‖₂. Since Σ_i ‖U_{i,:}‖² = ‖U‖_F² = k, the largest squared
row norm is at least the mean k/m and at most 1 (a row of an orthonormal matrix), so
1 ≤ μ(U) ≤ √(m/k). Entries enter Ω independently with probability p; the oversampling ratio is
r = |Ω|/(k(m+n−k)), where k(m+n−k) is the dimension of the manifold of rank-k m×n matrices
(mk + nk parameters for U, V, minus k² for the GL(k) gauge U ↦ UG, V ↦ VG⁻ᵀ). For orthonormal U, W
the distance dist(U, W) = ‖(I − UUᵀ)W‖₂ is the sine of the largest principal angle. A row
regression is min_x ‖A x − b‖ with A = B_{Ω_i,:} (design B, |Ω_i| × k) and b = M_{i,Ω_i}; x* is its
solution and z* = A x* − b its optimal residual. A point x′ is **ε₀-accurate** if
‖A x′ − b‖ ≤ (1 + ε₀)‖z*‖.

*Reconstructed choice (spec §2):* it is not confirmed whether the paper measures accuracy on the
residual norm or on its square. This module uses the norm, as above. The squared version
‖Ax′ − b‖² ≤ (1 + ε₀)‖z*‖² is the norm version at ε₀′ = √(1+ε₀) − 1 ≈ ε₀/2, so all bounds below
translate by that substitution.

Derivations
-----------
**MC1, the main theorem (constants not confirmed).** The hypothesis is
|Ω| ≥ C·κ^a μ² n k^b log n · log(‖M‖_F/ε) with n ≥ m. The public review summary quotes
Õ(κ²μ²nk^{4.5}), i.e. a = 2, b = 4.5. JNS13's Theorem 2 in the form
p ≳ κ²μ²k^{2.5} log n log(k‖M‖_F/ε)/(m δ_{2k}²) with δ_{2k} ≤ σ_k/(12kσ₁) = 1/(12kκ) gives
1/δ_{2k}² ≥ 144k²κ², so |Ω| = pmn ≳ 144·κ⁴μ² n k^{4.5} log n log(k‖M‖_F/ε): the same k^{4.5} but κ⁴.
Hence a ∈ {2, 4} (:data:`MC1_KAPPA_EXPONENT_CANDIDATES`), b = 4.5 and C are stored as
:class:`ReconstructedConstant` with ``confirmed=False``. The default a = 2 follows the review summary;
the claim is checked only for its shape (success is monotone in r), and the fitted exponents of the
empirical 50% threshold are reported beside these, never asserted equal.

**MC2, geometric convergence (JNS13).** Under MC1's hypotheses with exact solves, each half-step
contracts the subspace distance: dist(V_{t+1}, V*) ≤ ¼·dist(U_t, U*) and
dist(U_{t+1}, U*) ≤ ¼·dist(V_{t+1}, V*), so a full round contracts by (¼)² = 1/16
(:func:`geometric_factor`). The robust version adds a term of order ε₀ whose form is not confirmed.

**MC4, the forward-error lemma.** Let A have full column rank, x* = argmin ‖Ax − b‖, z* = Ax* − b
and e = x′ − x*. The normal equations give Aᵀz* = 0, i.e. z* ⊥ range(A), and Ae ∈ range(A), so by
Pythagoras

    ‖Ax′ − b‖² = ‖Ae + z*‖² = ‖Ae‖² + ‖z*‖².

If x′ is ε₀-accurate, ‖Ae‖² ≤ ((1 + ε₀)² − 1)‖z*‖² = ε₀(2 + ε₀)‖z*‖². For 0 ≤ ε₀ ≤ 1, ε₀(2 + ε₀) ≤
3ε₀, and ‖Ae‖ ≥ σ_min(A)‖e‖ (full column rank), so

    ‖x′ − x*‖ ≤ √(ε₀(2 + ε₀))·‖z*‖/σ_min(A) ≤ √(3ε₀)·‖z*‖/σ_min(A).       (MC4)

The first (sharp) form holds for every ε₀ ≥ 0; the √(3ε₀) form needs ε₀ ≤ 1, which
:func:`forward_error_bound` enforces. It is attained: take e along the right singular vector of
σ_min(A) and ‖Ae‖² = ε₀(2+ε₀)‖z*‖². The relative part of ``inject(δ, 0)`` uses δ = √(3ε₀)
(:func:`forward_error_factor`).

**The certified stopping rule.** Let z = Ax − b be the current residual and e = x − x*. Then
Aᵀz = AᵀA e + Aᵀz* = AᵀAe. The vector y = Ae lies in range(A), and on range(A) the map y ↦ Aᵀy has
smallest singular value σ_min(A) (write A = QR: ‖Aᵀy‖ = ‖RᵀQᵀy‖ ≥ σ_min(R)‖Qᵀy‖ = σ_min(A)‖y‖). Hence
‖Ae‖ ≤ ‖Aᵀz‖/σ_min(A), and by Pythagoras ‖z*‖² = ‖z‖² − ‖Ae‖² ≥ ‖z‖² − ‖Aᵀz‖²/σ_min(A)². So

    ‖Aᵀz‖²/σ_min(A)² ≤ (1 − (1 + ε₀)⁻²)·‖z‖²   ⟹   ‖z*‖ ≥ ‖z‖/(1 + ε₀),

which is ε₀-accuracy of x. Any lower bound s ≤ σ_min(A) may replace σ_min(A) (it only enlarges the
left side). The factor is evaluated as 1 − (1+ε₀)⁻² = ε₀(2 + ε₀)/(1 + ε₀)², which does not cancel for
small ε₀. For a consistent system (z* = 0) the rule certifies only z = 0, as it must.

**MC5, the Weyl guard.** Weyl's inequality for singular values gives, for A, B ∈ R^{N×k} with N ≥ k,
σ_k(B) ≥ σ_k(A) − ‖A − B‖₂ (σ_k(B) = min_{‖x‖=1} ‖Bx‖ ≥ min_{‖x‖=1} (‖Ax‖ − ‖(A−B)x‖)). So
‖A − B‖₂ ≤ σ_min(A)/2 implies σ_min(B) ≥ σ_min(A)/2. The weaker hypothesis ‖A − B‖₂ ≤ σ_min(A)
(queried in the public reviews) only gives σ_min(B) ≥ 0, which does not even exclude a singular B:
A = I₁, B = 0 has ‖A − B‖ = σ_min(A) and σ_min(B) = 0. The factor ½ is therefore needed.

**MC6, incoherence under perturbation (derived; the paper's lemma has the same spirit).** Let
A ∈ R^{m×k} have full column rank, A = Q_A R_A, μ_A = μ(Q_A), and let B satisfy
Δ := ‖B − A‖₂ < σ_min(A), with B = Q_B R_B. Row i of A is e_iᵀA = (e_iᵀQ_A)R_A, so
‖e_iᵀA‖ ≤ ‖e_iᵀQ_A‖·‖R_A‖ ≤ μ_A√(k/m)·σ_max(A). By Weyl (MC5), σ_min(B) ≥ σ_min(A) − Δ > 0, so R_B is
invertible with ‖R_B⁻¹‖₂ = 1/σ_min(R_B) = 1/σ_min(B). From e_iᵀQ_B = e_iᵀB R_B⁻¹ and
e_iᵀB = e_iᵀA + e_iᵀ(B − A),

    ‖e_iᵀQ_B‖ ≤ (μ_A√(k/m)σ_max(A) + ‖e_iᵀ(B − A)‖)/(σ_min(A) − Δ).

Multiplying by √(m/k) and maximising over i,

    μ(Q_B) ≤ [μ_A σ_max(A) + √(m/k)·max_i ‖e_iᵀ(B − A)‖] / (σ_min(A) − ‖B − A‖₂).        (MC6)

The bound need not be below the trivial √(m/k); it is returned as derived.

**MC7, the cost model (operation counts; constants not confirmed by the paper).** One half-step
solves m regressions (m for a U-step, n for a V-step) whose designs are rows of an n×k matrix B and
share the |Ω| = nnz observed entries; a round is two half-steps over the same nnz when
``split=False``. One operation is one multiply-add, division or square root, with T = k(k+1)/2:

- exact (Cholesky of the normal equations): nnz·(T + k) to form G_i and c_i, then per row
  k(k+1)(k+2)/6 (Cholesky) + T (tr G_i) + 2(k(k+1) + 2k) (two inverse iterations of the condition
  estimate) + k(k+1) (two triangular solves):  W_exact = Θ(|Ω|k² + mk³).
- cg(s) (CGLS, warm start): nk for the squared row norms of B; a start of (2k + 2)·nnz + mk
  (residual, gradient, ‖r‖²); each step two passes t_ω = B_{j(ω)}·p_{i(ω)} and
  (Aᵀq)_i = Σ_ω t_ω B_{j(ω)} plus updates, (2k + 3)·nnz + 3mk; the last step's gradient is never
  read, (k + 1)·nnz + 2mk fewer:  W_cg = Θ(s|Ω|k).
- sketch_precond(s, ε₀, c): applying the sketch to [A_i | b_i], nnz·(k+1)·s (Gaussian) or nnz·(k+1)
  (CountSketch); Householder QR of each s×(k+1) sketch and x₀ = R⁻¹y, Σ_{c<k}(s−c)(1 + 2(k−c)) + T
  = sk(k+2) − k(k−1)(2k+5)/6 + T; then L = ⌈c·log(1/ε₀)⌉ steps of CGLS preconditioned by R_i, which
  add T + k per row to the start, 2T + k per row to each step and to the skipped gradient:
  W_sketch = Θ(|Ω|k log(1/ε₀) + msk²) with CountSketch, i.e. Õ(|Ω|k) in MC1's regime
  |Ω| ≫ (m+n)k². A Gaussian sketch costs Θ(s|Ω|k) = Θ(|Ω|k²) to apply and loses the nearly-linear
  time; the paper's sketch type is not confirmed.

These are the counts the solvers (``solvers.matrix_completion``, numba backend) report, and the
formulas equal them exactly whenever every row is solved by the generic path: |Ω_i| ≥ k and a passed
condition guard (exact), all s or L steps taken (CG stops a row early at its floating-point floor,
which happens once the step count reaches the number of distinct singular values of A_i, at most k),
|Ω_i| > s and a full-rank sketch (sketch_precond).

**MC8, identifiability.** (i) Row i of any rank-k X = UVᵀ is u_iᵀVᵀ; given V, the |Ω_i| observed
entries are |Ω_i| linear equations in u_i ∈ R^k, so with |Ω_i| < k the solution set is an affine
space of dimension ≥ k − |Ω_i| > 0 and the row is undetermined (the same for columns).
(ii) The rank-k matrices form a smooth manifold of dimension k(m+n−k); the observation map to
R^{|Ω|} is smooth, so when |Ω| < k(m+n−k), i.e. r < 1, every fibre through a point of maximal rank of
the differential has positive dimension: infinitely many rank-k matrices fit the data, and no method
can identify M. (iii) *Spiky counterexample.* Let U* = [e₁, U′], V* = [e₁, V′] with U′, V′
orthonormal and vanishing on coordinate 1, and M = σ_s e₁e₁ᵀ + U′Σ′V′ᵀ. Row 1 and column 1 of M are
zero except M₁₁ = σ_s, so M and M′ = M − σ_s e₁e₁ᵀ differ only at (1, 1), and μ(U*) = √(m/k),
μ(V*) = √(n/k). When (1, 1) ∉ Ω the data of M and M′ coincide, so any method returns the same
output for both and succeeds on at most one of them: succ(M) + succ(M′) ≤ 1 + p for every method.
The sharper succ(M) ≤ p (:func:`spiky_success_bound`) holds for methods that cannot guess the hidden
spike; AltMin is one: when (1, 1) ∉ Ω every observed entry of row 1 is 0, so the row-1 regression
has b = 0, its exact (or min-norm) solution is 0 and X₁₁ = 0, an error of σ_s at (1, 1). Warm-started
CG on b = 0 contracts towards 0 in the same way. So for AltMin, success ⟹ (1, 1) ∈ Ω, which has
probability p; the spec's "at most p" is this algorithm-specific statement.

**MC9, exactness.** (i) With p = 1, P_Ω(M)/p = M, so the top-k SVD initialisation spans U* exactly:
U₀ = U*G for an orthogonal G. Its entries satisfy |(U₀)_{ij}| ≤ ‖(U₀)_{i,:}‖ = ‖U*_{i,:}‖ ≤ μ√(k/m)
< 2μ√(k/m), so trimming with the true μ removes nothing. The V-step regressions M_{:,j} ≈ U x are
consistent (range(M) = range(U*)), so Vf = MᵀU and U Vfᵀ = UUᵀM = M after one round. (ii) Replacing
the design B by BR with R invertible maps min_x ‖BRx − b‖ to min_y ‖By − b‖ through y = Rx, so the
solution becomes R⁻¹x and the prediction BR·R⁻¹x = Bx is unchanged. Hence the QR steps U, R = qr(Uf)
leave Uf·Vᵀ unchanged, and the warm start U·Rvᵀ rewrites the previous estimate in the new basis.

**Numerical forms (spec §7).** dist is computed as ‖W − U(UᵀW)‖₂, whose error is O(u·√m) in unit
roundoff u, instead of √(1 − σ_min(UᵀW)²), which loses everything below ≈ 1e-8. relF is computed from
factors: X − M = [Uf, −U*Σ*]·[V, V*]ᵀ = Q₁R₁R₂ᵀQ₂ᵀ, so ‖X − M‖_F = ‖R₁R₂ᵀ‖_F and ‖M‖_F = ‖σ*‖₂,
without forming an m×n matrix and without the cancellation of Gram-trace formulas.

References
----------
Y. Gu, Z. Song, J. Yin, L. Zhang, "Low Rank Matrix Completion via Robust Alternating Minimization in
Nearly Linear Time", arXiv:2302.11068, ICLR 2024 (and its public OpenReview reviews).
P. Jain, P. Netrapalli, S. Sanghavi, "Low-rank Matrix Completion using Alternating Minimization",
arXiv:1212.0467, STOC 2013, Theorem 2.
E. Candès, B. Recht, "Exact Matrix Completion via Convex Optimization", arXiv:0805.4471.
H. Weyl (1912); G.W. Stewart, J. Sun, *Matrix Perturbation Theory* (1990), §IV.4.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from theory._validate import as_count as _as_count
from theory._validate import as_float as _as_float
from theory._validate import as_matrix as _matrix
from theory._validate import scalar_or_array as _out
from theory.registry import Claim, ClaimKind, register

__all__ = [
    "CLAIMS",
    "MC1_CONSTANT",
    "MC1_KAPPA_EXPONENT",
    "MC1_KAPPA_EXPONENT_CANDIDATES",
    "MC1_K_EXPONENT",
    "MC2_CONTRACTION",
    "ORTHONORMAL_TOL",
    "ReconstructedConstant",
    "certified_accuracy",
    "certified_threshold",
    "condition_number",
    "degrees_of_freedom",
    "flops_cg",
    "flops_exact",
    "flops_sketch",
    "forward_error_bound",
    "forward_error_factor",
    "geometric_factor",
    "householder_flops",
    "incoherence",
    "incoherence_perturbation_bound",
    "mc1_exponents",
    "oversampling_ratio",
    "probability_for_ratio",
    "relative_error_factors",
    "sample_complexity",
    "sketch_steps",
    "spiky_success_bound",
    "subspace_distance",
    "undetermined_lines",
    "weyl_guard",
    "weyl_lower_bound",
]

GU_ET_AL = "Gu, Song, Yin, Zhang (ICLR 2024), arXiv:2302.11068"
JNS13 = "Jain, Netrapalli, Sanghavi (STOC 2013), arXiv:1212.0467"
DERIVED = "derived in theory.matrix_completion"

#: Largest entry of |UᵀU − I| accepted for an "orthonormal" U.
ORTHONORMAL_TOL: float = 1e-8


@dataclass(frozen=True)
class ReconstructedConstant:
    """A constant of a theorem whose value is not confirmed by the paper.

    Parameters
    ----------
    value
        The value used by default.
    confirmed
        Whether the value is confirmed by the paper's text (False for every constant here).
    note
        Where the value comes from and what the alternatives are.
    """

    value: float
    confirmed: bool = False
    note: str = ""


#: MC1: the exponent a of κ. The review summary gives 2; JNS13 Thm 2 with δ_{2k} ≤ 1/(12kκ) gives 4.
MC1_KAPPA_EXPONENT_CANDIDATES: tuple[int, ...] = (2, 4)
MC1_KAPPA_EXPONENT = ReconstructedConstant(
    2.0, note="public review summary Õ(κ²μ²nk^{4.5}); JNS13 Thm 2 with δ_{2k} ≤ σ_k/(12kσ₁) gives κ⁴")
#: MC1: the exponent b of k (both sources agree on 4.5; the paper's text is not confirmed).
MC1_K_EXPONENT = ReconstructedConstant(
    4.5, note="review summary k^{4.5}; JNS13 Thm 2: k^{2.5}·(12kκ)² = 144κ²k^{4.5}")
#: MC1: the absolute constant C (unknown; 1 is a placeholder, JNS13's form suggests ≳ 144).
MC1_CONSTANT = ReconstructedConstant(1.0, note="unknown absolute constant; placeholder value 1")
#: MC2: the per-half-step contraction of dist under MC1's hypotheses (JNS13).
MC2_CONTRACTION = ReconstructedConstant(0.25, note="JNS13: dist(V_{t+1}, V*) ≤ ¼·dist(U_t, U*)")


# ---------------------------------------------------------------- helpers
def _orthonormal(name: str, U: ArrayLike, tol: float) -> np.ndarray:
    arr = _matrix(name, U)
    m, k = arr.shape
    if not 1 <= k <= m:
        raise ValueError(f"{name} must have shape (m, k) with 1 ≤ k ≤ m, got {arr.shape}")
    err = float(np.max(np.abs(arr.T @ arr - np.eye(k))))
    if err > tol:
        raise ValueError(f"{name} must have orthonormal columns (max |UᵀU − I| ≤ {tol:g}), got {err:.3g}")
    return arr


# ---------------------------------------------------------------- §2: setting and error measures
def incoherence(U: ArrayLike, *, tol: float = ORTHONORMAL_TOL) -> float:
    r"""Incoherence μ(U) = √(m/k)·max_i ‖U_{i,:}‖₂ of an orthonormal U ∈ R^{m×k}.

    Parameters
    ----------
    U
        Orthonormal columns, shape (m, k) with 1 ≤ k ≤ m.
    tol
        Largest accepted entry of |UᵀU − I|. A non-orthonormal U raises (orthonormalise it first,
        e.g. ``np.linalg.qr(U)[0]``: μ is a property of the column space).

    Returns
    -------
    float
        μ(U) ∈ [1, √(m/k)] (up to ``tol``).

    References
    ----------
    Jain, Netrapalli, Sanghavi (2013), Definition 1; spec ``matrix_completion.md`` §2.
    """
    arr = _orthonormal("U", U, tol)
    m, k = arr.shape
    return float(math.sqrt(m / k) * np.sqrt(np.max(np.einsum("ij,ij->i", arr, arr))))


def condition_number(sigma: ArrayLike) -> float:
    """κ = σ_max/σ_min of positive singular values ``sigma`` (any order).

    References
    ----------
    Spec ``matrix_completion.md`` §2.
    """
    s = _as_float("sigma", sigma, above=0, why=" (singular values of a rank-k matrix)")
    if s.ndim != 1 or s.size < 1:
        raise ValueError(f"sigma must be a non-empty 1-D array, got shape {s.shape}")
    return float(s.max() / s.min())


def degrees_of_freedom(m: ArrayLike, n: ArrayLike, k: ArrayLike) -> float | np.ndarray:
    """k(m + n − k), the dimension of the manifold of rank-k m×n matrices (1 ≤ k ≤ min(m, n)).

    References
    ----------
    Spec ``matrix_completion.md`` §2 (oversampling ratio) and MC8.
    """
    m_a, n_a, k_a = _as_count("m", m), _as_count("n", n), _as_count("k", k)
    if np.any(k_a > np.minimum(m_a, n_a)):
        raise ValueError(f"k must satisfy k ≤ min(m, n), got m={m!r}, n={n!r}, k={k!r}")
    return _out(k_a * (m_a + n_a - k_a))


def oversampling_ratio(nnz: ArrayLike, m: ArrayLike, n: ArrayLike, k: ArrayLike) -> float | np.ndarray:
    """r = |Ω|/(k(m + n − k)); r < 1 means fewer samples than degrees of freedom (MC8).

    References
    ----------
    Spec ``matrix_completion.md`` §2.
    """
    nnz_a = _as_count("nnz", nnz, low=0)
    return _out(nnz_a / np.asarray(degrees_of_freedom(m, n, k)))


def probability_for_ratio(ratio: ArrayLike, m: ArrayLike, n: ArrayLike, k: ArrayLike) -> float | np.ndarray:
    """The sampling probability p = r·k(m + n − k)/(mn) whose expected |Ω| has oversampling ratio r.

    Raises
    ------
    ValueError
        If r < 0 or the resulting p exceeds 1 (r too large for the shape).
    """
    r = _as_float("ratio", ratio, at_least=0)
    p = r * np.asarray(degrees_of_freedom(m, n, k)) / (np.asarray(m, dtype=float) * np.asarray(n, dtype=float))
    if np.any(p > 1):
        raise ValueError(f"ratio must give p = r·k(m+n−k)/(mn) ≤ 1, got ratio={ratio!r} (p = {p!r})")
    return _out(p)


def subspace_distance(U: ArrayLike, W: ArrayLike, *, tol: float = ORTHONORMAL_TOL) -> float:
    r"""dist(U, W) = ‖(I − UUᵀ)W‖₂ = ‖W − U(UᵀW)‖₂, the sine of the largest principal angle.

    Parameters
    ----------
    U, W
        Orthonormal columns, shapes (m, k) and (m, k′).
    tol
        Orthonormality tolerance (see :func:`incoherence`).

    Returns
    -------
    float
        In [0, 1]. Accurate to O(u√m) (u the unit roundoff) also for tiny distances, unlike
        √(1 − σ_min(UᵀW)²), which loses all accuracy below ≈ 1e-8 (spec §7).

    References
    ----------
    Spec ``matrix_completion.md`` §2 and §7; Golub & Van Loan, *Matrix Computations*, §2.5.3.
    """
    U_a = _orthonormal("U", U, tol)
    W_a = _orthonormal("W", W, tol)
    if U_a.shape[0] != W_a.shape[0]:
        raise ValueError(f"U and W must have the same number of rows, got {U_a.shape} and {W_a.shape}")
    return float(np.linalg.norm(W_a - U_a @ (U_a.T @ W_a), 2))


def relative_error_factors(Uf: ArrayLike, V: ArrayLike, U_star: ArrayLike, sigma_star: ArrayLike,
                           V_star: ArrayLike) -> float:
    r"""relF(X) = ‖X − M‖_F/‖M‖_F for X = Uf·Vᵀ and M = U*Σ*V*ᵀ, without forming an m×n matrix.

    Writes X − M = [Uf, −U*Σ*]·[V, V*]ᵀ, takes the QR factors L = Q₁R₁ and R = Q₂R₂ and returns
    ‖R₁R₂ᵀ‖_F/‖σ*‖₂ (spec §7), in O((m + n)k²) work and without the cancellation of Gram traces.

    Parameters
    ----------
    Uf, V
        The estimate's factors, shapes (m, k′) and (n, k′) (V need not be orthonormal).
    U_star, sigma_star, V_star
        The truth: orthonormal (m, k) and (n, k) factors and k positive singular values.

    Returns
    -------
    float
        relF ≥ 0.

    References
    ----------
    Spec ``matrix_completion.md`` §2 (relF) and §7.
    """
    Uf_a, V_a = _matrix("Uf", Uf), _matrix("V", V)
    Us, Vs = _matrix("U_star", U_star), _matrix("V_star", V_star)
    s = _as_float("sigma_star", sigma_star, above=0)
    if s.ndim != 1:
        raise ValueError(f"sigma_star must be 1-D, got shape {s.shape}")
    k = s.size
    if Us.shape[1] != k or Vs.shape[1] != k:
        raise ValueError(f"U_star, V_star must have k = len(sigma_star) = {k} columns, got {Us.shape}, {Vs.shape}")
    if Uf_a.shape[0] != Us.shape[0] or V_a.shape[0] != Vs.shape[0] or Uf_a.shape[1] != V_a.shape[1]:
        raise ValueError(f"Uf (m, k′) and V (n, k′) must match U_star (m, k) and V_star (n, k); got Uf {Uf_a.shape},"
                         f" V {V_a.shape}, U_star {Us.shape}, V_star {Vs.shape}")
    left = np.hstack([Uf_a, -Us * s])
    right = np.hstack([V_a, Vs])
    R1 = np.linalg.qr(left, mode="r")
    R2 = np.linalg.qr(right, mode="r")
    return float(np.linalg.norm(R1 @ R2.T) / np.linalg.norm(s))


# ---------------------------------------------------------------- MC1 and MC2
def sample_complexity(mu: ArrayLike, kappa: ArrayLike, n: ArrayLike, k: ArrayLike, eps: ArrayLike,
                      norm_M: ArrayLike, *, a: float = MC1_KAPPA_EXPONENT.value, b: float = MC1_K_EXPONENT.value,
                      C: float = MC1_CONSTANT.value) -> float | np.ndarray:
    r"""MC1's sample requirement C·κ^a μ² n k^b log n · log(‖M‖_F/ε) (constants not confirmed).

    Parameters
    ----------
    mu
        Incoherence μ ≥ 1.
    kappa
        Condition number κ ≥ 1.
    n
        The larger dimension (n ≥ m), n ≥ 2 so that log n > 0.
    k
        Rank, k ≥ 1.
    eps
        Target accuracy ‖M − X_T‖_F ≤ ε, with 0 < ε < ‖M‖_F.
    norm_M
        ‖M‖_F > 0.
    a, b, C
        The reconstructed exponents and constant (:data:`MC1_KAPPA_EXPONENT`, candidates
        :data:`MC1_KAPPA_EXPONENT_CANDIDATES`; :data:`MC1_K_EXPONENT`; :data:`MC1_CONSTANT`).

    Returns
    -------
    float or ndarray
        The |Ω| the theorem asks for. It is far above the empirical threshold (a loose bound).

    References
    ----------
    Gu, Song, Yin, Zhang (2024), main theorem; Jain, Netrapalli, Sanghavi (2013), Theorem 2;
    reconstruction in :mod:`theory.matrix_completion` (MC1).
    """
    mu_a = _as_float("mu", mu, at_least=1)
    kappa_a = _as_float("kappa", kappa, at_least=1)
    n_a = _as_count("n", n, low=2)
    k_a = _as_count("k", k)
    nM = _as_float("norm_M", norm_M, above=0)
    eps_a = _as_float("eps", eps, above=0)
    if np.any(eps_a >= nM):
        raise ValueError(f"eps must be < norm_M (so that log(‖M‖_F/ε) > 0), got eps={eps!r}, norm_M={norm_M!r}")
    a_ = float(_as_float("a", a, at_least=0))
    b_ = float(_as_float("b", b, at_least=0))
    C_ = float(_as_float("C", C, above=0))
    return _out(C_ * kappa_a**a_ * mu_a**2 * n_a * k_a**b_ * np.log(n_a) * np.log(nM / eps_a))


def mc1_exponents() -> dict[str, float | tuple[int, ...]]:
    """The theorem's exponents of the |Ω| threshold, for reporting beside fitted ones (never asserted).

    Returns
    -------
    dict
        ``{"k": 4.5, "kappa": 2.0, "kappa_candidates": (2, 4), "n": 1.0}`` (the n exponent up to log n).
    """
    return {"k": MC1_K_EXPONENT.value, "kappa": MC1_KAPPA_EXPONENT.value,
            "kappa_candidates": MC1_KAPPA_EXPONENT_CANDIDATES, "n": 1.0}


def geometric_factor(half_steps: int = 1) -> float:
    """MC2's contraction (¼)^half_steps of dist under exact solves; a full round is 2 half-steps (1/16).

    References
    ----------
    Jain, Netrapalli, Sanghavi (2013), Lemmas 4.5-4.6 (reconstructed, see MC2 in the module docstring).
    """
    if isinstance(half_steps, bool) or not isinstance(half_steps, int | np.integer):
        raise TypeError(f"half_steps must be an integer, got {type(half_steps).__name__}")
    if half_steps < 0:
        raise ValueError(f"half_steps must be ≥ 0, got {half_steps}")
    return MC2_CONTRACTION.value ** int(half_steps)


# ---------------------------------------------------------------- MC4: forward error, certified rule
def forward_error_factor(eps0: ArrayLike, *, sharp: bool = False) -> float | np.ndarray:
    r"""The factor δ in ‖x′ − x*‖ ≤ δ·‖z*‖/σ_min(A) for an ε₀-accurate x′ (MC4).

    δ = √(3ε₀) (needs 0 ≤ ε₀ ≤ 1), or with ``sharp=True`` δ = √(ε₀(2 + ε₀)) (any ε₀ ≥ 0, attained).
    ``inject(δ, 0)`` uses δ = √(3ε₀).
    """
    e = _as_float("eps0", eps0, at_least=0)
    if sharp:
        return _out(np.sqrt(e * (2.0 + e)))
    if np.any(e > 1):
        raise ValueError(f"eps0 must be ≤ 1 for the √(3ε₀) form (use sharp=True beyond), got {eps0!r}")
    return _out(np.sqrt(3.0 * e))


def forward_error_bound(eps0: ArrayLike, residual_norm: ArrayLike, sigma_min: ArrayLike, *,
                        sharp: bool = False) -> float | np.ndarray:
    r"""MC4: an ε₀-accurate x′ satisfies ‖x′ − x*‖ ≤ √(3ε₀)·‖Ax* − b‖/σ_min(A).

    Parameters
    ----------
    eps0
        Relative accuracy, 0 ≤ ε₀ ≤ 1 (any ε₀ ≥ 0 with ``sharp=True``).
    residual_norm
        The optimal residual ‖z*‖ = ‖Ax* − b‖ ≥ 0.
    sigma_min
        σ_min(A) > 0 (A of full column rank), or any positive lower bound of it.
    sharp
        Use √(ε₀(2 + ε₀)) instead of √(3ε₀).

    Returns
    -------
    float or ndarray
        The bound on the forward error ‖x′ − x*‖.

    References
    ----------
    Gu, Song, Yin, Zhang (2024), forward-error lemma (form reconstructed); proof in
    :mod:`theory.matrix_completion` (MC4).
    """
    factor = np.asarray(forward_error_factor(eps0, sharp=sharp))
    z = _as_float("residual_norm", residual_norm, at_least=0)
    s = _as_float("sigma_min", sigma_min, above=0, why=" (A must have full column rank)")
    return _out(factor * z / s)


def certified_threshold(eps0: ArrayLike) -> float | np.ndarray:
    """1 − (1 + ε₀)⁻² = ε₀(2 + ε₀)/(1 + ε₀)², the right-hand factor of the certified stopping rule."""
    e = _as_float("eps0", eps0, above=0)
    return _out(e * (2.0 + e) / (1.0 + e) ** 2)


def certified_accuracy(normal_residual_norm: ArrayLike, sigma_min: ArrayLike, residual_norm: ArrayLike,
                       eps0: ArrayLike) -> bool | np.ndarray:
    r"""The certified stopping rule: ‖Aᵀz‖²/σ_min(A)² ≤ (1 − (1 + ε₀)⁻²)‖z‖² ⟹ x is ε₀-accurate.

    Parameters
    ----------
    normal_residual_norm
        ‖Aᵀz‖ with z = Ax − b the current residual.
    sigma_min
        σ_min(A) > 0, or any positive lower bound of it.
    residual_norm
        ‖z‖.
    eps0
        Target relative accuracy ε₀ > 0.

    Returns
    -------
    bool or ndarray of bool
        True where the rule certifies ‖z‖ ≤ (1 + ε₀)‖z*‖ (broadcast over array inputs).

    References
    ----------
    Spec ``matrix_completion.md`` §3.2; proof in :mod:`theory.matrix_completion`.
    """
    g = _as_float("normal_residual_norm", normal_residual_norm, at_least=0)
    s = _as_float("sigma_min", sigma_min, above=0, why=" (A must have full column rank)")
    z = _as_float("residual_norm", residual_norm, at_least=0)
    thr = np.asarray(certified_threshold(eps0))
    ok = (g / s) ** 2 <= thr * z**2
    return bool(ok) if np.ndim(ok) == 0 else ok


# ---------------------------------------------------------------- MC5, MC6: perturbation
def weyl_lower_bound(sigma_min_A: ArrayLike, perturbation_norm: ArrayLike) -> float | np.ndarray:
    """Weyl: σ_min(B) ≥ max(σ_min(A) − ‖A − B‖₂, 0) for A, B ∈ R^{N×k}, N ≥ k.

    References
    ----------
    H. Weyl (1912); Stewart & Sun (1990), Cor. IV.4.9; spec MC5.
    """
    s = _as_float("sigma_min_A", sigma_min_A, at_least=0)
    d = _as_float("perturbation_norm", perturbation_norm, at_least=0)
    return _out(np.maximum(s - d, 0.0))


def weyl_guard(sigma_min_A: ArrayLike, perturbation_norm: ArrayLike) -> bool | np.ndarray:
    """MC5: whether ‖A − B‖₂ ≤ σ_min(A)/2, which guarantees σ_min(B) ≥ σ_min(A)/2.

    The factor ½ is needed: ‖A − B‖₂ ≤ σ_min(A) alone allows σ_min(B) = 0 (module docstring, MC5).

    References
    ----------
    Gu, Song, Yin, Zhang (2024) (the guard as corrected after the public reviews); spec MC5.
    """
    s = _as_float("sigma_min_A", sigma_min_A, at_least=0)
    d = _as_float("perturbation_norm", perturbation_norm, at_least=0)
    ok = d <= 0.5 * s
    return bool(ok) if np.ndim(ok) == 0 else ok


def incoherence_perturbation_bound(mu_A: ArrayLike, sigma_max_A: ArrayLike, sigma_min_A: ArrayLike,
                                   perturbation_norm: ArrayLike, max_row_perturbation: ArrayLike,
                                   m: ArrayLike, k: ArrayLike) -> float | np.ndarray:
    r"""MC6: μ(Q_B) ≤ [μ_A σ_max(A) + √(m/k)·max_i‖e_iᵀ(B − A)‖] / (σ_min(A) − ‖B − A‖₂).

    Parameters
    ----------
    mu_A
        μ of the column space of A ∈ R^{m×k} (μ(Q_A)), ≥ 1.
    sigma_max_A, sigma_min_A
        Extreme singular values of A, σ_max ≥ σ_min > 0.
    perturbation_norm
        ‖B − A‖₂, which must be < σ_min(A).
    max_row_perturbation
        max_i ‖e_iᵀ(B − A)‖₂ (≤ ‖B − A‖₂).
    m, k
        The shape of A, 1 ≤ k ≤ m.

    Returns
    -------
    float or ndarray
        The bound on the incoherence of the Q factor of B (it may exceed the trivial √(m/k)).

    References
    ----------
    Gu, Song, Yin, Zhang (2024), incoherence-perturbation lemma (exact form not confirmed); proof in
    :mod:`theory.matrix_completion` (MC6).
    """
    mu = _as_float("mu_A", mu_A, at_least=1)
    smax = _as_float("sigma_max_A", sigma_max_A, above=0)
    smin = _as_float("sigma_min_A", sigma_min_A, above=0)
    if np.any(smax < smin):
        raise ValueError(f"sigma_max_A must be ≥ sigma_min_A, got {sigma_max_A!r} < {sigma_min_A!r}")
    d = _as_float("perturbation_norm", perturbation_norm, at_least=0)
    if np.any(d >= smin):
        raise ValueError(f"perturbation_norm must be < sigma_min_A (so that B keeps full column rank), "
                         f"got {perturbation_norm!r} ≥ {sigma_min_A!r}")
    row = _as_float("max_row_perturbation", max_row_perturbation, at_least=0)
    m_a, k_a = _as_count("m", m), _as_count("k", k)
    if np.any(k_a > m_a):
        raise ValueError(f"k must be ≤ m, got m={m!r}, k={k!r}")
    return _out((mu * smax + np.sqrt(m_a / k_a) * row) / (smin - d))


# ---------------------------------------------------------------- MC7: cost model
def _tri(k: np.ndarray) -> np.ndarray:
    return k * (k + 1) / 2


def flops_exact(nnz: ArrayLike, m: ArrayLike, k: ArrayLike) -> float | np.ndarray:
    r"""MC7: multiply-adds of one exact (Cholesky) half-step solving m row regressions over nnz entries.

    W = nnz·(T + k) + m·(k(k+1)(k+2)/6 + T + 2(k(k+1) + 2k) + k(k+1)), T = k(k+1)/2: the Gram stacks
    and right-hand sides, Cholesky, tr(G_i), the two inverse iterations of the condition estimate, and
    the two triangular solves. Θ(|Ω|k² + mk³).

    Parameters
    ----------
    nnz
        |Ω| (the observed entries used by this half-step).
    m
        Number of row regressions solved (m for a U-step, n for a V-step).
    k
        Rank.

    Notes
    -----
    Equal to the ``flops`` of ``solvers.matrix_completion.exact()`` on the numba backend when every row
    has |Ω_i| ≥ k and passes the condition guard (the other rows take the SVD path, counted by a model).

    References
    ----------
    Jain, Netrapalli, Sanghavi (2013) (Õ(|Ω|k²) per pass); count in :mod:`theory.matrix_completion` (MC7).
    """
    nnz_a, m_a, k_a = _as_count("nnz", nnz, low=0), _as_count("m", m), _as_count("k", k)
    T = _tri(k_a)
    per_row = k_a * (k_a + 1) * (k_a + 2) / 6 + T + 2 * (k_a * (k_a + 1) + 2 * k_a) + k_a * (k_a + 1)
    return _out(nnz_a * (T + k_a) + m_a * per_row)


def _pcgls_total(nnz: np.ndarray, m: np.ndarray, n: np.ndarray, k: np.ndarray, steps: np.ndarray,
                 precond: bool) -> np.ndarray:
    """The (P)CGLS work on m rows (design of n rows) when every row takes all ``steps`` steps."""
    T = _tri(k) if precond else 0.0
    extra = k if precond else 0.0
    start = (2 * k + 2) * nnz + m * (k + T + extra) + n * k  # n·k: the squared row norms of the design
    step = (2 * k + 3) * nnz + m * (3 * k + 2 * T + extra)
    skipped = np.where(steps >= 1, (k + 1) * nnz + m * (2 * k + T + extra), 0.0)  # the last gradient
    return start + steps * step - skipped


def flops_cg(nnz: ArrayLike, k: ArrayLike, steps: ArrayLike, m: ArrayLike, n: ArrayLike) -> float | np.ndarray:
    r"""MC7: multiply-adds of one warm-started CGLS half-step: s = ``steps`` steps on m rows, design n×k.

    W = nk + (2k + 2)·nnz + mk + s·((2k + 3)·nnz + 3mk) − [s ≥ 1]·((k + 1)·nnz + 2mk): the squared row
    norms of the design, the start (residual, gradient, ‖r‖²), s steps (two passes and the updates),
    less the last step's unread gradient. Θ(s|Ω|k).

    Parameters
    ----------
    nnz
        |Ω| used by this half-step.
    k
        Rank.
    steps
        CG steps s ≥ 0 taken by every row.
    m
        Number of row regressions (m for a U-step, n for a V-step).
    n
        Rows of the design B (n for a U-step, m for a V-step).

    Notes
    -----
    Equal to the ``flops`` of ``solvers.matrix_completion.cg(steps)`` (``tol=None``, numba backend)
    when every row takes all s steps: no row reaches its floating-point floor or a zero denominator,
    which in practice needs s < k (CG on a k×k system converges in at most k steps).

    References
    ----------
    Gu, Song, Yin, Zhang (2024) (Θ(s|Ω|k)); count in :mod:`theory.matrix_completion` (MC7).
    """
    nnz_a, k_a = _as_count("nnz", nnz, low=0), _as_count("k", k)
    m_a, n_a = _as_count("m", m), _as_count("n", n)
    s = _as_count("steps", steps, low=0)
    return _out(_pcgls_total(nnz_a, m_a, n_a, k_a, s, precond=False))


def sketch_steps(eps0: ArrayLike, c: ArrayLike = 1.0) -> float | np.ndarray:
    """L = ⌈c·log(1/ε₀)⌉ preconditioned CG steps of ``sketch_precond`` (0 < ε₀ ≤ 1, c > 0)."""
    e = _as_float("eps0", eps0, above=0, at_most=1)
    c_a = _as_float("c", c, above=0)
    return _out(np.ceil(c_a * np.log(1.0 / e)))


def householder_flops(s: ArrayLike, k: ArrayLike) -> float | np.ndarray:
    """Householder QR of an s×(k+1) sketch [S_iA_i | S_ib_i] and x₀ = R⁻¹y: Σ_{c<k}(s−c)(1 + 2(k−c)) + k(k+1)/2.

    In closed form Σ_{c<k}(s − c)(1 + 2(k − c)) = sk(k+2) − k(k−1)(2k+5)/6 ≈ sk² − k³/3 multiply-adds.
    """
    s_a, k_a = _as_count("s", s), _as_count("k", k)
    if np.any(s_a < k_a):
        raise ValueError(f"s must be ≥ k (a sketch with at least k rows), got s={s!r}, k={k!r}")
    return _out(s_a * k_a * (k_a + 2) - k_a * (k_a - 1) * (2 * k_a + 5) / 6 + _tri(k_a))


def flops_sketch(nnz: ArrayLike, m: ArrayLike, n: ArrayLike, k: ArrayLike, s: ArrayLike, eps0: ArrayLike,
                 c: ArrayLike = 1.0, *, sketch: str = "gaussian") -> float | np.ndarray:
    r"""MC7: multiply-adds of one ``sketch_precond`` half-step on m rows with an n×k design.

    With L = ⌈c·log(1/ε₀)⌉ and T = k(k+1)/2: applying the sketch to [A_i | b_i], nnz·(k+1)·s
    (Gaussian) or nnz·(k+1) (CountSketch); the QR and x₀, m·:func:`householder_flops` (s, k); then
    L steps of CGLS preconditioned by R_i: nk + (2k + 2)·nnz + m(2k + T) to start,
    (2k + 3)·nnz + m(4k + 2T) per step, less (k + 1)·nnz + m(3k + T) for the last step's unread
    gradient. With CountSketch this is Θ(|Ω|k log(1/ε₀) + m·sk²) = Õ(|Ω|k); the Gaussian sketch costs
    Θ(s|Ω|k) = Θ(|Ω|k²) to apply. A round is ``flops_sketch(nnz, m, n, …) + flops_sketch(nnz, n, m, …)``.

    Parameters
    ----------
    nnz
        |Ω| used by this half-step.
    m
        Number of row regressions (m for a U-step, n for a V-step).
    n
        Rows of the design B (n for a U-step, m for a V-step).
    k
        Rank.
    s
        Sketch rows, s = s_factor·k ≥ k.
    eps0, c
        Target accuracy 0 < ε₀ ≤ 1 and steps per log(1/ε₀).
    sketch
        ``"gaussian"`` (the solver's default) or ``"countsketch"``.

    Notes
    -----
    Equal to the ``flops`` of ``solvers.matrix_completion.sketch_precond(s_factor, sketch, eps0, c)``
    (numba backend, no certificate) when every row has more than s entries, every sketch has full rank
    and every row takes all L steps (in practice L < k; rows with |Ω_i| ≤ s are solved exactly instead).

    References
    ----------
    Gu, Song, Yin, Zhang (2024) (Õ(|Ω|k)); Rokhlin & Tygert (2008); count in
    :mod:`theory.matrix_completion` (MC7).
    """
    if sketch not in ("gaussian", "countsketch"):
        raise ValueError(f"sketch must be 'gaussian' or 'countsketch', got {sketch!r}")
    nnz_a, m_a, n_a = _as_count("nnz", nnz, low=0), _as_count("m", m), _as_count("n", n)
    k_a, s_a = _as_count("k", k), _as_count("s", s)
    L = np.asarray(sketch_steps(eps0, c))
    apply = nnz_a * (k_a + 1) * (s_a if sketch == "gaussian" else 1.0)
    qr = m_a * np.asarray(householder_flops(s_a, k_a))
    return _out(apply + qr + _pcgls_total(nnz_a, m_a, n_a, k_a, L, precond=True))


# ---------------------------------------------------------------- MC8
def undetermined_lines(counts: ArrayLike, k: int) -> int:
    """MC8(i): how many rows (or columns) have fewer than k observed entries (each is undetermined)."""
    c = _as_count("counts", counts, low=0)
    k_a = int(_as_count("k", k))
    return int(np.count_nonzero(c < k_a))


def spiky_success_bound(p: ArrayLike) -> float | np.ndarray:
    """MC8(iii): AltMin's success probability on the spiky instance is at most p = P((1,1) ∈ Ω).

    For an arbitrary method only succ(M) + succ(M − σe₁e₁ᵀ) ≤ 1 + p holds (module docstring, MC8).

    References
    ----------
    Candès & Recht (2009), §1.1 (the coherent example); spec MC8.
    """
    return _out(_as_float("p", p, at_least=0, at_most=1))


CLAIMS = (
    Claim("matrix_completion.main_theorem",
          "μ-incoherent rank-k M, |Ω| ≥ C·κ^a μ² n k^b log n·log(‖M‖_F/ε), ε₀-accurate solves: ‖M − X_T‖_F ≤ ε "
          "after T = O(log(‖M‖_F/ε)) rounds in Õ(|Ω|k) time (a ∈ {2, 4}, b = 4.5, C unconfirmed); checked: "
          "success monotone in r, fitted threshold exponents reported beside a and b",
          f"{GU_ET_AL}, main theorem; {JNS13}, Thm 2; constants reconstructed ({DERIVED})", ClaimKind.RATE,
          (sample_complexity, oversampling_ratio), reconstructed=True),
    Claim("matrix_completion.geometric_convergence",
          "exact solves under MC1: dist(V_{t+1}, V*) ≤ ¼·dist(U_t, U*) (and for U); checked per run: fitted "
          "per-round factor q < 1 and relF < 1e-8 within T rounds",
          f"{JNS13} (reconstructed, {DERIVED})", ClaimKind.PER_RUN, (geometric_factor,), reconstructed=True),
    Claim("matrix_completion.robustness",
          "relative solve errors (inject(δ, 0), warm cg(s ≥ 2)) keep geometric convergence with no floor, q "
          "growing with δ; absolute errors η give a relF plateau ∝ η (log-log slope 1 ± 0.2)",
          f"{GU_ET_AL}, thesis; quantitative form reconstructed ({DERIVED})", ClaimKind.RATE,
          (forward_error_factor,), reconstructed=True),
    Claim("matrix_completion.forward_error",
          "‖Ax′ − b‖ ≤ (1+ε₀)‖Ax* − b‖, ε₀ ≤ 1 ⟹ ‖x′ − x*‖ ≤ √(3ε₀)‖Ax* − b‖/σ_min(A); and "
          "‖Aᵀz‖²/σ_min(A)² ≤ (1 − (1+ε₀)⁻²)‖z‖² ⟹ ε₀-accuracy (certified stopping rule)",
          f"{GU_ET_AL}, forward-error lemma (norm form reconstructed); proof {DERIVED}", ClaimKind.PER_RUN,
          (forward_error_bound, certified_accuracy), reconstructed=True),
    Claim("matrix_completion.weyl_guard",
          "σ_min(B) ≥ σ_min(A) − ‖A − B‖₂, so ‖A − B‖₂ ≤ σ_min(A)/2 ⟹ σ_min(B) ≥ σ_min(A)/2 (the factor ½ "
          "is needed)",
          f"Weyl (1912); {GU_ET_AL} (guard with ½ as corrected, {DERIVED})", ClaimKind.PER_RUN,
          (weyl_lower_bound, weyl_guard), reconstructed=True),
    Claim("matrix_completion.incoherence_perturbation",
          "‖B − A‖₂ < σ_min(A) ⟹ μ(Q_B) ≤ [μ_A σ_max(A) + √(m/k)·max_i‖e_iᵀ(B − A)‖]/(σ_min(A) − ‖B − A‖₂)",
          f"{GU_ET_AL}, incoherence-perturbation lemma (exact form not confirmed); proof {DERIVED}",
          ClaimKind.PER_RUN, (incoherence_perturbation_bound, incoherence), reconstructed=True),
    Claim("matrix_completion.cost_model",
          "operation counts per half-step (m rows, n×k design, T = k(k+1)/2): exact nnz(T + k) + m(k(k+1)(k+2)/6 "
          "+ T + 3k² + 7k); cg(s) Θ(s·nnz·k); sketch_precond Θ(nnz·k·(s or 1) + m·sk² + L·nnz·k), L = ⌈c log(1/ε₀)⌉; "
          "the solvers' counts equal these exactly on the generic path; time exponent in k ≈ 2 (exact) vs ≈ 1 "
          "(approximate) in the benchmark",
          f"{GU_ET_AL} (Õ(|Ω|k)); {JNS13} (Õ(|Ω|k²)); counts {DERIVED}", ClaimKind.IDENTITY,
          (flops_exact, flops_cg, flops_sketch, sketch_steps), reconstructed=True),
    Claim("matrix_completion.identifiability",
          "a row/column with < k observed entries is undetermined; r < 1 is not identifiable; spiky M = "
          "σe₁e₁ᵀ + …: M and M − σe₁e₁ᵀ differ only at (1,1), so AltMin's success rate ≤ p (binomial margin)",
          f"Candès & Recht (2009), §1.1; {DERIVED}", ClaimKind.EXPECTATION,
          (spiky_success_bound, undetermined_lines, degrees_of_freedom)),
    Claim("matrix_completion.exactness",
          "p = 1 with exact solves: one round returns M to machine precision and trimming with the true μ "
          "removes nothing; design B → BR maps x → R⁻¹x, so the QR steps leave Uf·Vᵀ unchanged",
          DERIVED, ClaimKind.IDENTITY),
)

register(*CLAIMS)
