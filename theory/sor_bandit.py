r"""Bandit tuning of the SOR relaxation parameter (``sor_bandit``): the claims as pure functions.

Setting (spec ``sor_bandit.md`` §2). Instances (A_t, b_t), t = 1..T, with A_t SPD and consistently
ordered, A = D + L + Lᵀ (D diagonal, L strictly lower) and Jacobi radius β = ρ(I − D⁻¹A) ∈ [0, 1).
SOR with W_ω = D/ω + L has residual operator C_ω = I − AW_ω⁻¹ = A M_ω A⁻¹, M_ω = I − W_ω⁻¹A, so
r_k = C_ω^k b and ρ(C_ω) = ρ(M_ω). The count SOR(A, b, ω) is the first k ≥ 1 with ‖r_k‖ < ε‖b‖ and the
loss is ℓ_t(ω) = SOR_t(ω) − 1 ∈ [0, K]. The learner plays ω ∈ [1, ω_max], ω_max < 2, on a grid. ε = 1e-8
by default, τ ∈ (0, 1) and α = τ + (1 − τ)·max{β², ω_max − 1}.

The bound functions evaluate elementwise (numpy broadcasting) on arrays of constants, as well as on
scalars; scalars come back as Python floats (or bools). The exceptions take scalars and say so: the grid,
the Thm 2.1 sum over t and the tunings. Bad input raises a ``ValueError`` naming the
argument and the rule it broke (a ``TypeError`` for a non-number), before any work.

Derivations
-----------
**Claim 1, Young.** For consistently ordered A every eigenvalue μ of the Jacobi matrix J = I − D⁻¹A
(a set symmetric about 0, with max |μ| = β) pairs with the eigenvalues λ of M_ω through
(λ + ω − 1)² = λω²μ². For ω²μ² ≥ 4(ω − 1) the roots are real, √λ = (ωμ ± √(ω²μ² − 4(ω − 1)))/2, and
the larger is increasing in μ. Otherwise they are complex conjugates with product (ω − 1)², so
|λ| = ω − 1. Hence

    ρ(C_ω) = ¼(ωβ + √(ω²β² − 4(ω − 1)))²  on (0, ω*],   ρ(C_ω) = ω − 1  on [ω*, 2),

where ω* solves ω²β² = 4(ω − 1), i.e. ω* = 2/(1 + s) with s = √(1 − β²). The second form follows from
2/(1 + s) − 1 = (1 − s)/(1 + s) = (1 − s²)/(1 + s)² = β²/(1 + s)². At ω = 1 the formula gives β², at
ω* the two pieces meet at ω* − 1.

*ρ decreases on (0, ω*].* Put S(ω) = ωβ + √Δ, Δ = ω²β² − 4(ω − 1), so ρ = S²/4. Then
S' = β + (ωβ² − 2)/√Δ, and S' < 0 ⇔ β√Δ < 2 − ωβ² (both sides positive since ωβ² < 2)
⇔ β²(ω²β² − 4ω + 4) < 4 − 4ωβ² + ω²β⁴ ⇔ β² < 1. So S, and with it ρ = S²/4 (S ≥ 0), strictly
decreases on (0, ω*] (β = 0 gives ρ = |1 − ω|).

**Claim 2, the surrogate (Lemma 2.1).** Let k = SOR(A, b, ω) ≥ 2. The run did not stop at k − 1 ≥ 1,
so ε‖b‖ ≤ ‖r_{k−1}‖ = ‖C_ω^{k−1}b‖ ≤ ‖C_ω^{k−1}‖‖b‖. Under Assumption 2.1, ‖C_ω^{k−1}‖ ≤ q_ω^{k−1} with
q_ω = ρ + τ(1 − ρ) ∈ (0, 1), so (k − 1)log q_ω ≥ log ε, i.e.

    SOR(A, b, ω) ≤ U(ω) := 1 + log ε/log q_ω

(trivially for k = 1; a run capped at k_max also satisfies it). q ≥ ρ gives U ≥ 1 + log ε/log ρ, so U
exceeds the asymptotic estimate. U is increasing in q and q in ρ; on [1, ω_max] the maximum of ρ is
max{β², ω_max − 1} (ρ falls from β² to ω* − 1 on [1, ω*] and rises as ω − 1 after), hence
U ≤ 1 + log ε/log α there. The smallest τ for which the assumption holds at the counts k_ω observed on
a set of ω is τ̂ = max_ω (‖C_ω^{k_ω−1}‖^{1/(k_ω−1)} − ρ_ω)/(1 − ρ_ω) (entries with k_ω = 1 impose
nothing). Since ‖C^j‖ ≥ ρ^j, each entry is ≥ 0 up to rounding; an entry ≥ 1 means no τ < 1 is valid.

**Claim 3, semi-Lipschitz (Lemma 2.1, App. B).** U decreases on (0, ω*], because ρ does (claim 1) and
U is increasing in ρ. On [ω*, ω_max], ρ = ω − 1, so q = τ + (1 − τ)(ω − 1), q' = 1 − τ and

    dU/dω = (1 − τ)log(1/ε)/(q log²q).

The function g(q) = q log²q has g'(q) = log q·(log q + 2), which is ≤ 0 exactly for q ∈ [e⁻², 1]:
g increases on (0, e⁻²] and decreases on [e⁻², 1). On [ω*, ω_max], q runs from q* = τ + (1 − τ)(ω* − 1)
up to q_max = τ + (1 − τ)(ω_max − 1) ≤ α. If q* ≥ e⁻², the whole range lies in [e⁻², α], where 1/g is
increasing, so dU/dω ≤ (1 − τ)log(1/ε)/g(α) = L_U. The derived condition is therefore

    τ + (1 − τ)(ω* − 1) ≥ e⁻²

(the condition under which the monotonicity argument applies, for every ω_max ∈ [ω*, 2)). Because g is
unimodal, the exact supremum of dU/dω on [ω*, ω_max] is (1 − τ)log(1/ε)/min{g(q*), g(q_max)}
(:func:`surrogate_max_slope`); the slope bound holds iff min{g(q*), g(q_max)} ≥ g(α), which can hold
without the condition when α is close to 1, and fails e.g. for β = 0.3, τ = 0.01, ω_max = 1.1
(q* ≈ 0.034, α ≈ 0.109: g(q*) ≈ 0.39 < g(α) ≈ 0.54).

*The paper's sufficient condition implies the derived one.* If τ ≥ e⁻² then q* ≥ τ ≥ e⁻². Let x = e⁻².
At β² = 4x(1 − x), s = √(1 − β²) = 1 − 2x and ω* − 1 = β²/(1 + s)² = 4x(1 − x)/(4(1 − x)²) = x/(1 − x);
ω* grows with β, so β² ≥ 4x(1 − x) gives q* ≥ ω* − 1 ≥ x/(1 − x) > x. For τ → 0 the derived condition
is ω* − 1 ≥ x, i.e. β/(1 + s) ≥ e⁻¹, i.e. (half-angle substitution β = sin θ) β ≥ 2e⁻¹/(1 + e⁻²):
β² ≥ 4e⁻²/(1 + e⁻²)² ≈ 0.4146, weaker than the paper's 4e⁻²(1 − e⁻²) ≈ 0.4679.

*Semi-Lipschitz and range.* For y ≤ x ≤ ω_max (x at least as close to z = ω_max), U(x) − U(y) =
∫_y^x U' ≤ L_U·|[y, x] ∩ [ω*, ω_max]| ≤ L_U(x − y), since U' ≤ 0 left of ω*. So U − 1 is
(L_U, ω_max)-semi-Lipschitz on (0, ω_max] and, on [1, ω_max], 0 ≤ U − 1 ≤ log(1/ε)/log(1/α).

**Claim 5, discretisation (Thm B.3).** For x ∈ [a, b] the grid point g ≥ x nearest to x satisfies
g − x ≤ (b − a)/d and |g − z| ≤ |x − z| (z = b), so u_t(g) − u_t(x) ≤ L_t(b − a)/d. With
L_t ≡ L̄, f(d) = 2K√(2T)·d^{1/2} + (b − a)L̄T/d has f'(d) = K√(2T)d^{−1/2} − (b − a)L̄T/d² = 0 at
d³ = (b − a)²L̄²T/(2K²). There the first term is twice the second, so f = 3(b − a)L̄T/d =
3∛(2(b − a)L̄K²T²).

**Claim 6, Theorem 2.1.** Apply claims 4 and 5 to ℓ_t ≤ U_t − 1 on [1, ω_max] with z = ω_max, L_t the
L_U of instance t and K ≥ log(1/ε)/log(1/α_max) ≥ U_t − 1. Since α_t ≥ τ + (1 − τ)(ω_max − 1) ≥
(1 − τ)(ω_max − 1), (ω_max − 1)L_t ≤ log(1/ε)/log²α_t, which is the middle term of

    E ΣSOR_t(ω_t) ≤ 2K√(2dT) + Σ_t log(1/ε)/(d log²α_t) + min_{ω∈(0, ω_max]} ΣU_t(ω)

(the minimum extends to (0, 1) because U_t decreases there). This is claim 5 with (b − a)L̄ =
log(1/ε)γ̄, γ̄ = mean_t log⁻²α_t, so d = ∛((T/2)γ̄²log²α_max) and the excess is
3∛(2 log(1/ε)γ̄ K² T²) = 3log(1/ε)∛(2γ̄T²/log²α_max). Each α_t ≤ α_max < 1 gives
log⁻²α_t ≤ log⁻²α_max, so the excess is ≤ 3log(1/ε)∛(2T²/log⁴α_max). The average excess is
≤ log(1/ε) iff 27·2/(T log⁴α_max) ≤ 1, i.e. T ≥ 54/log⁴α_max. The paper's example: τ = 0.2, β = 0.9
give ω_max = ω*(0.9) ≈ 1.3929 < 1 + β², so α = 0.2 + 0.8·0.81 = 0.848, log α ≈ −0.16487 and
54/log⁴α ≈ 73 077 ≈ 7.3·10⁴ (the spec's numbers are right).

**Claim 7, contextual (Lemma E.1, Thm B.4, Thm 2.2; Lemma E.1's constant reconstructed).** For
A_c = A + cI the Jacobi matrix is J_c = (D + cI)⁻¹(D − A) (A + cI keeps A's sparsity, so it stays
consistently ordered), similar to a symmetric matrix whose spectrum is symmetric about 0, so
β(c) = max_{x≠0} xᵀ(D − A)x / xᵀ(D + cI)x. For c₁ < c₂ and x₁ the maximiser at c₁,
β(c₂) ≥ β(c₁)·x₁ᵀ(D + c₁I)x₁/x₁ᵀ(D + c₂I)x₁ ≥ β(c₁)(1 − (c₂ − c₁)/(λ_min(D) + c₂)), and β(c₂) ≤ β(c₁).
So β is non-increasing with |dβ/dc| ≤ β(c)/(λ_min(D) + c) (equality for D = δI, e.g. Poisson:
β(c) = 4cos πh/(4 + c), dβ/dc = −β/(4 + c)). Note λ_min(D) + c > 0 because c > −λ_min(A) ≥ −min_i a_ii.
With dω*/dβ = 2β/(s(1 + s)²), s = √(1 − β²), increasing in β, the chain rule gives

    |dω*/dc| ≤ L_f := 2β_max²/(s_max(1 + s_max)²(λ_min(D) + c_min)),  β_max = β(c_min),

attained at c = c_min for Poisson (:func:`lemma_e1_constant`; the spec gives no explicit form, so this
constant is reconstructed). The paper's Λ of Thm 2.2 dominates it in units of the action range
ω_max − 1 = ω*(c_min) − 1 = β_max²/(1 + s_max)²: L_f/(ω_max − 1) = 2/(s_max(λ_min(D) + c_min)), and with
x = λ_min(D) + c_min, (1 + β)/β ≥ 2 and (x + 1)²/x² ≥ 1/x, so Λ ≥ L_f/(ω_max − 1) ≥ L_f.

*Thm B.4.* One anytime Tsallis-INF per bin: Σ_j (4K√(dT_j) + 1) ≤ m + 4K√(dmT) (Cauchy-Schwarz).
Inside a bin of width C/m the policy moves by ≤ CL_f/m; playing the bin's largest f value costs
≤ L_t·CL_f/m (semi-Lipschitz towards z = b), and rounding it up to the grid ≤ L_t(b − a)/d. Hence
regret ≤ m + 4K√(dmT) + (CL_f/m + (b − a)/d)ΣL_t. With L_t ≡ L̄, A = CL_fL̄T and B = (b − a)L̄T, the
stationarity conditions of 4K√(dmT) + A/m + B/d give A/m = B/d = 2K√(dmT) =: X, so
d = B^{3/4}/((2K)^{1/2}(TA)^{1/4}), m = (A/B)d and the excess (besides m) is 4X = 4∜(4K²TAB), of order
T^{3/4} with d, m ∝ T^{1/4} (:func:`thm_b4_tuning`).

*Thm 2.2 (implemented as stated, not re-derived).* Taking L_f ≤ Λ(ω_max − 1) and
(ω_max − 1)L_t ≤ log(1/ε)/log²α_t in the tuning above gives m = ∜(C³Λ³T/(4log²α_max)) and the excess
4K∜(4CΛT³/log²α_max). The paper's first term ∜(54C³Λ³T/log²α_max) has the form of this m, but its
second term 4K∜(24CΛT³) lacks the factor log^{−1/2}(1/α_max); without the appendix the constants could
not be reconciled, so :func:`thm22_bound` is the paper's statement and :func:`thm_b4_bound` (with the
derived L_f) is the one whose constants are derived here.

**Claim 8, SSOR-PCG (Lemma E.2, Thm 2.3).** With W̆_ω = (D + ωL)D⁻¹(D + ωLᵀ)/(ω(2 − ω)) and
L + Lᵀ = A − D,

    ω(2 − ω)W̆_ω = ωA + ((2 − ω)²/4)D + ω²(LD⁻¹Lᵀ − D/4).

Dividing the Rayleigh quotients by xᵀAx and using xᵀDx ≤ μxᵀAx, xᵀ(LD⁻¹Lᵀ − D/4)x ≤ νxᵀAx gives
λ_max(A⁻¹W̆) ≤ (1 + μ(2 − ω)²/(4ω) + ων)/(2 − ω) = κ̂. With P = D/ω + L, A = P + Pᵀ − (2/ω − 1)D and
W̆ − A = (ω/(2 − ω))(P − ((2 − ω)/ω)D)D⁻¹(P − ((2 − ω)/ω)D)ᵀ ⪰ 0, so λ(W̆⁻¹A) ⊂ (0, 1] and
κ(W̆⁻¹A) ≤ κ̂. μ ≥ 1 (x = e_i gives 1) and ν ≥ −¼ (row 1 of L is empty, so x = e_1 gives −¼) for every
SPD A; ν ≤ 0 is a property of the matrix class (it holds for the Poisson matrices, where
LD⁻¹Lᵀ = LLᵀ/4 ⪯ I, but not for every SPD A: [[1, a], [a, 1]] with |a| > ½ has ν > 0). Writing
κ̂ = (1 + 2ν)/(2 − ω) + μ/(2ω) − μ/4 − ν (convex in ω), κ̂' = 0 at (2 − ω)/ω = √(2(1 + 2ν)/μ), i.e.
ω_CG = 2/(1 + √((2/μ)(1 + 2ν))), with minimum ½ + √(μ(1 + 2ν)/2) ≥ 1. With μ ≥ 1 and ν ≤ 0,
ω_CG ≥ 2/(1 + √2) = 2√2 − 2 = z (the paper's Thm 2.3 misprints it 2√2 + 2).
CG on W̆⁻¹A from x₀ = 0 satisfies ‖r_k‖₂/‖b‖₂ ≤ √κ·‖e_k‖_A/‖e₀‖_A ≤ √κ/T_k((κ̂ + 1)/(κ̂ − 1)), κ = κ(A),
T_k the Chebyshev polynomial, and arccosh((κ̂ + 1)/(κ̂ − 1)) = log((√κ̂ + 1)/(√κ̂ − 1)). So the count is
at most 1 + arccosh(√κ/ε)/log((√κ̂ + 1)/(√κ̂ − 1)), arccosh(√κ/ε) = log(√κ/ε + √(κ/ε² − 1)). The
paper's U^CG scales the second term by τ; τ = 1 is the worst-case bound, τ < 1 a surrogate.

**Claim 9, semi-stochastic (Thm 3.1, Cor. F.1)** is implemented as stated. Note: the second term of
Thm 3.1 is (ω_max − 1)/d · T · L_{F.1} only if (ω_max − 1)(1/(2 − ω_max) + 2ρ(DA⁻¹)) ≤ 1, which fails
e.g. at ω_max = 1.9; the two formulas of the spec are not each other's discretisation term unless the
paper's β_min absorbs that factor. With d = Θ(K²∛(nT)) both terms are Θ(K²n^{1/6}T^{2/3}).

**Claim 10, rates.** With d ∝ T^a and m ∝ T^b, each bound is a sum of powers of T; its exponent is the
largest (:func:`regret_exponent`): grid arm ½ + a/2 (fixed d: ½); fine grid max{½ + a/2, 1 − a},
minimised at a = ⅓ (⅔); binned contextual max{b, (1 + a + b)/2, 1 − b, 1 − a}, at a = b = ¼ (¾);
ChebCB (Thm C.4) max{a + b/2 + ½, 1 + a/2 − b, 1 − a}, all equal at a = 2/11, b = 3/11 (9/11), optimal
because 0 = (4/11)(1, ½) + (2/11)(½, −1) + (5/11)(−1, 0) is a convex combination of the gradients.

**§6, model problems.** For the 2-D Poisson matrix P_N (h = 1/(N + 1), diagonal 4) the Jacobi
eigenvalues are (cos iπh + cos jπh)/2, so β = cos πh, s = sin πh, ω* = 2/(1 + sin πh) and
ρ(C_{ω*}) = ω* − 1 = (1 − sin πh)/(1 + sin πh). Counts ≈ log(1/ε)/(−log ρ): for Gauss-Seidel
−log cos²πh ≈ π²h², at ω* log((1 + s)/(1 − s)) ≈ 2πh. For P_N + cI, β(c) = 4cos πh/(4 + c) < 1 iff
c > −4(1 − cos πh) = −λ_min(P_N). Crank-Nicolson with A = I + rP_{n_x−1} (h = 1/n_x) has D = (1 + 4r)I
and D − A = r(4I − P), so β = 4r cos(π/n_x)/(1 + 4r); the mode sin iπx sin jπy has P-eigenvalue
λ = 4 − 2cos iπh − 2cos jπh, so one step multiplies it by (1 − rλ)/(1 + rλ).

References
----------
M. Khodak, E. Chow, M.-F. Balcan, A. Talwalkar, "Learning to Relax: Setting Solver Parameters Across a
Sequence of Linear System Instances", ICLR 2024, arXiv:2310.02246.
J. Zimmert, Y. Seldin, "Tsallis-INF: An Optimal Algorithm for Stochastic and Adversarial Bandits",
JMLR 2021, arXiv:1807.07623.
D. M. Young, "Iterative Solution of Large Linear Systems", Academic Press (1971).
W. Hackbusch, "Iterative Solution of Large Sparse Systems of Equations", 2nd ed., Springer (2016).
O. Axelsson, "Iterative Solution Methods", Cambridge University Press (1994).
"""

from __future__ import annotations

import math
from types import MappingProxyType
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from theory._validate import as_float
from theory._validate import scalar_or_array as _out
from theory.registry import Claim, ClaimKind, register

__all__ = [
    "CLAIMS",
    "E_MINUS_2",
    "PAPER_BETA2_THRESHOLD",
    "REGRET_SLOPES",
    "SSOR_Z",
    "ContextualTuning",
    "Thm21Tuning",
    "TuningExponents",
    "alpha_param",
    "asymptotic_estimate",
    "asymptoticity_rate",
    "cg_surrogate",
    "chebcb_exponent",
    "corF1_lipschitz",
    "d_omega_star_dc",
    "discretisation_bound",
    "heat_beta",
    "heat_mode_factor",
    "lemma_e1_constant",
    "omega_star_shifted",
    "optimal_grid_size",
    "optimal_omega",
    "poisson_beta",
    "poisson_gs_count",
    "poisson_omega_star",
    "poisson_optimal_count",
    "poisson_rho_star",
    "regret_exponent",
    "regret_slope",
    "semi_lipschitz_condition",
    "semi_lipschitz_sufficient",
    "shifted_beta",
    "spd_shift_threshold",
    "ssor_cg_optimal_omega",
    "ssor_condition_bound",
    "ssor_min_condition_bound",
    "surrogate_ceiling",
    "surrogate_cost",
    "surrogate_lipschitz",
    "surrogate_max_slope",
    "surrogate_range",
    "tau_hat",
    "tau_required",
    "thm21_K",
    "thm21_bound",
    "thm21_break_even_T",
    "thm21_excess",
    "thm21_excess_upper",
    "thm21_grid",
    "thm21_tuning",
    "thm22_Lambda",
    "thm22_bound",
    "thm31_bound",
    "thm_b4_bound",
    "thm_b4_tuning",
    "tsallis_anytime_bound",
    "tsallis_fixed_rate_bound",
    "tsallis_regret_bound",
    "tuned_discretisation_bound",
    "tuning_exponents",
    "young_radius",
]

KHODAK = "Khodak, Chow, Balcan, Talwalkar, ICLR 2024"
DERIVED = "derivation in theory.sor_bandit"

#: e⁻², where q·log²q turns from increasing to decreasing (claim 3).
E_MINUS_2: float = math.exp(-2.0)
#: The paper's sufficient threshold on β²: 4e⁻²(1 − e⁻²) (claim 3).
PAPER_BETA2_THRESHOLD: float = 4.0 * E_MINUS_2 * (1.0 - E_MINUS_2)
#: z = 2√2 − 2, the left end of Thm 2.3's interval and the semi-Lipschitz centre of U^CG (claim 8).
SSOR_Z: float = 2.0 * math.sqrt(2.0) - 2.0
DEFAULT_EPS: float = 1e-8


# ---------------------------------------------------------------- validation helpers
def _out_bool(x: ArrayLike) -> bool | np.ndarray:
    arr = np.asarray(x, dtype=bool)
    return bool(arr) if arr.ndim == 0 else arr


def _real(name: str, x: ArrayLike) -> np.ndarray:
    """``x`` as a finite float array; TypeError for non-numbers, ValueError for non-finite entries."""
    return as_float(name, x)


def _interval(name: str, x: ArrayLike, lo: float | None, hi: float | None, *, lo_open: bool = False,
              hi_open: bool = False, why: str = "") -> np.ndarray:
    """``x`` as a float array inside the interval; ValueError naming ``name`` and the interval otherwise."""
    arr = _real(name, x)
    bad = np.zeros(arr.shape, dtype=bool)
    if lo is not None:
        bad |= (arr <= lo) if lo_open else (arr < lo)
    if hi is not None:
        bad |= (arr >= hi) if hi_open else (arr > hi)
    if np.any(bad):
        left = "(" if lo_open else "["
        right = ")" if hi_open else "]"
        lo_s = "−∞" if lo is None else f"{lo:g}"
        hi_s = "∞" if hi is None else f"{hi:g}"
        raise ValueError(f"{name} must lie in {left}{lo_s}, {hi_s}{right}{why}, got {x!r}")
    return arr


def _integer(name: str, x: ArrayLike, low: int) -> np.ndarray:
    """``x`` as an array of integer values ≥ ``low`` (stored as float); TypeError/ValueError otherwise."""
    arr = _real(name, x)
    if np.any(arr != np.round(arr)):
        raise TypeError(f"{name} must be an integer (or an array of integers), got {x!r}")
    if np.any(arr < low):
        raise ValueError(f"{name} must be >= {low}, got {x!r}")
    return arr


def _scalar(name: str, arr: np.ndarray) -> float:
    if arr.ndim != 0:
        raise ValueError(f"{name} must be a scalar here, got shape {arr.shape}")
    return float(arr)


def _omega(x: ArrayLike, name: str = "omega") -> np.ndarray:
    return _interval(name, x, 0.0, 2.0, lo_open=True, hi_open=True)


def _beta(x: ArrayLike, name: str = "beta") -> np.ndarray:
    return _interval(name, x, 0.0, 1.0, hi_open=True, why=" (a Jacobi spectral radius of a convergent SPD system)")


def _tau(x: ArrayLike, name: str = "tau") -> np.ndarray:
    return _interval(name, x, 0.0, 1.0, lo_open=True, hi_open=True)


def _eps(x: ArrayLike) -> np.ndarray:
    return _interval("eps", x, 0.0, 1.0, lo_open=True, hi_open=True)


def _unit(name: str, x: ArrayLike) -> np.ndarray:
    return _interval(name, x, 0.0, 1.0, lo_open=True, hi_open=True)


def _omega_max(x: ArrayLike) -> np.ndarray:
    return _interval("omega_max", x, 1.0, 2.0, hi_open=True, why=" (the learner plays ω ∈ [1, ω_max])")


def _positive(name: str, x: ArrayLike) -> np.ndarray:
    return _interval(name, x, 0.0, None, lo_open=True)


def _nonneg(name: str, x: ArrayLike) -> np.ndarray:
    return _interval(name, x, 0.0, None)


def _at_least_one(name: str, x: ArrayLike) -> np.ndarray:
    return _interval(name, x, 1.0, None)


def _young(w: np.ndarray, b: np.ndarray) -> np.ndarray:
    ws = 2.0 / (1.0 + np.sqrt(1.0 - b * b))
    disc = np.maximum(w * w * b * b - 4.0 * (w - 1.0), 0.0)  # rounding can push it below 0 at ω*
    below = 0.25 * (w * b + np.sqrt(disc)) ** 2
    return np.where(w <= ws, below, w - 1.0)


def _omega_star(b: np.ndarray) -> np.ndarray:
    return 2.0 / (1.0 + np.sqrt(1.0 - b * b))


def _g(q: np.ndarray) -> np.ndarray:
    """g(q) = q log²q, increasing on (0, e⁻²] and decreasing on [e⁻², 1)."""
    return q * np.log(q) ** 2


# ---------------------------------------------------------------- claim 1: Young
def young_radius(omega: ArrayLike, beta: ArrayLike) -> float | np.ndarray:
    r"""Claim 1 (Young): the spectral radius ρ(C_ω) = ρ(M_ω) of SOR on a consistently ordered SPD matrix.

    .. math::

        ρ(C_ω) = ¼\bigl(ωβ + \sqrt{ω²β² − 4(ω − 1)}\bigr)²  \text{ on } (0, ω^*],\qquad
        ρ(C_ω) = ω − 1 \text{ on } [ω^*, 2).

    Parameters
    ----------
    omega
        Relaxation parameter(s) in (0, 2).
    beta
        Jacobi spectral radius β = ρ(I − D⁻¹A) in [0, 1); broadcasts against ``omega``.

    Returns
    -------
    float or ndarray
        ρ(C_ω); ρ(C_1) = β², ρ(C_{ω*}) = ω* − 1, strictly decreasing on (0, ω*] for β > 0.

    References
    ----------
    Young (1971); Khodak, Chow, Balcan, Talwalkar, ICLR 2024, §2 (spec ``sor_bandit.md`` claim 1).
    """
    w = _omega(omega)
    b = _beta(beta)
    return _out(_young(w, b))


def optimal_omega(beta: ArrayLike) -> float | np.ndarray:
    r"""Claim 1 (Young): ω* = 2/(1 + √(1 − β²)) = 1 + (β/(1 + √(1 − β²)))², the minimiser of ρ(C_ω).

    Parameters
    ----------
    beta
        Jacobi spectral radius β in [0, 1).

    Returns
    -------
    float or ndarray
        ω* ∈ [1, 2).

    References
    ----------
    Young (1971); Khodak, Chow, Balcan, Talwalkar, ICLR 2024, §2.
    """
    return _out(_omega_star(_beta(beta)))


# ---------------------------------------------------------------- claim 2: the surrogate
def asymptoticity_rate(rho: ArrayLike, tau: ArrayLike) -> float | np.ndarray:
    r"""Claim 2 (Assumption 2.1): q = ρ + τ(1 − ρ), the assumed per-step contraction of ‖C_ω^k‖.

    Parameters
    ----------
    rho
        Spectral radius ρ(C_ω) in [0, 1).
    tau
        Asymptoticity τ in (0, 1).

    Returns
    -------
    float or ndarray
        q ∈ (0, 1).

    References
    ----------
    Khodak, Chow, Balcan, Talwalkar, ICLR 2024, Assumption 2.1.
    """
    r = _interval("rho", rho, 0.0, 1.0, hi_open=True)
    t = _tau(tau)
    return _out(r + t * (1.0 - r))


def surrogate_cost(omega: ArrayLike, beta: ArrayLike, tau: ArrayLike,
                   eps: ArrayLike = DEFAULT_EPS) -> float | np.ndarray:
    r"""Claim 2 (Lemma 2.1): U(ω) = 1 + log ε/log q_ω, q_ω = ρ(C_ω) + τ(1 − ρ(C_ω)).

    Under Assumption 2.1, SOR(A, b, ω) ≤ U(ω). U decreases on (0, ω*] and increases on [ω*, 2).

    Parameters
    ----------
    omega
        Relaxation parameter(s) in (0, 2).
    beta
        Jacobi spectral radius in [0, 1).
    tau
        Asymptoticity in (0, 1).
    eps
        Relative tolerance in (0, 1).

    Returns
    -------
    float or ndarray
        U(ω), broadcast over the arguments.

    References
    ----------
    Khodak, Chow, Balcan, Talwalkar, ICLR 2024, Lemma 2.1.
    """
    w, b, t, e = _omega(omega), _beta(beta), _tau(tau), _eps(eps)
    rho = _young(w, b)
    q = rho + t * (1.0 - rho)
    return _out(1.0 + np.log(e) / np.log(q))


def asymptotic_estimate(omega: ArrayLike, beta: ArrayLike, eps: ArrayLike = DEFAULT_EPS) -> float | np.ndarray:
    r"""The asymptotic estimate log ε/log ρ(C_ω) of the SOR count (figure F1); never a bound.

    Parameters
    ----------
    omega
        Relaxation parameter(s) in (0, 2).
    beta
        Jacobi spectral radius in [0, 1).
    eps
        Relative tolerance in (0, 1).

    Returns
    -------
    float or ndarray
        log ε/log ρ (0 where ρ = 0). It is ≤ U(ω) − 1 for every τ.

    References
    ----------
    Khodak, Chow, Balcan, Talwalkar, ICLR 2024, §2 (spec ``sor_bandit.md`` §5, F1).
    """
    w, b, e = _omega(omega), _beta(beta), _eps(eps)
    rho = _young(w, b)
    with np.errstate(divide="ignore"):
        est = np.where(rho > 0.0, np.log(e) / np.log(np.where(rho > 0.0, rho, 0.5)), 0.0)
    return _out(est)


def alpha_param(beta: ArrayLike, tau: ArrayLike, omega_max: ArrayLike) -> float | np.ndarray:
    r"""Claim 2: α = τ + (1 − τ)·max{β², ω_max − 1}, the largest q_ω on [1, ω_max].

    Parameters
    ----------
    beta
        Jacobi spectral radius in [0, 1).
    tau
        Asymptoticity in (0, 1).
    omega_max
        Largest action, in [1, 2).

    Returns
    -------
    float or ndarray
        α ∈ (0, 1).

    References
    ----------
    Khodak, Chow, Balcan, Talwalkar, ICLR 2024, Lemma 2.1 and Thm 2.1.
    """
    b, t, wm = _beta(beta), _tau(tau), _omega_max(omega_max)
    return _out(t + (1.0 - t) * np.maximum(b * b, wm - 1.0))


def surrogate_ceiling(alpha: ArrayLike, eps: ArrayLike = DEFAULT_EPS) -> float | np.ndarray:
    r"""Claim 2: 1 + log ε/log α, an upper bound on U(ω) for ω ∈ [1, ω_max].

    Parameters
    ----------
    alpha
        α in (0, 1) (see :func:`alpha_param`).
    eps
        Relative tolerance in (0, 1).

    Returns
    -------
    float or ndarray
        1 + log ε/log α.

    References
    ----------
    Khodak, Chow, Balcan, Talwalkar, ICLR 2024, Lemma 2.1.
    """
    a, e = _unit("alpha", alpha), _eps(eps)
    return _out(1.0 + np.log(e) / np.log(a))


def tau_required(norms: ArrayLike, ks: ArrayLike, rho: ArrayLike) -> float | np.ndarray:
    r"""Claim 2: the smallest τ that Assumption 2.1 allows at one ω, elementwise.

    .. math:: τ_ω = (‖C_ω^{k−1}‖₂^{1/(k−1)} − ρ)/(1 − ρ),\quad k = \mathrm{SOR}(A, b, ω) ≥ 2;

    an entry with k = 1 imposes no constraint and gives 0.

    Parameters
    ----------
    norms
        ‖C_ω^{k−1}‖₂ ≥ 0 (computed by the caller).
    ks
        Observed counts k ≥ 1 (integers); broadcasts against ``norms``.
    rho
        ρ(C_ω) in [0, 1); broadcasts likewise.

    Returns
    -------
    float or ndarray
        τ_ω; ≥ 0 up to rounding (‖C^j‖ ≥ ρ^j), and ≥ 1 when no τ < 1 is valid.

    References
    ----------
    Khodak, Chow, Balcan, Talwalkar, ICLR 2024, Assumption 2.1 (spec ``sor_bandit.md`` claim 2).
    """
    nrm = _nonneg("norms", norms)
    k = _integer("ks", ks, 1)
    r = _interval("rho", rho, 0.0, 1.0, hi_open=True)
    nrm, k, r = np.broadcast_arrays(nrm, k, r)
    j = np.maximum(k - 1.0, 1.0)
    with np.errstate(divide="ignore"):
        root = np.where(nrm > 0.0, np.exp(np.log(np.where(nrm > 0.0, nrm, 1.0)) / j), 0.0)
    return _out(np.where(k >= 2.0, (root - r) / (1.0 - r), 0.0))


def tau_hat(norms: ArrayLike, ks: ArrayLike, rho: ArrayLike) -> float:
    r"""Claim 2: τ̂ = max_ω (‖C_ω^{k_ω−1}‖^{1/(k_ω−1)} − ρ_ω)/(1 − ρ_ω), the smallest valid τ on a set of ω.

    Parameters
    ----------
    norms, ks, rho
        Arrays over the ω set, as in :func:`tau_required`.

    Returns
    -------
    float
        max(0, max_ω τ_ω). With this τ, SOR(A, b, ω) ≤ U(ω) at every ω of the set.

    References
    ----------
    Khodak, Chow, Balcan, Talwalkar, ICLR 2024, Assumption 2.1 and Lemma 2.1.
    """
    req = np.atleast_1d(np.asarray(tau_required(norms, ks, rho), dtype=float))
    return float(max(0.0, float(req.max()))) if req.size else 0.0


# ---------------------------------------------------------------- claim 3: semi-Lipschitz
def surrogate_lipschitz(tau: ArrayLike, alpha: ArrayLike, eps: ArrayLike = DEFAULT_EPS) -> float | np.ndarray:
    r"""Claim 3: L_U = (1 − τ)log(1/ε)/(α log²α), the slope bound of U on [ω*, ω_max].

    Valid when :func:`semi_lipschitz_condition` holds.

    Parameters
    ----------
    tau
        Asymptoticity in (0, 1).
    alpha
        α in (0, 1).
    eps
        Relative tolerance in (0, 1).

    Returns
    -------
    float or ndarray
        L_U > 0.

    References
    ----------
    Khodak, Chow, Balcan, Talwalkar, ICLR 2024, Lemma 2.1 and App. B.
    """
    t, a, e = _tau(tau), _unit("alpha", alpha), _eps(eps)
    return _out((1.0 - t) * np.log(1.0 / e) / _g(a))


def surrogate_max_slope(beta: ArrayLike, tau: ArrayLike, omega_max: ArrayLike,
                        eps: ArrayLike = DEFAULT_EPS) -> float | np.ndarray:
    r"""Claim 3 (derived): the exact sup of dU/dω on [ω*, ω_max], (1 − τ)log(1/ε)/min{g(q*), g(q_max)}.

    g(q) = q log²q, q* = τ + (1 − τ)(ω* − 1), q_max = τ + (1 − τ)(ω_max − 1). It is ≤ L_U whenever the
    derived condition holds.

    Parameters
    ----------
    beta
        Jacobi spectral radius in [0, 1).
    tau
        Asymptoticity in (0, 1).
    omega_max
        Largest action in [1, 2).
    eps
        Relative tolerance in (0, 1).

    Returns
    -------
    float or ndarray
        The supremum; 0 where ω_max < ω* (U has no increasing part on [1, ω_max]).

    References
    ----------
    Derived in :mod:`theory.sor_bandit` from Khodak, Chow, Balcan, Talwalkar, ICLR 2024, App. B.
    """
    b, t, wm, e = _beta(beta), _tau(tau), _omega_max(omega_max), _eps(eps)
    ws = _omega_star(b)
    q_lo = t + (1.0 - t) * (ws - 1.0)
    q_hi = t + (1.0 - t) * (np.maximum(wm, ws) - 1.0)
    slope = (1.0 - t) * np.log(1.0 / e) / np.minimum(_g(q_lo), _g(q_hi))
    return _out(np.where(wm >= ws, slope, 0.0))


def semi_lipschitz_condition(tau: ArrayLike, omega_star: ArrayLike) -> bool | np.ndarray:
    r"""Claim 3 (derived, exact): τ + (1 − τ)(ω* − 1) ≥ e⁻².

    The condition under which q log²q is decreasing on the whole range of q_ω over [ω*, ω_max], so that
    dU/dω ≤ L_U there for every ω_max ∈ [ω*, 2). Implied by :func:`semi_lipschitz_sufficient`.

    Parameters
    ----------
    tau
        Asymptoticity in (0, 1).
    omega_star
        ω* in [1, 2).

    Returns
    -------
    bool or ndarray of bool

    References
    ----------
    Derived in :mod:`theory.sor_bandit`; Khodak, Chow, Balcan, Talwalkar, ICLR 2024, App. B.
    """
    t = _tau(tau)
    ws = _interval("omega_star", omega_star, 1.0, 2.0, hi_open=True)
    return _out_bool(t + (1.0 - t) * (ws - 1.0) >= E_MINUS_2)


def semi_lipschitz_sufficient(tau: ArrayLike, beta: ArrayLike) -> bool | np.ndarray:
    r"""Claim 3 (the paper's sufficient condition): τ ≥ e⁻² or β² ≥ 4e⁻²(1 − e⁻²).

    Parameters
    ----------
    tau
        Asymptoticity in (0, 1).
    beta
        Jacobi spectral radius in [0, 1).

    Returns
    -------
    bool or ndarray of bool

    References
    ----------
    Khodak, Chow, Balcan, Talwalkar, ICLR 2024, Lemma 2.1.
    """
    t, b = _tau(tau), _beta(beta)
    return _out_bool((t >= E_MINUS_2) | (b * b >= PAPER_BETA2_THRESHOLD))


def surrogate_range(alpha: ArrayLike, eps: ArrayLike = DEFAULT_EPS) -> float | np.ndarray:
    r"""Claim 3: log(1/ε)/log(1/α), the bound on U − 1 over [1, ω_max].

    Parameters
    ----------
    alpha
        α in (0, 1).
    eps
        Relative tolerance in (0, 1).

    Returns
    -------
    float or ndarray

    References
    ----------
    Khodak, Chow, Balcan, Talwalkar, ICLR 2024, Lemma 2.1.
    """
    a, e = _unit("alpha", alpha), _eps(eps)
    return _out(np.log(1.0 / e) / np.log(1.0 / a))


# ---------------------------------------------------------------- claims 4-5: Tsallis-INF and discretisation
def tsallis_regret_bound(K: ArrayLike, d: ArrayLike, T: ArrayLike) -> float | np.ndarray:
    r"""Claim 4 (Thm B.1): E regret vs the best of d arms ≤ 2K√(2dT), losses in [0, K], η = 1/√T.

    Parameters
    ----------
    K
        Loss range, > 0.
    d
        Number of arms, ≥ 1.
    T
        Horizon, ≥ 1.

    Returns
    -------
    float or ndarray

    References
    ----------
    Khodak, Chow, Balcan, Talwalkar, ICLR 2024, Thm B.1; Zimmert & Seldin (2021).
    """
    k, dd, t = _positive("K", K), _at_least_one("d", d), _at_least_one("T", T)
    return _out(2.0 * k * np.sqrt(2.0 * dd * t))


def tsallis_fixed_rate_bound(K: ArrayLike, d: ArrayLike, T: ArrayLike, eta: ArrayLike) -> float | np.ndarray:
    r"""The FTRL bound of the spec's Tsallis-INF at a fixed rate η (derived): K[4(√d − 1)/η + (η/2)√d·T].

    The spec's probabilities p_i = 4/(η²(k_i/K − x)²) are FTRL with Ψ(p) = −(4/η)Σ√p_i on the losses ℓ/K.
    Its range over the simplex is (4/η)(√d − 1); with importance-weighted estimates the stability term is
    (1/2)Σ_i (∇²Ψ)⁻¹_ii E ℓ̂_i² ≤ (η/2)Σ_i p_i^{3/2}/p_i ≤ (η/2)√d per round. Hence the bound, minimised at
    η* = √(8(√d − 1)/(√d T)); at η = √(8/T) it is √2·K(2√d − 1)√T ≤ 2K√(2dT), Thm B.1's value, while at
    Thm B.1's η = 1/√T it is K√T(4(√d − 1) + √d/2), larger than 2K√(2dT) once d ≥ 6 (up to 1.6×), and the
    two-valued table of ``sor_bandit.tsallis_regret``'s check exceeds 2K√(2dT) there.

    Parameters
    ----------
    K
        Loss range, > 0.
    d
        Number of arms, ≥ 1.
    T
        Horizon, ≥ 1.
    eta
        The fixed rate, > 0.

    References
    ----------
    Abernethy, Lee, Tewari (2015); Zimmert & Seldin (2021), the FTRL analysis with the ½-Tsallis entropy.
    """
    k, dd, t, e = _positive("K", K), _at_least_one("d", d), _at_least_one("T", T), _positive("eta", eta)
    return _out(k * (4.0 * (np.sqrt(dd) - 1.0) / e + 0.5 * e * np.sqrt(dd) * t))


def tsallis_anytime_bound(K: ArrayLike, d: ArrayLike, T: ArrayLike) -> float | np.ndarray:
    r"""Claim 4 (Thm B.2): E regret ≤ 4K√(dT) + 1 for the anytime rate η_t = 2/√t.

    Parameters
    ----------
    K
        Loss range, > 0.
    d
        Number of arms, ≥ 1.
    T
        Horizon, ≥ 1.

    Returns
    -------
    float or ndarray

    References
    ----------
    Khodak, Chow, Balcan, Talwalkar, ICLR 2024, Thm B.2; Zimmert & Seldin (2021).
    """
    k, dd, t = _positive("K", K), _at_least_one("d", d), _at_least_one("T", T)
    return _out(4.0 * k * np.sqrt(dd * t) + 1.0)


def discretisation_bound(K: ArrayLike, d: ArrayLike, T: ArrayLike, width: ArrayLike,
                         lipschitz_sum: ArrayLike) -> float | np.ndarray:
    r"""Claim 5 (Thm B.3): E Σℓ_t(g_{i_t}) − min_x Σu_t(x) ≤ 2K√(2dT) + ((b − a)/d)ΣL_t.

    Parameters
    ----------
    K
        Loss range, > 0.
    d
        Grid size, ≥ 1 (real values allowed, for tuning).
    T
        Horizon, ≥ 1.
    width
        b − a ≥ 0.
    lipschitz_sum
        Σ_t L_t ≥ 0, the semi-Lipschitz constants of the upper bounds u_t.

    Returns
    -------
    float or ndarray

    References
    ----------
    Khodak, Chow, Balcan, Talwalkar, ICLR 2024, Thm B.3.
    """
    k, dd, t = _positive("K", K), _at_least_one("d", d), _at_least_one("T", T)
    w, ls = _nonneg("width", width), _nonneg("lipschitz_sum", lipschitz_sum)
    return _out(2.0 * k * np.sqrt(2.0 * dd * t) + w / dd * ls)


def optimal_grid_size(width: ArrayLike, L_mean: ArrayLike, T: ArrayLike, K: ArrayLike) -> float | np.ndarray:
    r"""Claim 5 (Thm B.3): the minimising d = ∛((b − a)²L̄²T/(2K²)) of :func:`discretisation_bound`.

    Parameters
    ----------
    width
        b − a > 0.
    L_mean
        L̄ = ΣL_t/T > 0.
    T
        Horizon, ≥ 1.
    K
        Loss range, > 0.

    Returns
    -------
    float or ndarray
        The real minimiser (round it for a grid).

    References
    ----------
    Khodak, Chow, Balcan, Talwalkar, ICLR 2024, Thm B.3.
    """
    w, lm = _positive("width", width), _positive("L_mean", L_mean)
    t, k = _at_least_one("T", T), _positive("K", K)
    return _out(np.cbrt(w * w * lm * lm * t / (2.0 * k * k)))


def tuned_discretisation_bound(width: ArrayLike, L_mean: ArrayLike, K: ArrayLike,
                               T: ArrayLike) -> float | np.ndarray:
    r"""Claim 5 (Thm B.3): 3∛(2(b − a)L̄K²T²), the value of the bound at the optimal (real) d.

    Parameters
    ----------
    width
        b − a > 0.
    L_mean
        L̄ > 0.
    K
        Loss range, > 0.
    T
        Horizon, ≥ 1.

    Returns
    -------
    float or ndarray

    References
    ----------
    Khodak, Chow, Balcan, Talwalkar, ICLR 2024, Thm B.3.
    """
    w, lm = _positive("width", width), _positive("L_mean", L_mean)
    k, t = _positive("K", K), _at_least_one("T", T)
    return _out(3.0 * np.cbrt(2.0 * w * lm * k * k * t * t))


# ---------------------------------------------------------------- claim 6: Theorem 2.1
class Thm21Tuning(NamedTuple):
    """Theorem 2.1's tuning: K, γ̄ = mean log⁻²α_t, the real grid size d, α_max and the tuned excess."""

    K: float
    gamma_bar: float
    d: float
    alpha_max: float
    excess: float

    @property
    def grid_size(self) -> int:
        """max(1, round(d)), the integer grid size to play."""
        return max(1, round(self.d))


def thm21_grid(omega_max: float, d: int) -> np.ndarray:
    r"""Claim 6 (Thm 2.1): the grid g_i = 1 + (ω_max − 1)i/d, i = 1..d (g_d = ω_max).

    Parameters
    ----------
    omega_max
        Largest action in [1, 2).
    d
        Grid size, an integer ≥ 1.

    Returns
    -------
    ndarray
        Shape (d,).

    References
    ----------
    Khodak, Chow, Balcan, Talwalkar, ICLR 2024, Thm 2.1.
    """
    wm = _omega_max(omega_max)
    if wm.ndim != 0:
        raise ValueError(f"omega_max must be a scalar, got shape {wm.shape}")
    dd = _integer("d", d, 1)
    if dd.ndim != 0:
        raise ValueError(f"d must be a scalar integer, got shape {dd.shape}")
    n = int(dd)
    return 1.0 + (float(wm) - 1.0) * np.arange(1, n + 1) / n


def thm21_K(eps: ArrayLike, alpha_max: ArrayLike) -> float | np.ndarray:
    r"""Claim 6 (Thm 2.1): K = log(1/ε)/log(1/α_max), the loss range of SOR − 1 on [1, ω_max].

    Parameters
    ----------
    eps
        Relative tolerance in (0, 1).
    alpha_max
        max_t α_t in (0, 1).

    Returns
    -------
    float or ndarray

    References
    ----------
    Khodak, Chow, Balcan, Talwalkar, ICLR 2024, Thm 2.1.
    """
    e, a = _eps(eps), _unit("alpha_max", alpha_max)
    return _out(np.log(1.0 / e) / np.log(1.0 / a))


def _alphas(alphas: ArrayLike, T: float) -> np.ndarray:
    a = _unit("alphas", alphas)
    if a.ndim > 1:
        raise ValueError(f"alphas must be a scalar or a 1-D array of length T, got shape {a.shape}")
    if a.ndim == 1 and a.size != T:
        raise ValueError(f"alphas must have length T = {T:g}, got {a.size}")
    return np.broadcast_to(a, (round(T),)) if a.ndim == 0 else a


def _scalar_T(T: ArrayLike) -> float:
    t = _integer("T", T, 1)
    if t.ndim != 0:
        raise ValueError(f"T must be a scalar integer here, got shape {t.shape}")
    return float(t)


def thm21_bound(K: float, d: float, T: int, eps: float, alphas: ArrayLike, surrogate_min_sum: float) -> float:
    r"""Claim 6 (Thm 2.1): E ΣSOR_t(ω_t) ≤ 2K√(2dT) + Σ_t log(1/ε)/(d log²α_t) + min_ω ΣU_t(ω).

    Parameters
    ----------
    K
        Loss range, ≥ log(1/ε)/log(1/α_max) (> 0).
    d
        Grid size, ≥ 1 (real values allowed, for tuning).
    T
        Horizon, an integer ≥ 1.
    eps
        Relative tolerance in (0, 1).
    alphas
        α_t in (0, 1), a scalar (the same for every t) or an array of length T.
    surrogate_min_sum
        min_{ω ∈ (0, ω_max]} Σ_t U_t(ω) ≥ 0 (computed by the caller).

    Returns
    -------
    float

    References
    ----------
    Khodak, Chow, Balcan, Talwalkar, ICLR 2024, Thm 2.1.
    """
    k, dd = _scalar("K", _positive("K", K)), _scalar("d", _at_least_one("d", d))
    t = _scalar_T(T)
    e = _scalar("eps", _eps(eps))
    a = _alphas(alphas, t)
    s = _scalar("surrogate_min_sum", _nonneg("surrogate_min_sum", surrogate_min_sum))
    disc = float(np.sum(np.log(1.0 / e) / (dd * np.log(a) ** 2)))
    return float(2.0 * k * np.sqrt(2.0 * dd * t) + disc + s)


def thm21_excess(eps: ArrayLike, gamma_bar: ArrayLike, alpha_max: ArrayLike, T: ArrayLike) -> float | np.ndarray:
    r"""Claim 6 (Thm 2.1): the tuned excess 3log(1/ε)∛(2γ̄T²/log²α_max).

    Parameters
    ----------
    eps
        Relative tolerance in (0, 1).
    gamma_bar
        γ̄ = mean_t log⁻²α_t > 0 (≤ log⁻²α_max when computed from α_t ≤ α_max).
    alpha_max
        max_t α_t in (0, 1).
    T
        Horizon, ≥ 1.

    Returns
    -------
    float or ndarray

    References
    ----------
    Khodak, Chow, Balcan, Talwalkar, ICLR 2024, Thm 2.1.
    """
    e, gb, a, t = _eps(eps), _positive("gamma_bar", gamma_bar), _unit("alpha_max", alpha_max), _at_least_one("T", T)
    return _out(3.0 * np.log(1.0 / e) * np.cbrt(2.0 * gb * t * t / np.log(a) ** 2))


def thm21_excess_upper(eps: ArrayLike, alpha_max: ArrayLike, T: ArrayLike) -> float | np.ndarray:
    r"""Claim 6 (Thm 2.1): 3log(1/ε)∛(2T²/log⁴α_max) ≥ :func:`thm21_excess`, independent of n.

    Parameters
    ----------
    eps
        Relative tolerance in (0, 1).
    alpha_max
        max_t α_t in (0, 1).
    T
        Horizon, ≥ 1.

    Returns
    -------
    float or ndarray

    References
    ----------
    Khodak, Chow, Balcan, Talwalkar, ICLR 2024, Thm 2.1.
    """
    e, a, t = _eps(eps), _unit("alpha_max", alpha_max), _at_least_one("T", T)
    return _out(3.0 * np.log(1.0 / e) * np.cbrt(2.0 * t * t / np.log(a) ** 4))


def thm21_break_even_T(alpha_max: ArrayLike) -> float | np.ndarray:
    r"""Claim 6 (the paper's example): 54/log⁴α_max, beyond which the average excess is ≤ log(1/ε).

    Parameters
    ----------
    alpha_max
        max_t α_t in (0, 1).

    Returns
    -------
    float or ndarray
        ≈ 7.3·10⁴ at α = 0.848 (τ = 0.2, β = 0.9).

    References
    ----------
    Khodak, Chow, Balcan, Talwalkar, ICLR 2024, discussion of Thm 2.1.
    """
    a = _unit("alpha_max", alpha_max)
    return _out(54.0 / np.log(a) ** 4)


def thm21_tuning(T: int, alphas: ArrayLike, eps: float = DEFAULT_EPS) -> Thm21Tuning:
    r"""Claim 6 (Thm 2.1): K = log(1/ε)/log(1/α_max), γ̄ = mean_t log⁻²α_t, d = ∛((T/2)γ̄²log²α_max).

    The choice ω_max = max_t ω*_t (which fixes the α_t) is the caller's.

    Parameters
    ----------
    T
        Horizon, an integer ≥ 1.
    alphas
        α_t in (0, 1), a scalar or an array of length T.
    eps
        Relative tolerance in (0, 1).

    Returns
    -------
    Thm21Tuning
        K, γ̄, the real d, α_max and the tuned excess 3log(1/ε)∛(2γ̄T²/log²α_max), which equals
        :func:`thm21_bound` at this d minus min ΣU_t.

    References
    ----------
    Khodak, Chow, Balcan, Talwalkar, ICLR 2024, Thm 2.1.
    """
    t = _scalar_T(T)
    a = _alphas(alphas, t)
    e = _scalar("eps", _eps(eps))
    a_max = float(np.max(a))
    log_a_max = math.log(a_max)
    gamma_bar = float(np.mean(np.log(a) ** -2.0))
    K = math.log(1.0 / e) / -log_a_max
    d = float(np.cbrt(0.5 * t * gamma_bar**2 * log_a_max**2))
    excess = float(thm21_excess(e, gamma_bar, a_max, t))
    return Thm21Tuning(K=K, gamma_bar=gamma_bar, d=d, alpha_max=a_max, excess=excess)


# ---------------------------------------------------------------- claim 7: contextual
def _h(N: ArrayLike) -> np.ndarray:
    return 1.0 / (_integer("N", N, 1) + 1.0)


def shifted_beta(c: ArrayLike, N: ArrayLike) -> float | np.ndarray:
    r"""§6 / claim 7: β(c) = 4cos(πh)/(4 + c) for P_N + cI, h = 1/(N + 1).

    Parameters
    ----------
    c
        Diagonal shift, > −4(1 − cos πh) (so that the matrix is SPD).
    N
        Grid size (n = N²), an integer ≥ 1.

    Returns
    -------
    float or ndarray
        β(c) ∈ (0, 1).

    References
    ----------
    Spec ``sor_bandit.md`` §6; Khodak, Chow, Balcan, Talwalkar, ICLR 2024, App. G.1.
    """
    h = _h(N)
    cc = _real("c", c)
    thr = -4.0 * (1.0 - np.cos(np.pi * h))
    if np.any(cc <= thr):
        raise ValueError(f"c must exceed −4(1 − cos πh) = {np.max(thr):.6f} (P_N + cI must be SPD), got {c!r}")
    return _out(4.0 * np.cos(np.pi * h) / (4.0 + cc))


def spd_shift_threshold(N: ArrayLike) -> float | np.ndarray:
    r"""§6: P_N + cI is SPD iff c > −4(1 − cos πh) = −λ_min(P_N) (−0.162028 at N = 10).

    Parameters
    ----------
    N
        Grid size, an integer ≥ 1.

    Returns
    -------
    float or ndarray

    References
    ----------
    Spec ``sor_bandit.md`` §6.
    """
    return _out(-4.0 * (1.0 - np.cos(np.pi * _h(N))))


def omega_star_shifted(c: ArrayLike, N: ArrayLike) -> float | np.ndarray:
    r"""Claim 7 / §6: ω*(c) = 2/(1 + √(1 − β(c)²)) with β(c) = 4cos(πh)/(4 + c).

    Parameters
    ----------
    c
        Diagonal shift above :func:`spd_shift_threshold`.
    N
        Grid size, an integer ≥ 1.

    Returns
    -------
    float or ndarray
        1.853594, 1.560388, 1.327919 at N = 10 and c = −0.15, 0, 0.45.

    References
    ----------
    Spec ``sor_bandit.md`` §6; Khodak, Chow, Balcan, Talwalkar, ICLR 2024, Lemma E.1.
    """
    return _out(_omega_star(np.asarray(shifted_beta(c, N), dtype=float)))


def d_omega_star_dc(c: ArrayLike, N: ArrayLike) -> float | np.ndarray:
    r"""Claim 7: the closed form dω*/dc = −2β²/(s(1 + s)²(4 + c)), β = β(c), s = √(1 − β²), for P_N + cI.

    Parameters
    ----------
    c
        Diagonal shift above :func:`spd_shift_threshold`.
    N
        Grid size, an integer ≥ 1.

    Returns
    -------
    float or ndarray
        dω*/dc < 0 (ω* decreases as the shift grows).

    References
    ----------
    Derived in :mod:`theory.sor_bandit` (chain rule through β(c)).
    """
    b = np.asarray(shifted_beta(c, N), dtype=float)
    cc = _real("c", c)
    s = np.sqrt(1.0 - b * b)
    return _out(-2.0 * b * b / (s * (1.0 + s) ** 2 * (4.0 + cc)))


def _shift_base(lambda_min_D: ArrayLike, c_min: ArrayLike) -> np.ndarray:
    lam = _positive("lambda_min_D", lambda_min_D)
    cm = _real("c_min", c_min)
    if np.any(lam + cm <= 0.0):
        raise ValueError(f"c_min must satisfy λ_min(D) + c_min > 0, got lambda_min_D={lambda_min_D!r}, "
                         f"c_min={c_min!r}")
    return lam + cm


def lemma_e1_constant(beta_max: ArrayLike, lambda_min_D: ArrayLike, c_min: ArrayLike) -> float | np.ndarray:
    r"""Claim 7 (Lemma E.1, constant reconstructed): a Lipschitz constant of c ↦ ω*(c) for A + cI.

    .. math:: L_f = \frac{2β_{max}²}{s(1 + s)²(λ_{min}(D) + c_{min})},\qquad s = \sqrt{1 − β_{max}²},

    with β_max = β(c_min). Exact (= |dω*/dc(c_min)|) when D is a multiple of I, e.g. for P_N + cI. The
    paper's Λ (:func:`thm22_Lambda`) satisfies Λ ≥ L_f/(ω_max − 1) ≥ L_f with ω_max = ω*(c_min).

    Parameters
    ----------
    beta_max
        β(c_min) = max_c β(c), in [0, 1).
    lambda_min_D
        Smallest diagonal entry of A, > 0.
    c_min
        Smallest shift, with λ_min(D) + c_min > 0.

    Returns
    -------
    float or ndarray

    References
    ----------
    Khodak, Chow, Balcan, Talwalkar, ICLR 2024, Lemma E.1 (constant reconstructed; derivation in
    :mod:`theory.sor_bandit`).
    """
    b = _beta(beta_max, "beta_max")
    x = _shift_base(lambda_min_D, c_min)
    s = np.sqrt(1.0 - b * b)
    return _out(2.0 * b * b / (s * (1.0 + s) ** 2 * x))


def thm_b4_bound(m: ArrayLike, K: ArrayLike, d: ArrayLike, T: ArrayLike, width_c: ArrayLike, L_f: ArrayLike,
                 width: ArrayLike, lipschitz_sum: ArrayLike) -> float | np.ndarray:
    r"""Claim 7 (Thm B.4): E regret vs the policy f ≤ m + 4K√(dmT) + (CL_f/m + (b − a)/d)ΣL_t.

    Parameters
    ----------
    m
        Number of context bins, ≥ 1.
    K
        Loss range, > 0.
    d
        Grid size per bin, ≥ 1.
    T
        Horizon, ≥ 1.
    width_c
        Context interval length C > 0.
    L_f
        Lipschitz constant of the policy f (e.g. :func:`lemma_e1_constant`), ≥ 0.
    width
        Action interval length b − a ≥ 0.
    lipschitz_sum
        Σ_t L_t ≥ 0.

    Returns
    -------
    float or ndarray
        O(T^{3/4}) for d, m ∝ T^{1/4}.

    References
    ----------
    Khodak, Chow, Balcan, Talwalkar, ICLR 2024, Thm B.4.
    """
    mm, k, dd, t = _at_least_one("m", m), _positive("K", K), _at_least_one("d", d), _at_least_one("T", T)
    c, lf = _positive("width_c", width_c), _nonneg("L_f", L_f)
    w, ls = _nonneg("width", width), _nonneg("lipschitz_sum", lipschitz_sum)
    return _out(mm + 4.0 * k * np.sqrt(dd * mm * t) + (c * lf / mm + w / dd) * ls)


class ContextualTuning(NamedTuple):
    """Thm B.4's tuning (derived): real grid size d, bin count m and the excess 4∜(4K²TAB) besides m."""

    d: float
    m: float
    excess: float


def thm_b4_tuning(K: float, T: float, width_c: float, L_f: float, width: float, L_mean: float) -> ContextualTuning:
    r"""Claim 7 (derived): the (d, m) minimising 4K√(dmT) + (CL_f/m + (b − a)/d)L̄T.

    With A = CL_fL̄T and B = (b − a)L̄T: d = B^{3/4}/((2K)^{1/2}(TA)^{1/4}), m = (A/B)d, value
    4∜(4K²TAB); d, m ∝ T^{1/4} and the value ∝ T^{3/4}. The additive m of Thm B.4 is not included.

    Parameters
    ----------
    K
        Loss range, > 0.
    T
        Horizon, ≥ 1.
    width_c
        Context interval length C > 0.
    L_f
        Policy Lipschitz constant, > 0.
    width
        Action interval length b − a > 0.
    L_mean
        L̄ = ΣL_t/T > 0.

    Returns
    -------
    ContextualTuning

    References
    ----------
    Derived in :mod:`theory.sor_bandit` from Khodak, Chow, Balcan, Talwalkar, ICLR 2024, Thm B.4.
    """
    k, t = _scalar("K", _positive("K", K)), _scalar("T", _at_least_one("T", T))
    c, lf = _scalar("width_c", _positive("width_c", width_c)), _scalar("L_f", _positive("L_f", L_f))
    w, lm = _scalar("width", _positive("width", width)), _scalar("L_mean", _positive("L_mean", L_mean))
    A = c * lf * lm * t
    B = w * lm * t
    d = B**0.75 / (math.sqrt(2.0 * k) * (t * A) ** 0.25)
    m = A / B * d
    return ContextualTuning(d=d, m=m, excess=4.0 * (4.0 * k * k * t * A * B) ** 0.25)


def thm22_Lambda(beta_max: ArrayLike, lambda_min_D: ArrayLike, c_min: ArrayLike) -> float | np.ndarray:
    r"""Claim 7 (Thm 2.2): Λ = (1 + β_max)/(β_max√(1 − β_max²))·((λ_min(D) + c_min + 1)/(λ_min(D) + c_min))².

    Parameters
    ----------
    beta_max
        max_t β_t in (0, 1).
    lambda_min_D
        Smallest diagonal entry of A, > 0.
    c_min
        Smallest shift, with λ_min(D) + c_min > 0.

    Returns
    -------
    float or ndarray
        Λ ≥ L_f/(ω_max − 1) ≥ L_f (see :func:`lemma_e1_constant`).

    References
    ----------
    Khodak, Chow, Balcan, Talwalkar, ICLR 2024, Thm 2.2.
    """
    b = _interval("beta_max", beta_max, 0.0, 1.0, lo_open=True, hi_open=True)
    x = _shift_base(lambda_min_D, c_min)
    return _out((1.0 + b) / (b * np.sqrt(1.0 - b * b)) * ((x + 1.0) / x) ** 2)


def thm22_bound(C: ArrayLike, Lambda: ArrayLike, T: ArrayLike, alpha_max: ArrayLike, eps: ArrayLike,
                surrogate_policy_sum: ArrayLike) -> float | np.ndarray:
    r"""Claim 7 (Thm 2.2, as stated): the bound on E ΣSOR_t of Tsallis-INF-CB against ω*(c_t).

    .. math:: ∜(54C³Λ³T/\log²α_{max}) + (4\log(1/ε)/\log(1/α_{max}))∜(24CΛT³) + Σ_t U_t(ω^*(c_t)).

    Parameters
    ----------
    C
        Context interval length, > 0.
    Lambda
        Λ > 0 (:func:`thm22_Lambda`).
    T
        Horizon, ≥ 1.
    alpha_max
        max_t α_t in (0, 1).
    eps
        Relative tolerance in (0, 1).
    surrogate_policy_sum
        Σ_t U_t(ω*(c_t)) ≥ 0.

    Returns
    -------
    float or ndarray

    Notes
    -----
    The constants are the paper's; the module docstring explains why they could not be re-derived from
    Thm B.4 here.

    References
    ----------
    Khodak, Chow, Balcan, Talwalkar, ICLR 2024, Thm 2.2.
    """
    c, lam, t = _positive("C", C), _positive("Lambda", Lambda), _at_least_one("T", T)
    a, e, s = _unit("alpha_max", alpha_max), _eps(eps), _nonneg("surrogate_policy_sum", surrogate_policy_sum)
    la = np.log(a)
    first = (54.0 * c**3 * lam**3 * t / la**2) ** 0.25
    second = 4.0 * np.log(1.0 / e) / np.log(1.0 / a) * (24.0 * c * lam * t**3) ** 0.25
    return _out(first + second + s)


# ---------------------------------------------------------------- claim 8: SSOR-PCG
def _mu_nu(mu: ArrayLike, nu: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    m = _interval("mu", mu, 1.0, None, why=" (μ = λ_max(DA⁻¹) ≥ 1 for every SPD A)")
    n = _interval("nu", nu, -0.25, None, why=" (ν = λ_max((LD⁻¹Lᵀ − D/4)A⁻¹) ≥ −¼ for every SPD A)")
    return m, n


def ssor_condition_bound(omega: ArrayLike, mu: ArrayLike, nu: ArrayLike) -> float | np.ndarray:
    r"""Claim 8 (Lemma E.2): κ(W̆_ω⁻¹A) ≤ κ̂ = (1 + μ(2 − ω)²/(4ω) + ων)/(2 − ω).

    Parameters
    ----------
    omega
        Relaxation parameter(s) in (0, 2).
    mu
        μ = λ_max(DA⁻¹) ≥ 1.
    nu
        ν = λ_max((LD⁻¹Lᵀ − D/4)A⁻¹) ≥ −¼ (≤ 0 for Poisson-type matrices).

    Returns
    -------
    float or ndarray
        κ̂ ≥ 1.

    References
    ----------
    Khodak, Chow, Balcan, Talwalkar, ICLR 2024, Lemma E.2; Axelsson (1994).
    """
    w = _omega(omega)
    m, n = _mu_nu(mu, nu)
    return _out((1.0 + m * (2.0 - w) ** 2 / (4.0 * w) + w * n) / (2.0 - w))


def ssor_cg_optimal_omega(mu: ArrayLike, nu: ArrayLike) -> float | np.ndarray:
    r"""Claim 8 (Thm 2.3): the minimiser 2/(1 + √((2/μ)(1 + 2ν))) of κ̂ and hence of U^CG.

    Parameters
    ----------
    mu
        μ ≥ 1.
    nu
        ν ≥ −¼.

    Returns
    -------
    float or ndarray
        In (0, 2); ≥ 2√2 − 2 when ν ≤ 0.

    References
    ----------
    Khodak, Chow, Balcan, Talwalkar, ICLR 2024, Thm 2.3.
    """
    m, n = _mu_nu(mu, nu)
    return _out(2.0 / (1.0 + np.sqrt(2.0 / m * (1.0 + 2.0 * n))))


def ssor_min_condition_bound(mu: ArrayLike, nu: ArrayLike) -> float | np.ndarray:
    r"""Claim 8 (derived): min_ω κ̂ = ½ + √(μ(1 + 2ν)/2), attained at :func:`ssor_cg_optimal_omega`.

    Parameters
    ----------
    mu
        μ ≥ 1.
    nu
        ν ≥ −¼.

    Returns
    -------
    float or ndarray
        ≥ 1.

    References
    ----------
    Derived in :mod:`theory.sor_bandit`; Axelsson (1994).
    """
    m, n = _mu_nu(mu, nu)
    return _out(0.5 + np.sqrt(m * (1.0 + 2.0 * n) / 2.0))


def cg_surrogate(omega: ArrayLike, kappa: ArrayLike, mu: ArrayLike, nu: ArrayLike, tau: ArrayLike = 1.0,
                 eps: ArrayLike = DEFAULT_EPS) -> float | np.ndarray:
    r"""Claim 8 (Thm 2.3): U^CG = 1 + τ·log(√κ/ε + √(κ/ε² − 1))/log((√κ̂ + 1)/(√κ̂ − 1)), κ̂ = κ̂(ω).

    With τ = 1 it bounds the SSOR-PCG count from x₀ = 0 with stopping rule ‖r‖ ≤ ε‖b‖ (Chebyshev).

    Parameters
    ----------
    omega
        Relaxation parameter(s) in (0, 2).
    kappa
        κ(A) ≥ 1 (converts the A-norm error to the residual).
    mu
        μ ≥ 1.
    nu
        ν ≥ −¼.
    tau
        Scaling in (0, 1]; 1 (the default) is the worst-case bound.
    eps
        Relative tolerance in (0, 1).

    Returns
    -------
    float or ndarray
        U^CG ≥ 1; its minimiser over ω is :func:`ssor_cg_optimal_omega`.

    References
    ----------
    Khodak, Chow, Balcan, Talwalkar, ICLR 2024, Thm 2.3 and Lemma E.2.
    """
    w = _omega(omega)
    k = _interval("kappa", kappa, 1.0, None)
    m, n = _mu_nu(mu, nu)
    t = _interval("tau", tau, 0.0, 1.0, lo_open=True)
    e = _eps(eps)
    kh = (1.0 + m * (2.0 - w) ** 2 / (4.0 * w) + w * n) / (2.0 - w)
    sk = np.sqrt(np.maximum(kh, 1.0))
    num = np.arccosh(np.sqrt(k) / e)
    with np.errstate(divide="ignore"):
        den = np.log((sk + 1.0) / (sk - 1.0))  # +∞ at κ̂ = 1: one iteration suffices
    return _out(1.0 + t * num / den)


# ---------------------------------------------------------------- claim 9: semi-stochastic
def thm31_bound(K: ArrayLike, d: ArrayLike, T: ArrayLike, beta_min: ArrayLike, n: ArrayLike,
                kappa_max: ArrayLike) -> float | np.ndarray:
    r"""Claim 9 (Thm 3.1): E ΣSSOR_t(ω_t) − min_ω Σ_t E SSOR_t(ω) ≤ 2K√(2dT) + (32K⁴T/(β_min⁴d))√(2nκ_max/π).

    Parameters
    ----------
    K
        Loss range, > 0 (Θ(log(n/ε))).
    d
        Grid size, ≥ 1.
    T
        Horizon, ≥ 1.
    beta_min
        The theorem's β_min > 0.
    n
        System size, an integer ≥ 1.
    kappa_max
        max_t κ(A_t) ≥ 1.

    Returns
    -------
    float or ndarray
        O(log²(n/ε)∛(T²√n)) with d = Θ(K²∛(nT)).

    References
    ----------
    Khodak, Chow, Balcan, Talwalkar, ICLR 2024, Thm 3.1.
    """
    k, dd, t = _positive("K", K), _at_least_one("d", d), _at_least_one("T", T)
    b, nn = _positive("beta_min", beta_min), _integer("n", n, 1)
    kap = _interval("kappa_max", kappa_max, 1.0, None)
    return _out(2.0 * k * np.sqrt(2.0 * dd * t) + 32.0 * k**4 * t / (b**4 * dd) * np.sqrt(2.0 * nn * kap / np.pi))


def corF1_lipschitz(K: ArrayLike, n: ArrayLike, kappa: ArrayLike, beta: ArrayLike, omega_max: ArrayLike,
                    rho_DA: ArrayLike) -> float | np.ndarray:
    r"""Claim 9 (Cor. F.1): E_b SSOR is Lipschitz in ω with constant (32K⁴√(2nκ/π)/β⁴)(1/(2 − ω_max) + 2ρ(DA⁻¹)).

    Parameters
    ----------
    K
        Loss range, > 0.
    n
        System size, an integer ≥ 1.
    kappa
        κ(A) ≥ 1.
    beta
        The corollary's β > 0.
    omega_max
        Largest action in [1, 2).
    rho_DA
        ρ(DA⁻¹) > 0.

    Returns
    -------
    float or ndarray

    References
    ----------
    Khodak, Chow, Balcan, Talwalkar, ICLR 2024, Cor. F.1.
    """
    k, nn = _positive("K", K), _integer("n", n, 1)
    kap, b = _interval("kappa", kappa, 1.0, None), _positive("beta", beta)
    wm, r = _omega_max(omega_max), _positive("rho_DA", rho_DA)
    return _out(32.0 * k**4 * np.sqrt(2.0 * nn * kap / np.pi) / b**4 * (1.0 / (2.0 - wm) + 2.0 * r))


# ---------------------------------------------------------------- claim 10: rates
class TuningExponents(NamedTuple):
    """Exponents of T: the regret's, and those of the grid size d and the bin/feature count m."""

    regret: float
    d: float
    m: float


_TUNED = {
    "grid_arm": TuningExponents(0.5, 0.0, 0.0),
    "fine_grid_retuned": TuningExponents(2.0 / 3.0, 1.0 / 3.0, 0.0),
    "contextual_binned": TuningExponents(0.75, 0.25, 0.25),
    "chebcb": TuningExponents(9.0 / 11.0, 2.0 / 11.0, 3.0 / 11.0),
}

#: The spec's F3 reference slopes of log regret vs log T, by comparator.
REGRET_SLOPES = MappingProxyType({name: e.regret for name, e in _TUNED.items()})


def _comparator(comparator: str) -> TuningExponents:
    try:
        return _TUNED[comparator]
    except (KeyError, TypeError):
        raise ValueError(f"comparator must be one of {tuple(_TUNED)}, got {comparator!r}") from None


def chebcb_exponent() -> float:
    r"""Claim 10 (Thm 3.2): ChebCB's regret exponent 9/11 (with d ∝ T^{2/11}, m ∝ T^{3/11}).

    Returns
    -------
    float

    References
    ----------
    Khodak, Chow, Balcan, Talwalkar, ICLR 2024, Thm C.4 / Thm 3.2.
    """
    return _TUNED["chebcb"].regret


def regret_slope(comparator: str) -> float:
    r"""Claim 10 / F3: the reference slope of log regret vs log T for a comparator.

    Parameters
    ----------
    comparator
        ``"grid_arm"`` (Tsallis-INF, fixed d, ½), ``"fine_grid_retuned"`` (d ∝ T^{1/3}, ⅔),
        ``"contextual_binned"`` (Tsallis-INF-CB, d, m ∝ T^{1/4}, ¾) or ``"chebcb"`` (9/11).

    Returns
    -------
    float

    References
    ----------
    Khodak, Chow, Balcan, Talwalkar, ICLR 2024, Thms B.1, 2.1, 2.2, 3.2 (spec ``sor_bandit.md`` F3).
    """
    return _comparator(comparator).regret


def tuning_exponents(comparator: str) -> TuningExponents:
    r"""Claim 10: the exponents (regret, d, m) of T that balance the comparator's bound.

    Parameters
    ----------
    comparator
        As in :func:`regret_slope`.

    Returns
    -------
    TuningExponents

    References
    ----------
    Derived in :mod:`theory.sor_bandit` from Khodak, Chow, Balcan, Talwalkar, ICLR 2024.
    """
    return _comparator(comparator)


def regret_exponent(comparator: str, d_exp: ArrayLike, m_exp: ArrayLike = 0.0) -> float | np.ndarray:
    r"""Claim 10: the exponent of T in the comparator's bound when d ∝ T^{d_exp} and m ∝ T^{m_exp}.

    - grid_arm (2K√(2dT)): ½ + a/2;
    - fine_grid_retuned (+ (b − a)ΣL_t/d): max{½ + a/2, 1 − a};
    - contextual_binned (m + 4K√(dmT) + (CL_f/m + (b − a)/d)ΣL_t): max{b, (1 + a + b)/2, 1 − b, 1 − a};
    - chebcb (L_c d√(mT) + L_c T√d/m + L_x T/d): max{a + b/2 + ½, 1 + a/2 − b, 1 − a}.

    Parameters
    ----------
    comparator
        As in :func:`regret_slope`.
    d_exp
        a ≥ 0.
    m_exp
        b ≥ 0 (ignored by the non-contextual comparators).

    Returns
    -------
    float or ndarray
        Minimised by :func:`tuning_exponents` at the value :func:`regret_slope`.

    References
    ----------
    Khodak, Chow, Balcan, Talwalkar, ICLR 2024, Thms B.1, B.3, B.4, C.4.
    """
    _comparator(comparator)
    a = _nonneg("d_exp", d_exp)
    b = _nonneg("m_exp", m_exp)
    if comparator == "grid_arm":
        out = 0.5 + a / 2.0 + 0.0 * b
    elif comparator == "fine_grid_retuned":
        out = np.maximum(0.5 + a / 2.0, 1.0 - a) + 0.0 * b
    elif comparator == "contextual_binned":
        out = np.maximum.reduce(np.broadcast_arrays(b, (1.0 + a + b) / 2.0, 1.0 - b, 1.0 - a))
    else:
        out = np.maximum.reduce(np.broadcast_arrays(a + b / 2.0 + 0.5, 1.0 + a / 2.0 - b, 1.0 - a))
    return _out(out)


# ---------------------------------------------------------------- §6: model problems
def poisson_beta(N: ArrayLike) -> float | np.ndarray:
    r"""§6: β = cos πh for the 2-D Poisson matrix P_N, h = 1/(N + 1) (0.959493 at N = 10).

    Parameters
    ----------
    N
        Grid size, an integer ≥ 1.

    Returns
    -------
    float or ndarray

    References
    ----------
    Young (1971); spec ``sor_bandit.md`` §6.
    """
    return _out(np.cos(np.pi * _h(N)))


def poisson_omega_star(N: ArrayLike) -> float | np.ndarray:
    r"""§6: ω* = 2/(1 + sin πh) (1.560388 at N = 10).

    Parameters
    ----------
    N
        Grid size, an integer ≥ 1.

    Returns
    -------
    float or ndarray

    References
    ----------
    Young (1971); spec ``sor_bandit.md`` §6.
    """
    return _out(2.0 / (1.0 + np.sin(np.pi * _h(N))))


def poisson_rho_star(N: ArrayLike) -> float | np.ndarray:
    r"""§6: ρ(C_{ω*}) = (1 − sin πh)/(1 + sin πh) = ω* − 1.

    Parameters
    ----------
    N
        Grid size, an integer ≥ 1.

    Returns
    -------
    float or ndarray

    References
    ----------
    Young (1971); spec ``sor_bandit.md`` §6.
    """
    s = np.sin(np.pi * _h(N))
    return _out((1.0 - s) / (1.0 + s))


def poisson_gs_count(N: ArrayLike, eps: ArrayLike = DEFAULT_EPS) -> float | np.ndarray:
    r"""§6: the Gauss-Seidel count ≈ ln(1/ε)/(π²h²) (asymptotic, small h).

    Parameters
    ----------
    N
        Grid size, an integer ≥ 1.
    eps
        Relative tolerance in (0, 1).

    Returns
    -------
    float or ndarray

    References
    ----------
    Spec ``sor_bandit.md`` §6.
    """
    h, e = _h(N), _eps(eps)
    return _out(np.log(1.0 / e) / (np.pi**2 * h * h))


def poisson_optimal_count(N: ArrayLike, eps: ArrayLike = DEFAULT_EPS) -> float | np.ndarray:
    r"""§6: the count at ω* ≈ ln(1/ε)/(2πh) (asymptotic, small h).

    Parameters
    ----------
    N
        Grid size, an integer ≥ 1.
    eps
        Relative tolerance in (0, 1).

    Returns
    -------
    float or ndarray

    References
    ----------
    Spec ``sor_bandit.md`` §6.
    """
    h, e = _h(N), _eps(eps)
    return _out(np.log(1.0 / e) / (2.0 * np.pi * h))


def heat_beta(r: ArrayLike, n_x: ArrayLike) -> float | np.ndarray:
    r"""§6: β = 4r cos(π/n_x)/(1 + 4r) for the Crank-Nicolson matrix I + rP_{n_x−1}.

    Parameters
    ----------
    r
        r = κΔt/(2Δx²) > 0.
    n_x
        Intervals per side (Δx = 1/n_x), an integer ≥ 2.

    Returns
    -------
    float or ndarray
        β ∈ (0, 1).

    References
    ----------
    Spec ``sor_bandit.md`` §6; Khodak, Chow, Balcan, Talwalkar, ICLR 2024, App. G.2.
    """
    rr, nx = _positive("r", r), _integer("n_x", n_x, 2)
    return _out(4.0 * rr * np.cos(np.pi / nx) / (1.0 + 4.0 * rr))


def heat_mode_factor(r: ArrayLike, i: ArrayLike, j: ArrayLike, n_x: ArrayLike) -> float | np.ndarray:
    r"""§6: one Crank-Nicolson step multiplies sin(iπx)sin(jπy) by (1 − rλ)/(1 + rλ), λ = 4 − 2cos iπh − 2cos jπh.

    Parameters
    ----------
    r
        r > 0.
    i, j
        Mode numbers, integers in [1, n_x − 1].
    n_x
        Intervals per side (h = 1/n_x), an integer ≥ 2.

    Returns
    -------
    float or ndarray
        In (−1, 1).

    References
    ----------
    Spec ``sor_bandit.md`` §6.
    """
    rr, nx = _positive("r", r), _integer("n_x", n_x, 2)
    ii, jj = _integer("i", i, 1), _integer("j", j, 1)
    if np.any(ii > nx - 1) or np.any(jj > nx - 1):
        raise ValueError(f"i and j must lie in [1, n_x − 1], got i={i!r}, j={j!r}, n_x={n_x!r}")
    h = 1.0 / nx
    lam = 4.0 - 2.0 * np.cos(ii * np.pi * h) - 2.0 * np.cos(jj * np.pi * h)
    return _out((1.0 - rr * lam) / (1.0 + rr * lam))


# ---------------------------------------------------------------- the claims
CLAIMS = (
    Claim("sor_bandit.young",
          "consistently ordered SPD A: ρ(C_ω) = ¼(ωβ + √(ω²β² − 4(ω−1)))² on (0, ω*], ω − 1 on [ω*, 2), "
          "ω* = 2/(1+√(1−β²)) = 1 + (β/(1+√(1−β²)))²; ρ(C_1) = β², ρ(C_ω*) = ω* − 1",
          f"Young (1971); {KHODAK}, §2", ClaimKind.IDENTITY, (young_radius, optimal_omega)),
    Claim("sor_bandit.surrogate_bound",
          "under Assumption 2.1 with τ = τ̂: SOR(A, b, ω) ≤ U(ω) = 1 + log ε/log(ρ + τ(1−ρ)) ≤ 1 + log ε/log α "
          "on [1, ω_max]",
          f"{KHODAK}, Lemma 2.1", ClaimKind.PER_RUN,
          (surrogate_cost, surrogate_ceiling, tau_hat, tau_required, asymptoticity_rate, alpha_param)),
    Claim("sor_bandit.semi_lipschitz",
          "U decreases on (0, ω*]; if τ + (1−τ)(ω*−1) ≥ e⁻² (implied by τ ≥ e⁻² or β² ≥ 4e⁻²(1−e⁻²)), "
          "dU/dω ≤ L_U = (1−τ)log(1/ε)/(α log²α) on [ω*, ω_max], so U − 1 is (L_U, ω_max)-semi-Lipschitz "
          "and ≤ log(1/ε)/log(1/α)",
          f"{KHODAK}, Lemma 2.1 and App. B; exact condition derived, {DERIVED}", ClaimKind.STRUCTURAL,
          (surrogate_lipschitz, surrogate_max_slope, semi_lipschitz_condition, semi_lipschitz_sufficient,
           surrogate_range), reconstructed=True),
    Claim("sor_bandit.tsallis_regret",
          "Tsallis-INF with η = 1/√T, losses in [0, K], d arms: E regret vs the best arm ≤ 2K√(2dT)",
          f"{KHODAK}, Thm B.1", ClaimKind.EXPECTATION, (tsallis_regret_bound, tsallis_fixed_rate_bound),
          known_failure="at η = 1/√T the spec's Tsallis-INF exceeds 2K√(2dT) on a two-valued table (arm 0 "
                        "costs 0, the others K; d = 50, T = 5000: about 1.15× the bound); the FTRL bound "
                        "K[4(√d − 1)/η + (η/2)√dT] (derived in tsallis_fixed_rate_bound) holds there, and "
                        "2K√(2dT) holds with η = √(8/T); on the SOR tables it holds at η = 1/√T"),
    Claim("sor_bandit.tsallis_anytime",
          "Tsallis-INF with η_t = 2/√t, losses in [0, K], d arms: E regret vs the best arm ≤ 4K√(dT) + 1",
          f"{KHODAK}, Thm B.2; Zimmert & Seldin (2021)", ClaimKind.EXPECTATION, (tsallis_anytime_bound,)),
    Claim("sor_bandit.discretisation",
          "(L_t, z)-semi-Lipschitz u_t ≥ ℓ_t on [a, b]: E Σℓ_t(g_{i_t}) − min_x Σu_t(x) ≤ 2K√(2dT) + ((b−a)/d)ΣL_t; "
          "d = ∛((b−a)²L̄²T/(2K²)) gives 3∛(2(b−a)L̄K²T²)",
          f"{KHODAK}, Thm B.3", ClaimKind.EXPECTATION,
          (discretisation_bound, optimal_grid_size, tuned_discretisation_bound)),
    Claim("sor_bandit.thm21",
          "grid g_i = 1 + (ω_max−1)i/d, K ≥ log(1/ε)/log(1/α_max), η = 1/√T: E ΣSOR_t(ω_t) ≤ 2K√(2dT) + "
          "Σ_t log(1/ε)/(d log²α_t) + min_{ω∈(0, ω_max]} ΣU_t(ω); tuned excess 3log(1/ε)∛(2γ̄T²/log²α_max) "
          "≤ 3log(1/ε)∛(2T²/log⁴α_max)",
          f"{KHODAK}, Thm 2.1", ClaimKind.EXPECTATION,
          (thm21_bound, thm21_grid, thm21_K, thm21_tuning, thm21_excess, thm21_excess_upper, thm21_break_even_T)),
    Claim("sor_bandit.contextual",
          "A_t = A + c_tI: ω*(c) is L_f-Lipschitz, L_f = 2β_max²/(s(1+s)²(λ_min(D)+c_min)) ≤ Λ(ω_max−1); "
          "Tsallis-INF-CB: E regret vs ω*(c_t) ≤ m + 4K√(dmT) + (CL_f/m + (b−a)/d)ΣL_t = O(T^{3/4}); Thm 2.2: "
          "E ΣSOR_t ≤ ∜(54C³Λ³T/log²α_max) + (4log(1/ε)/log(1/α_max))∜(24CΛT³) + Σ_t U_t(ω*(c_t))",
          f"{KHODAK}, Lemma E.1, Thm B.4 and Thm 2.2; Lemma E.1's constant reconstructed, {DERIVED}",
          ClaimKind.EXPECTATION,
          (thm_b4_bound, lemma_e1_constant, thm_b4_tuning, thm22_Lambda, thm22_bound, omega_star_shifted,
           d_omega_star_dc), reconstructed=True),
    Claim("sor_bandit.ssor_pcg",
          "μ = λ_max(DA⁻¹) ≥ 1, ν = λ_max((LD⁻¹Lᵀ − D/4)A⁻¹) ≥ −¼; κ(W̆_ω⁻¹A) ≤ κ̂ = (1 + μ(2−ω)²/(4ω) + ων)/(2−ω); "
          "SSOR-PCG count ≤ U^CG (τ = 1), minimised at 2/(1+√((2/μ)(1+2ν))) ≥ 2√2 − 2 when ν ≤ 0",
          f"{KHODAK}, Lemma E.2 and Thm 2.3", ClaimKind.PER_RUN,
          (ssor_condition_bound, cg_surrogate, ssor_cg_optimal_omega, ssor_min_condition_bound)),
    Claim("sor_bandit.ssor_nu_sign",
          "ν = λ_max((LD⁻¹Lᵀ − D/4)A⁻¹) ≤ 0 for the SPD instances of the paper",
          f"{KHODAK}, Lemma E.2", ClaimKind.PER_RUN, (ssor_condition_bound,),
          known_failure="ν ≤ 0 iff LD⁻¹Lᵀ ⪯ D/4, which for P_N + cI needs c ≥ 0 (weak diagonal dominance); "
                        "Generator A's negative shifts break it (P_10 − 0.15I: ν ≈ 2.41). κ ≤ κ̂ and the "
                        "SSOR-PCG bound do not use the sign of ν and hold (sor_bandit.ssor_pcg)"),
    Claim("sor_bandit.semi_stochastic",
          "b_t ~ N(0, I) | ‖b‖ ≤ √n, SSOR: E ΣSSOR_t(ω_t) − min_ω Σ_t E SSOR_t(ω) ≤ 2K√(2dT) + "
          "(32K⁴T/(β_min⁴d))√(2nκ_max/π); E_b SSOR is (32K⁴√(2nκ/π)/β⁴)(1/(2−ω_max) + 2ρ(DA⁻¹))-Lipschitz",
          f"{KHODAK}, Thm 3.1 and Cor. F.1", ClaimKind.EXPECTATION, (thm31_bound, corF1_lipschitz)),
    Claim("sor_bandit.chebcb_rate",
          "ChebCB regret Õ(L_c d√(mT) + L_c T√d/m + L_x T/d) = Õ(T^{9/11}√n) with d ∝ T^{2/11}, m ∝ T^{3/11}; "
          "reference slopes ½ (grid arm), ⅔ (re-tuned fine grid), ¾ (binned contextual), 9/11 (ChebCB)",
          f"{KHODAK}, Thm C.4 / Thm 3.2", ClaimKind.RATE,
          (chebcb_exponent, regret_slope, regret_exponent, tuning_exponents)),
    Claim("sor_bandit.model_problem",
          "2-D Poisson, h = 1/(N+1): β = cos πh, ω* = 2/(1 + sin πh), ρ(C_ω*) = (1 − sin πh)/(1 + sin πh); "
          "P_N + cI: β(c) = 4cos πh/(4+c), SPD iff c > −4(1 − cos πh); heat (CN): β = 4r cos(π/n_x)/(1+4r), "
          "mode factor (1 − rλ)/(1 + rλ); all against dense eigenvalues",
          "standard (Young 1971; Hackbusch 2016); spec sor_bandit.md §6", ClaimKind.IDENTITY,
          (poisson_beta, poisson_omega_star, poisson_rho_star, poisson_gs_count, poisson_optimal_count,
           shifted_beta, spd_shift_threshold, heat_beta, heat_mode_factor)),
)

register(*CLAIMS)
