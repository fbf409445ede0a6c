r"""Convex two-layer ReLU training by ADMM, with adversarial training: the claims as pure functions.

Setting (spec ``convex_relu.md`` §2). X ∈ R^{n×d} with rows x_kᵀ and the bias as its last column (all
ones, counted in d); v^f is v without its bias coordinate and r = rank X. The network is
f(x) = Σ_{j≤m} α_j (u_jᵀx)_+ with L_nc(U, α) = ℓ(f(X), y) + (β/2)Σ_j (‖u_j‖² + α_j²), where ℓ is the
summed squared loss ½‖ŷ − y‖² or the summed hinge loss Σ_k (1 − y_kŷ_k)_+. A pattern is
D(h) = diag(1[Xh ≥ 0]), stored as a column of Dm ∈ {0,1}^{n×P}; its cone is
K_i = {v : (2D_i − I)Xv ≥ 0}, on which (Xv)_+ = D_iXv. The convex program C(𝒟) is

    min_{v_i, w_i ∈ K_i}  ℓ(Σ_i D_iX(v_i − w_i), y) + β Σ_i (‖v_i‖₂ + ‖w_i‖₂),

with value f*(𝒟); 𝒟_full is the set of all distinct nonzero patterns. The functions below take numpy
arrays (or scalars for the counts, which broadcast), check their arguments before any work, and raise a
``ValueError``/``TypeError`` that names the argument and the rule it broke.

Derivations
-----------
**CR6, counting patterns (Cover 1965).** Call the rows in *general position* when any min(n, r) of them
are linearly independent (in the r-dimensional row space). Cover's function-counting theorem: n such
points admit exactly C(n, r) = 2Σ_{j<r} C(n−1, j) homogeneous linear dichotomies, i.e. sign vectors
sign(Xh) with no zero entry (:func:`pattern_count_general_position`). *The ≥ convention adds nothing
when X has a bias column.* Let Xh ≠ 0 and Z = {k : x_kᵀh = 0}. If Z held min(n, r) rows they would be
independent and span the row space, forcing Xh = 0; so |Z| < min(n, r), the rows of Z are independent,
some g has x_kᵀg = 1 for k ∈ Z, and D(h + tg) = D(h) for small t > 0 with no zero entry: every
≥-pattern of a nonzero Xh is a strict dichotomy. If Xh = 0 (h = 0 included), D(h) = 𝟙 = D(e_bias),
strict because Xe_bias = 𝟙; the all-zero pattern is D(−e_bias), strict as well. So for data with a
bias column in general position the number of distinct patterns is exactly C(n, r), *including* the
all-zero pattern, which the program drops (``include_zero=False`` subtracts it). (Without a bias column, degenerate data
can gain patterns from the ≥ convention: x₁ = 1, x₂ = −1 in R¹ has the three patterns (1,0), (0,1),
(1,1) against C(2, 1) = 2.) For 2-D data with bias (r = 3, no three points collinear),

    C(n, 3) = 2(1 + (n − 1) + (n − 1)(n − 2)/2) = n² − n + 2                 (:func:`pattern_count_2d`).

For 1-D data with bias (r = 2, distinct abscissae) C(n, 2) = 2n: the patterns are the n + 1 sets
{t ≥ c} and the n + 1 sets {t ≤ c}, which share the empty and the full set.

*The Pilanci–Ergen bound* 2r(e(n−1)/r)^r (:func:`pattern_count_bound`) is above C(n, r) for every
n ≥ 2 and 1 ≤ r ≤ n. Write N = n − 1. For 1 ≤ j ≤ N, C(N, j) ≤ N^j/j! ≤ (eN/j)^j since j! ≥ (j/e)^j,
and j ↦ (eN/j)^j = exp(j(1 + log N − log j)) is increasing on (0, N] (its log has derivative
log(N/j) ≥ 0) with limit 1 = C(N, 0) at j → 0. If r ≤ N every one of the r terms of Σ_{j<r} C(N, j) is
thus ≤ (eN/r)^r, so C(n, r) ≤ 2r(eN/r)^r. If r = n, Σ_{j<n} C(N, j) = 2^N, while
(1 − 1/n)^{n−1} ≥ e⁻¹ gives r(eN/r)^r = n·eⁿ(1 − 1/n)ⁿ ≥ N·e^N ≥ 2^N. (At n = 1 the bound is 0 < 2.)

**CR2, the lift (derived).** Given any (U, α) of any width, send neuron j with α_ju_j ≠ 0 and
nonzero pattern D_i = D(u_j) to the v-slot of i with value |α_j|u_j if α_j > 0, to the w-slot if
α_j < 0, summing the neurons that land in the same slot (``solvers.convex_relu.network.lift``).
*Feasibility:* u_j ∈ K_i, since rows with x_kᵀu_j ≥ 0 have D = 1 and (2D − I)x_kᵀu_j = x_kᵀu_j ≥ 0,
and rows with x_kᵀu_j < 0 have −x_kᵀu_j > 0; K_i is a convex cone, so positive multiples and sums stay
in it. *Predictions:* D_iX(|α_j|u_j) = |α_j|(Xu_j)_+, so Σ_i D_iX(v_i − w_i) = Σ_j α_j(Xu_j)_+ = f(X); neurons with the
all-zero pattern output 0 on the data and are dropped. *Penalty:* by AM–GM,
‖|α_j|u_j‖ = |α_j|‖u_j‖ ≤ ½(α_j² + ‖u_j‖²), with equality iff |α_j| = ‖u_j‖, which the rescaling
(c·u_j, α_j/c), c² = |α_j|/‖u_j‖, reaches without changing the neuron's function
(α_j/c)(c·u_jᵀx)_+ = α_j(u_jᵀx)_+ (:func:`rescale_neuron`); merging lowers the penalty by the triangle
inequality ‖Σ_j a_j‖ ≤ Σ_j ‖a_j‖. Hence L_nc(U, α) ≥ convex objective of the lift ≥ f*(𝒟_full) for
every width and every (U, α), whenever 𝒟_full contains every pattern D(u_j).

**CR3, recovery (Pilanci–Ergen).** A nonzero v_i ∈ K_i gives u = v_i/√‖v_i‖, α = √‖v_i‖ (and −√‖w_i‖
for w_i) (``solvers.convex_relu.network.recover``). Then α(Xu)_+ = (Xv_i)_+ = D_iXv_i on the cone, and
½(‖u‖² + α²) = ½(‖v_i‖ + ‖v_i‖) = ‖v_i‖, so f(X) = Σ_i D_iX(v_i − w_i) and L_nc equals the convex
objective exactly. *Approximate points:* if group g violates its cone by η_g ≥ 0, i.e.
(2D_i − I)Xv_g ≥ −η_g𝟙, then entrywise |(Xv_g)_+ − D_iXv_g| ≤ η_g (a row with D = 1 has Xv ≥ −η and
(Xv)_+ − Xv = max(0, −Xv) ≤ η; a row with D = 0 has Xv ≤ η and (Xv)_+ ≤ η). With δ := Σ_g η_g the
recovered predictions a and the convex predictions b satisfy ‖a − b‖_∞ ≤ δ, the penalties are equal,
and the losses differ by at most nδ (hinge, 1-Lipschitz per entry) or
‖a − b‖‖b − y‖ + ½‖a − b‖² ≤ √n·δ·‖b − y‖ + ½nδ² (squared) (:func:`recovery_mismatch_bound`).

**CR4, sampling gives an upper bound.** If 𝒟 ⊆ 𝒟′, a feasible point of C(𝒟) padded with zeros for
𝒟′ ∖ 𝒟 is feasible for C(𝒟′) (0 lies in every cone) with the same objective, so f*(𝒟′) ≤ f*(𝒟).
By CR3 the recovered network of an optimum of C(𝒟) (width m_𝒟, the nonzero groups) has L_nc = f*(𝒟),
and zero neurons pad it to any width m ≥ m_𝒟; so f*(𝒟) ≥ min L_nc over width m. By CR2 no network
goes below f*(𝒟_full), while SGD may go below f*(𝒟) of a small sample.

**CR5, gated relaxation.** For (v, w) feasible in C(𝒟), u_i = v_i − w_i gives the gated model the same
predictions Σ_i D_iXu_i and the penalty β‖v_i − w_i‖ ≤ β(‖v_i‖ + ‖w_i‖), without cones; hence
f*_gated(𝒟) ≤ f*(𝒟).

**β_max (zero is optimal).** Both losses are differentiable at ŷ = 0 with gradient −y (the hinge's terms
equal 1 > 0 there). The objective is convex on a product of convex cones, so 0 is optimal iff every
feasible direction has a nonnegative directional derivative:
Σ_i [−yᵀD_iX(v_i − w_i) + β(‖v_i‖ + ‖w_i‖)] ≥ Σ_i (β − ‖XᵀD_iy‖)(‖v_i‖ + ‖w_i‖) by Cauchy–Schwarz. So
β ≥ β_max := max_i ‖XᵀD_iy‖₂ makes zero optimal (:func:`beta_zero_threshold`); it is also necessary
for the gated program (a group lasso) and only sufficient under the cones. The robust losses add
ε‖a^f‖₁ ≥ 0 to the directional derivative, so β_max works for them too.

**CR9, the identities of the cheap u-step (derived, exact).** (Gu)_i = (2D_i − I)Xu_i and
(2D_i − I)² = I (a diagonal of ±1), so (GᵀGu)_i = XᵀXu_i: GᵀG = I_{2P} ⊗ XᵀX and
B = I + GᵀG = I_{2P} ⊗ (I_d + XᵀX), B⁻¹ = I_{2P} ⊗ K with K = (I_d + XᵀX)⁻¹. Fᵀe has blocks XᵀD_ie
(v-part) and −XᵀD_ie (w-part), so FB⁻¹Fᵀe = Σ_i D_iX(KXᵀD_ie + KXᵀD_ie) = 2Σ_i D_iMD_ie with
M = XKXᵀ, whose (k, l) entry is 2M_{kl}Σ_i (Dm)_{ki}(Dm)_{li}: H = 2·M ∘ (DmDmᵀ). Woodbury's identity
(A + UCV)⁻¹ = A⁻¹ − A⁻¹U(C⁻¹ + VA⁻¹U)⁻¹VA⁻¹ with A = B, U = Fᵀ, C = I/ρ, V = F gives
(B + FᵀF/ρ)⁻¹q = B⁻¹q − B⁻¹Fᵀ(ρI_n + H)⁻¹FB⁻¹q. H is PSD, so with H = QΛQᵀ (Λ ≥ 0, computed once)
(ρI + H)⁻¹ = Q·diag(1/(ρ + Λ))·Qᵀ for every ρ > 0, and a change of ρ costs nothing.

**CR8, the cost model (operation counts).** One operation is one scalar multiply-add, multiplication,
division, comparison or element of a reduction; a matrix product counts its multiply-adds, an element-wise
operation or reduction on an array of N entries counts N, a batched r×r solve counts r³ per system. The
convention, and every count below, is that of the solver (``solvers.convex_relu``:
``operators.WoodburyFactor``/``DenseFactor``, ``admm.iteration_flops``/``admm.record_flops`` and
``admm.admm``), so the formulas equal its ``flops`` exactly. Write u = (u₁, u₂) (v- and w-slots),
q = (q₁, q₂) for the right-hand side, p = u₁ + u₂ and m = u₁ − u₂: since B acts the same on both halves
and Fu = Z(u₁ − u₂) with Z = [D_1X … D_PX], p = (q₁ + q₂)K and m solves
(I_P ⊗ K⁻¹ + 2ZᵀZ/ρ)m = q₁ − q₂ (derived in ``solvers.convex_relu.operators``). The u-step solve:

- Woodbury (the n×n system): rK on P rows Pd², Z(rK) ndP + nP, (ρI + H)⁻¹ by one symv with the cached
  inverse n² (Q·diag·Qᵀ 2n² for eigh), Zᵀz nP + ndP, times K Pd², p = (q₁ + q₂)K Pd²:
  S_W = 3Pd² + 2ndP + 2nP + n² (eigh: 2n² in place of n²);
- dense (the reduced dP×dP system, inverted once per ρ): p Pd² and one symv (dP)²: S_D = Pd² + (dP)².

The rest of an iteration (over-relaxed, the slack and its dual kept in one array z, s = z⁺, ν = z⁻):
q = v − λ + Gᵀ(s − ν) and q₁ ± q₂ (7Pd), u = ((p + m)/2, (p − m)/2) (4Pd), Xuᵀ 2ndP, û = αu + (1 − α)v,
a = û + λ, the group norms and shrinkage, v and λ (16Pd + 10P), the one-pass slack kernel (9 operations
per entry of the (n, 2P) array, 18nP) and Gᵀ(s − ν) = (S2 ∘ |z|)ᵀX 2ndP:

    W = S + 4ndP + 18nP + 27Pd + 10P                                   (:func:`admm_flops_per_iteration`),

so W_woodbury = 3Pd² + 6ndP + n² + 20nP + 27Pd + 10P = O(ndP + n² + Pd²), Θ(n²) per iteration when
P ∝ n and d is fixed (the paper's "quadratic time"), and W_dense = Pd² + (dP)² + 4ndP + 18nP + 27Pd + 10P
= Θ((dP)²), the cheaper one whenever dP < n. A recorded iteration adds the residuals (Gᵀ(s − s_prev) and
Gᵀν 4ndP), Fv (ndP), Gv (2ndP), the feasibility restoration of the 2P groups (least-norm step on the
r = min(d, n) worst rows: the products 2P(r²d + 2rd), the solves 2Pr³, a new slack 2ndP; then the
generator rule), the restored objective (ndP) and the element-wise work:

    R = 10ndP + 58nP + 46Pd + 12P + 6n + 2P(r³ + r²d + 2r² + 2rd + 5r).

Setup (:func:`admm_setup_flops`): Woodbury: XᵀX (nd²), K (d³), XKXᵀ = (XL)(XL)ᵀ with K = LLᵀ (nd² + n²d)
and DmDmᵀ (n²P), then the first factorisation (:func:`admm_factor_flops`): eigh of H, 4n³ (a model: 4n³/3
for the tridiagonal reduction plus the eigenvector work; eigh is iterative, so no count is exact), or the
inverse of ρI + H by Cholesky (potrf n³/3 + potri 2n³/3 = n³), repeated per new ρ. Dense: ZᵀZ (n(dP)²),
XᵀX (nd²) and K (d³), then the inverse of the reduced matrix, (dP)³ per ρ. A run adds the generators'
margins S ∘ XH (ndP + nP) once. The run total is :func:`admm_run_flops`.

**CR10, the adversarial certificate (derived).** Under the robust cones
(2D_i − I)Xv_i ≥ ε‖v_i^f‖₁𝟙 (and the same for w_i), a perturbation ‖δ‖_∞ ≤ ε of the features of x_k
moves each pre-activation by |δᵀv_i^f| ≤ ε‖v_i^f‖₁ (Hölder), which does not change its sign relative to
D_i, so no activation flips and the recovered network outputs x_kᵀa_k + δᵀa_k^f with
a_k = Σ_i (Dm)_{ki}(v_i − w_i). Over the box, δᵀa^f ranges over [−ε‖a^f‖₁, ε‖a^f‖₁], reaching the
ends at δ = ∓ε·sign(a^f). Hinge: (1 − y(xᵀa + δᵀa^f))_+ is largest when yδᵀa^f = −ε‖a^f‖₁, i.e. at
δ = −εy·sign(a^f), with value (1 − y·xᵀa + ε‖a^f‖₁)_+ (:func:`certified_hinge`). Squared:
½(y − xᵀa − δᵀa^f)² is largest when −δᵀa^f has the sign of the residual e = y − xᵀa and modulus
ε‖a^f‖₁, i.e. at δ = −ε·s·sign(a^f) with s = sign(e), giving ½(|e| + ε‖a^f‖₁)²
(:func:`certified_squared`). At e = 0 either sign of s attains it, so the worst δ uses s = +1 there
(sign(0) = 0 would give δ = 0 and miss the maximum whenever a^f ≠ 0); coordinates with a^f_j = 0 are
free and set to 0 (``solvers.convex_relu.adversarial.worst_case_delta``). The bias coordinate is never
perturbed and is outside ‖·‖₁. The certificate is for training points only (test points can change pattern).

**CR11, collapse (derived).** For a mixed pattern i (neither all-ones nor all-zero) let
ε_i* = max{t : (2D_i − I)Xv ≥ t𝟙, ‖v^f‖₁ ≤ 1}, an LP (``solvers.convex_relu.adversarial.eps_star``); it is
finite, since a row k with D = 1 and a row l with D = 0 give (x_k^f − x_l^f)ᵀv^f ≥ 2t, so t ≤ ½‖x_k^f − x_l^f‖_∞.
Let ε > ε* = max_i ε_i* and v satisfy the robust cone of i. If v^f ≠ 0, v/‖v^f‖₁ is feasible for the LP
with t = ε > ε_i*, a contradiction; so v^f = 0 and (2D_i − I)·b𝟙 ≥ 0 with the bias b, which needs
b ≥ 0 (a row with D = 1) and b ≤ 0 (a row with D = 0): v = 0 entirely. Only the all-ones pattern
(output Xv, affine on the data) and the all-zero pattern (output 0, hence zero at an optimum) keep
weights; the robust model is affine if the all-ones pattern is in 𝒟 and identically zero otherwise.

**CR12, the scenario bound (Campi–Garatti 2008).** For a convex program with ζ decision variables and N
i.i.d. sampled constraints, P[violation probability > ψ] ≤ Σ_{j<ζ} C(N, j)ψ^j(1 − ψ)^{N−j}, the lower tail
P[B ≤ ζ − 1] of B ~ Binomial(N, ψ) (:func:`scenario_violation_tail`, evaluated by the regularised
incomplete beta function, accurate far into the tail). Chernoff: for t > 0,
P[B ≤ k] ≤ e^{tk}E e^{−tB} = e^{tk}(1 − ψ + ψe^{−t})^N ≤ exp(tk − Nψ(1 − e^{−t})); at t = 1 this is
≤ ξ once N ≥ (e/(e − 1))(k + ln(1/ξ))/ψ, and e/(e − 1) ≈ 1.582 < 2, so

    N ≥ (2/ψ)(ζ − 1 + ln(1/ξ))                     (:func:`scenario_sample_size`)

suffices. The tail is non-increasing in N (more trials make fewer than ζ successes less likely: B_{N+1}
dominates B_N stochastically). Applying this to pattern sampling (ζ ≈ n dual variables, one constraint
per sampled pattern) is reconstructed, not the paper's statement.

**CR7, ADMM convergence (paper; rate constants not confirmed).** Reported through the relative gap
|f − f*|/|f*| (:func:`relative_gap`), the cone violation max(0, −min Gv)
(``solvers.convex_relu.network.cone_violation``) and the fitted per-iteration factor q of a residual
tail, log r_k ≈ a + k·log q by least squares (:func:`linear_rate_fit`); linear convergence means q < 1.
The tolerances are the named constants :data:`ADMM_QUICK_GAP`, :data:`ADMM_QUICK_VIOLATION`,
:data:`ADMM_SLOW_GAP` and :data:`ADMM_SLOW_VIOLATION`.

**CR13, the cone splitting of ADMM (derived here; not in the papers).** Keep the cones in the non-smooth
term: min ½‖Fu − y‖² + Σ_g(β‖v_g‖ + 𝟙_{K_g}(v_g)) s.t. u = v. The v-step is the prox of t‖·‖ + 𝟙_K
(t = β/ρ), and for a closed convex cone K

    prox_{t‖·‖ + 𝟙_K}(a) = max(0, 1 − t/‖p‖)·p,   p = Π_K(a)

(``solvers.convex_relu.cones``: a − p ∈ N_K(p) = N_K(cp) for c > 0, so v = cp, c = 1 − t/‖p‖, satisfies
0 ∈ v − a + t∂‖v‖ + N_K(v); if ‖p‖ ≤ t, a ∈ tB + K° gives v = 0). Hence every iterate v lies in C(𝒟) (up to
the projection's rounding), so f(v_k) ≥ f*(𝒟) ≥ any dual lower bound, and ADMM converges to f*(𝒟) for every
ρ > 0 (Boyd et al. 2011, §3.2: f convex closed proper, g = Σ(β‖·‖ + 𝟙_K) the same, a saddle point exists).
The quick test, on sampled patterns: at the default ρ = max_i ‖D_iX‖₂² the certified gap
(f(v_K) − lower)/lower is ≤ :data:`CONE_SPLIT_GAP` after K = :data:`CONE_SPLIT_ITER` iterations (a budget,
not a rate: 40–60 iterations sufficed on the sampled instances of ``solvers.convex_relu.admm``'s table; with
all patterns of 2-D data the same ρ took 290–5840).

References
----------
M. Pilanci, T. Ergen, "Neural Networks are Convex Regularizers", arXiv:2002.10553, ICML 2020.
Y. Bai, T. Gautam, S. Sojoudi, "Efficient Global Optimization of Two-layer ReLU Networks: Quadratic-time
Algorithms and Adversarial Training", arXiv:2201.01965, SIAM J. Math. Data Sci. 2023.
T. Cover, "Geometrical and Statistical Properties of Systems of Linear Inequalities", IEEE Trans.
Electron. Comput. 1965.
M. Campi, S. Garatti, "The Exact Feasibility of Randomized Solutions of Uncertain Convex Programs",
SIAM J. Optim. 2008.
S. Boyd et al., "Distributed Optimization and Statistical Learning via ADMM", FnT ML 2011.
G. Golub, C. Van Loan, *Matrix Computations*, 4th ed., §8.3.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from theory._validate import as_count as _as_count
from theory._validate import as_float as _as_float
from theory._validate import as_matrix as _matrix
from theory._validate import scalar_or_array as _out
from theory.registry import Claim, ClaimKind, register

__all__ = [
    "ADMM_QUICK_GAP",
    "ADMM_QUICK_VIOLATION",
    "ADMM_SLOW_GAP",
    "ADMM_SLOW_VIOLATION",
    "CLAIMS",
    "CONE_SPLIT_GAP",
    "CONE_SPLIT_ITER",
    "LOSSES",
    "RateFit",
    "admm_factor_flops",
    "admm_flops_per_iteration",
    "admm_run_flops",
    "admm_setup_flops",
    "beta_zero_threshold",
    "certified_hinge",
    "certified_squared",
    "linear_rate_fit",
    "pattern_count_2d",
    "pattern_count_bound",
    "pattern_count_general_position",
    "recovery_mismatch_bound",
    "relative_gap",
    "rescale_neuron",
    "scenario_sample_size",
    "scenario_violation_tail",
]

PILANCI_ERGEN = "Pilanci & Ergen (ICML 2020), arXiv:2002.10553"
BAI_ET_AL = "Bai, Gautam & Sojoudi (SIMODS 2023), arXiv:2201.01965"
COVER = "Cover (IEEE Trans. Electron. Comput. 1965)"
CAMPI_GARATTI = "Campi & Garatti (SIAM J. Optim. 2008)"
BOYD = "Boyd et al. (FnT ML 2011)"
DERIVED = "derived in theory.convex_relu"

#: CR13 quick test: certified gap of the cone splitting at its default ρ after CONE_SPLIT_ITER iterations.
CONE_SPLIT_GAP: float = 1e-4
#: CR13 quick test: the iteration budget.
CONE_SPLIT_ITER: int = 100
#: CR7 quick test (tuned ρ): relative objective gap reached by ADMM.
ADMM_QUICK_GAP: float = 1e-4
#: CR7 quick test: largest accepted cone violation max(0, −min Gv).
ADMM_QUICK_VIOLATION: float = 1e-5
#: CR7 slow test (residual balancing): relative objective gap.
ADMM_SLOW_GAP: float = 1e-6
#: CR7 slow test: cone violation. The spec gives only the gap; the violation keeps the quick test's 1e-5.
ADMM_SLOW_VIOLATION: float = 1e-5

#: The losses of spec §2 (both summed over the data).
LOSSES: tuple[str, ...] = ("squared", "hinge")


# ---------------------------------------------------------------- argument helpers
def _vector(name: str, x: ArrayLike, length: int) -> np.ndarray:
    arr = np.asarray(x, dtype=float)
    if arr.shape != (length,):
        raise ValueError(f"{name} must have shape ({length},), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got non-finite entries")
    return arr


def _patterns(Dm: ArrayLike, n: int) -> np.ndarray:
    arr = np.asarray(Dm)
    if arr.ndim != 2 or arr.shape[0] != n:
        raise ValueError(f"Dm must have shape (n, P) = ({n}, P), got {arr.shape}")
    if not np.all((arr == 0) | (arr == 1)):
        raise ValueError("Dm must contain only 0 and 1 (or booleans)")
    return arr.astype(bool)


def _loss_name(loss: str) -> str:
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    return loss


def _int_out(values: np.ndarray, scalar: bool) -> int | np.ndarray:
    """Exact integers: a Python int for scalar input, an int64 array (object if too large) otherwise."""
    if scalar:
        return int(values.reshape(-1)[0])
    big = any(abs(int(v)) >= 2**62 for v in values.reshape(-1))
    return np.array(values, dtype=object if big else np.int64)


# ---------------------------------------------------------------- CR6: counts
def pattern_count_bound(n: ArrayLike, r: ArrayLike) -> float | np.ndarray:
    r"""CR6: the Pilanci–Ergen bound 2r(e(n − 1)/r)^r on the number of activation patterns.

    Parameters
    ----------
    n
        Number of data points, n ≥ 2.
    r
        Rank of X, 1 ≤ r ≤ n.

    Returns
    -------
    float or ndarray
        2r(e(n−1)/r)^r; it is ≥ :func:`pattern_count_general_position` (n, r) (proof in the module
        docstring, CR6).

    References
    ----------
    Pilanci & Ergen (2020); spec ``convex_relu.md`` §2.
    """
    n_a, r_a = _as_count("n", n, low=2), _as_count("r", r)
    if np.any(r_a > n_a):
        raise ValueError(f"r must be ≤ n (the rank of an n-row matrix), got n={n!r}, r={r!r}")
    return _out(2 * r_a * (math.e * (n_a - 1) / r_a) ** r_a)


def pattern_count_general_position(n: ArrayLike, r: ArrayLike, *, include_zero: bool = True) -> int | np.ndarray:
    r"""CR6: Cover's exact count C(n, r) = 2Σ_{j<r} C(n−1, j) of patterns in general position.

    Parameters
    ----------
    n
        Number of data points, n ≥ 1.
    r
        Rank of X (dimension of the row space), r ≥ 1; for r ≥ n every dichotomy occurs (2ⁿ).
    include_zero
        Count the all-zero pattern (True, Cover's count) or not (the program's 𝒟_full).

    Returns
    -------
    int or ndarray
        Exact integers (a Python int for scalar input; an int64 array, or an object array of Python
        ints when a value reaches 2⁶², otherwise). The count of distinct D(h) = diag(1[Xh ≥ 0]) for data
        with a bias column whose rows are in general position (module docstring, CR6).

    References
    ----------
    Cover (1965), function-counting theorem; spec ``convex_relu.md`` §2.
    """
    n_a, r_a = _as_count("n", n), _as_count("r", r)
    nb, rb = np.broadcast_arrays(n_a, r_a)
    counts = [2 * sum(math.comb(int(nn) - 1, j) for j in range(int(rr))) - (0 if include_zero else 1)
              for nn, rr in zip(nb.reshape(-1), rb.reshape(-1), strict=True)]
    return _int_out(np.array(counts, dtype=object).reshape(nb.shape), nb.ndim == 0)


def pattern_count_2d(n: ArrayLike, *, include_zero: bool = True) -> int | np.ndarray:
    """CR6: n² − n + 2 patterns of n ≥ 1 points in the plane (no three collinear) with a bias column.

    Equal to :func:`pattern_count_general_position` (n, 3); ``include_zero=False`` gives n² − n + 1,
    the size of 𝒟_full. References: Cover (1965); spec ``convex_relu.md`` §2 and §6.
    """
    n_a = _as_count("n", n)
    counts = np.array([int(v) ** 2 - int(v) + 2 - (0 if include_zero else 1) for v in n_a.reshape(-1)], dtype=object)
    return _int_out(counts.reshape(n_a.shape), n_a.ndim == 0)


# ---------------------------------------------------------------- CR8: cost model
def _cost_args(n: ArrayLike, d: ArrayLike, P: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _as_count("n", n), _as_count("d", d), _as_count("P", P)


def admm_flops_per_iteration(n: ArrayLike, d: ArrayLike, P: ArrayLike, *, u_step: str = "woodbury",
                             record: bool = False, method: str = "cholesky") -> float | np.ndarray:
    r"""CR8: multiply-adds of one over-relaxed ADMM iteration on C(𝒟) with squared loss.

    W = S + 4ndP + 18nP + 27Pd + 10P with the u-step solve S = 3Pd² + 2ndP + 2nP + n² (Woodbury, Cholesky
    inverse; + n² more for eigh) or Pd² + (dP)² (dense: the reduced dP×dP system); a recorded iteration
    (residuals, objective, violation, feasibility restoration) adds
    R = 10ndP + 58nP + 46Pd + 12P + 6n + 2P(r³ + r²d + 2r² + 2rd + 5r), r = min(d, n). Step-by-step count
    and convention in the module docstring (CR8); O(ndP + n² + Pd²), i.e. Θ(n²) for P ∝ n and fixed d,
    with Woodbury, Θ((dP)²) dense.

    Parameters
    ----------
    n, d, P
        Data points, columns of X (bias included) and patterns (≥ 1 each).
    u_step
        ``"woodbury"`` (the n×n system ρI + H) or ``"dense"`` (the reduced dP×dP system).
    record
        Whether the iteration is recorded (``admm(record_every=…)``).
    method
        Woodbury's factorisation, ``"cholesky"`` (what ``admm`` builds) or ``"eigh"``; ignored for dense.

    Notes
    -----
    Equal to the increments of ``history.flops`` of ``solvers.convex_relu.admm.admm`` (between
    factorisations).

    References
    ----------
    Bai, Gautam & Sojoudi (2023), Algorithm 3.1 and its quadratic per-iteration cost; Boyd et al. (2011)
    §3.4.3 (over-relaxation); count :mod:`theory.convex_relu` (CR8).
    """
    if u_step not in ("woodbury", "dense"):
        raise ValueError(f"u_step must be 'woodbury' or 'dense', got {u_step!r}")
    if method not in ("eigh", "cholesky"):
        raise ValueError(f"method must be 'eigh' or 'cholesky', got {method!r}")
    n_a, d_a, P_a = _cost_args(n, d, P)
    if u_step == "woodbury":
        solve = 3 * P_a * d_a**2 + 2 * n_a * d_a * P_a + 2 * n_a * P_a + (2 if method == "eigh" else 1) * n_a**2
    else:
        solve = P_a * d_a**2 + (d_a * P_a) ** 2
    extra = 0.0
    if record:
        r = np.minimum(d_a, n_a)
        extra = (10 * n_a * d_a * P_a + 58 * n_a * P_a + 46 * P_a * d_a + 12 * P_a + 6 * n_a
                 + 2 * P_a * (r**3 + r**2 * d_a + 2 * r**2 + 2 * r * d_a + 5 * r))
    return _out(solve + 4 * n_a * d_a * P_a + 18 * n_a * P_a + 27 * P_a * d_a + 10 * P_a + extra)


def admm_factor_flops(n: ArrayLike, d: ArrayLike, P: ArrayLike, *, method: str = "cholesky") -> float | np.ndarray:
    """CR8: multiply-adds of one factorisation: 4n³ (``"eigh"`` of H, once), n³ (``"cholesky"``: the inverse
    of ρI + H by potrf + potri, per new ρ) or (dP)³ (``"dense"``: the inverse of the reduced dP×dP matrix,
    per new ρ). eigh's 4n³ is a model (module docstring)."""
    if method not in ("eigh", "cholesky", "dense"):
        raise ValueError(f"method must be 'eigh', 'cholesky' or 'dense', got {method!r}")
    n_a, d_a, P_a = _cost_args(n, d, P)
    if method == "eigh":
        return _out(4 * n_a**3)
    if method == "cholesky":
        return _out(n_a**3)
    return _out((d_a * P_a) ** 3)


def admm_setup_flops(n: ArrayLike, d: ArrayLike, P: ArrayLike, *, method: str = "eigh") -> float | np.ndarray:
    r"""CR8: multiply-adds of the u-step setup, including its first factorisation.

    ``"eigh"`` and ``"cholesky"`` (Woodbury): XᵀX, K, XKXᵀ and DmDmᵀ, 2nd² + d³ + n²d + n²P, plus
    :func:`admm_factor_flops`; ``"dense"``: n(dP)² + nd² + d³ (ZᵀZ with Z = [D_1X … D_PX], XᵀX and K) plus
    (dP)³. O(n²(d + P) + n³) and O(n(dP)² + (dP)³).

    Parameters
    ----------
    n, d, P
        Data points, columns of X (bias included) and patterns (≥ 1 each).
    method
        ``"eigh"`` (H = QΛQᵀ once), ``"cholesky"`` (ρI + H for the first ρ) or ``"dense"``.

    Notes
    -----
    Equal to ``setup_flops`` of ``solvers.convex_relu.operators.WoodburyFactor(method, rho=…)`` and
    ``DenseFactor(rho=…)``, and to ``ADMMResult.setup_flops``.

    References
    ----------
    Bai, Gautam & Sojoudi (2023); count :mod:`theory.convex_relu` (CR8).
    """
    factor = admm_factor_flops(n, d, P, method=method)
    n_a, d_a, P_a = _cost_args(n, d, P)
    if method == "dense":
        return _out(n_a * (d_a * P_a) ** 2 + n_a * d_a**2 + d_a**3 + factor)
    return _out(2 * n_a * d_a**2 + d_a**3 + n_a**2 * d_a + n_a**2 * P_a + factor)


def admm_run_flops(n: ArrayLike, d: ArrayLike, P: ArrayLike, iterations: ArrayLike, recorded: ArrayLike, *,
                   u_step: str = "woodbury", method: str = "cholesky",
                   factorizations: ArrayLike = 1) -> float | np.ndarray:
    """CR8: multiply-adds of a whole ADMM run: setup + (ndP + nP) + iterations·W + recorded·R + refactorisations.

    Parameters
    ----------
    n, d, P
        Sizes.
    iterations, recorded
        Iterations run and how many of them were recorded (``recorded ≤ iterations``).
    u_step
        ``"woodbury"`` or ``"dense"``.
    method
        Factorisation of the Woodbury system, ``"cholesky"`` (what ``admm`` builds) or ``"eigh"``; ignored
        for ``u_step="dense"``.
    factorizations
        Factorisations in all (≥ 1; residual balancing adds one per new ρ, ``eigh`` needs only one).

    Notes
    -----
    Equal to ``ADMMResult.flops`` of ``solvers.convex_relu.admm.admm`` when the factor is built by the run;
    ndP + nP are the generators' margins of the feasibility restoration, computed once.
    """
    k = _as_count("iterations", iterations, low=0)
    rec = _as_count("recorded", recorded, low=0)
    if np.any(rec > k):
        raise ValueError(f"recorded must be ≤ iterations, got {recorded!r} > {iterations!r}")
    f = _as_count("factorizations", factorizations)
    m = "dense" if u_step == "dense" else method
    n_a, d_a, P_a = _cost_args(n, d, P)
    setup = np.asarray(admm_setup_flops(n, d, P, method=m)) + n_a * d_a * P_a + n_a * P_a
    refactor = np.asarray(admm_factor_flops(n, d, P, method=m)) * (f - 1)
    wm = "cholesky" if u_step == "dense" else method
    plain = np.asarray(admm_flops_per_iteration(n, d, P, u_step=u_step, method=wm))
    rec_extra = np.asarray(admm_flops_per_iteration(n, d, P, u_step=u_step, record=True, method=wm)) - plain
    return _out(setup + refactor + k * plain + rec * rec_extra)


# ---------------------------------------------------------------- CR12: scenario approach
def scenario_sample_size(zeta: ArrayLike, psi: ArrayLike, xi: ArrayLike) -> int | np.ndarray:
    r"""CR12: N = ⌈(2/ψ)(ζ − 1 + ln(1/ξ))⌉ sampled patterns, enough for violation ≤ ψ w.p. ≥ 1 − ξ.

    Parameters
    ----------
    zeta
        Number of decision variables ζ ≥ 1 of the convex program (default in the spec: n).
    psi
        Violation level ψ ∈ (0, 1].
    xi
        Confidence parameter ξ ∈ (0, 1].

    Returns
    -------
    int or ndarray
        N, for which :func:`scenario_violation_tail` (N, ζ, ψ) ≤ ξ (Chernoff, module docstring CR12).

    References
    ----------
    Campi & Garatti (2008); the sample-size form is reconstructed (:mod:`theory.convex_relu`, CR12).
    """
    z = _as_count("zeta", zeta)
    p = _as_float("psi", psi, above=0, at_most=1)
    x = _as_float("xi", xi, above=0, at_most=1)
    N = np.ceil((2.0 / p) * (z - 1 + np.log(1.0 / x)))
    return _int_out(N.astype(np.int64), N.ndim == 0)


def scenario_violation_tail(N: ArrayLike, zeta: ArrayLike, psi: ArrayLike) -> float | np.ndarray:
    r"""CR12: Campi–Garatti's Σ_{j<ζ} C(N, j)ψ^j(1 − ψ)^{N−j} = P[Binomial(N, ψ) ≤ ζ − 1].

    Evaluated by ``scipy.special.bdtr`` (the regularised incomplete beta function), which keeps its
    relative accuracy deep in the tail, unlike a sum of floating-point terms.

    Parameters
    ----------
    N
        Number of sampled constraints, N ≥ 0.
    zeta
        Number of decision variables ζ ≥ 1.
    psi
        Violation level ψ ∈ [0, 1].

    Returns
    -------
    float or ndarray
        The bound on P[violation probability > ψ]; non-increasing in N.

    References
    ----------
    Campi & Garatti (2008) (the binomial tail bound of the scenario approach).
    """
    N_a, z = _as_count("N", N, low=0), _as_count("zeta", zeta)
    p = _as_float("psi", psi, at_least=0, at_most=1)
    k, N_i = np.broadcast_arrays((z - 1).astype(np.int64), N_a.astype(np.int64))
    # bdtr is NaN for k > N; there every outcome has fewer than ζ successes, so the tail is 1
    return _out(np.where(k >= N_i, 1.0, special.bdtr(np.minimum(k, N_i), N_i, p)))


# ---------------------------------------------------------------- CR10: certificate
def certified_hinge(margin: ArrayLike, l1: ArrayLike, eps: ArrayLike) -> float | np.ndarray:
    r"""CR10: worst-case hinge loss (1 − margin + ε‖a^f‖₁)_+ over ‖δ‖_∞ ≤ ε (robust cones).

    Parameters
    ----------
    margin
        y_k·x_kᵀa_k, the clean margin of each training point.
    l1
        ‖a_k^f‖₁ ≥ 0, the ℓ1 norm of the feature part of a_k = Σ_i (Dm)_{ki}(v_i − w_i).
    eps
        Radius ε ≥ 0.

    Returns
    -------
    float or ndarray
        Elementwise, the maximum of (1 − y(x + δ)ᵀa)_+ over the box; attained at δ = −εy·sign(a^f)
        (module docstring, CR10).

    References
    ----------
    Bai, Gautam & Sojoudi (2023), convex adversarial training (closed form derived here, CR10).
    """
    m = _as_float("margin", margin)
    a = _as_float("l1", l1, at_least=0)
    e = _as_float("eps", eps, at_least=0)
    return _out(np.maximum(0.0, 1.0 - m + e * a))


def certified_squared(residual: ArrayLike, l1: ArrayLike, eps: ArrayLike) -> float | np.ndarray:
    r"""CR10: worst-case squared loss ½(|y − xᵀa| + ε‖a^f‖₁)² over ‖δ‖_∞ ≤ ε (robust cones).

    Parameters
    ----------
    residual
        y_k − x_kᵀa_k at each training point.
    l1
        ‖a_k^f‖₁ ≥ 0.
    eps
        Radius ε ≥ 0.

    References
    ----------
    Bai, Gautam & Sojoudi (2023), convex adversarial training (closed form derived here, CR10).
    """
    r = _as_float("residual", residual)
    a = _as_float("l1", l1, at_least=0)
    e = _as_float("eps", eps, at_least=0)
    return _out(0.5 * (np.abs(r) + e * a) ** 2)


# ---------------------------------------------------------------- CR2, CR3 and β_max
def rescale_neuron(u: ArrayLike, alpha: ArrayLike) -> tuple[np.ndarray, float | np.ndarray]:
    r"""CR2: the AM–GM balancing (c·u, α/c), c² = |α|/‖u‖, so that ‖u′‖ = |α′| = √(|α|‖u‖).

    The neuron's function is unchanged (α′u′ = αu and c > 0), and ‖u′‖² + α′² = 2|α|‖u‖ ≤ ‖u‖² + α².
    A neuron with u = 0 or α = 0 (the zero function) becomes (0, 0).

    Parameters
    ----------
    u
        (d,) weights of one neuron, or (m, d) for m neurons.
    alpha
        Its output weight: a scalar, or (m,).

    Returns
    -------
    (u′, α′)
        Same shapes as the input.

    References
    ----------
    Pilanci & Ergen (2020) (rescaling argument); :mod:`theory.convex_relu` (CR2).
    """
    ua = np.asarray(u, dtype=float)
    if ua.ndim not in (1, 2) or not np.all(np.isfinite(ua)):
        raise ValueError(f"u must be a finite (d,) or (m, d) array, got shape {ua.shape}")
    al = _as_float("alpha", alpha)
    expected = () if ua.ndim == 1 else (ua.shape[0],)
    if al.shape != expected:
        raise ValueError(f"alpha must have shape {expected}, got {al.shape}")
    norm = np.linalg.norm(ua, axis=-1)
    live = (norm > 0) & (al != 0)
    c = np.sqrt(np.abs(al) / np.where(live, norm, 1.0))
    u_new = np.where(live[..., None], ua * c[..., None], 0.0)
    a_new = np.where(live, al / np.where(live, c, 1.0), 0.0)
    return u_new, _out(a_new)


def recovery_mismatch_bound(group_violations: ArrayLike, n: int, *, loss: str = "squared",
                            residual_norm: float = 0.0) -> float:
    r"""CR3: bound on |L_nc(recovered) − convex objective| for a point violating its cones.

    With δ = Σ_g η_g (η_g ≥ 0 the violation of group g), the predictions differ by ≤ δ entrywise, the
    penalties are equal, and the losses by ≤ nδ (hinge) or √n·δ·‖b − y‖ + ½nδ² (squared, b the convex
    predictions) (module docstring, CR3). Zero for a feasible point.

    Parameters
    ----------
    group_violations
        η_g ≥ 0 for the kept groups.
    n
        Number of data points.
    loss
        ``"squared"`` or ``"hinge"``.
    residual_norm
        ‖b − y‖₂ of the convex predictions (squared loss only).
    """
    _loss_name(loss)
    eta = _as_float("group_violations", group_violations, at_least=0)
    n_a = float(_as_count("n", n))
    r = float(_as_float("residual_norm", residual_norm, at_least=0))
    delta = float(np.sum(eta))
    if loss == "hinge":
        return n_a * delta
    return math.sqrt(n_a) * delta * r + 0.5 * n_a * delta**2


def beta_zero_threshold(X: ArrayLike, y: ArrayLike, Dm: ArrayLike) -> float:
    r"""β_max = max_i ‖XᵀD_iy‖₂: any β ≥ β_max makes the zero network optimal.

    Holds for the squared and the hinge loss (both have gradient −y at ŷ = 0), for C(𝒟), its gated
    relaxation (where it is also necessary) and the robust program; derivation in the module docstring.

    Parameters
    ----------
    X
        (n, d) data.
    y
        (n,) targets or ±1 labels.
    Dm
        (n, P) patterns.

    References
    ----------
    Spec ``convex_relu.md`` §5 (β = c_β·β_max); derivation :mod:`theory.convex_relu`.
    """
    Xa = _matrix("X", X)
    D = _patterns(Dm, Xa.shape[0])
    yv = _vector("y", y, Xa.shape[0])
    if D.shape[1] == 0:
        raise ValueError("Dm must have at least one pattern (column)")
    return float(np.max(np.linalg.norm(Xa.T @ (D * yv[:, None]), axis=0)))


# ---------------------------------------------------------------- CR7: reporting
class RateFit(NamedTuple):
    """A least-squares fit log r_k ≈ intercept + slope·k over a residual tail; factor = e^slope."""

    factor: float
    slope: float
    intercept: float
    points: int


def relative_gap(f: ArrayLike, f_star: float) -> float | np.ndarray:
    """CR7: |f − f*|/|f*| (elementwise over a history f); f* = 0 raises (report the absolute gap instead)."""
    fs = float(_as_float("f_star", f_star))
    if fs == 0.0:
        raise ValueError("f_star must be nonzero for a relative gap (β ≥ β_max gives f* = 0: use |f − f*|)")
    return _out(np.abs(_as_float("f", f) - fs) / abs(fs))


def linear_rate_fit(residuals: ArrayLike, *, tail: float = 0.5, floor: float = 0.0) -> RateFit:
    r"""CR7: the fitted per-iteration factor q of the last ``tail`` fraction of a residual history.

    Fits log r_k = a + k·log q by least squares over the entries k of the tail window (k = position in
    ``residuals``) with r_k > ``floor``; linear convergence shows as q < 1 (slope < 0).

    Parameters
    ----------
    residuals
        1-D history r_0, r_1, … (e.g. r_pri per iteration), finite and ≥ 0.
    tail
        Fraction (0, 1] of the history, counted from the end, used for the fit.
    floor
        Entries ≤ floor (e.g. a floating-point plateau, or exact zeros) are left out.

    Returns
    -------
    RateFit
        factor q = e^slope, slope, intercept and the number of points used (≥ 2).
    """
    r = _as_float("residuals", residuals, at_least=0)
    if r.ndim != 1:
        raise ValueError(f"residuals must be 1-D, got shape {r.shape}")
    tl = float(_as_float("tail", tail, above=0, at_most=1))
    fl = float(_as_float("floor", floor, at_least=0))
    start = len(r) - max(2, math.ceil(tl * len(r)))
    k = np.arange(max(start, 0), len(r))
    k = k[r[k] > fl]
    if k.size < 2:
        raise ValueError(f"residuals must have at least 2 entries above floor={fl:g} in the tail, got {k.size}")
    slope, intercept = np.polyfit(k.astype(float), np.log(r[k]), 1)
    return RateFit(float(np.exp(slope)), float(slope), float(intercept), int(k.size))


CLAIMS = (
    Claim("convex_relu.exactness",
          "f*(𝒟_full) = min L_nc(U, α) for every width m ≥ m* (m* = nonzero groups at an optimum of C(𝒟_full)); "
          "the recovered network attains it (m* ≤ n + 1 not confirmed)",
          PILANCI_ERGEN, ClaimKind.PER_RUN),
    Claim("convex_relu.lower_bound",
          "L_nc(U, α) ≥ f*(𝒟_full) for every width and every (U, α): rescale |α_j| = ‖u_j‖, lift |α_j|u_j into "
          "the v/w-slot of D(u_j), merge by the triangle inequality",
          f"{PILANCI_ERGEN}; proof {DERIVED}", ClaimKind.PER_RUN,
          (rescale_neuron,), reconstructed=True),
    Claim("convex_relu.recovery",
          "feasible (v, w): u = v_i/√‖v_i‖, α = ±√‖v_i‖ gives f(X) = Σ_i D_iX(v_i − w_i) and L_nc = convex "
          "objective; with cone violations η_g the losses differ by ≤ nΣη_g (hinge) or √nΣη_g‖b − y‖ + "
          "½n(Ση_g)² (squared)",
          f"{PILANCI_ERGEN}; mismatch bound {DERIVED}", ClaimKind.IDENTITY,
          (recovery_mismatch_bound,)),
    Claim("convex_relu.sampling_upper_bound",
          "𝒟 ⊆ 𝒟′ ⟹ f*(𝒟) ≥ f*(𝒟′) ≥ f*(𝒟_full); f*(𝒟) is attained by a network of width m_𝒟, so it bounds "
          "the global optimum from above for m ≥ m_𝒟; SGD never goes below f*(𝒟_full)",
          f"{BAI_ET_AL}; {PILANCI_ERGEN}", ClaimKind.PER_RUN),
    Claim("convex_relu.gated_relaxation",
          "f*_gated(𝒟) ≤ f*(𝒟), via u_i = v_i − w_i (same predictions, ‖v_i − w_i‖ ≤ ‖v_i‖ + ‖w_i‖)",
          f"{BAI_ET_AL} (sampled convex programs); Mishkin, Sahiner & Pilanci (ICML 2022)", ClaimKind.PER_RUN),
    Claim("convex_relu.pattern_count",
          "|𝒟_full| ≤ 2r(e(n−1)/r)^r; in general position (bias column) exactly 2Σ_{j<r}C(n−1, j), i.e. "
          "n² − n + 2 for 2-D data with bias (all-zero pattern included)",
          f"{PILANCI_ERGEN} (bound); {COVER} (exact count)", ClaimKind.IDENTITY,
          (pattern_count_bound, pattern_count_general_position, pattern_count_2d)),
    Claim("convex_relu.admm_convergence",
          f"ADMM converges linearly to an optimum of C(𝒟): tuned ρ reaches |f − f*|/|f*| ≤ {ADMM_QUICK_GAP:g} with "
          f"cone violation ≤ {ADMM_QUICK_VIOLATION:g}; residual balancing reaches {ADMM_SLOW_GAP:g}; the tail "
          "slope of log r_pri is negative",
          f"{BAI_ET_AL} (rate constant and assumptions not confirmed); {BOYD} §3.3–3.4", ClaimKind.RATE,
          (relative_gap, linear_rate_fit), reconstructed=True),
    Claim("convex_relu.admm_cost",
          "multiply-adds per iteration 3Pd² + 6ndP + n² + 20nP + 27Pd + 10P (Woodbury; O(ndP + n² + Pd²), "
          "quadratic in n for P ∝ n) or Pd² + (dP)² + 4ndP + 18nP + 27Pd + 10P (dense: the reduced dP×dP system), "
          "+ 10ndP + 58nP + 46Pd + 12P + 6n + 2P(r³ + r²d + 2r² + 2rd + 5r), r = min(d, n), when recorded; setup "
          "2nd² + d³ + n²d + n²P + 4n³ (eigh); the solver's counts equal these",
          f"{BAI_ET_AL} (quadratic per-iteration cost; exact statement not confirmed); counts {DERIVED}",
          ClaimKind.IDENTITY, (admm_flops_per_iteration, admm_setup_flops, admm_factor_flops, admm_run_flops),
          reconstructed=True),
    Claim("convex_relu.identities",
          "GᵀG = I_{2P} ⊗ XᵀX (as (2D_i − I)² = I); H = FB⁻¹Fᵀ = 2(XKXᵀ) ∘ (DmDmᵀ), K = (I + XᵀX)⁻¹; the "
          "Woodbury u-step equals the dense solve to 1e-12 relative error",
          DERIVED, ClaimKind.IDENTITY, (), reconstructed=True),
    Claim("convex_relu.adversarial_certificate",
          "under the robust cones, for every training point and ‖δ‖_∞ ≤ ε (features only) the recovered "
          "network's loss ≤ (1 − y·xᵀa + ε‖a^f‖₁)_+ (hinge) or ½(|y − xᵀa| + ε‖a^f‖₁)² (squared), with equality "
          "at δ = −εy·sign(a^f) resp. −ε·s·sign(a^f), s = sign(y − xᵀa) (+1 at 0); PGD/FGSM never exceed it",
          f"{BAI_ET_AL} (convex adversarial training); closed form {DERIVED}", ClaimKind.PER_RUN,
          (certified_hinge, certified_squared), reconstructed=True),
    Claim("convex_relu.robust_collapse",
          "for ε > ε* = max over mixed patterns of the LP radius ε_i*, every mixed pattern has v_i = w_i = 0; the "
          "robust model is affine (all-ones pattern in 𝒟) or zero",
          DERIVED, ClaimKind.STRUCTURAL, (), reconstructed=True),
    Claim("convex_relu.sampling_quality",
          "P_s ≥ ⌈(2/ψ)(ζ − 1 + ln(1/ξ))⌉ sampled patterns: the pricing violation rate is ≤ ψ with probability "
          "≥ 1 − ξ (Σ_{j<ζ}C(N, j)ψ^j(1−ψ)^{N−j} ≤ ξ); checked over seeds with a binomial margin",
          f"{CAMPI_GARATTI}; application to pattern sampling reconstructed ({DERIVED})", ClaimKind.EXPECTATION,
          (scenario_sample_size, scenario_violation_tail), reconstructed=True),
    Claim("convex_relu.cone_splitting",
          "ADMM with the cones in the v-step (v_g = max(0, 1 − (β/ρ)/‖p_g‖)p_g, p_g = Π_{K_g}(û_g + λ_g), the exact "
          "prox of β‖·‖ + 𝟙_K) keeps every iterate in C(𝒟), so f(v_k) ≥ f*(𝒟), and converges for every ρ > 0; at "
          f"ρ = max_i ‖D_iX‖₂² the certified gap on sampled patterns is ≤ {CONE_SPLIT_GAP:g} after {CONE_SPLIT_ITER} "
          "iterations",
          f"{DERIVED}; {BOYD} §3.2 (convergence)", ClaimKind.PER_RUN, (relative_gap,), reconstructed=True),
)

register(*CLAIMS)
