r"""Auxiliary-loss-free load balancing (ALF-LB) as a primal-dual method: the claims as pure functions.

Setting (spec ``alf_lb.md`` §2). One batch has n tokens j, E experts i and K experts per token, with
router scores s ∈ R^{n×E}. The capacity is C = Kn/E (an integer). An assignment x ∈ {0,1}^{n×E} has
load_i = Σ_j x_ji and load fractions l_i = load_i/n, Σ_i l_i = K. The assignment LP is

    (P)  OPT = max Σ_ji s_ji x_ji   s.t.  Σ_i x_ji = K (∀j),  Σ_j x_ji = C (∀i),  0 ≤ x ≤ 1.

Pricing the capacity rows with p ∈ R^E gives the Lagrangian L(x, p) = Σ s_ji x_ji − Σ_i p_i(load_i − C)
and, maximising over the token polytope X = {x ∈ [0,1]^{n×E}: Σ_i x_ji = K ∀j}, the dual function

    D(p) = max_{x∈X} L(x, p) = Σ_j topKsum(s_j − p) + C Σ_i p_i,

where topKsum is the sum of the K largest entries. The ALF-LB bias is b = −p. In the online setting
batch t brings fresh scores s^{(t)}, and the per-batch dual loss (D/n in fraction units) is

    f_t(p) = (1/n) Σ_j topKsum(s_j^{(t)} − p) + (K/E) Σ_i p_i,   F(p) = 𝔼 f_t(p),

with the stochastic gradient g_t = (K/E)·1 − l_t(p_t). Here 𝔼 is expectation over the batch and never
the number of experts. Count units (g = C·1 − load, steps on D) and fraction units (g = (K/E)·1 − l,
steps on f_t) differ by the factor n.

Derivations
-----------
**Best response and subgradient (claims 2-4).** L(·, p) is linear in x and X is a product over tokens
of {x_j ∈ [0,1]^E: Σ_i x_ji = K}, whose vertices are the K-subsets. So the maximiser takes, for each
token, the K largest entries of s_j − p = s_j + b: biased top-K routing (any tie-break gives a
maximiser). Its value is D(p). As a maximum of functions affine in p, D is convex and piecewise
linear. The affine piece of a maximiser x(q) has gradient C·1 − load(x(q)), so (Danskin)

    g(q) = C·1 − load(x(q)) ∈ ∂D(q),   Σ_i g_i(q) = EC − Kn = 0.

Moreover D(p + c·1) = D(p) − nKc + ECc = D(p). LP duality (claim 3) gives min_p D = OPT. The
constraint matrix of (P) is a bipartite incidence matrix, hence totally unimodular, and C is an
integer, so OPT_LP = OPT_IP (claim 1).

**Claim 4, the sandwich.** Write the subgradient inequality at p and at p + δ:
D(p+δ) ≥ D(p) + ⟨g(p), δ⟩ and D(p) ≥ D(p+δ) + ⟨g(p+δ), −δ⟩. Together they give

    ⟨δ, g(p)⟩ ≤ D(p+δ) − D(p) ≤ ⟨δ, g(p+δ)⟩.

The sign step b ← b + u·sign(mean(load) − load) has mean(load) = C, so in price units it reads
p_{t+1} = p_t − u·sign(g_t), i.e. δ = −u·sign(g_t), and

    −u‖g_t‖₁ ≤ D(p_{t+1}) − D(p_t) ≤ −u⟨sign g_t, g_{t+1}⟩.

The gradient step b ← b + η(C·1 − load) reads p_{t+1} = p_t − ηg_t, and
−η‖g_t‖² ≤ D(p_{t+1}) − D(p_t) ≤ −η⟨g_t, g_{t+1}⟩. Here g_{t+1} = g(p_{t+1}) is evaluated on the
same batch. D strictly decreases whenever ⟨sign g_t, g_{t+1}⟩ > 0, i.e. when the step does not
overshoot.

**Claim 5, the preference rule.** Token j's biased gap between experts i and k is
(s_ji + b_i) − (s_jk + b_k). A sign step adds uσ_i to b_i with σ = sign g_t, so the gap changes by
u(σ_i − σ_k). Let k enter token j's top-K set while i leaves it. Before the step, i ranked above k,
so gap_ik ≥ 0; after it, k ranks above i, so gap_ik ≤ 0. With a fixed tie-break (stable sort by
(−value, index)) the gaps cannot both be 0: at a zero gap the order is decided by the indices, which
do not change. Hence the change is strictly negative and σ_k > σ_i. This is stronger than the
σ_k ≥ σ_i of the spec and holds in exact arithmetic; a floating-point check should assert σ_k ≥ σ_i,
because rounding of s + b can flip exact ties. Since σ = sign(C − load), σ_k > σ_i means
load_k < load_i: tokens move only towards less-loaded experts. For the gradient step the change is
η(g_i − g_k) = η(load_k − load_i) < 0, so again load_k < load_i.

**Claim 6(a), telescoping.** From p_{t+1} = p_t − ηg_t (b_{t+1} = b_t + ηg_t),
Σ_{t≤T} g_t = (b_{T+1} − b_1)/η. So (1/T)Σ_t (C·1 − load_t) = (b_{T+1} − b_1)/(ηT), and likewise
(1/T)Σ_t sign g_t = (b_{T+1} − b_1)/(uT) for sign steps. If the bias differences stay bounded, the
time-averaged imbalance is O(1/T).

**Claim 6(b), constant step on a fixed batch.** Let p* minimise D. Then
‖p_{t+1} − p*‖² = ‖p_t − p*‖² − 2η⟨g_t, p_t − p*⟩ + η²‖g_t‖², and convexity gives
⟨g_t, p_t − p*⟩ ≥ D(p_t) − OPT. Summing over t ≤ T and dropping −‖p_{T+1} − p*‖² gives

    (1/T) Σ_{t≤T} [D(p_t) − OPT] ≤ ‖p_1 − p*‖²/(2ηT) + (η/(2T)) Σ_{t≤T} ‖g_t‖².

Every p* + c·1 is also a minimiser. Choosing c so that mean(p*) = mean(p_1) minimises the first term,
and mean(p_t) stays constant because Σg_t = 0. *The gradient bound.* ‖g‖² = Σ_i (C − load_i)² =
Σ load_i² − 2CKn + EC² = Σ load_i² − K²n²/E. The loads satisfy 0 ≤ load_i ≤ n and Σ load_i = Kn,
so Σ load_i² ≤ (max_i load_i)·Σ load_i ≤ Kn². Hence

    ‖g‖² ≤ Kn² − K²n²/E = n²K(1 − K/E),

with equality when every token picks the same K experts (loads n on K experts and 0 elsewhere). In
fraction units (divide by n²) this is G² := K(1 − K/E). For a single token ‖g‖² = G² exactly.

**Claim 6(c), limit cycles under a constant u (reconstructed).** Let Δ = max_j (max_i s_ji −
min_i s_ji) be the score spread and M_t = max b − min b the bias spread. Suppose K < E and that some
gap between consecutive sorted biases exceeds Δ + 2u. Split the experts there into the m most
favoured ones (top group) and the rest (bottom group). Every token then ranks the whole top group
above the whole bottom group.
- If m ≤ K, every top expert has load n > C, so all top biases fall by u. The maximum falls by u,
  while the minimum falls by at most u.
- If m ≥ K, every bottom expert has load 0 < C, so all bottom biases rise by u. The minimum rises by
  u, while the maximum rises by at most u.

Either way M_{t+1} ≤ M_t. A spread above (E−1)(Δ + 2u) forces such a gap, and any step raises M by
at most 2u, so M_t ≤ max(M_1, (E−1)(Δ + 2u) + 2u) for all t. The integer counts k = b/u, taken
modulo the common shift k ↦ k + c·1 (which routing ignores), therefore take finitely many values.
On a fixed batch the update is a deterministic function of them, so the trajectory is eventually
exactly periodic. The raw mean of k may drift by a fixed integer per period, because Σσ ≠ 0 in
general. Constant-η gradient steps (b − b_1 ∈ ηZ^E) are covered by the same argument with the moves
−η(n − C) and +ηC and the gap threshold Δ + ηn; there the mean does not drift, since Σg = 0. That
cycle-averaged MaxVio and dual gap grow with u is the reconstructed, qualitative part.

**Claim 7, the stochastic gradient.** With continuous scores and p_t independent of batch t, ties
have probability 0, so f_t is differentiable at p_t almost surely with ∇f_t(p_t) = (K/E)·1 − l_t =
g_t. f_t is 2K-Lipschitz in ‖·‖_∞, so dominated convergence gives 𝔼[g_t | p_t] = ∇F(p_t). By the
bound above, ‖g_t‖² = Σ l_i² − K²/E ≤ G².

**Claim 8, the Gumbel testbed.** Take K = 1 and s_ji = a_i + G_ji with G_ji iid Gumbel(0, 1). The
maximum of independent Gumbels with locations μ_i is Gumbel with location logsumexp(μ), whose mean
is logsumexp(μ) + γ. With μ = a − p this gives

    F(p) = logsumexp(a − p) + (1/E) Σ_i p_i + γ,
    ∇F(p) = 1/E − q,   q = softmax(a − p),
    ∇²F(p) = diag(q) − qqᵀ,

using ∂q_i/∂p_k = −(q_iδ_ik − q_iq_k). ∇F = 0 iff q is uniform, iff a − p ∝ 1. The representative
with Σp* = 0 is p* = a − mean(a), and F* = logsumexp(mean(a)·1) + 0 + γ = mean(a) + ln E + γ. At p*,
∇²F = I/E − 11ᵀ/E², which is I/E on 1^⊥, so μ = 1/E there.

Away from p*, ∇²F·1 = q − q(Σq) = 0, so 1 spans the eigenvalue 0 and 1^⊥ is invariant. The matrix
diag(q) − qqᵀ is a rank-one downdate of diag(q). By Cauchy interlacing its sorted eigenvalues λ'
satisfy λ'_{k+1} ≥ λ_k(diag q), so the E − 1 eigenvalues on 1^⊥ are ≥ min_i q_i. If
‖p − p*‖_∞ ≤ R, write d = p − p*. Then q_i = e^{−d_i}/Σ_k e^{−d_k} ≥ e^{−R}/(E e^{R}), so the
modulus is at least μ_R = e^{−2R}/E. Because the ball is convex, Taylor's theorem with integral
remainder gives, for p, p' in P_∞ = {Σp = 0, ‖p − p*‖_∞ ≤ R},
F(p') ≥ F(p) + ⟨∇F(p), p' − p⟩ + (μ_R/2)‖p' − p‖².

**Claim 9, logarithmic regret (Hazan-Agarwal-Kale, reconstructed).** Take P = {Σp = 0,
‖p − p*‖₂ ≤ R}. Since P ⊂ P_∞ (the ℓ2 ball lies inside the ℓ∞ ball), F is μ-strongly convex on P
with μ = μ_R. Run projected SGD p_{t+1} = Π_P(p_t − η_t g_t) from p_1 ∈ P, with 𝔼[g_t | p_t] =
∇F(p_t) and ‖g_t‖² ≤ G² almost surely. Both Σg_t = 0 and Σp_t = 0 hold, so p_t − η_tg_t stays in
the plane, and Π_P reduces to the radial projection onto the ℓ2 ball around p* within the plane:
y ↦ p* + (y − p*)·min(1, R/‖y − p*‖). Π_P is non-expansive and p* ∈ P, so

    ‖p_{t+1} − p*‖² ≤ ‖p_t − p*‖² − 2η_t⟨g_t, p_t − p*⟩ + η_t²G².

Strong convexity on P gives F(p_t) − F* ≤ ⟨∇F(p_t), p_t − p*⟩ − (μ/2)‖p_t − p*‖². Take
expectations (the tower rule gives 𝔼⟨g_t, p_t − p*⟩ = 𝔼⟨∇F(p_t), p_t − p*⟩) and let
d_t = 𝔼‖p_t − p*‖². Then 𝔼[F(p_t) − F*] ≤ (d_t − d_{t+1})/(2η_t) − (μ/2)d_t + η_tG²/2. Summing,
with 1/η_0 := 0 and −d_{T+1}/(2η_T) ≤ 0 dropped:

    𝔼 Σ_{t≤T} [F(p_t) − F*] ≤ Σ_t (d_t/2)(1/η_t − 1/η_{t−1} − μ) + (G²/2) Σ_t η_t.

With η_t = c/(μt), 1/η_t − 1/η_{t−1} = μ/c for every t ≥ 1. The coefficient (μ/2)(1/c − 1) of d_t
is ≤ 0 exactly when c ≥ 1; this is where c ≥ 1 is needed. For c < 1 the positive d_t terms do not
telescope away, and the proof fails (claim 10 shows the rate really degrades for c < ½). What
remains is

    𝔼 Σ_{t≤T} [F(p_t) − F*] ≤ (cG²/(2μ)) H_T ≤ (cG²/(2μ))(1 + ln T),

with G² = K(1 − K/E), which is 1 − 1/E in the Gumbel testbed. The unprojected iteration with
μ = 1/E uses the curvature at p* only and is not covered.

**Claim 10, the step-size dichotomy (standard; local quadratic model).** Near p*, take
F(p) − F* ≈ (μ/2)‖e‖² with e = p − p* ∈ 1^⊥ and noise of variance σ² = 𝔼‖g − ∇F‖² at p*. In the
Gumbel testbed the Hessian and the noise covariance (1/n)(I/E − 11ᵀ/E²) at p* are both isotropic on
1^⊥, and σ² = G²/n for a batch of n iid tokens. SGD gives d_{t+1} = (1 − η_tμ)²d_t + η_t²σ².
- η_t = c/(μt): d_{t+1} ≈ (1 − 2c/t)d_t + c²σ²/(μ²t²).
  - For 2c > 1, Chung's lemma gives d_t ≈ c²σ²/(μ²(2c−1)t), so the regret is
    ≈ Σ_t (μ/2)d_t ≈ (c²σ²/(2μ(2c − 1))) ln T: logarithmic, with a constant that blows up as
    c ↓ ½. For c ≥ 1, c²/(2c−1) ≤ c, which is consistent with claim 9's constant c.
  - For 2c < 1 the homogeneous part Π_s (1 − c/s)² ~ t^{−2c} dominates, so d_t ~ t^{−2c} and the
    regret ~ T^{1−2c}.
  - At c = ½ the regret ~ ln²T.
  - The exponent is max(1 − 2c, 0), with 0 meaning (poly)logarithmic.
- η_t = η_0/√t: d_t tracks the quasi-stationary level η_tσ²/(2μ), so the regret is
  ≈ Σ_t η_tσ²/4 ≈ (η_0σ²/2)√T, exponent ½.
- Constant η: d_t → ησ²/(μ(2 − ημ)) ≈ ησ²/(2μ), so the regret is ≈ (ησ²/4)·T once at the noise
  floor (≤ (ηG²/4)·T), exponent 1. Sign steps with a constant u behave the same way.

**Claim 11, the batch floor of MaxVio.** Under perfect global balance, with iid tokens, each token
selects expert i with marginal probability K/E. So load_i ~ Binomial(n, K/E), with standard
deviation √(n(K/E)(1 − K/E)). Divided by L̄ = Kn/E this is √((E − K)/(Kn)). Prices set from past
batches cannot remove this sampling noise. Treating the E standardised loads as independent normals
gives

    MaxVio_batch ≈ m_E·√((E − K)/(Kn)),   m_E = 𝔼 max of E iid N(0,1) < √(2 ln E),
    m_E = ∫ x·E φ(x)Φ(x)^{E−1} dx = ∫_0^∞ (1 − Φ(x)^E) dx − ∫_{−∞}^0 Φ(x)^E dx,

where the second form is the one evaluated numerically. The loads sum to Kn, so their correlations
average −1/(E−1). If the selection is exchangeable over experts (e.g. uniform routing), the
standardised loads are distributed as √(E/(E−1))(W_i − W̄) with W iid N(0,1), so the expected
maximum is √(E/(E−1))·m_E. ``exchangeable=True`` applies this factor. Binomial skew at small nK/E
makes the simulated floor slightly larger still.

References
----------
X.Y. Han, Y. Zhong, "A Theoretical Framework for Auxiliary-Loss-Free Load Balancing of Sparse
Mixture-of-Experts in Large-Scale AI Models", arXiv 2512.03915 (2025).
L. Wang, H. Gao, C. Zhao, X. Sun, D. Dai, "Auxiliary-Loss-Free Load Balancing Strategy for
Mixture-of-Experts", arXiv 2408.15664 (2024).
E. Hazan, A. Agarwal, S. Kale, "Logarithmic Regret Algorithms for Online Convex Optimization",
Machine Learning 69 (2007).
K.L. Chung, "On a stochastic approximation method", Ann. Math. Statist. 25 (1954).
"""

from __future__ import annotations

import math
import operator

import numpy as np
from numpy.typing import ArrayLike
from scipy import integrate, special

from theory._validate import as_float as _as_float
from theory._validate import scalar_or_array as _out
from theory.registry import Claim, ClaimKind, register

__all__ = [
    "CLAIMS",
    "EULER_GAMMA",
    "batch_maxvio_floor",
    "capacity",
    "constant_step_gap_bound",
    "expected_max_normal",
    "grad_sq_bound",
    "gumbel_dual_grad",
    "gumbel_dual_hessian",
    "gumbel_dual_loss",
    "gumbel_modulus",
    "gumbel_optimum",
    "harmonic",
    "log_regret_bound",
    "regret_exponent",
    "sandwich",
]

#: The Euler-Mascheroni constant γ, the mean of a standard Gumbel(0, 1) variable.
EULER_GAMMA: float = float(np.euler_gamma)

HAN_ZHONG = "Han & Zhong 2025, arXiv 2512.03915"
RECONSTRUCTED = f"{HAN_ZHONG}; derivation in theory.alf_lb"

# The bound functions below use numpy ufuncs, so they evaluate elementwise on arrays of constants
# (one entry per run and checkpoint) as well as on scalars. Scalars come back as Python floats.


def _check_K_E(K: ArrayLike, E: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    K_arr, E_arr = _as_float("K", K), _as_float("E", E)
    if np.any(E_arr < 1) or np.any(E_arr != np.round(E_arr)):
        raise ValueError(f"E must be a positive integer, got {E!r}")
    if np.any(K_arr < 1) or np.any(K_arr != np.round(K_arr)) or np.any(K_arr > E_arr):
        raise ValueError(f"K must be an integer with 1 ≤ K ≤ E, got K={K!r}, E={E!r}")
    return K_arr, E_arr


# ---------------------------------------------------------------- claims 1-7: the batch LP and its dual
def capacity(n: int, K: int, E: int) -> int:
    """The per-expert capacity C = Kn/E of the assignment LP (claims 1-3).

    Parameters
    ----------
    n, K, E
        Tokens per batch, experts per token and experts; integers with n ≥ 1 and 1 ≤ K ≤ E.

    Returns
    -------
    int
        C = Kn/E.

    Raises
    ------
    ValueError
        If an argument is out of range or Kn/E is not an integer. For a non-integer capacity the LP
        needs "≤ ⌈Kn/E⌉" rows instead.

    References
    ----------
    Han & Zhong (2025), arXiv 2512.03915; spec ``alf_lb.md`` §2 and claim 1 (integrality needs an
    integral right-hand side).
    """
    try:
        n, K, E = operator.index(n), operator.index(K), operator.index(E)
    except TypeError:
        raise TypeError(f"n, K, E must be integers, got n={n!r}, K={K!r}, E={E!r}") from None
    if n < 1:
        raise ValueError(f"n must be ≥ 1, got {n}")
    if E < 1:
        raise ValueError(f"E must be ≥ 1, got {E}")
    if not 1 <= K <= E:
        raise ValueError(f"K must satisfy 1 ≤ K ≤ E = {E}, got {K}")
    if (K * n) % E:
        raise ValueError(f"capacity K·n/E = {K}·{n}/{E} is not an integer; choose n with E | K·n")
    return K * n // E


def grad_sq_bound(K: ArrayLike, E: ArrayLike, n: ArrayLike = 1) -> float | np.ndarray:
    r"""The bound ‖g‖² ≤ n²K(1 − K/E) on the dual (sub)gradient (claims 6(b) and 7).

    Parameters
    ----------
    K, E
        Experts per token and experts, 1 ≤ K ≤ E.
    n
        Tokens per batch. ``n = 1`` gives the fraction-unit constant G² = K(1 − K/E), the bound on
        ‖(K/E)·1 − l‖².

    Returns
    -------
    float or ndarray
        n²K(1 − K/E). It is attained when every token picks the same K experts.

    Notes
    -----
    ‖C·1 − load‖² = Σ load_i² − K²n²/E and Σ load_i² ≤ n·Σ load_i = Kn²; see the module docstring.

    References
    ----------
    Spec ``alf_lb.md``, claims 6(b) and 7 (derived in :mod:`theory.alf_lb`).
    """
    K_arr, E_arr = _check_K_E(K, E)
    n_arr = _as_float("n", n, above=0)
    return _out(n_arr**2 * K_arr * (1.0 - K_arr / E_arr))


def sandwich(delta: ArrayLike, g_before: ArrayLike, g_after: ArrayLike) -> tuple[float | np.ndarray,
                                                                                 float | np.ndarray]:
    r"""The claim-4 sandwich ⟨δ, g(p)⟩ ≤ D(p+δ) − D(p) ≤ ⟨δ, g(p+δ)⟩.

    Parameters
    ----------
    delta
        Price steps δ = p_{t+1} − p_t, shape (..., E). A sign step has δ = −u·sign(g_t), a gradient
        step δ = −ηg_t.
    g_before, g_after
        Subgradients g(p) and g(p + δ) = C·1 − load(best response), broadcastable with ``delta``.

    Returns
    -------
    lower, upper
        ⟨δ, g(p)⟩ and ⟨δ, g(p+δ)⟩ over the last axis, with shape (...); floats for 1-D inputs.

    References
    ----------
    Han & Zhong (2025), arXiv 2512.03915, monotone-improvement condition (reconstructed; derivation in
    :mod:`theory.alf_lb`).
    """
    d = _as_float("delta", delta)
    gb = _as_float("g_before", g_before)
    ga = _as_float("g_after", g_after)
    if d.ndim == 0 or gb.ndim == 0 or ga.ndim == 0:
        raise ValueError("delta, g_before and g_after must have a trailing expert axis")
    if not d.shape[-1] == gb.shape[-1] == ga.shape[-1]:
        raise ValueError(f"delta, g_before, g_after disagree on E: {d.shape}, {gb.shape}, {ga.shape}")
    try:
        d_b, gb_b, ga_b = np.broadcast_arrays(d, gb, ga)
    except ValueError:
        raise ValueError(f"delta, g_before, g_after do not broadcast: {d.shape}, {gb.shape}, {ga.shape}") from None
    lower = np.einsum("...i,...i->...", d_b, gb_b)
    upper = np.einsum("...i,...i->...", d_b, ga_b)
    return _out(lower), _out(upper)


def constant_step_gap_bound(dist0_sq: ArrayLike, eta: ArrayLike, T: ArrayLike,
                            grad_sq_sum: ArrayLike) -> float | np.ndarray:
    r"""Claim 6(b): (1/T)Σ_{t≤T}[D(p_t) − OPT] ≤ ‖p_1 − p*‖²/(2ηT) + (η/(2T))Σ_{t≤T}‖g_t‖².

    Parameters
    ----------
    dist0_sq
        ‖p_1 − p*‖², with p* shifted along 1 so that mean(p*) = mean(p_1).
    eta
        The constant step η > 0 of p_{t+1} = p_t − ηg_t (count units if g = C·1 − load).
    T
        Horizon, T ≥ 1.
    grad_sq_sum
        Σ_{t≤T}‖g_t‖², or T·``grad_sq_bound(K, E, n)`` for an a-priori bound.

    Returns
    -------
    float or ndarray
        The bound on the average dual gap over the first T iterates.

    References
    ----------
    Standard subgradient-method bound (e.g. Nesterov, *Lectures on Convex Optimization*, §3.2.3);
    spec ``alf_lb.md``, claim 6(b).
    """
    r0 = _as_float("dist0_sq", dist0_sq, at_least=0)
    eta_arr = _as_float("eta", eta, above=0)
    T_arr = _as_float("T", T, at_least=1)
    s = _as_float("grad_sq_sum", grad_sq_sum, at_least=0)
    return _out(r0 / (2.0 * eta_arr * T_arr) + eta_arr * s / (2.0 * T_arr))


# ---------------------------------------------------------------- claim 8: the Gumbel testbed
def _check_a(a: ArrayLike) -> np.ndarray:
    a_arr = _as_float("a", a)
    if a_arr.ndim != 1 or a_arr.size < 1:
        raise ValueError(f"a must be a non-empty 1-D array of expert popularities, got shape {a_arr.shape}")
    return a_arr


def _check_p(p: ArrayLike, E: int) -> np.ndarray:
    p_arr = _as_float("p", p)
    if p_arr.ndim == 0 or p_arr.shape[-1] != E:
        raise ValueError(f"p must have a trailing axis of length E = {E}, got shape {p_arr.shape}")
    return p_arr


def gumbel_dual_loss(a: ArrayLike, p: ArrayLike) -> float | np.ndarray:
    r"""Gumbel testbed (claim 8): F(p) = logsumexp(a − p) + (1/E)Σ_i p_i + γ.

    F = 𝔼 f_t for K = 1 and scores s_ji = a_i + Gumbel(0, 1).

    Parameters
    ----------
    a
        Expert popularities, shape (E,).
    p
        Prices, shape (..., E); leading axes broadcast.

    Returns
    -------
    float or ndarray
        F(p), shape (...).

    References
    ----------
    Spec ``alf_lb.md``, claim 8 (derived in :mod:`theory.alf_lb`).
    """
    a_arr = _check_a(a)
    p_arr = _check_p(p, a_arr.size)
    return _out(special.logsumexp(a_arr - p_arr, axis=-1) + p_arr.mean(axis=-1) + EULER_GAMMA)


def gumbel_dual_grad(a: ArrayLike, p: ArrayLike) -> np.ndarray:
    r"""Gumbel testbed (claim 8): ∇F(p) = 1/E − softmax(a − p).

    Parameters
    ----------
    a
        Expert popularities, shape (E,).
    p
        Prices, shape (..., E).

    Returns
    -------
    ndarray
        ∇F(p), shape (..., E). Each row sums to 0.

    References
    ----------
    Spec ``alf_lb.md``, claim 8.
    """
    a_arr = _check_a(a)
    p_arr = _check_p(p, a_arr.size)
    return 1.0 / a_arr.size - special.softmax(a_arr - p_arr, axis=-1)


def gumbel_dual_hessian(a: ArrayLike, p: ArrayLike) -> np.ndarray:
    r"""Gumbel testbed (claim 8): ∇²F(p) = diag(q) − qqᵀ with q = softmax(a − p).

    Parameters
    ----------
    a
        Expert popularities, shape (E,).
    p
        One price vector, shape (E,).

    Returns
    -------
    ndarray
        The (E, E) Hessian. It is positive semidefinite with 1 in its kernel.

    References
    ----------
    Spec ``alf_lb.md``, claim 8.
    """
    a_arr = _check_a(a)
    p_arr = _check_p(p, a_arr.size)
    if p_arr.ndim != 1:
        raise ValueError(f"p must be a single price vector of shape (E,), got shape {p_arr.shape}")
    q = special.softmax(a_arr - p_arr)
    return np.diag(q) - np.outer(q, q)


def gumbel_optimum(a: ArrayLike) -> tuple[np.ndarray, float]:
    r"""Gumbel testbed (claim 8): p* = a − mean(a) and F* = mean(a) + ln E + γ.

    Parameters
    ----------
    a
        Expert popularities, shape (E,).

    Returns
    -------
    p_star, F_star
        The minimiser with Σp* = 0 (every p* + c·1 also minimises) and the optimal value.

    References
    ----------
    Spec ``alf_lb.md``, claim 8.
    """
    a_arr = _check_a(a)
    m = float(a_arr.mean())
    return a_arr - m, m + math.log(a_arr.size) + EULER_GAMMA


def gumbel_modulus(E: ArrayLike, R: ArrayLike = 0.0) -> float | np.ndarray:
    r"""Gumbel testbed (claim 8): the strong-convexity modulus μ_R = e^{−2R}/E on 1^⊥.

    μ_R holds on {‖p − p*‖_∞ ≤ R}, and hence on the ℓ2 ball of radius R used in claim 9. At R = 0
    it is the curvature μ = 1/E at p*.

    Parameters
    ----------
    E
        Number of experts, ≥ 1.
    R
        Radius of the ℓ∞ ball around p*, ≥ 0.

    Returns
    -------
    float or ndarray
        e^{−2R}/E, a lower bound on min_i q_i and hence on the Hessian's eigenvalues on 1^⊥.

    References
    ----------
    Spec ``alf_lb.md``, claim 8 (Cauchy interlacing; derived in :mod:`theory.alf_lb`).
    """
    E_arr = _as_float("E", E, at_least=1)
    R_arr = _as_float("R", R, at_least=0)
    return _out(np.exp(-2.0 * R_arr) / E_arr)


# ---------------------------------------------------------------- claims 9-10: regret
def harmonic(T: ArrayLike) -> float | np.ndarray:
    r"""The harmonic number H_T = Σ_{t≤T} 1/t, computed as ψ(T + 1) + γ.

    Parameters
    ----------
    T
        Horizon(s) ≥ 0, scalar or array. H_0 = 0; non-integers give the generalised harmonic
        number.

    Returns
    -------
    float or ndarray
        H_T ≤ 1 + ln T for T ≥ 1.
    """
    T_arr = _as_float("T", T, at_least=0)
    return _out(special.digamma(T_arr + 1.0) + EULER_GAMMA)


def log_regret_bound(T: ArrayLike, K: ArrayLike, E: ArrayLike, mu: ArrayLike,
                     c: ArrayLike = 1.0) -> float | np.ndarray:
    r"""Claim 9: 𝔼Σ_{t≤T}[F(p_t) − F*] ≤ (cG²/(2μ))·H_T, with G² = K(1 − K/E).

    The bound covers projected SGD with η_t = c/(μt), c ≥ 1, on a convex set P ∋ p* where F is
    μ-strongly convex (e.g. P = {Σp = 0, ‖p − p*‖₂ ≤ R} with μ = e^{−2R}/E in the Gumbel testbed),
    with unbiased stochastic gradients in fraction units.

    Parameters
    ----------
    T
        Horizon(s) ≥ 1, scalar or array.
    K, E
        Experts per token and experts.
    mu
        Strong-convexity modulus μ > 0 of F on P.
    c
        Step multiplier, c ≥ 1. The proof needs 1/η_t − 1/η_{t−1} ≤ μ.

    Returns
    -------
    float or ndarray
        (cG²/(2μ))H_T ≤ (cG²/(2μ))(1 + ln T).

    Raises
    ------
    ValueError
        If c < 1, where the bound is not proved (see claim 10 for what happens there).

    References
    ----------
    Hazan, Agarwal, Kale (2007), Thm 1, applied to the dual of Han & Zhong (2025), arXiv 2512.03915
    (reconstructed; derivation in :mod:`theory.alf_lb`).
    """
    K_arr, E_arr = _check_K_E(K, E)
    T_arr = _as_float("T", T, at_least=1)
    mu_arr = _as_float("mu", mu, above=0)
    c_arr = _as_float("c", c, at_least=1, why=" (the log-regret bound is only proved for η_t = c/(μt), c ≥ 1)")
    G2 = K_arr * (1.0 - K_arr / E_arr)
    return _out(c_arr * G2 / (2.0 * mu_arr) * harmonic(T_arr))


_SCHEDULES = ("inverse_t", "inverse_sqrt", "constant", "sign")


def regret_exponent(schedule: str, c: ArrayLike | None = None) -> float | np.ndarray:
    r"""Claim 10: the exponent α in regret ~ T^α for a step-size schedule (0 means logarithmic).

    Parameters
    ----------
    schedule
        ``"inverse_t"`` (η_t = c/(μt)), ``"inverse_sqrt"`` (η_t = η_0/√t), ``"constant"`` (fixed η)
        or ``"sign"`` (sign steps with a fixed u, which behave like a constant step).
    c
        The multiplier of ``"inverse_t"``, c > 0. Required for that schedule and ignored otherwise.

    Returns
    -------
    float or ndarray
        max(1 − 2c, 0) for ``"inverse_t"``; 0.5 for ``"inverse_sqrt"``; 1.0 for ``"constant"`` and
        ``"sign"``.

    Notes
    -----
    For c > ½ the regret is ≈ (c²σ²/(2μ(2c − 1)))·ln T, where σ² is the gradient-noise variance at p*
    (G²/n for a batch of n iid tokens). At c = ½ it grows as ln²T.

    References
    ----------
    Chung (1954); the local quadratic model in :mod:`theory.alf_lb`; spec ``alf_lb.md``, claim 10.
    """
    if schedule == "inverse_t":
        if c is None:
            raise ValueError("c is required for schedule 'inverse_t' (η_t = c/(μt))")
        c_arr = _as_float("c", c, above=0)
        return _out(np.maximum(1.0 - 2.0 * c_arr, 0.0))
    if schedule == "inverse_sqrt":
        return 0.5
    if schedule in ("constant", "sign"):
        return 1.0
    raise ValueError(f"schedule must be one of {_SCHEDULES}, got {schedule!r}")


# ---------------------------------------------------------------- claim 11: the batch floor
def _expected_max_normal_scalar(E: int) -> float:
    if E == 1:
        return 0.0
    # 𝔼 max = ∫_0^∞ (1 − Φ^E) − ∫_{−∞}^0 Φ^E, with Φ^E = exp(E·log Φ) for accuracy in the tails.
    x0 = math.sqrt(2.0 * math.log(E))
    upper, _ = integrate.quad(lambda x: -math.expm1(E * special.log_ndtr(x)), 0.0, 40.0, points=[x0],
                              limit=200, epsabs=1e-13, epsrel=1e-12)
    lower, _ = integrate.quad(lambda x: math.exp(E * special.log_ndtr(x)), -40.0, 0.0,
                              limit=200, epsabs=1e-13, epsrel=1e-12)
    return upper - lower


def expected_max_normal(E: ArrayLike) -> float | np.ndarray:
    r"""m_E = 𝔼 max of E iid standard normals, by numerical integration (claim 11).

    Parameters
    ----------
    E
        Number of variables, an integer ≥ 1 (scalar or array).

    Returns
    -------
    float or ndarray
        m_E = ∫ x·Eφ(x)Φ(x)^{E−1} dx. For example m_1 = 0, m_2 = 1/√π and m_3 = 3/(2√π), with
        m_E < √(2 ln E) for E ≥ 2.

    References
    ----------
    Spec ``alf_lb.md``, claim 11.
    """
    E_arr = _as_float("E", E)
    if np.any(E_arr < 1) or np.any(E_arr != np.round(E_arr)):
        raise ValueError(f"E must be a positive integer, got {E!r}")
    flat = E_arr.astype(np.int64).ravel()
    values = {int(e): _expected_max_normal_scalar(int(e)) for e in np.unique(flat)}
    return _out(np.array([values[int(e)] for e in flat], dtype=float).reshape(E_arr.shape))


def batch_maxvio_floor(n: ArrayLike, K: ArrayLike, E: ArrayLike, *,
                       exchangeable: bool = False) -> float | np.ndarray:
    r"""Claim 11: the sampling floor of MaxVio_batch at perfect global balance, m_E·√((E − K)/(Kn)).

    Parameters
    ----------
    n
        Tokens per batch, > 0.
    K, E
        Experts per token and experts.
    exchangeable
        If True, multiply by √(E/(E − 1)). This accounts for the constraint Σ load = Kn when the
        selection is exchangeable over experts (e.g. uniform routing), whose standardised loads have
        correlation −1/(E − 1). The default is the spec's independent-normal form.

    Returns
    -------
    float or ndarray
        The approximate 𝔼 MaxVio_batch of a router that is perfectly balanced in expectation: the
        standard deviation of a Binomial(n, K/E) load relative to L̄ = Kn/E, times the expected
        maximum over E experts.

    References
    ----------
    Wang et al. (2024), arXiv 2408.15664, Eq. 4 (MaxVio); spec ``alf_lb.md``, claim 11 (derived in
    :mod:`theory.alf_lb`).
    """
    K_arr, E_arr = _check_K_E(K, E)
    n_arr = _as_float("n", n, above=0)
    floor = expected_max_normal(E_arr) * np.sqrt((E_arr - K_arr) / (K_arr * n_arr))
    if exchangeable:
        floor = floor * np.sqrt(E_arr / np.maximum(E_arr - 1.0, 1.0))
    return _out(floor)


CLAIMS = (
    Claim("alf_lb.integrality",
          "(P) has a totally unimodular constraint matrix and integral C = Kn/E, so the highs-ds vertex "
          "x* ∈ {0,1}^{n×E} and OPT_LP = OPT_IP",
          "standard (total unimodularity of bipartite incidence matrices)", ClaimKind.STRUCTURAL,
          (capacity,)),
    Claim("alf_lb.best_response",
          "route(s, −p, K) = biased top-K maximises L(·, p) over {Σ_i x_ji = K, 0 ≤ x ≤ 1}, with value "
          "D(p) = Σ_j topKsum(s_j − p) + C Σ_i p_i",
          f"derived (theory.alf_lb), consistent with {HAN_ZHONG}", ClaimKind.IDENTITY),
    Claim("alf_lb.duality",
          "D(p) ≥ OPT for every p ∈ R^E, and D(p*) = OPT at p* = −b*, b* = capacity-row marginals of HiGHS",
          "standard (LP duality)", ClaimKind.PER_RUN),
    Claim("alf_lb.monotone_improvement",
          "⟨δ, g(p)⟩ ≤ D(p+δ) − D(p) ≤ ⟨δ, g(p+δ)⟩, g = C·1 − load; sign step: −u‖g_t‖₁ ≤ ΔD ≤ "
          "−u⟨sign g_t, g_{t+1}⟩; gradient step: −η‖g_t‖² ≤ ΔD ≤ −η⟨g_t, g_{t+1}⟩",
          RECONSTRUCTED, ClaimKind.PER_RUN, (sandwich,), reconstructed=True),
    Claim("alf_lb.preference_rule",
          "sign step: gap (s_ji + b_i) − (s_jk + b_k) changes by u(σ_i − σ_k), σ = sign g_t; if k enters and "
          "i leaves token j's top-K then σ_k ≥ σ_i (strict in exact arithmetic); gradient step: load_k ≤ load_i",
          RECONSTRUCTED, ClaimKind.STRUCTURAL, reconstructed=True),
    Claim("alf_lb.telescoping",
          "(1/T)Σ_{t≤T}(C·1 − load_t) = (b_{T+1} − b_1)/(ηT); sign step: (1/T)Σ_t sign g_t = (b_{T+1} − b_1)/(uT)",
          "derived (theory.alf_lb)", ClaimKind.IDENTITY),
    Claim("alf_lb.constant_step_gap",
          "constant η on a fixed batch: (1/T)Σ_{t≤T}[D(p_t) − OPT] ≤ ‖p_1 − p*‖²/(2ηT) + (η/(2T))Σ_t‖g_t‖², "
          "‖g_t‖² ≤ n²K(1 − K/E)",
          "standard (subgradient method); gradient bound derived in theory.alf_lb", ClaimKind.PER_RUN,
          (constant_step_gap_bound, grad_sq_bound)),
    Claim("alf_lb.sign_limit_cycle",
          "constant u on a fixed batch: the bias spread stays ≤ max(M_1, (E−1)(Δ + 2u) + 2u), so the integer "
          "counts k = b/u are eventually exactly periodic (modulo k ↦ k + c·1); cycle-averaged MaxVio and "
          "D(p) − OPT grow with u",
          RECONSTRUCTED, ClaimKind.STRUCTURAL, reconstructed=True),
    Claim("alf_lb.bias_vs_duals",
          "after a long small-u run, D(−b) − OPT is small and the centred bias is nearly collinear with the "
          "centred LP duals b* (compare D values, not prices, where the duals are degenerate)",
          f"derived (theory.alf_lb); bias = negative shadow price, {HAN_ZHONG}", ClaimKind.STRUCTURAL),
    Claim("alf_lb.stochastic_gradient",
          "causal p_t, continuous scores: 𝔼[g_t | p_t] = ∇F(p_t) with g_t = (K/E)·1 − l_t, and "
          "‖g_t‖² = Σ l_i² − K²/E ≤ G² = K(1 − K/E)",
          "derived (theory.alf_lb)", ClaimKind.IDENTITY, (grad_sq_bound,)),
    Claim("alf_lb.gumbel_testbed",
          "K = 1, s_ji = a_i + Gumbel(0,1): F(p) = logsumexp(a − p) + (1/E)Σp_i + γ, ∇F = 1/E − q, "
          "∇²F = diag(q) − qqᵀ, q = softmax(a − p); p* = a − mean(a), F* = mean(a) + ln E + γ",
          "derived (theory.alf_lb)", ClaimKind.IDENTITY,
          (gumbel_dual_loss, gumbel_dual_grad, gumbel_dual_hessian, gumbel_optimum)),
    Claim("alf_lb.strong_convexity",
          "Gumbel testbed: ∇²F(p*) = I/E on 1^⊥ (μ = 1/E); on ‖p − p*‖_∞ ≤ R its eigenvalues on 1^⊥ are "
          "≥ min_i q_i ≥ e^{−2R}/E",
          "derived (theory.alf_lb; Cauchy interlacing)", ClaimKind.IDENTITY, (gumbel_modulus,)),
    Claim("alf_lb.log_regret",
          "projected SGD on P = {Σp = 0, ‖p − p*‖₂ ≤ R}, η_t = c/(μt), c ≥ 1, μ = e^{−2R}/E: "
          "𝔼Σ_{t≤T}[F(p_t) − F*] ≤ (cG²/(2μ))H_T ≤ (cG²/(2μ))(1 + ln T), G² = K(1 − K/E)",
          f"Hazan, Agarwal, Kale (2007), Thm 1, applied to the dual; {RECONSTRUCTED}", ClaimKind.EXPECTATION,
          (log_regret_bound, harmonic), reconstructed=True),
    Claim("alf_lb.step_dichotomy",
          "η_t = c/(μt): regret ~ T^{max(1−2c, 0)} (logarithmic for c > ½, constant ≈ c²σ²/(2μ(2c−1))); "
          "η_0/√t: ~ √T; constant η or u: ~ T at the noise floor (≈ ησ²/4 per step)",
          "standard (stochastic approximation, Chung 1954; local quadratic model in theory.alf_lb)",
          ClaimKind.RATE, (regret_exponent,)),
    Claim("alf_lb.batch_floor",
          "prices fix only global balance: 𝔼 MaxVio_batch ≳ m_E·√((E − K)/(Kn)), m_E = 𝔼 max of E iid N(0,1) "
          "< √(2 ln E)",
          "derived (theory.alf_lb)", ClaimKind.RATE, (batch_maxvio_floor, expected_max_normal)),
)

register(*CLAIMS)
