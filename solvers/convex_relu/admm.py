r"""Over-relaxed ADMM for the convex two-layer ReLU program C(𝒟) with squared loss (spec §3.1; CR7, CR8).

Two splittings: the paper's (``splitting="slack"``, the default, below) and the cone splitting
(``splitting="cone"``, further below), which keeps every iterate feasible and needs 40–60 iterations to a
1e-4 gap on the sampled-pattern instances measured (hundreds to thousands with all patterns of 2-D data).

Splitting: minimise ½‖Fu − y‖² + βΣ_g‖v_g‖ + 𝟙{s ≥ 0} subject to u = v and Gu = s, with the maps of
:mod:`~solvers.convex_relu.operators` (u, v, λ are (2P, d); s, ν are (2P, n), kept here transposed as
(n, 2P) so that no transpose is copied). With penalty ρ > 0, relaxation α ∈ (0, 2) (Boyd et al. 2011,
§3.4.3) and dual step γ ∈ (0, 1]::

    u   ← (I + FᵀF/ρ + GᵀG)⁻¹ (Fᵀy/ρ + v − λ + Gᵀ(s − ν))          # reduced dense, or Woodbury
    û   ← αu + (1 − α)v;   Ĝu ← αGu + (1 − α)s
    v_g ← max(0, 1 − (β/ρ)/‖û_g + λ_g‖)·(û_g + λ_g),   g = 1..2P
    s   ← max(0, Ĝu + ν)
    λ   ← λ + γ(û − v);   ν ← ν + γ(Ĝu − s)

α = 1 is the paper's Algorithm 3.1. The u-step is solved through p = u₁ + u₂ and m = u₁ − u₂ (the v- and
w-slots): p = (q₁ + q₂)K and (I_P ⊗ K⁻¹ + 2ZᵀZ/ρ)m = q₁ − q₂, Z = [D_1X … D_PX] (derivation in
:mod:`~solvers.convex_relu.operators`), a dP × dP system (``u_step="dense"``, (dP)² per iteration) or its
Woodbury form through the n × n matrix ρI + H (n² per iteration); ``"auto"`` takes the dense one when
dP < n.

**The slack in one array** (γ = 1). Let z = Ĝu + ν_old. Then s = z⁺ and ν_new = ν_old + Ĝu − s = z − z⁺
= z⁻ (= min(z, 0)), so s − ν_new = |z|, and the next Ĝu = αGu + (1 − α)z⁺_old. Hence only z (n, 2P) is
kept: z ← αGu + (1 − α)z⁺ + z⁻ and Gᵀ(s − ν) = (S2 ∘ |z|)ᵀX, one pass of a numba kernel
(:func:`slack_step`) writing S2 ∘ |z| for the next BLAS product, bit-for-bit equal to the s/ν form.
γ < 1 keeps s and ν (element-wise ``xp`` operations).

Stopping (Boyd et al. 2011, §3.3.1, with A = [I; G], B = −I, c = 0, p = 2P(d + n) constraints and
2Pd primal variables): r_pri = ‖(u − v, Gu − s)‖, r_dual = ρ‖(v − v_prev) + Gᵀ(s − s_prev)‖,

    ε_pri  = √(2P(d + n))·abstol + reltol·max(‖(u, Gu)‖, ‖(v, s)‖),
    ε_dual = √(2Pd)·abstol + reltol·ρ‖λ + Gᵀν‖,

converged when r_pri ≤ ε_pri and r_dual ≤ ε_dual. Residual balancing (§3.4.1): ρ ← 2ρ when
r_pri > 10·r_dual, ρ ← ρ/2 when r_dual > 10·r_pri, with λ, ν rescaled by ρ_old/ρ_new (they are scaled
duals y/ρ). Residuals, objective and restoration are computed only at recorded iterations.

**An honest gap.** The returned weights are the copy v, exactly group-sparse; it may violate the cones
slightly, so f(v) can dip below f* (spec §7). Every recorded iteration therefore also restores v to exact
feasibility (:func:`~solvers.convex_relu.network.restore_feasible`: a least-norm step on the worst
violated rows, then the pattern's generator) and records f(restored) ≥ f*(𝒟) and the restored gap
(f(restored) − f*)/f*, a certified suboptimality of the restored point (given an exact f*); ``target_gap``
tests it by default (``target="restored"``), while ``target="violation"`` keeps the spec's test
|f(v) − f*|/f* ≤ gap with violation ≤ ``target_violation``. On n = 200, d = 10, P = 32 (ρ = λ_max,
α = 1.6) v's violation plateaus at 3.9e-5 until iteration ≈ 7000, while the restored gap is 2.7e-5 at
iteration 700.

Cost per iteration (multiply-adds, CR8; :func:`iteration_flops`, :func:`record_flops`): the u-step solve
(dense Pd² + (dP)²; Woodbury 3Pd² + 2ndP + 2nP + n²), Xuᵀ and (S2 ∘ |z|)ᵀX (4ndP), 18nP + 27Pd + 10P
element-wise; a recorded iteration adds 10ndP + 58nP + 46Pd + 12P + 6n + 2P(r³ + r²d + 2r² + 2rd + 5r),
r = min(d, n) (residuals, objective, violation, restoration and its objective).

**Defaults: α = 1.8 and ρ = (n/300)·λ_max(H)** (:data:`ALPHA`, :func:`default_rho`, λ_max by power
iteration). ρ must not scale with β: scaling y by c scales β_max, f and every iterate by c, so ADMM with a
fixed ρ is invariant, and ρ has the units of H. Iterations until the restored gap is ≤ 1e-4 (recorded every
10; f* from Clarabel), ρ = c·λ_max(H), α = 1.8 unless stated, "—" = not within 20 000:

=========================================  =====  ======  ======  ======  =======  ===================
instance (n, d incl. bias, P)              c=0.1  c=0.3   c=1     c=3     c=10     c = n/300
=========================================  =====  ======  ======  ======  =======  ===================
teacher 60, 4, 20 (three seeds)            120,   100,    220,    630,    2090,    110, 630, 230
                                           1430,  440,    1010,   3170,   10650,
                                           100    350     1160    3480    11590
teacher 100, 10, 32                               250     520     1420    4680     330 (c = n/200 = 0.5)
teacher 200, 5, 63                         360    510     1660    4850    16080    1130
teacher 200, 10, 32                        3210   1010    530     1120    3500     470
teacher 300, 10, 32                        16700  5430    1370    1210    3580     1370
teacher 500, 20, 64                        12760  3880    940     1720    5310     1090
teacher 800, 10, 64                               4750    2880    2490    7790     3240 (c = n/200 = 4)
teacher 1000, 20, 64                              6090    1800    1780    5500     2880 (c = n/200 = 5)
teacher 2000, 20, 64 (the benchmark)              —       —       11140   5600     4300 (c = 20: 11000)
=========================================  =====  ======  ======  ======  =======  ===================

The best fixed c grows from ≤ 0.3 at n = 60 to ≈ 7 at n = 2000, about linearly in n; c = n/300 (or n/200
where so marked: those rows were held out while the rule was fitted) is within 1.6× of the best c tried on
every instance but teacher 60 seed 1 (2.3×) and teacher 200, 5, 63 (3.1×), and the best tried at n = 2000.
Teachers: Gaussian X with bias, y from a random 5- or 6-unit ReLU teacher plus noise 0.1, β = 0.1·β_max.
α = 1.8 beat α = 1.6 on every instance and c (by 10–15 %), and α = 1.6 beat α = 1 (at n = 2000,
c = n/300: 7730 iterations at α = 1, 4830 at 1.6, 4300 at 1.8). ``rho_rule="balance_rel"``
(relative residual balancing) reached a 1e-4 gap in 392–1088 iterations on two of three n = 60 seeds from
any start in [0.01, 10]·λ_max (α = 1), and stalled on the third; Boyd's absolute rule (``"balance"``)
drifts to ρ ≈ 0.05·λ_max there (r_pri carries the n·2P cone rows).

**The cone splitting** (``splitting="cone"``; derived here, not in the paper). Algorithm 3.1 splits the
cone constraints off into the slack s so that every step is closed-form, at the price of n·2P extra
constraint rows, and it needs thousands of iterations on the benchmark. Keeping the cones in the
non-smooth term instead,

    min ½‖Fu − y‖² + Σ_g (β‖v_g‖ + 𝟙_{K_g}(v_g))   subject to u = v,

gives the iteration (the same relaxation α and dual step γ)

    u   ← (I + FᵀF/ρ)⁻¹ (Fᵀy/ρ + v − λ)            # the reduced system with K = I_d (cone_block=False)
    û   ← αu + (1 − α)v
    v_g ← max(0, 1 − (β/ρ)/‖p_g‖)·p_g,  p_g = Π_{K_g}(û_g + λ_g)
    λ   ← λ + γ(û − v),

whose v-step is the exact prox of β‖·‖ + 𝟙_K (proof in :mod:`~solvers.convex_relu.cones`; the projection
by a warm-started Lawson–Hanson active-set method, tens of nd-products per group from a cold start and one
or two per iteration after). Every v is feasible (violation ≈ 1e-13, rounding), so f(v) ≥ f* and the gap
of v is certified. ADMM on a convex problem with a closed proper second term converges for every ρ > 0
(Boyd et al. 2011, §3.2). Residuals: r_pri = ‖u − v‖, r_dual = ρ‖v − v_prev‖, ε_pri = √(2Pd)·abstol +
reltol·max(‖u‖, ‖v‖), ε_dual = √(2Pd)·abstol + reltol·ρ‖λ‖. Cost per iteration: the symv ((dP)²) and the
projections (counted as they run, :attr:`~solvers.convex_relu.cones.ConeProjector.flops`).

**Default ρ = max_i ‖D_iX‖₂²** (:data:`RHO_SCALE_CONE` = 1 times
:func:`~solvers.convex_relu.operators.block_norm_max`, the largest squared norm of one group's block of F).
Iterations until the gap of v is ≤ 1e-4 (recorded every 10; f* = the better of two long runs at different ρ,
which agreed to 1e-13 or better), ρ = c·max_i ‖D_iX‖², α = 1.8, teachers as above (width 5; width 8 at
n = 2000), blank = not run; r = ‖F‖²/max_i ‖D_iX‖² (how many groups act together):

================================  =====  =====  =====  =====  =====
instance (n, d, P)                r      c=0.1  0.3    1      3
================================  =====  =====  =====  =====  =====
teacher 60, 4, 20 seed 0          15     70     50     60     160
teacher 60, 4, 20 seed 1          16     90     50     40     60
teacher 60, 4, 20 seed 2          14     60     40     40     90
teacher 100, 10, 32               23     150    60     40     80
teacher 200, 5, 63                55     190    80     60     160
teacher 200, 10, 32               25     140    60     40     60
teacher 300, 10, 32               31     260    90     40     70
teacher 500, 20, 64               50     360    120    50     50
teacher 800, 10, 64               56     380    130    50     50
teacher 1000, 20, 64              54     430    150    60     40
teacher 2000, 20, 64              56     440    150    50     40
teacher 100, 5, 397 sampled       279    650    260    170
teacher 200, 10, 200 sampled      147    620    220    110
2-D, all patterns (d = 3):
gaussian mixture 30, P = 871      568    810    340    290
moons 30, P = 871                 629    1240   520    420
spiral 20, P = 381, β = 0.05β_max 249    510    990    3100
spiral 40, P = 1561, same         1009   880    1710   5840
================================  =====  =====  =====  =====  =====

(The rows from "teacher 100, 5, 397" down were run at c ∈ {0.01, 0.03, 0.1, 0.3, 1}: at 0.03 they took
2290, 2060, 3030, 4340, 740 and 2180 iterations; the table shows c = 0.1, 0.3, 1 there.) c = 1 takes 40–60
iterations on every sampled instance with P ≤ 64, against 110–4300 for the slack splitting at its own
default (table above), and is the best c tried on the instances with many patterns (110–420 iterations)
except the two spirals of the notebook, which want c ≈ 0.1: at c = 1 they take 3100 and 5840 iterations.
An earlier rule, ρ = 0.03‖F‖², fitted the sampled rows as well (40–90 iterations) but puts the spirals at
c = 0.03r ≈ 7 and 30 (spiral 40: gap 2.2e-3 after 6000 iterations); the block norm does not grow with the
number of groups. An iteration costs more than the slack splitting's (the projections: about 3 ms against
about 1 ms at n = 2000, one thread), and the setup is the same dP × dP
inverse. On CuPy arrays the projections run on the host (a (2P, d) copy each way per iteration).

References
----------
Y. Bai, T. Gautam, S. Sojoudi, SIMODS 2023, arXiv:2201.01965 (Algorithm 3.1; linear convergence).
S. Boyd, N. Parikh, E. Chu, B. Peleato, J. Eckstein, "Distributed Optimization and Statistical Learning via
the Alternating Direction Method of Multipliers", FnT ML 2011 (§3.3.1 stopping, §3.4.1 balancing, §3.4.3
over-relaxation).
B. Wohlberg, "ADMM penalty parameter selection by residual balancing", arXiv:1704.06209 (relative
residuals).
M. Hong, Z.-Q. Luo, "On the linear convergence of the alternating direction method of multipliers",
arXiv:1208.3922 (dual step γ < 1).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numba
import numpy as np

from solvers._checks import check_int, check_positive
from solvers._xp import array_namespace, to_numpy
from solvers.convex_relu._validate import (
    check_beta,
    check_data,
    check_gamma,
    check_patterns,
    check_rho,
)
from solvers.convex_relu.cones import ConeProjector
from solvers.convex_relu.network import ReLUNetwork, _restore_groups, group_norms, recover
from solvers.convex_relu.operators import (
    DENSE_MAX,
    DenseFactor,
    WoodburyFactor,
    block_norm_max,
    dense_factor,
    lambda_max_H,
    woodbury_factor,
)
from solvers.convex_relu.patterns import Patterns

__all__ = ["ALPHA", "RHO_SCALE", "RHO_SCALE_CONE", "ADMMHistory", "ADMMResult", "admm", "default_rho",
           "iteration_flops", "record_flops", "slack_step"]

Status = Literal["converged", "max_iter", "stalled", "diverged"]

RHO_SCALE = 1.0 / 300.0  # ρ = RHO_SCALE·n·λ_max(H) (module docstring)
RHO_SCALE_CONE = 1.0  # cone splitting: ρ = RHO_SCALE_CONE·max_i ‖D_iX‖₂² (module docstring)
ALPHA = 1.8


@dataclass(frozen=True)
class ADMMHistory:
    """One entry per recorded iteration (every ``record_every`` iterations, and the last).

    ``objective`` is f(v) = ½‖Fv − y‖² + βΣ‖v_g‖ at the copy v (which may violate the cones by
    ``violation``); ``rel_gap`` = (f(v) − f*)/|f*| (None without ``f_star``); ``time`` is cumulative wall
    time in seconds including the setup; ``flops`` cumulative multiply-adds including the setup.
    ``restored_objective`` is f at v restored to exact feasibility
    (:func:`~solvers.convex_relu.network.restore_feasible`, least-norm then generator rule), so it is
    ≥ f*(𝒟); ``restored_gap`` = (restored_objective − f*)/|f*|, a certified suboptimality when f* is exact
    (None without ``f_star``).
    """

    iteration: np.ndarray
    objective: np.ndarray
    rel_gap: np.ndarray | None
    r_pri: np.ndarray
    r_dual: np.ndarray
    eps_pri: np.ndarray
    eps_dual: np.ndarray
    rho: np.ndarray
    violation: np.ndarray
    time: np.ndarray
    flops: np.ndarray
    restored_objective: np.ndarray | None = None
    restored_gap: np.ndarray | None = None

    def as_dict(self) -> dict[str, np.ndarray]:
        """The recorded columns (those available), for a tidy table."""
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True, eq=False)
class ADMMResult:
    """ADMM's answer (V, W) = the copy v, exactly group-sparse, with its history and an honest status.

    Attributes
    ----------
    V, W
        (P, d) weights (rows v_i, w_i).
    patterns
        The patterns 𝒟 of the program.
    beta
        The regularisation β.
    status
        ``"converged"`` (Boyd's tolerances, or ``target_gap`` reached), ``"max_iter"``, ``"stalled"``
        (no progress of max(r_pri/ε_pri, r_dual/ε_dual) over ``stall_window`` iterations) or
        ``"diverged"`` (a non-finite iterate, or a residual 10⁶ times above its minimum: the last
        recorded finite iterate is returned).
    message
        A sentence explaining the status, with the residuals.
    iterations
        Iterations done.
    objective
        f(v) of the returned weights.
    violation
        max(0, −min Gv) of the returned weights (:func:`~solvers.convex_relu.network.cone_violation`).
    rho
        The final ρ.
    setup_time, setup_flops
        Seconds and multiply-adds of the factorisation (0 when a factor was passed in).
    flops
        Multiply-adds of the whole run, setup included.
    history
        :class:`ADMMHistory`.
    restored_V, restored_W, restored_objective
        (V, W) restored to exact feasibility and its objective (≥ f*(𝒟)); see :meth:`restored`.
    """

    V: Any
    W: Any
    patterns: Patterns
    beta: float
    status: Status
    message: str
    iterations: int
    objective: float
    violation: float
    rho: float
    setup_time: float
    setup_flops: int
    flops: int
    history: ADMMHistory
    restored_V: Any = None
    restored_W: Any = None
    restored_objective: float = math.nan

    def restored(self) -> tuple[Any, Any]:
        """(V, W) restored to exact feasibility (:func:`~solvers.convex_relu.network.restore_feasible`).

        Its objective :attr:`restored_objective` is ≥ f*(𝒟): an honest upper bound, and
        (restored_objective − f*)/f* a certified gap.
        """
        return self.restored_V, self.restored_W

    @property
    def active_groups(self) -> int:
        """Number of nonzero groups v_i, w_i (= the width of the recovered network)."""
        xp = array_namespace(self.V)
        return int(xp.sum(group_norms(self.V) > 0)) + int(xp.sum(group_norms(self.W) > 0))

    def network(self, tol: float = 0.0) -> ReLUNetwork:
        """The recovered ReLU network (:func:`~solvers.convex_relu.network.recover`)."""
        return recover(self.V, self.W, tol)


def _default_rho(X: Any, masks: Any, splitting: str) -> float:
    if splitting == "cone":
        return RHO_SCALE_CONE * block_norm_max(X, masks)
    return RHO_SCALE * X.shape[0] * lambda_max_H(X, masks)


def default_rho(X: Any, patterns: Patterns, beta: float | None = None, splitting: str = "slack") -> float:
    r"""The default penalty: ρ = RHO_SCALE·n·λ_max(H) = (n/300)·λ_max(H) for the slack splitting,
    ρ = RHO_SCALE_CONE·max_i ‖D_iX‖₂² = max_i λ_max(XᵀD_iX) for the cone splitting (slack: power iteration,
    O(ndP) a step; cone: :func:`~solvers.convex_relu.operators.block_norm_max`, nd²P + Pd³).

    Measured in the module docstring (for the slack splitting the best c in ρ = c·λ_max(H) grows about
    linearly with n; for the cone splitting c = 1 gives 40–60 iterations on sampled patterns, n = 60 to 2000).

    ``beta`` is accepted for a uniform signature and not used: ρ has the units of H (squared features)
    and must not scale with β, which scales with y.
    """
    X, _ = check_data(X)
    if beta is not None:
        check_beta(beta)
    patterns = check_patterns(patterns, X.shape[0], X.shape[1])
    if splitting not in ("slack", "cone"):
        raise ValueError(f"splitting must be 'slack' or 'cone', got {splitting!r}")
    return _default_rho(X, patterns.masks, splitting)


def _check_factor(factor: Any, n: int, P: int) -> Any:
    if not isinstance(factor, WoodburyFactor | DenseFactor):
        raise TypeError(f"factor must be a WoodburyFactor or DenseFactor, got {type(factor).__name__}")
    if factor.n != n or factor.P != P:
        raise ValueError(f"factor must be built for n = {n} samples and P = {P} patterns, got n = {factor.n}, "
                         f"P = {factor.P}")
    return factor


@numba.njit(cache=True)
def _slack_kernel(XU: np.ndarray, S2: np.ndarray, z: np.ndarray, out: np.ndarray, alpha: float) -> None:
    """In place, one pass over (n, 2P): z ← α·S2∘XU + (1 − α)z⁺ + z⁻ and out ← S2∘|z| (module docstring)."""
    n, m = XU.shape
    for k in range(n):
        for j in range(m):
            zo = z[k, j]
            zn = alpha * (S2[k, j] * XU[k, j]) + (1.0 - alpha) * max(zo, 0.0) + min(zo, 0.0)
            z[k, j] = zn
            out[k, j] = S2[k, j] * abs(zn)


def _slack_step_xp(XU: Any, S2: Any, z: Any, out: Any, alpha: float) -> None:
    """:func:`slack_step` by element-wise ``xp`` operations (the CuPy path; tested on numpy against the kernel)."""
    xp = array_namespace(XU, z)
    zn = alpha * (S2 * XU) + (1.0 - alpha) * xp.maximum(z, 0.0) + xp.minimum(z, 0.0)
    z[...] = zn
    out[...] = S2 * xp.abs(zn)


def slack_step(XU: Any, S2: Any, z: Any, out: Any, alpha: float) -> None:
    r"""The slack and cone-dual step of over-relaxed ADMM in the one array z, in place.

    With Gu = S2 ∘ XU, the state z (s = z⁺, ν = z⁻) becomes z ← αGu + (1 − α)z⁺ + z⁻, and ``out`` ←
    S2 ∘ |z|, so that Gᵀ(s − ν) = outᵀX (s − ν = |z|). Equal bit for bit to s ← max(0, Ĝu + ν),
    ν ← ν + Ĝu − s with Ĝu = αGu + (1 − α)s (module docstring). A numba kernel on numpy arrays (C-contiguous
    float64, one pass), element-wise ``xp`` operations on CuPy arrays.

    Parameters
    ----------
    XU
        X uᵀ, (n, 2P).
    S2
        The signs [S, S], (n, 2P).
    z
        The state, (n, 2P); overwritten.
    out
        (n, 2P); overwritten with S2 ∘ |z_new|.
    alpha
        The relaxation α ∈ (0, 2).
    """
    if array_namespace(XU, z) is np:
        _slack_kernel(XU, S2, z, out, alpha)
    else:  # pragma: no cover - CuPy
        _slack_step_xp(XU, S2, z, out, alpha)


def iteration_flops(n: int, d: int, P: int, solve_flops: int, splitting: str = "slack") -> int:
    """Multiply-adds of one ADMM iteration given those of the u-step solve (CR8).

    Slack splitting: solve + 4ndP + 18nP + 27Pd + 10P. Cone splitting: solve + 23Pd, to which the run adds
    the cone projections' own count (data-dependent: ``ConeProjector.flops``). The 23Pd, one per element of
    each (P, d) or (2P, d) operation: q = v − λ (2Pd), q₁ + q₂ and q₁ − q₂ + 2Fᵀy/ρ (3Pd), u = ((p + m)/2,
    (p − m)/2) (4Pd), û = αu + (1 − α)v (6Pd), û + λ (2Pd), λ + γ(û − v) (6Pd).
    """
    if splitting == "cone":
        return solve_flops + 23 * P * d
    return solve_flops + 4 * n * d * P + 18 * n * P + 27 * P * d + 10 * P


def record_flops(n: int, d: int, P: int, splitting: str = "slack") -> int:
    """Multiply-adds a recorded iteration adds (residuals, objective, violation, restoration; CR8).

    Slack splitting: 10ndP + 58nP + 46Pd + 12P + 6n + 2P(r³ + r²d + 2r² + 2rd + 5r), r = min(d, n) (module
    docstring). The cone splitting forms neither Gᵀ(s − s_prev) nor Gᵀν: 4ndP less (its count keeps the
    slack formula's nP terms, an upper count, since it skips part of that element-wise work).
    """
    r = min(d, n)
    total = (10 * n * d * P + 58 * n * P + 46 * P * d + 12 * P + 6 * n
             + 2 * P * (r ** 3 + r * r * d + 2 * r * r + 2 * r * d + 5 * r))
    return total - (4 * n * d * P if splitting == "cone" else 0)


def admm(X: Any, y: Any, patterns: Patterns, beta: float, *, rho: float | None = None,
         rho_rule: Literal["fixed", "balance", "balance_rel"] = "fixed", gamma: float = 1.0, max_iter: int = 5000,
         abstol: float = 1e-7, reltol: float = 1e-6, u_step: Literal["auto", "woodbury", "dense"] = "auto",
         factor: WoodburyFactor | DenseFactor | None = None, f_star: float | None = None, record_every: int = 1,
         callback: Callable[[int, Any, Any], Any] | None = None, stall_window: int | None = 1000,
         target_gap: float | None = None, target_violation: float = 1e-5, loss: str = "squared",
         alpha: float = ALPHA, target: Literal["restored", "violation"] = "restored",
         splitting: Literal["slack", "cone"] = "slack") -> ADMMResult:
    r"""Solve C(𝒟) with squared loss by over-relaxed ADMM (the paper's Algorithm 3.1, Boyd §3.4.3).

    min over v_i, w_i ∈ K_i of ½‖Σ_i D_iX(v_i − w_i) − y‖² + β Σ_i (‖v_i‖₂ + ‖w_i‖₂).

    Parameters
    ----------
    X, y
        (n, d) data with the bias column, (n,) targets. CuPy arrays keep every iterate on the device.
    patterns
        The P patterns 𝒟 (:func:`~solvers.convex_relu.patterns.sample_patterns`, ...).
    beta
        β > 0.
    rho
        Penalty ρ > 0; None: :func:`default_rho`.
    rho_rule
        ``"fixed"``; ``"balance"``: residual balancing (Boyd §3.4.1), checked at every recorded
        iteration; ``"balance_rel"``: the same on the relative residuals r_pri/max(‖(u, Gu)‖, ‖(v, s)‖)
        and r_dual/(ρ‖λ + Gᵀν‖) (Wohlberg 2017), which does not depend on the scale of the two
        constraint blocks.
    gamma
        Dual step γ ∈ (0, 1]. γ = 1 keeps the slack and its dual in one array z (module docstring); γ < 1
        keeps s and ν (the same operation count is reported).
    max_iter
        Iteration cap (≥ 1).
    abstol, reltol
        Boyd's tolerances (≥ 0).
    u_step
        ``"dense"`` (the reduced dP × dP system, inverted once per ρ; dP ≤ 4000), ``"woodbury"`` ((ρI + H)⁻¹
        by Cholesky per ρ, cached), or ``"auto"``: dense when dP < n, else Woodbury.
    factor
        A precomputed :class:`~.operators.WoodburyFactor` or :class:`~.operators.DenseFactor` to reuse
        (overrides ``u_step``); its setup is then not counted.
    f_star
        The optimum f*(𝒟), when known: the history records the relative gaps.
    record_every
        Record history, test stopping, divergence and balancing every this many iterations (one host
        transfer of a few scalars each time). A recorded iteration also restores feasibility
        (:func:`~solvers.convex_relu.network.restore_feasible`) to report a certified objective.
    callback
        Called as ``callback(iteration, V, W)`` at every recorded iteration; its result is ignored.
    stall_window
        Iterations without a 1 % improvement of max(r_pri/ε_pri, r_dual/ε_dual) before ``"stalled"``
        (None: never).
    target_gap
        With ``f_star``: also stop as converged once the gap reaches it (see ``target``).
    target_violation
        The violation bound of ``target="violation"``.
    loss
        Must be ``"squared"`` (the u-step is closed-form only there); use ``cvx.solve`` for the hinge.
    alpha
        Over-relaxation α ∈ (0, 2) (α = 1: plain ADMM): û = αu + (1 − α)v and Ĝu = αGu + (1 − α)s replace
        u and Gu in the v-, s-, λ- and ν-steps.
    splitting
        ``"slack"``: the paper's Algorithm 3.1 (cones split off into the slack s); ``"cone"``: the cones kept
        in the v-step, which projects exactly onto them (module docstring: every iterate feasible, 40–60
        iterations to a 1e-4 gap on sampled patterns where the slack splitting needs hundreds to
        thousands). The default ρ differs (:func:`default_rho`).
    target
        ``"restored"``: stop when the restored gap (f(restored) − f*)/|f*| ≤ ``target_gap`` (a certified
        suboptimality of the restored point when f* is exact); ``"violation"``: when |f(v) − f*|/|f*| ≤
        ``target_gap`` with violation ≤ ``target_violation`` (the spec's CR7 test).

    Returns
    -------
    ADMMResult

    References
    ----------
    Bai, Gautam, Sojoudi, SIMODS 2023, Algorithm 3.1; Boyd et al. 2011, §3.3.1, §3.4.1 and §3.4.3.
    """
    if loss != "squared":
        raise ValueError(f"loss must be 'squared' for ADMM (closed-form u-step), got {loss!r}; use "
                         "solvers.convex_relu.cvx.solve for the hinge loss")
    X, y = check_data(X, y, loss)
    n, d = X.shape
    patterns = check_patterns(patterns, n, d)
    beta = check_beta(beta)
    if rho is not None:
        rho = check_rho(rho)
    if rho_rule not in ("fixed", "balance", "balance_rel"):
        raise ValueError(f"rho_rule must be 'fixed', 'balance' or 'balance_rel', got {rho_rule!r}")
    gamma = check_gamma(gamma)
    alpha = check_positive("alpha", alpha)
    if not alpha < 2.0:
        raise ValueError(f"alpha must lie in (0, 2), got {alpha!r}")
    max_iter = check_int("max_iter", max_iter, 1)
    abstol = check_positive("abstol", abstol, allow_zero=True)
    reltol = check_positive("reltol", reltol, allow_zero=True)
    if u_step not in ("auto", "woodbury", "dense"):
        raise ValueError(f"u_step must be 'auto', 'woodbury' or 'dense', got {u_step!r}")
    if target not in ("restored", "violation"):
        raise ValueError(f"target must be 'restored' or 'violation', got {target!r}")
    if splitting not in ("slack", "cone"):
        raise ValueError(f"splitting must be 'slack' or 'cone', got {splitting!r}")
    cone = splitting == "cone"
    P = patterns.P
    if factor is not None:
        factor = _check_factor(factor, n, P)
        if factor.cone_block == cone:
            raise ValueError(f"factor was built with cone_block={factor.cone_block}, but splitting={splitting!r} "
                             f"needs cone_block={not cone}")
    elif u_step == "dense" and d * P > DENSE_MAX:
        raise ValueError(f"u_step='dense' needs dP <= {DENSE_MAX}, got dP = {d * P}")
    if f_star is not None:
        f_star = check_positive("f_star", f_star)
    record_every = check_int("record_every", record_every, 1)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable, got {type(callback).__name__}")
    if stall_window is not None:
        stall_window = check_int("stall_window", stall_window, 1)
    if target_gap is not None:
        if f_star is None:
            raise ValueError("target_gap needs f_star")
        target_gap = check_positive("target_gap", target_gap)
    target_violation = check_positive("target_violation", target_violation, allow_zero=True)

    xp = array_namespace(X, y, patterns.masks)
    t0 = time.perf_counter()
    masks = xp.asarray(patterns.masks)
    if rho is None:
        rho = _default_rho(X, masks, splitting)
    setup_flops = 0
    if factor is None:
        dense = u_step == "dense" or (u_step == "auto" and d * P < n and d * P <= DENSE_MAX)
        factor = (dense_factor(X, masks, rho, cone_block=not cone) if dense
                  else woodbury_factor(X, masks, method="cholesky", rho=rho, cone_block=not cone))
        setup_flops = factor.setup_flops
    base_factor_flops = factor.factor_flops
    S = 2.0 * masks - 1.0
    S2T = xp.ascontiguousarray(xp.concatenate([S, S], axis=1).T)  # (2P, n): the group-major layout of the restoration
    S2 = None if cone else xp.ascontiguousarray(S2T.T)  # (n, 2P): the slack splitting's signs
    Hg = xp.asarray(patterns.generators).T  # (P, d): the restoration's generators
    ghT = S2T[:P] * (Hg @ X.T)
    Hg2, ghT2 = xp.concatenate([Hg, Hg], axis=0), xp.concatenate([ghT, ghT], axis=0)
    projector = ConeProjector(X, S) if cone else None
    setup_time = time.perf_counter() - t0

    Fty = (masks * y[:, None]).T @ X  # (P, d): Fᵀy = (Fty, −Fty), so (Fᵀy/ρ)₁ − (Fᵀy/ρ)₂ = 2Fty/ρ
    fty2 = (2.0 / rho) * Fty
    v = xp.zeros((2 * P, d))
    lam = xp.zeros_like(v)
    z = xp.zeros((n, 2 * P)) if not cone else None  # γ = 1: s = z⁺, ν = z⁻
    s = nu = None
    if gamma != 1.0 and not cone:
        s, nu = xp.zeros_like(z), xp.zeros_like(z)
    w_abs = None if cone else xp.zeros_like(z)  # S2 ∘ (s − ν)
    gt_s_nu = xp.zeros_like(v)  # Gᵀ(s − ν); stays 0 under the cone splitting, which never adds it
    sqrt_p, sqrt_x = math.sqrt(2 * P * (d if cone else d + n)), math.sqrt(2 * P * d)
    it_flops = iteration_flops(n, d, P, factor.flops_per_solve, splitting)
    rec_flops = record_flops(n, d, P, splitting)
    flops = setup_flops + n * d * P + n * P  # + the generators' margins gh
    thresh = beta / rho

    keys = ("iteration", "objective", "rel_gap", "r_pri", "r_dual", "eps_pri", "eps_dual", "rho", "violation", "time",
            "flops", "restored_objective", "restored_gap")
    rec: dict[str, list] = {k: [] for k in keys}
    status: Status = "max_iter"
    message = ""
    best_v, best_obj, best_viol = v, 0.5 * float(xp.dot(y, y)), 0.0
    best_r, best_robj = v, best_obj
    min_rp = min_rd = math.inf
    best_merit, best_at = math.inf, 0
    k = 0
    for k in range(1, max_iter + 1):
        record = k % record_every == 0 or k == max_iter
        if record:
            v_prev = v
            s_prev = None if cone else xp.maximum(z, 0.0) if s is None else s
        q = v - lam if cone else v - lam + gt_s_nu
        p, m = factor.solve_split(q[:P] + q[P:], q[:P] - q[P:] + fty2, rho)
        u = xp.concatenate([0.5 * (p + m), 0.5 * (p - m)], axis=0)
        if cone:  # v = prox of (β/ρ)‖·‖ + 𝟙_K at û + λ: the group shrink of the exact cone projection
            uh = alpha * u + (1.0 - alpha) * v
            flops0 = projector.flops
            v = projector.prox(uh + lam, thresh)
            lam = lam + gamma * (uh - v)
            flops += it_flops + projector.flops - flops0
            if not record:
                continue
        else:
            XU = X @ u.T
            uh = alpha * u + (1.0 - alpha) * v
            a = uh + lam
            nrm = xp.sqrt(xp.sum(a * a, axis=1))
            v = xp.maximum(0.0, 1.0 - thresh / xp.maximum(nrm, 1e-300))[:, None] * a
            if s is None:
                lam = a - v
                slack_step(XU, S2, z, w_abs, alpha)
            else:
                lam = lam + gamma * (uh - v)
                Guh = alpha * (S2 * XU) + (1.0 - alpha) * s
                s = xp.maximum(0.0, Guh + nu)
                nu = nu + gamma * (Guh - s)
                w_abs = S2 * (s - nu)
            gt_s_nu = w_abs.T @ X
            flops += it_flops
            if not record:
                continue
        # one host transfer of every scalar this record needs
        if cone:  # constraint u = v only: A = I, B = −I
            zero = xp.zeros(())
            s_now = Gu = gtnu = zero
            ddual = v - v_prev
        else:
            s_now, nu_now = (xp.maximum(z, 0.0), xp.minimum(z, 0.0)) if s is None else (s, nu)
            Gu = S2 * XU
            gts = (S2 * (s_now - s_prev)).T @ X
            gtnu = (S2 * nu_now).T @ X
            ddual = v - v_prev + gts
        r = xp.sum(masks * (X @ (v[:P] - v[P:]).T), axis=1) - y
        gv = S2T * (v @ X.T)
        vr = _restore_groups(X, S2T, v, gv, Hg2, ghT2, 0.0, True)
        rr = xp.sum(masks * (X @ (vr[:P] - vr[P:]).T), axis=1) - y
        du, dg = u - v, Gu - s_now
        scal = xp.stack([xp.sum(du * du) + xp.sum(dg * dg), xp.sum(ddual * ddual),
                         xp.sum(u * u) + xp.sum(Gu * Gu), xp.sum(v * v) + xp.sum(s_now * s_now),
                         xp.sum((lam + gtnu) ** 2), 0.5 * xp.dot(r, r) + beta * xp.sum(group_norms(v)),
                         xp.maximum(0.0, -xp.min(gv)), 0.5 * xp.dot(rr, rr) + beta * xp.sum(group_norms(vr))])
        flops += rec_flops
        rp2, rd2, nu2, nv2, ny2, obj, viol, robj = (float(t) for t in to_numpy(scal))
        r_pri, r_dual = math.sqrt(max(rp2, 0.0)), rho * math.sqrt(max(rd2, 0.0))
        eps_pri = sqrt_p * abstol + reltol * math.sqrt(max(nu2, nv2))
        eps_dual = sqrt_x * abstol + reltol * rho * math.sqrt(ny2)
        if not all(math.isfinite(t) for t in (r_pri, r_dual, obj, viol, robj)):
            status = "diverged"
            message = (f"a non-finite iterate at iteration {k} (r_pri = {r_pri:.3g}, r_dual = {r_dual:.3g}); "
                       "the last recorded finite iterate is returned")
            break
        # minima over positive residuals: growth from an exact 0 (a first step that leaves v = 0) is no divergence
        min_rp = min(min_rp, r_pri) if r_pri > 0 else min_rp
        min_rd = min(min_rd, r_dual) if r_dual > 0 else min_rd
        best_v, best_obj, best_viol, best_r, best_robj = v, obj, viol, vr, robj
        gap = (obj - f_star) / abs(f_star) if f_star is not None else math.nan
        rgap = (robj - f_star) / abs(f_star) if f_star is not None else math.nan
        for key, val in (("iteration", k), ("objective", obj), ("rel_gap", gap), ("r_pri", r_pri),
                         ("r_dual", r_dual), ("eps_pri", eps_pri), ("eps_dual", eps_dual), ("rho", rho),
                         ("violation", viol), ("time", time.perf_counter() - t0),
                         ("flops", flops + factor.factor_flops - base_factor_flops), ("restored_objective", robj),
                         ("restored_gap", rgap)):
            rec[key].append(val)
        if callback is not None:
            callback(k, v[:P], v[P:])
        if r_pri <= eps_pri and r_dual <= eps_dual:
            status = "converged"
            message = (f"Boyd's tolerances met at iteration {k}: r_pri = {r_pri:.3g} ≤ {eps_pri:.3g}, "
                       f"r_dual = {r_dual:.3g} ≤ {eps_dual:.3g}")
            break
        if target_gap is not None and target == "restored" and rgap <= target_gap:
            status = "converged"
            message = (f"restored (feasible) gap {rgap:.3g} ≤ {target_gap:g} at iteration {k} (violation of v "
                       f"{viol:.3g})")
            break
        if target_gap is not None and target == "violation" and abs(gap) <= target_gap and viol <= target_violation:
            status = "converged"
            message = f"relative gap {abs(gap):.3g} ≤ {target_gap:g} with violation {viol:.3g} at iteration {k}"
            break
        if r_pri > 1e6 * max(min_rp, eps_pri) or r_dual > 1e6 * max(min_rd, eps_dual):
            status = "diverged"
            message = (f"residuals grew 10⁶-fold over their minimum by iteration {k}: r_pri = {r_pri:.3g} "
                       f"(min {min_rp:.3g}), r_dual = {r_dual:.3g} (min {min_rd:.3g})")
            break
        merit = max(r_pri / max(eps_pri, 1e-300), r_dual / max(eps_dual, 1e-300))
        if merit < 0.99 * best_merit:
            best_merit, best_at = merit, k
        elif stall_window is not None and k - best_at >= stall_window:
            status = "stalled"
            message = (f"no 1 % progress of the residuals over {stall_window} iterations (iteration {k}): "
                       f"r_pri = {r_pri:.3g} (ε_pri {eps_pri:.3g}), r_dual = {r_dual:.3g} (ε_dual {eps_dual:.3g})")
            break
        if rho_rule == "balance":
            a_pri, a_dual = r_pri, r_dual
        elif rho_rule == "balance_rel":
            a_pri = r_pri / max(math.sqrt(max(nu2, nv2)), 1e-300)
            a_dual = r_dual / max(rho * math.sqrt(ny2), 1e-300)
        if rho_rule != "fixed" and (a_pri > 10.0 * a_dual or a_dual > 10.0 * a_pri):
            scale = 2.0 if a_pri > a_dual else 0.5
            rho *= scale
            lam = lam / scale  # scaled duals y/ρ
            if cone:
                pass
            elif s is None:
                z = xp.maximum(z, 0.0) + xp.minimum(z, 0.0) / scale
                w_abs = S2 * xp.abs(z)
            else:
                nu = nu / scale
                w_abs = S2 * (s - nu)
            if not cone:
                gt_s_nu = w_abs.T @ X
            thresh = beta / rho
            fty2 = (2.0 / rho) * Fty
            best_merit, best_at = math.inf, k  # a new ρ restarts the stall clock
    if status == "max_iter":
        rp, rd = rec["r_pri"][-1], rec["r_dual"][-1]
        message = (f"max_iter = {max_iter} iterations done: r_pri = {rp:.3g} (ε_pri {rec['eps_pri'][-1]:.3g}), "
                   f"r_dual = {rd:.3g} (ε_dual {rec['eps_dual'][-1]:.3g})")
    total = flops + factor.factor_flops - base_factor_flops
    with_f = f_star is not None
    hist = ADMMHistory(**{key: np.asarray(val, dtype=np.int64 if key in ("iteration", "flops") else float)
                          for key, val in rec.items() if key not in ("rel_gap", "restored_gap")},
                       rel_gap=np.asarray(rec["rel_gap"], dtype=float) if with_f else None,
                       restored_gap=np.asarray(rec["restored_gap"], dtype=float) if with_f else None)
    return ADMMResult(V=best_v[:P], W=best_v[P:], patterns=patterns, beta=beta, status=status, message=message,
                      iterations=k, objective=best_obj, violation=best_viol, rho=rho, setup_time=setup_time,
                      setup_flops=int(setup_flops), flops=int(total), history=hist, restored_V=best_r[:P],
                      restored_W=best_r[P:], restored_objective=best_robj)
