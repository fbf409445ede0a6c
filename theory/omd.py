r"""Optimistic online mirror descent in the SEA model: the claims as pure functions.

Setting (spec ``omd.md`` §2). Rounds t = 1..T on a convex set X of diameter D; nature picks a
distribution 𝒟_t, the learner plays x_t and observes g_t = ∇f_t(x_t), f_t ~ 𝒟_t, with
F_t = E_{f~𝒟_t} f, ‖∇f_t‖ ≤ G and F_t L-smooth. The SEA quantities are

    σ_t² = sup_x E‖∇f(x) − ∇F_t(x)‖²,   σ²_{1:T} = E Σ_t σ_t²,
    Σ²_{1:T} = E Σ_t sup_x ‖∇F_t(x) − ∇F_{t−1}(x)‖²  (∇F_0 ≡ 0),

with σ²_max, Σ²_max their per-round maxima. Each function below computes one bound from these
constants (or, for the per-run claims, from realised sums along a trajectory).

Derivations of the reconstructed constants
------------------------------------------
**Optimistic OMD lemma (claim 1).** For the Euclidean steps x_t = Π(x̂_t − η_t M_t),
x̂_{t+1} = Π(x̂_t − η_t g_t), the optimality conditions of the two projections give, for every u ∈ X,

    η_t⟨g_t, x_t − u⟩ ≤ η_t⟨g_t − M_t, x_t − x̂_{t+1}⟩ + ½‖u − x̂_t‖² − ½‖u − x̂_{t+1}‖²
                        − ½‖x̂_{t+1} − x_t‖² − ½‖x_t − x̂_t‖²,

and non-expansiveness gives ‖x_t − x̂_{t+1}‖ ≤ η_t‖g_t − M_t‖. Dividing by η_t and telescoping with
non-increasing η_t and ‖u − x̂_t‖ ≤ D gives claim 1 with D²/(2η_T).

**Adaptive corollary (claim 2).** With η_t = D/√(δ + 4G² + V_{t−1}) and ‖g_t − M_t‖² ≤ 4G²,
δ + 4G² + V_{t−1} ≥ V_t, so Σ_t η_t a_t ≤ D Σ_t a_t/√V_t ≤ 2D√V_T (a_t = ‖g_t − M_t‖²); dropping the
negative terms gives (D/2)√(δ + 4G² + V_{T−1}) + 2D√V_T.

**Chen et al., convex, explicit constants (claim 7; reconstructed).** Start from claim 1 with the
adaptive step. (i) (D/2)√(δ + 4G² + V_{T−1}) ≤ (D/2)√(δ + 4G²) + (D/2)√V_T, so the positive part is
at most (D/2)√(δ+4G²) + (5D/2)√V_T. (ii) By claim 3 (t ≥ 2) and, at t = 1 (M_1 = 0, ∇F_0 ≡ 0),
‖g_1‖² ≤ 2‖g_1 − ∇F_1(x_1)‖² + 2‖∇F_1(x_1)‖²:

    V_T ≤ 8 S_σ + 4 S_Σ + 4L² Σ_{t≥2} ‖x_t − x_{t−1}‖²,
    S_σ = Σ_t ‖g_t − ∇F_t(x_t)‖²,   S_Σ = Σ_t ‖∇F_t(x_{t−1}) − ∇F_{t−1}(x_{t−1})‖²  (x_0 := x_1).

(iii) ‖x_t − x_{t−1}‖² ≤ 2‖x_t − x̂_t‖² + 2‖x̂_t − x_{t−1}‖², so Σ_t ‖x_t − x_{t−1}‖² ≤ 2N, N the sum in
the negative term of claim 1, whose coefficient 1/(2η_t) ≥ b := √(δ + 4G²)/(2D). (iv) With
√(p + q) ≤ √p + √q and c := (5D/2)·2L·√2 = 5√2·DL, the leftover c√N − bN ≤ c²/(4b) =
25D³L²/√(δ + 4G²). Hence, on every run and for every u ∈ X,

    Σ_t ⟨g_t, x_t − u⟩ ≤ (D/2)√(δ + 4G²) + (5D/2)√(8 S_σ + 4 S_Σ) + 25 D³L²/√(δ + 4G²).

Taking expectations (E S_σ ≤ σ²_{1:T}, E S_Σ ≤ Σ²_{1:T}, Jensen on the square root) and
E⟨g_t, x_t − u⟩ = E⟨∇F_t(x_t), x_t − u⟩ ≥ E[F_t(x_t) − F_t(u)] (F_t convex) gives the expectation
bound of :func:`chen_convex_bound`, of the claimed order D√σ²_{1:T} + D√Σ²_{1:T} + lower order.

**Strongly convex step and bound (claim 8; reconstructed).** If F_t is λ-strongly convex, E[F_t(x_t)
− F_t(u)] ≤ E[⟨g_t, x_t − u⟩ − (λ/2)‖x_t − u‖²], and ‖x̂_t − u‖² ≤ 2‖x_t − u‖² + 2‖x_t − x̂_t‖² turns
−(λ/2)‖x_t − u‖² into −(λ/4)‖x̂_t − u‖² + (λ/2)‖x_t − x̂_t‖². The telescoped Bregman terms have
coefficient 1/(2η_t) − 1/(2η_{t−1}) − λ/4 on ‖x̂_t − u‖², which is ≤ 0 iff 1/η_t − 1/η_{t−1} ≤ λ/2; the
largest such schedule with 1/η_0 = 0 is η_t = 2/(λt). The term (λ/2)‖x_t − x̂_t‖² is absorbed by
−(1/(2η_t))‖x_t − x̂_t‖² = −(λt/4)‖·‖² for t ≥ 2 (x_1 = x̂_1). What is left is
Σ_t η_t‖g_t − M_t‖² minus λ(t−2)/4·‖x_t − x̂_t‖² and λ(t−1)/4·‖x̂_t − x_{t−1}‖². Claim 3 splits
η_t‖g_t − g_{t−1}‖² into (8/(λt))(e_t + s_t + e_{t−1}) plus (8L²/(λt))‖x_t − x_{t−1}‖² ≤
(16L²/(λt))(‖x_t − x̂_t‖² + ‖x̂_t − x_{t−1}‖²); where 16L²/(λt) exceeds λ(t−2)/4 each squared
distance is at most D², which yields the finite constant C(L, λ, D) of :func:`strongly_convex_burn_in`.
Hence

    E R_T(u) ≤ (8/λ) Σ_t (σ_t² + σ_{t−1}² + Σ_t²)/t + C(L, λ, D)
             ≤ (8/λ)(2σ²_max + Σ²_max) H_T + C(L, λ, D),   H_T ≤ 1 + ln T,

of the claimed order (σ²_max + Σ²_max) log T / λ (Chen et al., ICML version).

References
----------
S. Chen, Y.-J. Zhang, W.-W. Tu, P. Zhao, L. Zhang, "Optimistic Online Mirror Descent for Bridging
Stochastic and Adversarial Online Convex Optimization", ICML 2023 / JMLR 2024, arXiv 2302.04552.
S. Sachs, H. Hadiji, T. van Erven, C. Guzmán, "Between Stochastic and Adversarial Online Convex
Optimization: Improved Regret Bounds via Smoothness", NeurIPS 2022, arXiv 2202.07554.
C.-K. Chiang et al., "Online Optimization with Gradual Variations", COLT 2012.
A. Rakhlin, K. Sridharan, "Online Learning with Predictable Sequences", arXiv 1208.3728.
E. Hazan, A. Agarwal, S. Kale, "Logarithmic Regret Algorithms for Online Convex Optimization", 2007.
"""

from __future__ import annotations

import math

import numpy as np

from theory.registry import Claim, ClaimKind, register

SACHS = "Sachs, Hadiji, van Erven, Guzmán (NeurIPS 2022)"
CHEN = "Chen, Zhang, Tu, Zhao, Zhang (ICML 2023 / JMLR 2024)"

SQRT2 = math.sqrt(2.0)

# The bound functions below are written with numpy ufuncs, so each one evaluates elementwise on
# arrays of constants (one entry per run and checkpoint) as well as on scalars.


def harmonic(T: int) -> float:
    """H_T = Σ_{t ≤ T} 1/t."""
    return float(np.sum(1.0 / np.arange(1, int(T) + 1)))


# ---------------------------------------------------------------- claims 1-3: per-run inequalities
def optimistic_lemma_bound(D: float, eta_T: float, weighted_variation: float,
                           stability: float) -> float:
    r"""Claim 1: D²/(2η_T) + Σ_t η_t‖g_t − M_t‖² − Σ_t (‖x_t − x̂_t‖² + ‖x̂_{t+1} − x_t‖²)/(2η_t).

    ``weighted_variation`` is Σ_t η_t‖g_t − M_t‖² and ``stability`` the (non-negative) subtracted sum.
    """
    return D * D / (2.0 * eta_T) + weighted_variation - stability


def adaptive_step_bound(D: float, G: float, delta: float, V_prev: float, V: float) -> float:
    """Claim 2: (D/2)√(δ + 4G² + V_{T−1}) + 2D√V_T for the adaptive convex step."""
    return 0.5 * D * np.sqrt(delta + 4.0 * G * G + V_prev) + 2.0 * D * np.sqrt(V)


def variation_decomposition_bound(noise_now: float, move: float, drift: float, noise_prev: float,
                                  L: float) -> float:
    """Claim 3: 4‖g_t − ∇F_t(x_t)‖² + 4L²‖x_t − x_{t−1}‖² + 4‖Δ∇F_t(x_{t−1})‖² + 4‖g_{t−1} − ∇F_{t−1}‖²."""
    return 4.0 * (noise_now + L * L * move + drift + noise_prev)


# ---------------------------------------------------------------- claims 4-6: Sachs et al.
def default_nu(D: float, G: float, L: float) -> float:
    """ν = LD² + DG: the dimensionally consistent choice of OFTRL's free parameter (spec §3)."""
    return L * D * D + D * G


def sachs_lower_order(D: float, G: float, L: float, nu: float) -> float:
    """(3√2/2)DG + ν + (4D²G² + 9L²D⁴)/ν, the lower-order terms of Sachs et al. eq. (11) and Thm 5."""
    return 1.5 * SQRT2 * D * G + nu + (4.0 * D**2 * G**2 + 9.0 * L**2 * D**4) / nu


def sachs_pathwise_bound(D: float, G: float, L: float, nu: float, noise: float,
                         drift: float) -> float:
    """Claim 4 (Sachs et al., eq. 11): 6D√noise + 3√2·D√drift + lower order, per realisation.

    ``noise`` = Σ_t ‖g_t − ∇F_t(x_t)‖² and ``drift`` = Σ_{t<T} ‖∇F_{t+1}(x_t) − ∇F_t(x_t)‖².
    """
    return (6.0 * D * np.sqrt(noise) + 3.0 * SQRT2 * D * np.sqrt(drift)
            + sachs_lower_order(D, G, L, nu))


def sachs_convex_bound(D: float, G: float, L: float, nu: float, sigma2_sum: float,
                       Sigma2_sum: float) -> float:
    """Claim 5 (Sachs et al., Thm 5): D(6σ̄_T + 3√2 Σ̄_T)√T + lower order = 6D√σ²_{1:T} + 3√2 D√Σ²_{1:T} + ..."""
    return (6.0 * D * np.sqrt(sigma2_sum) + 3.0 * SQRT2 * D * np.sqrt(Sigma2_sum)
            + sachs_lower_order(D, G, L, nu))


def sachs_strongly_convex_bound(mu: float, L: float, D: float, sigma2_max: float,
                                Sigma2_rounds: np.ndarray) -> float:
    """Claim 6 (Sachs et al., Thm 7): (1/μ)Σ_t (8σ²_max + 4Σ_t²)/t + (4D²L²/μ) ln(1 + 16L/μ).

    ``Sigma2_rounds[t-1]`` = E sup_x ‖∇F_t(x) − ∇F_{t−1}(x)‖² for t = 1..T.
    """
    Sigma2_rounds = np.asarray(Sigma2_rounds, dtype=float)
    t = np.arange(1, Sigma2_rounds.size + 1)
    main = float(np.sum((8.0 * sigma2_max + 4.0 * Sigma2_rounds) / t)) / mu
    return main + 4.0 * D * D * L * L / mu * np.log1p(16.0 * L / mu)


# ---------------------------------------------------------------- claims 7-10: Chen et al.
def chen_convex_pathwise_bound(D: float, G: float, L: float, delta: float, noise: float,
                               drift: float) -> float:
    """Claim 7, per run (derived above): (D/2)√(δ+4G²) + (5D/2)√(8 noise + 4 drift) + 25D³L²/√(δ+4G²).

    ``noise`` = Σ_t ‖g_t − ∇F_t(x_t)‖², ``drift`` = Σ_t ‖∇F_t(x_{t−1}) − ∇F_{t−1}(x_{t−1})‖².
    """
    base = np.sqrt(delta + 4.0 * G * G)
    return 0.5 * D * base + 2.5 * D * np.sqrt(8.0 * noise + 4.0 * drift) + 25.0 * D**3 * L**2 / base


def chen_convex_bound(D: float, G: float, L: float, delta: float, sigma2_sum: float,
                      Sigma2_sum: float) -> float:
    """Claim 7, in expectation (reconstructed): the pathwise bound at S_σ = σ²_{1:T}, S_Σ = Σ²_{1:T}."""
    return chen_convex_pathwise_bound(D, G, L, delta, sigma2_sum, Sigma2_sum)


def chen_convex_rate(D: float, G: float, L: float, sigma2_sum: float, Sigma2_sum: float) -> float:
    """Claim 7's order without constants: D√σ²_{1:T} + D√Σ²_{1:T} + LD² + DG (spec's test ratio)."""
    return D * (np.sqrt(sigma2_sum) + np.sqrt(Sigma2_sum)) + L * D * D + D * G


def strongly_convex_burn_in(L: float, lam: float, D: float) -> float:
    """C(L, λ, D) = 2D² Σ_{t≥2} max(0, 16L²/(λt) − λ(t−2)/4), the burn-in constant of claim 8.

    The terms vanish once λ²t(t−2) ≥ 64L², so the sum is finite; it is at most (32L²D²/λ)H_{t₀}
    with t₀ = 2 + 8L/λ.
    """
    t_max = math.ceil(2.0 + 8.0 * L / lam) + 2
    t = np.arange(2, t_max + 1, dtype=float)
    return 2.0 * D * D * float(np.sum(np.maximum(0.0, 16.0 * L * L / (lam * t) - lam * (t - 2) / 4)))


def chen_strongly_convex_bound(lam: float, L: float, D: float, sigma2_rounds: np.ndarray,
                               Sigma2_rounds: np.ndarray) -> float:
    """Claim 8 (reconstructed): (8/λ)Σ_t (σ_t² + σ_{t−1}² + Σ_t²)/t + C(L, λ, D), σ_0² = 0."""
    s = np.asarray(sigma2_rounds, dtype=float)
    S = np.asarray(Sigma2_rounds, dtype=float)
    t = np.arange(1, s.size + 1)
    s_prev = np.concatenate([[0.0], s[:-1]])
    return 8.0 / lam * float(np.sum((s + s_prev + S) / t)) + strongly_convex_burn_in(L, lam, D)


def chen_strongly_convex_rate(lam: float, sigma2_max: float, Sigma2_max: float, T: int) -> float:
    """Claim 8's order: (σ²_max + Σ²_max) ln T / λ."""
    return (sigma2_max + Sigma2_max) * np.log(np.maximum(T, 2)) / lam


def exp_concave_rate(d: int, sigma2_sum: float, Sigma2_sum: float) -> float:
    """Claim 9's order: d ln(σ²_{1:T} + Σ²_{1:T}) (floored at d so that it stays positive)."""
    return d * np.log(np.maximum(sigma2_sum + Sigma2_sum, math.e))


def dynamic_rate(P_T: float, sigma2_sum: float, Sigma2_sum: float) -> float:
    """Claim 10's order: √((1 + P_T + σ²_{1:T} + Σ²_{1:T})(1 + P_T))."""
    return np.sqrt((1.0 + P_T + sigma2_sum + Sigma2_sum) * (1.0 + P_T))


# ---------------------------------------------------------------- claims 11-12: baselines, regimes
def ogd_convex_bound(D: float, G: float, T: int) -> float:
    """Claim 11: OGD with η_t = D/(G√t) has R_T ≤ (3/2)GD√T (Zinkevich 2003)."""
    return 1.5 * G * D * np.sqrt(T)


def ogd_strongly_convex_bound(G: float, lam: float, T: int) -> float:
    """Claim 11: OGD with η_t = 1/(λt) has R_T ≤ (G²/(2λ))(1 + ln T) (Hazan et al. 2007, Thm 1)."""
    return G * G / (2.0 * lam) * (1.0 + np.log(T))


def regime_rate(D: float, sigma2_sum: float, Sigma2_sum: float) -> float:
    """Claim 12: the regime rates D√σ²_{1:T} (i.i.d.) and D√Σ²_{1:T} (slowly varying), combined."""
    return D * (np.sqrt(sigma2_sum) + np.sqrt(Sigma2_sum))


CLAIMS = (
    Claim("omd.optimistic_lemma",
          "Σ⟨g_t, x_t − u⟩ ≤ D²/(2η_T) + Σ η_t‖g_t − M_t‖² − Σ (‖x_t − x̂_t‖² + ‖x̂_{t+1} − x_t‖²)/(2η_t)",
          "Chiang et al. (COLT 2012); Rakhlin & Sridharan (2013)", ClaimKind.PER_RUN,
          (optimistic_lemma_bound,)),
    Claim("omd.adaptive_step",
          "with η_t = D/√(δ + 4G² + V_{t−1}): Σ⟨g_t, x_t − u⟩ ≤ (D/2)√(δ + 4G² + V_{T−1}) + 2D√V_T",
          "derived from claim 1 (theory/omd.py)", ClaimKind.PER_RUN, (adaptive_step_bound,)),
    Claim("omd.variation_decomposition",
          "‖g_t − g_{t−1}‖² ≤ 4‖g_t − ∇F_t(x_t)‖² + 4L²‖x_t − x_{t−1}‖² + 4‖∇F_t − ∇F_{t−1}‖² + 4‖∇F_{t−1} − g_{t−1}‖²",
          "derived (Chen et al. 2023, convex-case proof)", ClaimKind.PER_RUN,
          (variation_decomposition_bound,)),
    Claim("omd.sachs_pathwise",
          "OFTRL: Σ⟨g_t, x_t − u⟩ ≤ 6D√Σ‖g_t − ∇F_t‖² + 3√2 D√Σ‖∇F_{t+1} − ∇F_t‖² + (3√2/2)DG + ν + (4D²G² + 9L²D⁴)/ν",
          f"{SACHS}, eq. (11)", ClaimKind.PER_RUN, (sachs_pathwise_bound,)),
    Claim("omd.sachs_convex",
          "OFTRL: E R_T ≤ D(6σ̄_T + 3√2 Σ̄_T)√T + (3√2/2)DG + ν + (4D²G² + 9L²D⁴)/ν",
          f"{SACHS}, Thm 5", ClaimKind.EXPECTATION, (sachs_convex_bound,)),
    Claim("omd.sachs_strongly_convex",
          "OFTL, μ-strongly convex F_t: E R_T ≤ (1/μ)Σ (8σ²_max + 4Σ_t²)/t + (4D²L²/μ) ln(1 + 16L/μ)",
          f"{SACHS}, Thm 7", ClaimKind.EXPECTATION, (sachs_strongly_convex_bound,)),
    Claim("omd.chen_convex",
          "optimistic OMD, convex F_t: E R_T ≤ (D/2)√(δ+4G²) + (5D/2)√(8σ²_{1:T} + 4Σ²_{1:T}) + 25D³L²/√(δ+4G²)",
          f"{CHEN}, convex smooth case (constants reconstructed in theory/omd.py)", ClaimKind.EXPECTATION,
          (chen_convex_bound, chen_convex_rate), reconstructed=True),
    Claim("omd.chen_convex_pathwise",
          "optimistic OMD, every run: Σ⟨g_t, x_t − u⟩ ≤ (D/2)√(δ+4G²) + (5D/2)√(8S_σ + 4S_Σ) + 25D³L²/√(δ+4G²)",
          "derived from claims 1-3 (theory/omd.py)", ClaimKind.PER_RUN,
          (chen_convex_pathwise_bound,), reconstructed=True),
    Claim("omd.chen_strongly_convex",
          "optimistic OMD with η_t = 2/(λt): E R_T ≤ (8/λ)Σ (σ_t² + σ_{t−1}² + Σ_t²)/t + C(L, λ, D)",
          f"{CHEN}, strongly convex case (step and constants reconstructed)",
          ClaimKind.EXPECTATION, (chen_strongly_convex_bound, chen_strongly_convex_rate),
          reconstructed=True),
    Claim("omd.chen_exp_concave",
          "optimistic ONS, α-exp-concave f_t: E R_T = O(d log(σ²_{1:T} + Σ²_{1:T}))",
          f"{CHEN}, exp-concave case (algorithm reconstructed)", ClaimKind.RATE, (exp_concave_rate,),
          reconstructed=True),
    Claim("omd.chen_dynamic",
          "Sword++-style ensemble: E dynamic regret = O(√((1 + P_T + σ²_{1:T} + Σ²_{1:T})(1 + P_T))), checked at c = 1",
          f"{CHEN}, dynamic regret (form reconstructed)", ClaimKind.RATE, (dynamic_rate,),
          reconstructed=True),
    Claim("omd.ogd_convex", "OGD, η_t = D/(G√t), convex f_t: R_T ≤ (3/2)GD√T",
          "Zinkevich (ICML 2003), Thm 1", ClaimKind.PER_RUN, (ogd_convex_bound,)),
    Claim("omd.ogd_strongly_convex",
          "OGD, η_t = 1/(λt), λ-strongly convex f_t: R_T ≤ (G²/(2λ))(1 + ln T)",
          "Hazan, Agarwal, Kale (2007), Thm 1", ClaimKind.PER_RUN, (ogd_strongly_convex_bound,)),
    Claim("omd.regimes",
          "i.i.d.: E R_T = O(Dσ√T); benign adversary: regret flattens; averaged iterate: excess risk ≤ R_T/T",
          f"consequences of {SACHS}, Thm 5 and {CHEN}, convex case", ClaimKind.RATE, (regime_rate,)),
)

register(*CLAIMS)
