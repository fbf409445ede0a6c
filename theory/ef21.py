r"""EF21, EF21-W and error feedback under contractive compression: the claims as pure functions.

Setting (spec ``ef21.md`` §2). n clients hold f_i, f = (1/n)Σ_i f_i on R^d, f_i is L_i-smooth, f is
L-smooth and f ≥ f^inf > −∞; the claims use a valid lower bound f_low ≤ f^inf. The smoothness means are

    L_AM = (1/n)Σ_i L_i,   L_QM = √((1/n)Σ_i L_i²),   L_var = L_QM² − L_AM²,   H = L_QM/L_AM.

A compressor C is α-contractive (0 < α ≤ 1) if E‖C(v) − v‖² ≤ (1−α)‖v‖² for all v. TopK is
deterministic with α = K/d; unscaled RandK has α = K/d in expectation; scaled RandK (d/K)v_S has
E‖C(v) − v‖² = (d/K − 1)‖v‖², i.e. α = 2 − d/K, contractive only for K > d/2. EF21 keeps g_i^t and sends
c_i^t = C(∇f_i(x^{t+1}) − g_i^t); the server steps x^{t+1} = x^t − γg^t with g^t = (1/n)Σ_i g_i^t. The
errors tracked by the claims are

    G^t   = (1/n)Σ_i ‖g_i^t − ∇f_i(x^t)‖²                           (EF21, claim 4),
    G_W^t = Σ_i w_i ‖g_i^t − ∇f_i(x^t)/(n w_i)‖²,  w_i = L_i/Σ_j L_j  (EF21-W, claim 5),
    G̃^t   = (1/n)Σ_i (L_AM/L_i)‖g_i^t − ∇f_i(x^t)‖²                 (EF21 with the L_AM step, claim 6).

Derivations
-----------
**Claim 2, the constants.** Young's inequality ‖a + b‖² ≤ (1+s)‖a‖² + (1+1/s)‖b‖² (s > 0) applied to
the innovation v = ∇f_i(x^{t+1}) − g_i^t = (∇f_i(x^t) − g_i^t) + (∇f_i(x^{t+1}) − ∇f_i(x^t)) gives, for
every s > 0,

    ‖g_i^{t+1} − ∇f_i(x^{t+1})‖² = ‖C(v) − v‖² ≤ (1−α)‖v‖²
                                  ≤ (1−α)(1+s)‖g_i^t − ∇f_i(x^t)‖² + (1−α)(1+1/s)L_i²‖x^{t+1} − x^t‖²,

i.e. the contraction 1 − θ(s) = (1−α)(1+s) and the amplification β(s) = (1−α)(1+1/s), which needs
s < α/(1−α) for θ(s) > 0. The step size below depends on the constants only through β/θ. Write
q = 1 − α and u = 1 + s ∈ (1, 1/q); then β/θ = qu/((u−1)(1 − qu)) and

    d/du log(β/θ) = 1/u − 1/(u−1) + q/(1 − qu) = (qu² − 1)/(u(u−1)(1 − qu)),

which vanishes at u = 1/√q, a minimum. So the optimal Young parameter is s = 1/√(1−α) − 1, and

    1 − θ = (1−α)(1+s) = √(1−α)                 ⇒ θ = 1 − √(1−α) = α/(1 + √(1−α)),
    β = (1−α)(1+1/s) = (1−α)/(1 − √(1−α))       = (1−α)(1 + √(1−α))/α,
    ξ = √(β/θ) = √(1−α)/(1 − √(1−α))            = (√(1−α) + 1 − α)/α.

The right-hand forms avoid the cancellation in 1 − √(1−α) for small α and are what the code evaluates.
Since √(1−α) ≤ 1, ξ ≤ (2 − α)/α = 2/α − 1 (strict for α > 0). For Top1, α = 1/d and
ξ = d√(1 − 1/d) + d − 1. The series √(1−x) = 1 − x/2 − Σ_{k≥2} c_k x^k has c_k > 0 with Σ_{k≥2} c_k = ½
(evaluate at x = 1), so for x = 1/d, 1 − x/2 − x²/2 ≤ √(1−x) ≤ 1 − x/2 − x²/8, hence

    1/(8d) ≤ (2d − 3/2) − ξ ≤ 1/(2d),   and d·((2d − 3/2) − ξ) → 1/8.

At α = 1 (no compression) θ = 1, β = ξ = 0, s = ∞, the step is 1/L and EF21 with g_i^0 = ∇f_i(x^0) is GD.

**Claim 3, the means.** ‖∇f(x) − ∇f(y)‖ ≤ (1/n)Σ_i‖∇f_i(x) − ∇f_i(y)‖ ≤ L_AM‖x − y‖, so f is
L_AM-smooth and its best constant is L ≤ L_AM; the L of our problems, λ_max of the mean of the
curvature bounds, satisfies it because λ_max is subadditive. L_AM ≤ L_QM is Jensen (L_var ≥ 0). Finally
L_QM² = (1/n)ΣL_i² ≤ (1/n)(ΣL_i)² = nL_AM², with equality only if a single L_i is non-zero; with
every L_i > 0 and n ≥ 2 the inequality is strict, so H ∈ [1, √n) (H = 1 = √n for n = 1).

**Claim 4, the descent lemma.** L-smoothness and x^{t+1} − x^t = −γg^t give, with
2⟨a, b⟩ = ‖a‖² + ‖b‖² − ‖a − b‖²,

    f(x^{t+1}) ≤ f(x^t) − (γ/2)‖∇f(x^t)‖² − (1/(2γ) − L/2)‖x^{t+1} − x^t‖² + (γ/2)‖g^t − ∇f(x^t)‖².

Jensen gives ‖g^t − ∇f(x^t)‖² = ‖(1/n)Σ_i(g_i^t − ∇f_i(x^t))‖² ≤ G^t, and averaging the per-client
recursion of claim 2 gives G^{t+1} ≤ (1−θ)G^t + βL_QM²‖x^{t+1} − x^t‖² (with TopK this holds on every
run; with RandK in conditional expectation). For Ψ^t = f(x^t) − f_low + (γ/(2θ))G^t,

    Ψ^{t+1} ≤ Ψ^t − (γ/2)‖∇f(x^t)‖² − (1/(2γ))(1 − γL − γ²(β/θ)L_QM²)‖x^{t+1} − x^t‖².

With a := (β/θ)L_QM² and γ ≤ 1/(L + √a): 1/γ − L ≥ √a ≥ γa (as γ√a ≤ 1), so the last bracket is ≥ 0
and Ψ^{t+1} ≤ Ψ^t − (γ/2)‖∇f(x^t)‖² (the per-step claim ``ef21.lyapunov_descent``). That is the
step γ ≤ γ_QM = 1/(L + L_QM ξ). Summing over t < T and Ψ^T ≥ 0 give

    (1/T)Σ_{t<T}‖∇f(x^t)‖² ≤ 2Ψ^0/(γT) = 2(f(x^0) − f_low)/(γT) + G^0/(θT),

and the minimum over t < T is at most the average. G^0 = 0 for g_i^0 = ∇f_i(x^0) and
G^0 = (1/n)Σ‖∇f_i(x^0)‖² for g_i^0 = 0.

**Claim 5, EF21-W (reconstructed).** Let φ_i = f_i/(n w_i) = (L_AM/L_i)f_i. Then Σ_i w_iφ_i = f and each
φ_i is L_AM-smooth. EF21-W is EF21 on the φ_i with weighted aggregation g^t = Σ_i w_i g_i^t. Jensen with
the weights (Σ_i w_i = 1) gives ‖g^t − ∇f(x^t)‖² = ‖Σ_i w_i(g_i^t − ∇φ_i(x^t))‖² ≤ G_W^t. Claim 2's
recursion for client i, with L_AM in place of L_i, weighted by w_i and summed, gives
G_W^{t+1} ≤ (1−θ)G_W^t + βL_AM²‖x^{t+1} − x^t‖². The descent lemma and the Lyapunov step above then go
through with L_QM replaced by L_AM: γ ≤ γ_AM = 1/(L + L_AM√(β/θ)) = 1/(L + L_AM ξ), and the bound of
claim 4 holds with G_W^0.

**Claim 6, plain EF21 with the L_AM step (reconstructed).** Write (1/n)Σ_i a_i = Σ_i w_i·a_i/(n w_i).
Jensen with the weights w_i gives

    ‖g^t − ∇f(x^t)‖² = ‖Σ_i w_i (g_i^t − ∇f_i(x^t))/(n w_i)‖² ≤ Σ_i ‖g_i^t − ∇f_i(x^t)‖²/(n² w_i) = G̃^t,

since 1/(n²w_i) = (1/n)(L_AM/L_i). Weighting client i's recursion (with its own L_i) by (1/n)(L_AM/L_i)
and summing gives G̃^{t+1} ≤ (1−θ)G̃^t + β[(1/n)Σ_i(L_AM/L_i)L_i²]‖x^{t+1} − x^t‖², and the bracket is
L_AM·(1/n)ΣL_i = L_AM². So claim 4 holds for γ ≤ γ_AM with G̃^0 in place of G^0. *Remark:* for a
positively homogeneous compressor (C(cv) = cC(v) for c > 0: TopK, and RandK with the same masks),
EF21-W's states are EF21's divided by n w_i: g_i^W = g_i/(n w_i) maps c_i^W = c_i/(n w_i) and
Σ_i w_i g_i^W = (1/n)Σ_i g_i, for either initialisation. So EF21-W and EF21 at the same γ produce the same
iterates, and G_W^t = G̃^t along them; claims 5 and 6 are then one inequality reached two ways.

**Claim 7, PL (EF21 Thm 2; Lyapunov form re-derived).** If ½‖∇f‖² ≥ μ(f − f*), take
Ψ^t = f(x^t) − f* + (γ/θ)G^t. The descent lemma, the G-recursion and −(γ/2)‖∇f‖² ≤ −γμ(f − f*) give

    Ψ^{t+1} ≤ (1 − γμ)(f(x^t) − f*) + (1 − θ/2)(γ/θ)G^t
              − (1/(2γ))(1 − γL − γ²(2β/θ)L_QM²)‖x^{t+1} − x^t‖².

The bracket is ≥ 0 for γ ≤ 1/(L + L_QM√(2β/θ)) (the argument of claim 4 with a = (2β/θ)L_QM²), and
1 − θ/2 ≤ 1 − γμ for γ ≤ θ/(2μ). So Ψ^{t+1} ≤ (1 − γμ)Ψ^t and Ψ^T ≤ (1 − γμ)^TΨ^0, where γμ ≤ θ/2 ≤ ½.
*Reconstructed analogue:* the same steps with G̃ (plain EF21) or G_W (EF21-W) and L_AM in place of
L_QM, i.e. γ ≤ min{1/(L + L_AM√(2β/θ)), θ/(2μ)}.

**Claim 8, the predicted speed-up.** Rounds to a fixed bound scale as 1/γ, so
S_pred = γ_AM/γ_QM = (L + L_QM ξ)/(L + L_AM ξ). It is ≥ 1 because L_QM ≥ L_AM, and ≤ H because
H(L + L_AM ξ) = HL + L_QM ξ ≥ L + L_QM ξ. Its derivative in ξ has the sign of L(L_QM − L_AM) ≥ 0, and
S_pred → H as ξ → ∞ (α → 0). It is a ratio of upper bounds, not a guarantee.

**Claim 9, EControl with η = 0.** The error e_i is then never fed back, and h_i^{t+1} = h_i^t +
C(∇f_i(x^t) − h_i^t), x^{t+1} = x^t − γh^{t+1}. Starting from h_i^0 = ∇f_i(x^0), round 0 sends
C(0) = 0, so h_i^1 = ∇f_i(x^0) = g_i^0, and by induction h_i^{t+1} = g_i^t (EF21 with
g_i^0 = ∇f_i(x^0)): both methods produce the same x^t. This needs only C(0) = 0.

References
----------
P. Richtárik, I. Sokolov, I. Fatkhullin, "EF21: A New, Simpler, Theoretically Better, and Practically
Faster Error Feedback", NeurIPS 2021, arXiv 2106.05203, Thm 1 (non-convex) and Thm 2 (PL).
P. Richtárik, E. Gasanov, K. Burlachenko, "Error Feedback Reloaded: From Quadratic to Arithmetic Mean of
Smoothness Constants", ICLR 2024, arXiv 2402.10774.
Y. Gao, R. Islamov, S. Stich, "EControl: Fast Distributed Optimization with Compression and Error
Control", ICLR 2024, arXiv 2311.05645.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from theory._validate import as_float as _as_float
from theory._validate import scalar_or_array as _out
from theory.registry import Claim, ClaimKind, register

__all__ = [
    "CLAIMS",
    "beta",
    "contraction_bound",
    "ef21w_weights",
    "heterogeneity",
    "initial_error",
    "l_var",
    "lyapunov",
    "lyapunov_decrease",
    "nonconvex_bound",
    "pl_bound",
    "pl_lyapunov",
    "predicted_speedup",
    "randk_alpha",
    "reweighted_error",
    "smoothness_means",
    "step_am",
    "step_pl",
    "step_qm",
    "theta",
    "topk_alpha",
    "weighted_error",
    "xi",
    "young_parameter",
]

EF21 = "Richtárik, Sokolov, Fatkhullin, NeurIPS 2021"
RELOADED = "Richtárik, Gasanov, Burlachenko, ICLR 2024"
ECONTROL = "Gao, Islamov, Stich, ICLR 2024"
DERIVED = "derivation in theory.ef21"

# The functions below use numpy ufuncs, so they evaluate elementwise on arrays of constants (one entry
# per run, step size or checkpoint) as well as on scalars. Scalars come back as Python floats.


def _alpha(alpha: ArrayLike) -> np.ndarray:
    a = _as_float("alpha", alpha)
    if np.any(a <= 0) or np.any(a > 1):
        raise ValueError(f"alpha must lie in (0, 1] (the contraction of an α-contractive compressor), got {alpha!r}")
    return a


def _smoothness(L_i: ArrayLike) -> np.ndarray:
    arr = _as_float("L_i", L_i, above=0)
    if arr.ndim == 0 or arr.shape[-1] == 0:
        raise ValueError(f"L_i must have a non-empty trailing client axis, got shape {arr.shape}")
    return arr


# ---------------------------------------------------------------- claim 1: compressors
def topk_alpha(K: ArrayLike, d: ArrayLike) -> float | np.ndarray:
    r"""Claim 1: the contraction α = K/d of TopK, which holds deterministically.

    ‖TopK(v) − v‖² is the sum of the d − K smallest v_j², at most (1 − K/d)‖v‖².

    Parameters
    ----------
    K, d
        Kept entries and dimension, integers with 1 ≤ K ≤ d.

    Returns
    -------
    float or ndarray
        K/d.

    References
    ----------
    Richtárik, Sokolov, Fatkhullin (2021), arXiv 2106.05203, Definition 1 and Example; spec ``ef21.md`` §3.
    """
    K_arr, d_arr = _check_K_d(K, d)
    return _out(K_arr / d_arr)


def randk_alpha(K: ArrayLike, d: ArrayLike, *, scaled: bool = False) -> float | np.ndarray:
    r"""Claim 1: the contraction α of RandK, in expectation over the random K-subset S.

    Unscaled, C(v) = v_S has E‖C(v) − v‖² = (1 − K/d)‖v‖², so α = K/d. Scaled, C(v) = (d/K)v_S is unbiased
    with E‖C(v) − v‖² = (K/d)(d/K − 1)²‖v‖² + (1 − K/d)‖v‖² = (d/K − 1)‖v‖², so α = 2 − d/K.

    Parameters
    ----------
    K, d
        Kept entries and dimension, integers with 1 ≤ K ≤ d.
    scaled
        Whether the kept entries are multiplied by d/K.

    Returns
    -------
    float or ndarray
        K/d, or 2 − d/K when ``scaled``.

    Raises
    ------
    ValueError
        If ``scaled`` and K ≤ d/2, where scaled RandK is not contractive (α ≤ 0) and must not be fed
        to error-feedback methods.

    References
    ----------
    Spec ``ef21.md`` §3 (compressors).
    """
    K_arr, d_arr = _check_K_d(K, d)
    if not scaled:
        return _out(K_arr / d_arr)
    if np.any(2 * K_arr <= d_arr):
        raise ValueError(f"scaled RandK is contractive only for K > d/2 (α = 2 − d/K > 0), got K={K!r}, d={d!r}")
    return _out(2.0 - d_arr / K_arr)


def _check_K_d(K: ArrayLike, d: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    K_arr, d_arr = _as_float("K", K), _as_float("d", d)
    if np.any(d_arr < 1) or np.any(d_arr != np.round(d_arr)):
        raise ValueError(f"d must be a positive integer, got {d!r}")
    if np.any(K_arr < 1) or np.any(K_arr != np.round(K_arr)) or np.any(K_arr > d_arr):
        raise ValueError(f"K must be an integer with 1 ≤ K ≤ d, got K={K!r}, d={d!r}")
    return K_arr, d_arr


def contraction_bound(v_sq: ArrayLike, alpha: ArrayLike) -> float | np.ndarray:
    r"""Claim 1: the right-hand side (1 − α)‖v‖² of E‖C(v) − v‖² ≤ (1 − α)‖v‖².

    Parameters
    ----------
    v_sq
        ‖v‖² ≥ 0, scalar or array.
    alpha
        Contraction α ∈ (0, 1].

    Returns
    -------
    float or ndarray
        (1 − α)‖v‖².

    References
    ----------
    Richtárik, Sokolov, Fatkhullin (2021), arXiv 2106.05203, Definition 1.
    """
    v = _as_float("v_sq", v_sq, at_least=0)
    return _out((1.0 - _alpha(alpha)) * v)


# ---------------------------------------------------------------- claim 2: θ, β, ξ
def young_parameter(alpha: ArrayLike) -> float | np.ndarray:
    r"""Claim 2: the Young parameter s = 1/√(1−α) − 1 that minimises β(s)/θ(s).

    Parameters
    ----------
    alpha
        Contraction α ∈ (0, 1].

    Returns
    -------
    float or ndarray
        s > 0; ``inf`` at α = 1 (no compression needs no Young split).

    References
    ----------
    Richtárik, Sokolov, Fatkhullin (2021), arXiv 2106.05203, proof of Thm 1; derived in :mod:`theory.ef21`.
    """
    a = _alpha(alpha)
    r = np.sqrt(1.0 - a)
    # 1/r − 1 = (1 − r)/r = α/(r(1 + r)), free of cancellation for small α
    s = np.where(r > 0, a / (np.where(r > 0, r, 1.0) * (1.0 + r)), np.inf)
    return _out(s)


def theta(alpha: ArrayLike) -> float | np.ndarray:
    r"""Claim 2: θ = 1 − √(1−α) = α/(1 + √(1−α)), the contraction of the error recursion.

    Parameters
    ----------
    alpha
        Contraction α ∈ (0, 1].

    Returns
    -------
    float or ndarray
        θ ∈ (α/2, α]; θ = 1 at α = 1.

    References
    ----------
    Richtárik, Sokolov, Fatkhullin (2021), arXiv 2106.05203, Thm 1.
    """
    a = _alpha(alpha)
    return _out(a / (1.0 + np.sqrt(1.0 - a)))


def beta(alpha: ArrayLike) -> float | np.ndarray:
    r"""Claim 2: β = (1−α)/(1 − √(1−α)) = (1−α)(1 + √(1−α))/α, the amplification of ‖x^{t+1} − x^t‖².

    Parameters
    ----------
    alpha
        Contraction α ∈ (0, 1].

    Returns
    -------
    float or ndarray
        β ≥ 0; β = 0 at α = 1.

    References
    ----------
    Richtárik, Sokolov, Fatkhullin (2021), arXiv 2106.05203, Thm 1.
    """
    a = _alpha(alpha)
    return _out((1.0 - a) * (1.0 + np.sqrt(1.0 - a)) / a)


def xi(alpha: ArrayLike) -> float | np.ndarray:
    r"""Claim 2: ξ = √(β/θ) = (√(1−α) + 1 − α)/α, the factor of L_QM (or L_AM) in the step size.

    Parameters
    ----------
    alpha
        Contraction α ∈ (0, 1].

    Returns
    -------
    float or ndarray
        ξ ∈ [0, 2/α − 1); ξ = 0 at α = 1 and ξ = 2d − 3/2 − O(1/d) for Top1 (α = 1/d).

    References
    ----------
    Richtárik, Sokolov, Fatkhullin (2021), arXiv 2106.05203, Thm 1; derived in :mod:`theory.ef21`.
    """
    a = _alpha(alpha)
    return _out((np.sqrt(1.0 - a) + 1.0 - a) / a)


# ---------------------------------------------------------------- claim 3: the means
def smoothness_means(L_i: ArrayLike) -> tuple[float | np.ndarray, float | np.ndarray]:
    r"""Claim 3: the arithmetic and quadratic means L_AM = (1/n)ΣL_i and L_QM = √((1/n)ΣL_i²).

    Parameters
    ----------
    L_i
        Client smoothness constants, > 0, shape (..., n); the means are over the last axis.

    Returns
    -------
    L_AM, L_QM
        Shape (...); floats for a 1-D input. L_QM is computed as √(L_AM² + L_var), scaled by max L_i so
        that the squares cannot overflow, and L_QM ≥ L_AM holds in floating point too.

    References
    ----------
    Richtárik, Gasanov, Burlachenko (2024), arXiv 2402.10774, §1; spec ``ef21.md`` §2.
    """
    L = _smoothness(L_i)
    am = L.mean(axis=-1)
    top = L.max(axis=-1)  # scale by the largest L_i so that the squares cannot overflow
    ratio_var = (((L - am[..., None]) / top[..., None]) ** 2).mean(axis=-1)
    ratio_am = am / top
    qm = top * np.sqrt(ratio_am * ratio_am + ratio_var)
    return _out(am), _out(np.maximum(qm, am))  # Jensen; the maximum only absorbs a last-bit rounding


def l_var(L_i: ArrayLike) -> float | np.ndarray:
    r"""Claim 3: L_var = L_QM² − L_AM² = (1/n)Σ(L_i − L_AM)², the variance of the smoothness constants.

    Parameters
    ----------
    L_i
        Client smoothness constants, > 0, shape (..., n).

    Returns
    -------
    float or ndarray
        L_var ≥ 0, computed as a variance (no cancellation).

    References
    ----------
    Richtárik, Gasanov, Burlachenko (2024), arXiv 2402.10774.
    """
    L = _smoothness(L_i)
    return _out(L.var(axis=-1))  # a variance: no cancellation between L_QM² and L_AM²


def heterogeneity(L_i: ArrayLike) -> float | np.ndarray:
    r"""Claim 3: the smoothness heterogeneity H = L_QM/L_AM ∈ [1, √n).

    Parameters
    ----------
    L_i
        Client smoothness constants, > 0, shape (..., n).

    Returns
    -------
    float or ndarray
        H; 1 when all L_i are equal, → √n when one client dominates.

    References
    ----------
    Spec ``ef21.md`` §2 and claim 3.
    """
    am, qm = smoothness_means(L_i)
    return _out(np.asarray(qm) / np.asarray(am))


# ---------------------------------------------------------------- step sizes
def _step(L: ArrayLike, L_M: ArrayLike, factor: np.ndarray, name: str) -> np.ndarray:
    L_arr = _as_float("L", L, above=0)
    M = _as_float(name, L_M, above=0)
    return 1.0 / (L_arr + M * factor)


def step_qm(L: ArrayLike, L_QM: ArrayLike, alpha: ArrayLike) -> float | np.ndarray:
    r"""Claim 4: the EF21 step γ_QM = 1/(L + L_QM ξ).

    Parameters
    ----------
    L
        Smoothness of f, > 0.
    L_QM
        Quadratic mean of the client constants, > 0.
    alpha
        Contraction α ∈ (0, 1].

    Returns
    -------
    float or ndarray
        γ_QM; 1/L at α = 1 (GD).

    References
    ----------
    Richtárik, Sokolov, Fatkhullin (2021), arXiv 2106.05203, Thm 1 (the authors' code uses this step).
    """
    return _out(_step(L, L_QM, np.asarray(xi(alpha)), "L_QM"))


def step_am(L: ArrayLike, L_AM: ArrayLike, alpha: ArrayLike) -> float | np.ndarray:
    r"""Claims 5 and 6: the EF21-W (and improved EF21) step γ_AM = 1/(L + L_AM ξ).

    Parameters
    ----------
    L
        Smoothness of f, > 0.
    L_AM
        Arithmetic mean of the client constants, > 0.
    alpha
        Contraction α ∈ (0, 1].

    Returns
    -------
    float or ndarray
        γ_AM ≥ γ_QM.

    References
    ----------
    Richtárik, Gasanov, Burlachenko (2024), arXiv 2402.10774 (reconstructed; derivation in
    :mod:`theory.ef21`).
    """
    return _out(_step(L, L_AM, np.asarray(xi(alpha)), "L_AM"))


def step_pl(L: ArrayLike, L_M: ArrayLike, alpha: ArrayLike, mu: ArrayLike) -> float | np.ndarray:
    r"""Claim 7: the PL step γ = min{1/(L + L_M√(2β/θ)), θ/(2μ)}.

    Parameters
    ----------
    L
        Smoothness of f, > 0.
    L_M
        L_QM (EF21 Thm 2) or L_AM (the reconstructed analogue with G̃ or G_W), > 0.
    alpha
        Contraction α ∈ (0, 1].
    mu
        PL constant μ > 0 (½‖∇f‖² ≥ μ(f − f*)).

    Returns
    -------
    float or ndarray
        The largest step the PL analysis allows; γμ ≤ θ/2 ≤ ½.

    References
    ----------
    Richtárik, Sokolov, Fatkhullin (2021), arXiv 2106.05203, Thm 2.
    """
    th = np.asarray(theta(alpha))
    factor = math.sqrt(2.0) * np.asarray(xi(alpha))
    mu_arr = _as_float("mu", mu, above=0)
    return _out(np.minimum(_step(L, L_M, factor, "L_M"), th / (2.0 * mu_arr)))


# ---------------------------------------------------------------- claims 4-6: bounds and Lyapunov
def nonconvex_bound(T: ArrayLike, gamma: ArrayLike, f0_minus_flow: ArrayLike, G0: ArrayLike,
                    alpha: ArrayLike) -> float | np.ndarray:
    r"""Claims 4-6: (1/T)Σ_{t<T}‖∇f(x^t)‖² ≤ 2(f(x^0) − f_low)/(γT) + G^0/(θT).

    The same bound covers the minimum over t < T. It holds for γ ≤ γ_QM with G^0 (claim 4), for EF21-W
    with γ ≤ γ_AM and G_W^0 (claim 5), and for EF21 with γ ≤ γ_AM and G̃^0 (claim 6).

    Parameters
    ----------
    T
        Number of rounds, ≥ 1; scalar or array (e.g. all checkpoints of a run).
    gamma
        Step size γ > 0.
    f0_minus_flow
        f(x^0) − f_low ≥ 0, with f_low a valid lower bound on f.
    G0
        The initial error G^0 (G_W^0, G̃^0) ≥ 0; see :func:`initial_error`.
    alpha
        Contraction α ∈ (0, 1].

    Returns
    -------
    float or ndarray
        The bound, broadcast over the arguments.

    References
    ----------
    Richtárik, Sokolov, Fatkhullin (2021), arXiv 2106.05203, Thm 1; Richtárik, Gasanov, Burlachenko (2024),
    arXiv 2402.10774 (claims 5-6 reconstructed; derivation in :mod:`theory.ef21`).
    """
    T_arr = _as_float("T", T, at_least=1)
    g = _as_float("gamma", gamma, above=0)
    f0 = _as_float("f0_minus_flow", f0_minus_flow, at_least=0)
    G = _as_float("G0", G0, at_least=0)
    th = np.asarray(theta(alpha))
    return _out(2.0 * f0 / (g * T_arr) + G / (th * T_arr))


def lyapunov(f_minus_flow: ArrayLike, G: ArrayLike, gamma: ArrayLike, alpha: ArrayLike) -> float | np.ndarray:
    r"""Claim 4: the Lyapunov function Ψ^t = f(x^t) − f_low + (γ/(2θ))G^t.

    Along EF21 with γ ≤ γ_QM (or G̃, G_W with γ ≤ γ_AM), Ψ^{t+1} ≤ Ψ^t − (γ/2)‖∇f(x^t)‖².

    Parameters
    ----------
    f_minus_flow
        f(x^t) − f_low, scalar or array (finite; a negative value means f_low is not a lower bound and
        is passed through for the check to report).
    G
        G^t (or G̃^t, G_W^t) ≥ 0.
    gamma
        Step size γ > 0.
    alpha
        Contraction α ∈ (0, 1].

    Returns
    -------
    float or ndarray
        Ψ^t.

    References
    ----------
    Richtárik, Sokolov, Fatkhullin (2021), arXiv 2106.05203, proof of Thm 1 (re-derived in
    :mod:`theory.ef21`).
    """
    f = _as_float("f_minus_flow", f_minus_flow)
    G_arr = _as_float("G", G, at_least=0)
    g = _as_float("gamma", gamma, above=0)
    th = np.asarray(theta(alpha))
    return _out(f + g / (2.0 * th) * G_arr)


def lyapunov_decrease(gamma: ArrayLike, grad_sq: ArrayLike) -> float | np.ndarray:
    r"""Claim 4: the guaranteed decrease (γ/2)‖∇f(x^t)‖² in Ψ^{t+1} ≤ Ψ^t − (γ/2)‖∇f(x^t)‖².

    Parameters
    ----------
    gamma
        Step size γ > 0.
    grad_sq
        ‖∇f(x^t)‖² ≥ 0.

    Returns
    -------
    float or ndarray
        (γ/2)‖∇f(x^t)‖².

    References
    ----------
    Re-derived in :mod:`theory.ef21` from the proof of EF21 Thm 1.
    """
    g = _as_float("gamma", gamma, above=0)
    s = _as_float("grad_sq", grad_sq, at_least=0)
    return _out(0.5 * g * s)


# ---------------------------------------------------------------- claim 7: PL
def pl_lyapunov(f_minus_fstar: ArrayLike, G: ArrayLike, gamma: ArrayLike, alpha: ArrayLike) -> float | np.ndarray:
    r"""Claim 7: the PL Lyapunov function Ψ^t = f(x^t) − f* + (γ/θ)G^t.

    Parameters
    ----------
    f_minus_fstar
        f(x^t) − f*, finite (rounding near the optimum may make it slightly negative).
    G
        G^t (or G̃^t, G_W^t for the L_AM analogue) ≥ 0.
    gamma
        Step size γ > 0.
    alpha
        Contraction α ∈ (0, 1].

    Returns
    -------
    float or ndarray
        Ψ^t.

    References
    ----------
    Richtárik, Sokolov, Fatkhullin (2021), arXiv 2106.05203, Thm 2.
    """
    f = _as_float("f_minus_fstar", f_minus_fstar)
    G_arr = _as_float("G", G, at_least=0)
    g = _as_float("gamma", gamma, above=0)
    th = np.asarray(theta(alpha))
    return _out(f + g / th * G_arr)


def pl_bound(T: ArrayLike, gamma: ArrayLike, mu: ArrayLike, psi0: ArrayLike) -> float | np.ndarray:
    r"""Claim 7: Ψ^T ≤ (1 − γμ)^T Ψ^0.

    Parameters
    ----------
    T
        Number of rounds, ≥ 0; scalar or array.
    gamma
        Step size γ > 0 (the claim needs γ ≤ :func:`step_pl`).
    mu
        PL constant μ > 0, with γμ ≤ 1.
    psi0
        Ψ^0 ≥ 0 (see :func:`pl_lyapunov`).

    Returns
    -------
    float or ndarray
        (1 − γμ)^T Ψ^0.

    References
    ----------
    Richtárik, Sokolov, Fatkhullin (2021), arXiv 2106.05203, Thm 2.
    """
    T_arr = _as_float("T", T, at_least=0)
    g = _as_float("gamma", gamma, above=0)
    mu_arr = _as_float("mu", mu, above=0)
    psi = _as_float("psi0", psi0, at_least=0)
    rate = g * mu_arr
    if np.any(rate > 1):
        raise ValueError(f"gamma·mu must be ≤ 1 for the contraction factor 1 − γμ, got {rate!r}")
    return _out(np.power(1.0 - rate, T_arr) * psi)


# ---------------------------------------------------------------- the errors G, G_W, G̃
def ef21w_weights(L_i: ArrayLike) -> np.ndarray:
    r"""Claim 5: the EF21-W weights w_i = L_i/Σ_j L_j, so that n w_i = L_i/L_AM.

    Parameters
    ----------
    L_i
        Client smoothness constants, > 0, shape (..., n).

    Returns
    -------
    ndarray
        w, shape (..., n), summing to 1 over the last axis.

    References
    ----------
    Richtárik, Gasanov, Burlachenko (2024), arXiv 2402.10774 (EF21-W).
    """
    L = _smoothness(L_i)
    return L / L.sum(axis=-1, keepdims=True)


def _is_host(x: object) -> bool:
    return not hasattr(x, "__cuda_array_interface__")


def _client_arrays(client_grads: ArrayLike, g: ArrayLike) -> tuple:
    """The two (..., n, d) arrays, left on their device when they are not numpy arrays."""
    grads = np.asarray(client_grads, dtype=float) if _is_host(client_grads) else client_grads
    gg = np.asarray(g, dtype=float) if _is_host(g) else g
    if grads.ndim < 2:
        raise ValueError(f"client_grads must have shape (..., n, d), got {grads.shape}")
    if gg.shape != grads.shape:
        raise ValueError(f"g must have the shape of client_grads {grads.shape}, got {gg.shape}")
    # x − x is 0 exactly for finite x and NaN otherwise; this works on any array type.
    for name, arr in (("client_grads", grads), ("g", gg)):
        if not bool(((arr - arr) == 0).all()):
            raise ValueError(f"{name} must be finite, got non-finite entries")
    return grads, gg


def _client_factors(name: str, values: ArrayLike, n: int, like: object) -> object:
    arr = np.asarray(values, dtype=float) if _is_host(values) else values
    if arr.shape[-1:] != (n,):
        raise ValueError(f"{name} must have a trailing axis of length n = {n}, got shape {arr.shape}")
    if not bool((arr > 0).all()) or not bool(((arr - arr) == 0).all()):
        raise ValueError(f"{name} must be finite and > 0")
    if not _is_host(like) and _is_host(arr):
        import cupy  # only reached with CuPy inputs

        arr = cupy.asarray(arr)
    return arr


def initial_error(client_grads0: ArrayLike, g0: ArrayLike, weights: ArrayLike | None = None, *,
                  smoothness: ArrayLike | None = None) -> float | np.ndarray:
    r"""Claims 4-6: the error G = (1/n)Σ‖g_i − ∇f_i‖², or its weighted forms G_W and G̃.

    - neither ``weights`` nor ``smoothness``: G = (1/n)Σ_i ‖g_i − ∇f_i(x)‖² (claim 4);
    - ``weights`` w: G_W = Σ_i w_i ‖g_i − ∇f_i(x)/(n w_i)‖², with EF21-W's g_i (claim 5);
    - ``smoothness`` L_i: G̃ = (1/n)Σ_i (L_AM/L_i)‖g_i − ∇f_i(x)‖², with EF21's g_i (claim 6).

    Despite the name, it evaluates the error at any round; at t = 0 it gives the G^0 of the bounds
    (0 for g_i^0 = ∇f_i(x^0), or (1/n)Σ‖∇f_i(x^0)‖² for g_i^0 = 0 in the unweighted case).

    Parameters
    ----------
    client_grads0
        ∇f_i(x) for every client, shape (..., n, d). NumPy or CuPy; the sum stays on the device.
    g0
        The clients' estimates g_i, same shape.
    weights
        EF21-W weights w_i > 0 summing to 1 (:func:`ef21w_weights`), shape (n,) or (..., n).
    smoothness
        L_i > 0, shape (n,) or (..., n).

    Returns
    -------
    float or ndarray
        The error, shape (...); a float for (n, d) inputs.

    References
    ----------
    Richtárik, Sokolov, Fatkhullin (2021), arXiv 2106.05203, Thm 1; Richtárik, Gasanov, Burlachenko (2024),
    arXiv 2402.10774 (G_W, G̃ reconstructed; derivation in :mod:`theory.ef21`).
    """
    if weights is not None and smoothness is not None:
        raise ValueError("give weights (G_W) or smoothness (G̃), not both")
    grads, g = _client_arrays(client_grads0, g0)
    n = grads.shape[-2]
    if weights is not None:
        w = _client_factors("weights", weights, n, grads)
        scale = 1.0 / (n * w)
        err = (w * ((g - grads * scale[..., None]) ** 2).sum(axis=-1)).sum(axis=-1)
    elif smoothness is not None:
        L = _client_factors("smoothness", smoothness, n, grads)
        factor = L.mean(axis=-1, keepdims=True) / L
        err = (factor * ((g - grads) ** 2).sum(axis=-1)).mean(axis=-1)
    else:
        err = ((g - grads) ** 2).sum(axis=-1).mean(axis=-1)
    if getattr(err, "ndim", 0) == 0:
        return float(err)
    return err


def weighted_error(client_grads: ArrayLike, g: ArrayLike, weights: ArrayLike) -> float | np.ndarray:
    r"""Claim 5: G_W = Σ_i w_i ‖g_i − ∇f_i(x)/(n w_i)‖² (EF21-W's error); see :func:`initial_error`."""
    return initial_error(client_grads, g, weights)


def reweighted_error(client_grads: ArrayLike, g: ArrayLike, smoothness: ArrayLike) -> float | np.ndarray:
    r"""Claim 6: G̃ = (1/n)Σ_i (L_AM/L_i)‖g_i − ∇f_i(x)‖² (EF21's error, L_AM analysis); see :func:`initial_error`."""
    return initial_error(client_grads, g, smoothness=smoothness)


# ---------------------------------------------------------------- claim 8: speed-up
def predicted_speedup(L: ArrayLike, L_QM: ArrayLike, L_AM: ArrayLike, alpha: ArrayLike) -> float | np.ndarray:
    r"""Claim 8: S_pred = γ_AM/γ_QM = (L + L_QM ξ)/(L + L_AM ξ) ∈ [1, H].

    Parameters
    ----------
    L
        Smoothness of f, > 0.
    L_QM, L_AM
        Quadratic and arithmetic means of the client constants, L_QM ≥ L_AM > 0.
    alpha
        Contraction α ∈ (0, 1].

    Returns
    -------
    float or ndarray
        The ratio of the theory steps, non-decreasing in ξ and → H = L_QM/L_AM as α → 0. A ratio of
        upper bounds on the rounds, not a guarantee.

    Raises
    ------
    ValueError
        If L_QM < L_AM (no client constants have that).

    References
    ----------
    Derived in :mod:`theory.ef21` from Richtárik, Gasanov, Burlachenko (2024), arXiv 2402.10774.
    """
    L_arr = _as_float("L", L, above=0)
    qm = _as_float("L_QM", L_QM, above=0)
    am = _as_float("L_AM", L_AM, above=0)
    if np.any(qm < am * (1.0 - 1e-12)):
        raise ValueError(f"L_QM must be ≥ L_AM (Jensen), got L_QM={L_QM!r}, L_AM={L_AM!r}")
    x = np.asarray(xi(alpha))
    return _out((L_arr + qm * x) / (L_arr + am * x))


# ---------------------------------------------------------------- the claims
CLAIMS = (
    Claim("ef21.compressor_contraction",
          "TopK: ‖C(v) − v‖² ≤ (1 − K/d)‖v‖² for every v; RandK: E‖C(v) − v‖² = (1 − K/d)‖v‖² (unscaled), "
          "(d/K − 1)‖v‖² (scaled, contractive only for K > d/2)",
          f"{EF21}, Definition 1; spec ef21.md §3", ClaimKind.PER_RUN,
          (contraction_bound, topk_alpha, randk_alpha)),
    Claim("ef21.constants",
          "s = 1/√(1−α) − 1 minimises β/θ, 1 − θ = (1−α)(1+s), β = (1−α)(1+1/s), ξ = √(β/θ) = "
          "(√(1−α) + 1 − α)/α ≤ 2/α − 1; Top1: ξ = 2d − 3/2 − O(1/d); α = 1: θ = 1, β = ξ = 0, γ = 1/L",
          f"{EF21}, Thm 1 constants; {DERIVED}", ClaimKind.IDENTITY,
          (theta, beta, xi, young_parameter)),
    Claim("ef21.means",
          "L ≤ L_AM ≤ L_QM < √n·L_AM (n ≥ 2), i.e. H = L_QM/L_AM ∈ [1, √n)",
          f"{RELOADED}; {DERIVED}", ClaimKind.PER_RUN, (smoothness_means, heterogeneity, l_var)),
    Claim("ef21.nonconvex_rate",
          "γ ≤ γ_QM = 1/(L + L_QM ξ): (1/T)Σ_{t<T}‖∇f(x^t)‖² and min_{t<T}‖∇f(x^t)‖² ≤ "
          "2(f(x^0) − f_low)/(γT) + G^0/(θT), G^0 = (1/n)Σ‖g_i^0 − ∇f_i(x^0)‖²",
          f"{EF21}, Thm 1", ClaimKind.PER_RUN, (nonconvex_bound, step_qm, initial_error)),
    Claim("ef21.lyapunov_descent",
          "γ ≤ γ_QM: Ψ^{t+1} ≤ Ψ^t − (γ/2)‖∇f(x^t)‖², Ψ^t = f(x^t) − f_low + (γ/(2θ))G^t",
          f"{EF21}, proof of Thm 1; re-derived, {DERIVED}", ClaimKind.PER_RUN,
          (lyapunov, lyapunov_decrease, step_qm), reconstructed=True),
    Claim("ef21.ef21w_rate",
          "EF21-W, w_i = L_i/ΣL_j, γ ≤ γ_AM = 1/(L + L_AM ξ): (1/T)Σ_{t<T}‖∇f(x^t)‖² ≤ "
          "2(f(x^0) − f_low)/(γT) + G_W^0/(θT), G_W^0 = Σ_i w_i‖g_i^0 − ∇f_i(x^0)/(n w_i)‖²",
          f"{RELOADED} (EF21-W); reconstructed, {DERIVED}", ClaimKind.PER_RUN,
          (nonconvex_bound, step_am, weighted_error, ef21w_weights), reconstructed=True),
    Claim("ef21.ef21_am_rate",
          "plain EF21, γ ≤ γ_AM: (1/T)Σ_{t<T}‖∇f(x^t)‖² ≤ 2(f(x^0) − f_low)/(γT) + G̃^0/(θT), "
          "G̃^0 = (1/n)Σ_i (L_AM/L_i)‖g_i^0 − ∇f_i(x^0)‖²",
          f"{RELOADED} (improved analysis of EF21); reconstructed, {DERIVED}", ClaimKind.PER_RUN,
          (nonconvex_bound, step_am, reweighted_error), reconstructed=True),
    Claim("ef21.pl_rate",
          "½‖∇f‖² ≥ μ(f − f*), γ ≤ min{1/(L + L_QM√(2β/θ)), θ/(2μ)}: Ψ^T ≤ (1 − γμ)^TΨ^0, "
          "Ψ = f − f* + (γ/θ)G",
          f"{EF21}, Thm 2", ClaimKind.PER_RUN, (pl_bound, step_pl, pl_lyapunov)),
    Claim("ef21.pl_rate_am",
          "½‖∇f‖² ≥ μ(f − f*), γ ≤ min{1/(L + L_AM√(2β/θ)), θ/(2μ)}: Ψ^T ≤ (1 − γμ)^TΨ^0, "
          "Ψ = f − f* + (γ/θ)G̃ (EF21) or (γ/θ)G_W (EF21-W)",
          f"{EF21}, Thm 2 with the L_AM analysis of {RELOADED}; reconstructed, {DERIVED}", ClaimKind.PER_RUN,
          (pl_bound, step_pl, pl_lyapunov, reweighted_error, weighted_error), reconstructed=True),
    Claim("ef21.speedup_prediction",
          "S_pred = γ_AM/γ_QM = (L + L_QM ξ)/(L + L_AM ξ) ∈ [1, H], non-decreasing in ξ, → H as ξ → ∞ "
          "(a ratio of upper bounds; the measured speed-up is reported beside it)",
          f"derived from {RELOADED}; {DERIVED}", ClaimKind.STRUCTURAL, (predicted_speedup, heterogeneity)),
    Claim("ef21.econtrol_reduction",
          "full gradients, η = 0, h_i^0 = ∇f_i(x^0): the (reconstructed) EControl rule gives the same x^t as "
          "EF21 with g_i^0 = ∇f_i(x^0)",
          f"{ECONTROL} (rule reconstructed); {DERIVED}", ClaimKind.IDENTITY, reconstructed=True),
)

register(*CLAIMS)
