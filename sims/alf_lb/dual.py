r"""The deterministic primal-dual method on one fixed batch: bias dynamics, dual gap and the claims 1-6.

One batch of scores s ∈ R^{n×E}, K experts per token, capacity C = Kn/E. Starting from b_1 = 0, every
iteration routes the batch with the current bias (biased top-K = the best response x(p_t), p = −b),
counts the loads and updates the bias with the *same* batch:

- sign rule (constant u):               b_{t+1} = b_t + u·sign(g_t),
- gradient rule (constant η, counts):   b_{t+1} = b_t + η·g_t,        g_t = C·1 − load_t ∈ ∂D(p_t),

i.e. the dual (sub)gradient method p_{t+1} = p_t − u·sign(g_t) or p_t − ηg_t on the LP dual

    D(p) = Σ_j topKsum(s_j − p) + C·Σ_i p_i = Σ_j topKsum(s_j + b) − C·Σ_i b_i.

Each iteration records D(p_t) (summed with Kahan compensation from the routing's own biased scores),
the dual gap D(p_t) − OPT (OPT from :func:`solvers.alf_lb.solve_assignment_lp`, once per batch), the
claim-4 sandwich of the step δ = p_{t+1} − p_t,

    lower = ⟨δ, g_t⟩ ≤ ΔD = D(p_{t+1}) − D(p_t) ≤ ⟨δ, g_{t+1}⟩ = upper,

the claim-5 preference moves (token j gains expert k and loses expert i between t and t+1; a
violation is σ_k < σ_i, σ = sign g_t, for the sign rule and load_k > load_i for the gradient rule,
a *tie* is equality, which exact arithmetic excludes), MaxVio, the claim-6(a) telescoping identity
and the claim-6(b) running average of the dual gap against its bound.

**Exact cycles of the sign rule.** The sign rule's state is the integer lattice vector k_t with
b_t = u·k_t (:func:`solvers.alf_lb.bias_step`). Routing is invariant to b ↦ b + c·1, and the mean
of k may drift by a fixed integer per period (Σ_i sign g_i ≠ 0 in general), so the kernel routes
with the shift-normalised bias u·(k_t − min_i k_t): the computed trajectory is then an exact function
of the centred lattice state c_t = k_t − min k_t, and the first repeat c_{t₂} = c_{t₁} proves exact
periodicity (transient t₁ − 1, period t₂ − t₁). D is shift-invariant (E·C = K·n), so the dual values
are those of the raw bias.

The kernel (numba) loops over iterations and tokens in compiled code; routing uses the library's
:func:`solvers.alf_lb.topk_insert` (stable order by (−value, index)) and the update is the library's
:func:`solvers.alf_lb.bias_step`.

References
----------
X.Y. Han, Y. Zhong, "A Theoretical Framework for Auxiliary-Loss-Free Load Balancing of Sparse
Mixture-of-Experts in Large-Scale AI Models", arXiv 2512.03915 (the primal-dual reading; claims 4-6 are
reconstructed in :mod:`theory.alf_lb`). L. Wang et al., arXiv 2408.15664, Algorithm 1 (the sign rule).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any, Literal

import numba
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment, linprog

from sims.alf_lb.metrics import maxvio
from sims.alf_lb.streams import popularity, popularity_scores
from sims.runner import register_experiment
from solvers._checks import check_int
from solvers.alf_lb import (
    AssignmentLP,
    bias_step,
    constant,
    dual_value,
    gradient_rule,
    route,
    sign_rule,
    solve_assignment_lp,
    topk_insert,
)
from solvers.alf_lb.bias import SIGN
from theory import alf_lb as th

__all__ = [
    "Cycle",
    "FixedBatchRun",
    "brute_force_opt",
    "constant_step_gap",
    "detect_cycle",
    "dual_alignment",
    "fixed_batch_experiment",
    "lagrangian_lp_value",
    "lp_duality_experiment",
    "lsa_opt",
    "run_fixed_batch",
    "sandwich_terms",
    "sign_cycle_experiment",
    "telescoping",
]

Rule = Literal["sign", "gradient"]
EPS = float(np.finfo(float).eps)
#: Rounding tolerance of a dual value: this many machine epsilons of Σ_j Σ_{i∈S_j}|s_ji + b_i| + C·Σ_i|b_i|.
D_ROUNDING = 16.0


@numba.njit(cache=True, inline="always")
def _holds(experts, e):
    """Whether the token's chosen set ``experts`` (K entries) contains expert ``e``."""
    for r in range(experts.shape[0]):
        if experts[r] == e:
            return True
    return False


@numba.njit(cache=True)
def _pref_key(kind, sign_kind, C, load):
    """What may only increase from a leaving to an entering expert: σ = sign(C − load), or C − load."""
    d = C - load
    if kind == sign_kind:
        return 1 if d > 0 else (-1 if d < 0 else 0)
    return d


@numba.njit(cache=True)
def _state_hash(steps):
    """FNV-style hash of the centred lattice state k − min k."""
    mn = steps[0]
    for i in range(steps.shape[0]):
        if steps[i] < mn:
            mn = steps[i]
    h = np.int64(1469598103934665603)
    for i in range(steps.shape[0]):
        h = (h ^ (steps[i] - mn)) * np.int64(1099511628211)
    return h


@numba.njit(cache=True)
def _fixed_batch_kernel(scores, K, C, iters, stop_on_cycle, sign_kind, kind, u, sched_kind, eta0, units,
                        center, freeze_after, radius, anchor, loads, dual, scale, state_bias, route_bias,
                        steps_out, pref_viol, pref_ties, pref_moves, changed, pref_ratio):
    """Route, record and update for t = 0..iters (iters + 1 routings); returns the number of routings.

    With ``stop_on_cycle`` (sign rule), stops at the first exact repeat of the centred lattice state.
    """
    n, E = scores.shape
    vals = np.empty(K, dtype=np.float64)
    idx = np.empty(K, dtype=np.int64)
    prev = np.empty((n, K), dtype=np.int64)
    cur = np.empty((n, K), dtype=np.int64)
    steps = np.zeros(E, dtype=np.int64)
    bias = np.zeros(E, dtype=np.float64)
    rb = np.zeros(E, dtype=np.float64)
    counts = np.zeros(E, dtype=np.int64)
    seen = dict()
    for t in range(iters + 1):
        if kind == sign_kind:
            mn = steps[0]
            for i in range(E):
                if steps[i] < mn:
                    mn = steps[i]
            for i in range(E):
                rb[i] = u * (steps[i] - mn)
        else:
            for i in range(E):
                rb[i] = bias[i]
        for i in range(E):
            route_bias[t, i] = rb[i]
            state_bias[t, i] = bias[i]
            steps_out[t, i] = steps[i]
            counts[i] = 0
        total = 0.0
        comp = 0.0
        absum = 0.0
        for j in range(n):
            c = 0
            for i in range(E):
                c = topk_insert(vals, idx, c, K, scores[j, i] + rb[i], i)
            for r in range(K):
                e = idx[r]
                cur[j, r] = e
                counts[e] += 1
                y = vals[r] - comp
                tt = total + y
                comp = (tt - total) - y
                total = tt
                absum += abs(vals[r])
        bsum = 0.0
        babs = 0.0
        for i in range(E):
            bsum += rb[i]
            babs += abs(rb[i])
            loads[t, i] = counts[i]
        dual[t] = total - C * bsum
        scale[t] = absum + C * babs
        if t > 0:
            viol = 0
            ties = 0
            moves = 0
            ch = 0
            worst = 0.0
            for j in range(n):
                moved = False
                for a in range(K):
                    k = cur[j, a]
                    if _holds(prev[j], k):
                        continue
                    moved = True
                    key_k = _pref_key(kind, sign_kind, C, loads[t - 1, k])
                    for b2 in range(K):
                        i = prev[j, b2]
                        if _holds(cur[j], i):
                            continue
                        moves += 1
                        worst = max(worst, loads[t - 1, k] / loads[t - 1, i])
                        key_i = _pref_key(kind, sign_kind, C, loads[t - 1, i])
                        if key_k < key_i:
                            viol += 1
                        elif key_k == key_i:
                            ties += 1
                if moved:
                    ch += 1
            pref_viol[t - 1] = viol
            pref_ties[t - 1] = ties
            pref_moves[t - 1] = moves
            changed[t - 1] = ch
            pref_ratio[t - 1] = worst
        for j in range(n):
            for r in range(K):
                prev[j, r] = cur[j, r]
        if stop_on_cycle and kind == sign_kind:
            h = _state_hash(steps)
            if h in seen:
                t1 = seen[h]
                mn1 = steps_out[t1, 0]
                mn = steps[0]
                for i in range(E):
                    mn1 = min(mn1, steps_out[t1, i])
                    mn = min(mn, steps[i])
                same = True
                for i in range(E):
                    if steps_out[t1, i] - mn1 != steps[i] - mn:
                        same = False
                if same:
                    return t + 1
            else:
                seen[h] = t
        if t < iters:
            bias_step(kind, u, sched_kind, eta0, units, center, freeze_after, radius, anchor, t + 1, counts,
                      n, K, steps, bias)
    return iters + 1


@dataclass(frozen=True)
class FixedBatchRun:
    """The primal-dual trajectory on one fixed batch; index t = 0..T is iteration t + 1 of the text.

    Attributes
    ----------
    rule
        ``"sign"`` or ``"gradient"`` (constant step, count units).
    step
        u (sign) or η (gradient).
    K, capacity
        Experts per token and C = Kn/E.
    opt
        OPT of the assignment LP (None-free: NaN when the LP was not solved).
    lp_bias
        b* = −p*, the LP's capacity duals as a bias (NaN when the LP was not solved).
    loads
        (T+1, E) int64 loads under b_t.
    dual
        (T+1,) D(p_t), p_t = −b_t.
    dual_scale
        (T+1,) Σ_j Σ_{i∈S_j}|s_ji + b_i| + C·Σ|b_i|, the magnitude that sets the rounding of D.
    bias
        (T+1, E) the rule's state b_t (the sign rule's b_t = u·k_t).
    route_bias
        (T+1, E) the bias actually added to the scores (u·(k_t − min k_t) for the sign rule, b_t else).
    steps
        (T+1, E) int64 lattice coordinates k_t of the sign rule (zeros for the gradient rule).
    pref_violations, pref_ties, pref_moves, changed_tokens
        (T,) per step t → t+1: preference violations, ties, (token, entering, leaving) moves and tokens
        whose chosen set changed.
    pref_load_ratio
        (T,) max over the step's moves of load_k/load_i (entering over leaving expert, loads at t; 0 when
        nothing moved). Claim 5 in load form: ≤ 1 (< 1 in exact arithmetic) for both rules; for the sign
        rule load_k ≤ load_i implies σ_k ≥ σ_i, since σ = sign(C − load) is monotone.
    """

    rule: str
    step: float
    K: int
    capacity: int
    opt: float
    lp_bias: np.ndarray
    loads: np.ndarray
    dual: np.ndarray
    dual_scale: np.ndarray
    bias: np.ndarray
    route_bias: np.ndarray
    steps: np.ndarray
    pref_violations: np.ndarray
    pref_ties: np.ndarray
    pref_moves: np.ndarray
    changed_tokens: np.ndarray
    pref_load_ratio: np.ndarray

    @property
    def iters(self) -> int:
        """T, the number of updates (the trajectory has T + 1 points)."""
        return int(self.loads.shape[0] - 1)

    @property
    def subgradient(self) -> np.ndarray:
        """(T+1, E) g_t = C·1 − load_t ∈ ∂D(p_t) (float)."""
        return (self.capacity - self.loads).astype(float)

    @property
    def dual_gap(self) -> np.ndarray:
        """(T+1,) D(p_t) − OPT ≥ 0."""
        return self.dual - self.opt

    @property
    def maxvio(self) -> np.ndarray:
        """(T+1,) MaxVio of each iteration's loads."""
        return maxvio(self.loads, self.K)


def run_fixed_batch(scores: np.ndarray, K: int, *, rule: Rule = "sign", u: float = 1e-2, eta: float = 1e-4,
                    iters: int = 2000, lp: AssignmentLP | None = None, solve_lp: bool = True,
                    stop_on_cycle: bool = False) -> FixedBatchRun:
    r"""Run the deterministic primal-dual method (sign or constant-η gradient bias rule) on one batch.

    Parameters
    ----------
    scores
        (n, E) finite scores; K·n/E must be an integer.
    K
        Experts per token, 1 ≤ K ≤ E.
    rule
        ``"sign"``: b ← b + u·sign(C·1 − load) (Wang et al., Algorithm 1); ``"gradient"``:
        b ← b + η(C·1 − load) (count units).
    u, eta
        The step of the chosen rule, > 0 (the other is ignored).
    iters
        T ≥ 1 updates; the batch is routed T + 1 times (b_1 = 0, ..., b_{T+1}).
    lp
        The batch's LP solution if already known; otherwise it is solved when ``solve_lp``.
    solve_lp
        Solve the assignment LP for OPT and b* (False: ``opt`` and ``lp_bias`` are NaN).
    stop_on_cycle
        Sign rule only: stop at the first exact repeat of the centred lattice state (the trajectory
        then ends with the repeated state).

    Returns
    -------
    FixedBatchRun

    Notes
    -----
    p_t = −b_t and g_t = C·1 − load_t ∈ ∂D(p_t), so the sign step is p_{t+1} = p_t − u·sign g_t and the
    gradient step p_{t+1} = p_t − ηg_t: the dual subgradient method (Han & Zhong 2025).
    """
    scores = np.asarray(scores)
    if scores.ndim != 2 or scores.shape[0] < 1 or scores.shape[1] < 1:
        raise ValueError(f"scores must be a non-empty 2-D (tokens x experts) array, got shape {scores.shape}")
    if scores.dtype.kind not in "fiu":
        raise TypeError(f"scores must be real, got dtype {scores.dtype}")
    scores = np.ascontiguousarray(scores, dtype=np.float64)
    if not np.all(np.isfinite(scores)):
        raise ValueError("scores must be finite, got non-finite entries")
    n, E = scores.shape
    if isinstance(K, bool) or not isinstance(K, int | np.integer) or not 1 <= K <= E:
        raise ValueError(f"K must be an integer with 1 <= K <= E = {E}, got {K!r}")
    K = int(K)
    if (K * n) % E:
        raise ValueError(f"scores: the capacity K·n/E = {K}·{n}/{E} must be an integer")
    C = K * n // E
    iters = check_int("iters", iters, 1)
    if rule == "sign":
        brule, step = sign_rule(E, u), float(u)
    elif rule == "gradient":
        brule, step = gradient_rule(E, constant(eta), units="count"), float(eta)
    else:
        raise ValueError(f"rule must be 'sign' or 'gradient', got {rule!r}")
    if lp is None and solve_lp:
        lp = solve_assignment_lp(scores, K)
    opt = math.nan if lp is None else lp.value
    lp_bias = np.full(E, math.nan) if lp is None else lp.bias
    T1 = iters + 1
    loads = np.empty((T1, E), dtype=np.int64)
    dual, scale = np.empty(T1), np.empty(T1)
    state_bias, route_bias = np.empty((T1, E)), np.empty((T1, E))
    steps = np.empty((T1, E), dtype=np.int64)
    pref = [*(np.zeros(iters, dtype=np.int64) for _ in range(4)), np.zeros(iters)]
    m = _fixed_batch_kernel(scores, K, C, iters, bool(stop_on_cycle), SIGN, brule.kind, brule.u,
                            brule.schedule.kind, brule.schedule.eta0, brule.units, brule.center,
                            brule.freeze_after, brule.radius, brule.anchor, loads, dual, scale, state_bias,
                            route_bias, steps, *pref)
    return FixedBatchRun(rule, step, K, C, opt, lp_bias, loads[:m], dual[:m], scale[:m], state_bias[:m],
                         route_bias[:m], steps[:m], *(p[:m - 1] for p in pref))


def sandwich_terms(run: FixedBatchRun) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""Claim 4 per step: (lower, ΔD, upper, rounding tolerance), each of shape (T,).

    δ_t = p_{t+1} − p_t = −(b'_{t+1} − b'_t) with b' the routed bias (it differs from the rule's
    δ = −u·sign g_t or −ηg_t by a multiple of 1 at most, which leaves ⟨δ, g⟩ unchanged since Σg = 0),
    lower = ⟨δ_t, g_t⟩, upper = ⟨δ_t, g_{t+1}⟩ (:func:`theory.alf_lb.sandwich`), ΔD = D(p_{t+1}) − D(p_t).
    The tolerance bounds the rounding of the two dual values and the two inner products:
    16·eps·(scale_t + scale_{t+1}) + 4·eps·Σ_i|δ_i|(|g_t,i| + |g_{t+1},i|).
    """
    g = run.subgradient
    delta = -np.diff(run.route_bias, axis=0)
    lower, upper = th.sandwich(delta, g[:-1], g[1:])
    lower, upper = np.atleast_1d(lower), np.atleast_1d(upper)
    dD = np.diff(run.dual)
    tol = (D_ROUNDING * EPS * (run.dual_scale[:-1] + run.dual_scale[1:])
           + 4.0 * EPS * np.sum(np.abs(delta) * (np.abs(g[:-1]) + np.abs(g[1:])), axis=1))
    return lower, dD, upper, tol


def telescoping(run: FixedBatchRun) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Claim 6(a) at every horizon T' = 1..T: (lhs, rhs, rounding bound), each of shape (T, E).

    - gradient: lhs = (1/T')Σ_{t≤T'}(C·1 − load_t), rhs = (b_{T'+1} − b_1)/(ηT');
    - sign:     lhs = (1/T')Σ_{t≤T'} sign g_t,        rhs = (b_{T'+1} − b_1)/(uT').

    The bound is a first-order rounding bound of the identity: the gradient rule accumulates
    b_{t+1} = fl(b_t + fl(ηg_t)), each step off by ≤ (eps/2)(|b_{t+1}| + η|g_t|), so
    |lhs − rhs| ≤ eps·Σ_{t≤T'}(|b_{t+1}| + η|g_t|)/(ηT') + 2eps(|lhs| + |rhs|); the sign rule stores
    b = fl(u·k) with k integer, so |lhs − rhs| ≤ eps(|b_{T'+1}| + |b_1|)/(uT') + 2eps(|lhs| + |rhs|).
    """
    T = run.iters
    Tp = np.arange(1, T + 1, dtype=float)[:, None]
    g_int = run.capacity - run.loads[:-1]
    b = run.bias
    if run.rule == "sign":
        sig = np.sign(g_int)
        lhs = np.cumsum(sig, axis=0) / Tp
        rhs = (b[1:] - b[0]) / (run.step * Tp)
        first = EPS * (np.abs(b[1:]) + np.abs(b[0])) / (run.step * Tp)
    else:
        lhs = np.cumsum(g_int, axis=0) / Tp
        rhs = (b[1:] - b[0]) / (run.step * Tp)
        first = EPS * np.cumsum(np.abs(b[1:]) + run.step * np.abs(g_int), axis=0) / (run.step * Tp)
    bound = first + 2.0 * EPS * (np.abs(lhs) + np.abs(rhs)) + np.finfo(float).tiny
    return lhs, rhs, bound


def constant_step_gap(run: FixedBatchRun) -> tuple[np.ndarray, np.ndarray]:
    r"""Claim 6(b) at every horizon T' = 1..T of a constant-η gradient run: (average gap, bound).

    (1/T')Σ_{t≤T'}[D(p_t) − OPT] ≤ ‖p_1 − p*‖²/(2ηT') + (η/(2T'))Σ_{t≤T'}‖g_t‖²
    (:func:`theory.alf_lb.constant_step_gap_bound`), with p* = −b* shifted so that mean(p*) = mean(p_1).
    """
    if run.rule != "gradient":
        raise ValueError(f"run: claim 6(b) is about the constant-η gradient rule, got rule {run.rule!r}")
    T = run.iters
    Tp = np.arange(1, T + 1, dtype=float)
    p1 = -run.bias[0]
    p_star = -run.lp_bias
    p_star = p_star - p_star.mean() + p1.mean()
    dist0_sq = float(np.sum((p1 - p_star) ** 2))
    g = run.subgradient[:-1]
    avg_gap = np.cumsum(run.dual_gap[:-1]) / Tp
    bound = th.constant_step_gap_bound(dist0_sq, run.step, Tp, np.cumsum(np.sum(g * g, axis=1)))
    return avg_gap, np.asarray(bound, dtype=float)


@dataclass(frozen=True)
class Cycle:
    """The exact limit cycle of a sign-rule trajectory (``period`` 0 when none was found).

    ``start`` is the 0-based index t₁ of the first state of the cycle (transient = t₁ updates),
    ``period`` = t₂ − t₁ where t₂ is the first repeat; ``drift`` is the change of the raw mean of the
    lattice counts k over one period (the harmless drift along 1).
    """

    start: int
    period: int
    drift: float

    @property
    def found(self) -> bool:
        """Whether the centred lattice state repeated within the budget."""
        return self.period > 0


def detect_cycle(run: FixedBatchRun) -> Cycle:
    """The first exact repeat of the centred lattice state k_t − min_i k_t of a sign-rule run."""
    if run.rule != "sign":
        raise ValueError(f"run: cycles are detected on the sign rule's lattice, got rule {run.rule!r}")
    centred = run.steps - run.steps.min(axis=1, keepdims=True)
    _, first, inverse = np.unique(centred, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    repeats = np.flatnonzero(first[inverse] < np.arange(centred.shape[0]))
    if repeats.size == 0:
        return Cycle(-1, 0, math.nan)
    t2 = int(repeats[0])
    t1 = int(first[inverse[t2]])
    drift = float(run.steps[t2].mean() - run.steps[t1].mean())
    return Cycle(t1, t2 - t1, drift)


def dual_alignment(bias: np.ndarray, lp_bias: np.ndarray, u: float) -> tuple[float, float]:
    """(correlation of the centred bias with the centred b*, L∞ distance in units of u after the best shift)."""
    d = bias - lp_bias
    bc, sc = bias - bias.mean(), lp_bias - lp_bias.mean()
    denom = float(np.linalg.norm(bc) * np.linalg.norm(sc))
    corr = float(bc @ sc / denom) if denom > 0 else math.nan
    linf = float((d.max() - d.min()) / 2.0) / u
    return corr, linf


def _batch(config: dict[str, Any], rng: np.random.Generator) -> tuple[int, int, np.ndarray]:
    n, E, K = (check_int(k, config[k], 1) for k in ("n", "E", "K"))
    th.capacity(n, K, E)
    a = popularity(E, rng, float(config["spread"]))
    return K, E, popularity_scores(n, a, rng)


FIXED_BATCH_DEFAULTS: dict[str, Any] = {"n": 512, "E": 16, "K": 2, "spread": 1.0, "rule": "sign", "u": 1e-2,
                                        "eta": 1e-4, "iters": 2000}


@register_experiment("alf_lb", "fixed_batch", FIXED_BATCH_DEFAULTS)
def fixed_batch_experiment(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """Sign or constant-η bias dynamics on one batch: dual gap, sandwich, preference, telescoping per iteration.

    One row per iteration t = 1..T: ``dual``, ``dual_gap`` = D(p_t) − OPT, the claim-4 step t → t+1
    (``lower``, ``delta_D``, ``upper``, ``sandwich_tol``, ``sandwich_ratio`` = |ΔD − mid|/(half-width +
    tol), ≤ 1 iff lower − tol ≤ ΔD ≤ upper + tol), claim 5 (``pref_moves``, ``pref_violations``,
    ``pref_ties``, ``changed_tokens``, ``pref_load_ratio`` = max load_k/load_i over the step's moves),
    ``maxvio``, ``g_sq`` = ‖g_t‖², ``g_l1``, ``bias_spread``,
    claim 6(a) at T' = t (``telescoping_dev`` = max_i|lhs − rhs|, ``telescoping_ratio`` = max_i of it over
    the rounding bound), claim 6(b) (``avg_gap``, ``gap_bound``; NaN for the sign rule), and the run's
    ``opt``, ``initial_gap``, ``capacity``, ``transient`` and ``period`` (sign rule; NaN otherwise).
    """
    K, _, scores = _batch(config, rng)
    run = run_fixed_batch(scores, K, rule=config["rule"], u=float(config["u"]), eta=float(config["eta"]),
                          iters=int(config["iters"]))
    lower, dD, upper, tol = sandwich_terms(run)
    mid, half = (lower + upper) / 2.0, (upper - lower) / 2.0
    lhs, rhs, tbound = telescoping(run)
    g = run.subgradient[:-1]
    T = run.iters
    df = pd.DataFrame({
        "iteration": np.arange(1, T + 1), "dual": run.dual[:-1], "dual_gap": run.dual_gap[:-1],
        "lower": lower, "delta_D": dD, "upper": upper, "sandwich_tol": tol,
        "sandwich_ratio": np.abs(dD - mid) / (half + tol),
        "pref_moves": run.pref_moves, "pref_violations": run.pref_violations, "pref_ties": run.pref_ties,
        "changed_tokens": run.changed_tokens, "pref_load_ratio": run.pref_load_ratio,
        "maxvio": run.maxvio[:-1], "g_sq": np.sum(g * g, axis=1),
        "g_l1": np.sum(np.abs(g), axis=1), "bias_spread": np.ptp(run.bias[:-1], axis=1),
        "telescoping_dev": np.max(np.abs(lhs - rhs), axis=1),
        "telescoping_ratio": np.max(np.abs(lhs - rhs) / tbound, axis=1),
    })
    if run.rule == "gradient":
        df["avg_gap"], df["gap_bound"] = constant_step_gap(run)
        transient = period = math.nan
    else:
        df["avg_gap"] = df["gap_bound"] = math.nan
        cyc = detect_cycle(run)
        transient, period = (cyc.start, cyc.period) if cyc.found else (math.nan, math.nan)
    df["opt"], df["initial_gap"], df["capacity"] = run.opt, run.dual_gap[0], run.capacity
    df["transient"], df["period"] = transient, period
    return df


SIGN_CYCLE_DEFAULTS: dict[str, Any] = {"n": 256, "E": 16, "K": 2, "spread": 1.0, "us": [1e-3, 1e-2, 1e-1],
                                       "iters": 50000}


@register_experiment("alf_lb", "sign_cycle", SIGN_CYCLE_DEFAULTS)
def sign_cycle_experiment(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """Constant-u sign runs on one batch (every u on the same batch): limit cycle and distance to the LP duals.

    One row per u: ``transient`` (updates before the cycle), ``period``, ``periodic``, ``cycle_drift``
    (raw mean of k per period), ``cycle_maxvio`` and ``cycle_gap`` (averages over one period),
    ``initial_gap`` = D(0) − OPT, ``final_gap`` = D(−b_T) − OPT at the last state, ``gap_fraction`` =
    final/initial, ``corr`` and ``linf_u`` (centred final bias vs centred b*: correlation and L∞
    distance in units of u after the best shift), ``corr_cycle``/``linf_u_cycle`` (the same for the
    cycle-averaged bias), ``max_spread`` = max_t (max b − min b), ``spread_bound`` =
    (E−1)(Δ + 2u) + 2u (claim 6(c), Δ = max_j(max_i s_ji − min_i s_ji)), ``opt`` and ``updates``.
    Runs stop at the first exact repeat (``iters`` is the budget).
    """
    K, E, scores = _batch(config, rng)
    us = config["us"]
    us = [float(x) for x in (us if isinstance(us, list | tuple) else [us])]
    lp = solve_assignment_lp(scores, K)
    spread_scores = float(np.max(scores.max(axis=1) - scores.min(axis=1)))
    rows = []
    for u in us:
        run = run_fixed_batch(scores, K, rule="sign", u=u, iters=int(config["iters"]), lp=lp, stop_on_cycle=True)
        cyc = detect_cycle(run)
        if cyc.found:
            sl = slice(cyc.start, cyc.start + cyc.period)
            cyc_maxvio, cyc_gap = float(run.maxvio[sl].mean()), float(run.dual_gap[sl].mean())
            cyc_bias = run.route_bias[sl].mean(axis=0)
        else:
            cyc_maxvio = cyc_gap = math.nan
            cyc_bias = run.route_bias[len(run.dual) // 2:].mean(axis=0)
        corr, linf = dual_alignment(run.route_bias[-1], lp.bias, u)
        corr_c, linf_c = dual_alignment(cyc_bias, lp.bias, u)
        rows.append({"u": u, "updates": run.iters, "transient": cyc.start if cyc.found else math.nan,
                     "period": cyc.period if cyc.found else math.nan, "periodic": cyc.found,
                     "cycle_drift": cyc.drift, "cycle_maxvio": cyc_maxvio, "cycle_gap": cyc_gap,
                     "initial_gap": float(run.dual_gap[0]), "final_gap": float(run.dual_gap[-1]),
                     "gap_fraction": float(run.dual_gap[-1] / run.dual_gap[0]), "corr": corr, "linf_u": linf,
                     "corr_cycle": corr_c, "linf_u_cycle": linf_c,
                     "max_spread": float(np.max(np.ptp(run.bias, axis=1))),
                     "spread_bound": (E - 1) * (spread_scores + 2 * u) + 2 * u, "opt": lp.value})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------ claims 1-3
def brute_force_opt(scores: np.ndarray, K: int, max_assignments: int = 200_000) -> float:
    """OPT of the assignment IP by enumerating every choice of a K-subset per token (small n, E only).

    Raises ``ValueError`` when C(E, K)^n exceeds ``max_assignments``.
    """
    scores = np.asarray(scores, dtype=float)
    n, E = scores.shape
    C = th.capacity(n, K, E)
    subsets = np.array([[1 if i in c else 0 for i in range(E)] for c in itertools.combinations(range(E), K)])
    M = subsets.shape[0]
    if M ** n > max_assignments:
        raise ValueError(f"scores: brute force needs C(E,K)^n = {M}^{n} > {max_assignments} assignments")
    choice = np.array(list(itertools.product(range(M), repeat=n)), dtype=np.int64).reshape(-1, n)
    token_vals = scores @ subsets.T  # (n, M)
    loads = subsets[choice].sum(axis=1)  # (M^n, E)
    values = token_vals[np.arange(n)[None, :], choice].sum(axis=1)
    feasible = np.all(loads == C, axis=1)
    return float(values[feasible].max())


def lsa_opt(scores: np.ndarray) -> float:
    """OPT for K = 1 by ``linear_sum_assignment`` on the n × (E·C) matrix with each expert repeated C times."""
    scores = np.asarray(scores, dtype=float)
    n, E = scores.shape
    C = th.capacity(n, 1, E)
    rep = np.repeat(scores, C, axis=1)
    rows, cols = linear_sum_assignment(rep, maximize=True)
    return float(rep[rows, cols].sum())


def lagrangian_lp_value(scores: np.ndarray, K: int, prices: np.ndarray) -> float:
    r"""max_x L(x, p) over X = {Σ_i x_ji = K, 0 ≤ x ≤ 1} by an LP (HiGHS), independent of the routing code."""
    scores = np.asarray(scores, dtype=float)
    n, E = scores.shape
    C = th.capacity(n, K, E)
    cols = np.arange(n * E)
    tokens = sp.csr_array((np.ones(n * E), (cols // E, cols)), shape=(n, n * E))
    res = linprog(-(scores - prices[None, :]).ravel(), A_eq=tokens, b_eq=np.full(n, K), bounds=(0, 1),
                  method="highs")
    if res.status != 0:
        raise RuntimeError(f"linprog failed on the Lagrangian LP: {res.message}")
    return float(-res.fun + C * prices.sum())


LP_DUALITY_DEFAULTS: dict[str, Any] = {"n": 6, "E": 4, "K": 2, "spread": 1.0, "prices": 8, "lagrangian_lp": True}
#: Largest n·E for which the Lagrangian is also maximised by a separate LP.
_LAGRANGIAN_LP_MAX = 4096
_PRICE_SCALES = (0.0, 1e-4, 1e-2, 1.0)


@register_experiment("alf_lb", "lp_duality", LP_DUALITY_DEFAULTS)
def lp_duality_experiment(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """The assignment LP of one batch against brute force / linear_sum_assignment, and its dual at random prices.

    Batch columns (repeated on every row): ``int_gap`` (HiGHS dual simplex distance from 0/1),
    ``feasible`` (rounded x has K per token and C per expert), ``opt``, ``opt_brute`` (n, E small,
    else NaN), ``opt_lsa`` (K = 1, else NaN), ``d_star`` = D(p*). One row per random price p = p* +
    r·z (z standard normal; r cycles through 0, 1e-4, 1e-2, 1; the first row is p = 0 instead):
    ``price_scale``, ``dual`` = D(p) = Σ_j topKsum(s_j − p) + C·Σp by an independent row sort,
    ``lagr_route`` = L(x, p) of biased top-K x = route(s, −p, K), ``lagr_lp`` = max L over X by an LP
    (NaN for large n·E or when ``lagrangian_lp`` is false). ``d_star`` uses
    :func:`solvers.alf_lb.dual_value`.
    """
    K, E, scores = _batch(config, rng)
    n = scores.shape[0]
    lp = solve_assignment_lp(scores, K)
    x = lp.x.astype(int)
    feasible = bool(np.all(x.sum(axis=1) == K) and np.all(x.sum(axis=0) == lp.capacity))
    M = math.comb(E, K)
    opt_brute = brute_force_opt(scores, K) if M ** n <= 200_000 else math.nan
    opt_lsa = lsa_opt(scores) if K == 1 else math.nan
    p_star = lp.prices
    base = {"int_gap": lp.integrality_gap, "feasible": feasible, "opt": lp.value, "opt_brute": opt_brute,
            "opt_lsa": opt_lsa, "d_star": dual_value(scores, K, p_star), "x_value": float(np.sum(scores * x))}
    rows = []
    for r in range(check_int("prices", config["prices"], 1)):
        scale = _PRICE_SCALES[r % len(_PRICE_SCALES)]
        p = np.zeros(E) if r == 0 else p_star + scale * rng.standard_normal(E)
        # The numba and numpy backends route identically (solvers' tests); the numba kernel's thread
        # launch costs milliseconds on tiny batches, so it routes the first price only.
        rt = route(scores, K, -p, backend="auto" if r == 0 else "numpy")
        lagr_route = float(scores[np.arange(n)[:, None], rt.experts].sum() - p @ (rt.loads - lp.capacity))
        top = -np.sort(-(scores - p[None, :]), axis=1)[:, :K]
        dual = float(top.sum() + lp.capacity * p.sum())
        use_lp = bool(config["lagrangian_lp"]) and n * E <= _LAGRANGIAN_LP_MAX
        lagr_lp = lagrangian_lp_value(scores, K, p) if use_lp else math.nan
        rows.append({**base, "price": r, "price_scale": -1.0 if r == 0 else scale, "dual": dual,
                     "lagr_route": lagr_route, "lagr_lp": lagr_lp})
    return pd.DataFrame(rows)
