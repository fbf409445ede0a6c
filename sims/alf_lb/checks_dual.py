r"""Checks of the deterministic ALF-LB claims on one batch: the LP (1-3), the primal-dual dynamics (4-6).

Per-run claims are asserted on every seed, configuration, step and horizon; the qualitative limit-cycle
claim is judged on seed means across u. Every measured/bound pair is chosen so that the claim holds
iff measured ≤ bound, and the detail says what the ratio (the tightness) means. Scales: ``quick``
(n ≤ 256, a handful of seeds; all nine checks in a few seconds) and ``full``.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from sims.alf_lb import dual as dl
from sims.checks import CheckContext, Verdict, per_run_verdict, register_check
from sims.runner import Experiment, checkpoints, run_sweep

__all__ = [
    "BIAS_VS_DUALS_FRACTION",
    "INTEGRALITY_TOL",
    "check_best_response",
    "check_bias_vs_duals",
    "check_constant_step_gap",
    "check_duality",
    "check_integrality",
    "check_monotone_improvement",
    "check_preference_rule",
    "check_sign_limit_cycle",
    "check_telescoping",
]

#: Largest distance of the HiGHS solution from {0, 1}, and largest relative OPT / Lagrangian disagreement.
INTEGRALITY_TOL = 1e-9
#: D(p*) = OPT is asserted to this relative precision (spec §6).
STRONG_DUALITY_TOL = 1e-8
#: Claim bias_vs_duals: after the long small-u run, D(−b_T) − OPT ≤ this fraction of D(0) − OPT.
BIAS_VS_DUALS_FRACTION = 1e-3
SIGN_US = (1e-3, 1e-2, 1e-1)
#: Constant count-unit steps η of the gradient rule (g = C·1 − load is O(n), scores O(1)).
GRADIENT_ETAS = (1e-5, 1e-4, 1e-3)

_EXPERIMENTS = {
    "fixed_batch": Experiment("alf_lb", "fixed_batch", dl.fixed_batch_experiment, dl.FIXED_BATCH_DEFAULTS),
    "sign_cycle": Experiment("alf_lb", "sign_cycle", dl.sign_cycle_experiment, dl.SIGN_CYCLE_DEFAULTS),
    "lp_duality": Experiment("alf_lb", "lp_duality", dl.lp_duality_experiment, dl.LP_DUALITY_DEFAULTS),
}


def _sweep(ctx: CheckContext, name: str, configs: list[dict[str, Any]], seeds: int) -> pd.DataFrame:
    exp = _EXPERIMENTS[name]
    return run_sweep(exp, [exp.config(c) for c in configs], seeds=seeds, base_seed=ctx.base_seed, jobs=ctx.jobs,
                     cache_dir=ctx.cache_dir, force=ctx.force)


def _dynamics(ctx: CheckContext, rules: tuple[str, ...] = ("sign", "gradient")) -> pd.DataFrame:
    """Fixed-batch runs: sign with u ∈ SIGN_US and gradient with η ∈ GRADIENT_ETAS."""
    size = {"n": ctx.pick(128, 512), "E": ctx.pick(8, 16), "K": 2, "iters": ctx.pick(1000, 5000)}
    configs = ([{**size, "rule": "sign", "u": u} for u in SIGN_US] if "sign" in rules else []) + (
        [{**size, "rule": "gradient", "eta": e} for e in GRADIENT_ETAS] if "gradient" in rules else [])
    if ctx.scale == "full":
        configs += [{**c, "n": 256, "E": 16, "K": 4} for c in configs]
    return _sweep(ctx, "fixed_batch", configs, seeds=ctx.pick(3, 10))


# ------------------------------------------------------------------------------- claims 1-3: the LP
_BRUTE = ({"n": 6, "E": 4, "K": 2}, {"n": 6, "E": 3, "K": 1}, {"n": 4, "E": 4, "K": 3}, {"n": 6, "E": 2, "K": 1})
_LSA = ({"n": 64, "E": 8, "K": 1}, {"n": 128, "E": 16, "K": 1})


@register_check("alf_lb.integrality")
def check_integrality(ctx: CheckContext) -> Verdict:
    """Claim 1: the highs-ds vertex is 0/1 and feasible; OPT_LP = OPT_IP against brute force and assignment.

    Brute force enumerates every choice of K experts per token (n ≤ 6, E ≤ 4); for K = 1 the LP is an
    assignment problem, solved by ``linear_sum_assignment`` on the n × (E·C) matrix with each expert
    repeated C times. Measured: the largest of the integrality gap max min(x, 1 − x) and the relative
    OPT disagreements; bound: 1e-9.
    """
    configs = [{**c, "prices": 1, "lagrangian_lp": False} for c in (*_BRUTE, *_LSA)]
    configs += [{"n": ctx.pick(128, 512), "E": ctx.pick(8, 16), "K": k, "prices": 1, "lagrangian_lp": False}
                for k in (2, 4)]
    df = _sweep(ctx, "lp_duality", configs, seeds=ctx.pick(3, 10))
    runs = df[df["price"] == 0].copy()
    scale = np.maximum(1.0, runs["opt"].abs())
    dev_brute = ((runs["opt"] - runs["opt_brute"]).abs() / scale).fillna(0.0)
    dev_lsa = ((runs["opt"] - runs["opt_lsa"]).abs() / scale).fillna(0.0)
    dev_x = (runs["opt"] - runs["x_value"]).abs() / scale
    runs["deviation"] = np.maximum.reduce([runs["int_gap"], dev_brute, dev_lsa, dev_x])
    runs.loc[~runs["feasible"].astype(bool), "deviation"] = math.inf
    runs["tolerance"] = INTEGRALITY_TOL
    detail = (f"max integrality gap {runs['int_gap'].max():.2g}; OPT_LP vs brute force on "
              f"{int(runs['opt_brute'].notna().sum())} runs (max rel. diff {dev_brute.max():.2g}), vs "
              f"linear_sum_assignment on {int(runs['opt_lsa'].notna().sum())} K = 1 runs (max {dev_lsa.max():.2g}); "
              f"{int((~runs['feasible'].astype(bool)).sum())} infeasible roundings; measured = worst of these, "
              f"bound = {INTEGRALITY_TOL:g}")
    return per_run_verdict("alf_lb.integrality", runs, "deviation", "tolerance", detail)


@register_check("alf_lb.best_response")
def check_best_response(ctx: CheckContext) -> Verdict:
    """Claim 2: L(route(s, −p, K), p) = max over X of L(·, p) (an LP) = D(p) (a row sort), at random p."""
    configs = [{**_BRUTE[0], "prices": 6}, {"n": 64, "E": 8, "K": 2, "prices": 6},
               {"n": 32, "E": 16, "K": 4, "prices": 6}, {"n": 64, "E": 8, "K": 1, "prices": 6}]
    df = _sweep(ctx, "lp_duality", configs, seeds=ctx.pick(3, 10))
    scale = np.maximum(1.0, df["dual"].abs())
    parts = [(df["lagr_route"] - df[c]).abs() / scale for c in ("dual", "lagr_lp")]
    df["deviation"] = np.maximum.reduce([p.fillna(0.0) for p in parts])
    df["tolerance"] = INTEGRALITY_TOL
    detail = (f"{len(df)} prices p = p* + r·z (r ∈ 0, 1e-4, 1e-2, 1) and p = 0; L(biased top-K, p) vs "
              f"D(p) = Σ_j topKsum(s_j − p) + CΣp by a row sort and vs max L by the HiGHS LP over X "
              f"({int(df['lagr_lp'].notna().sum())} prices); measured = largest relative disagreement, "
              f"bound = {INTEGRALITY_TOL:g}")
    return per_run_verdict("alf_lb.best_response", df, "deviation", "tolerance", detail)


@register_check("alf_lb.duality")
def check_duality(ctx: CheckContext) -> Verdict:
    """Claim 3: OPT ≤ D(p) at every random p (measured OPT, bound D(p)), and D(p*) = OPT to 1e-8·|OPT|.

    The prices include p* + 1e-4·z, so the tightness OPT/min D(p) is close to 1 by design: weak duality
    is tested where it is nearly an equality.
    """
    configs = [{"n": ctx.pick(64, 256), "E": 8, "K": 2, "prices": 8, "lagrangian_lp": False},
               {"n": ctx.pick(128, 512), "E": 16, "K": 4, "prices": 8, "lagrangian_lp": False},
               {**_BRUTE[1], "prices": 8, "lagrangian_lp": False}]
    df = _sweep(ctx, "lp_duality", configs, seeds=ctx.pick(3, 10))
    strong = (df["d_star"] - df["opt"]).abs() / df["opt"].abs().clip(lower=1e-300)
    strong_ok = bool(np.all(strong <= STRONG_DUALITY_TOL))
    weak = df[df["price_scale"] != 0.0]  # p = p* exactly is the strong-duality part
    optimal = int(np.sum(weak["dual"] - weak["opt"] <= 1e-12 * weak["opt"].abs()))
    verdict = per_run_verdict("alf_lb.duality", weak, "opt", "dual",
                              f"weak duality at {len(weak)} prices p = 0 and p* + r·z, r ∈ 1e-4, 1e-2, 1 "
                              f"(measured OPT, bound D(p)), {optimal} of them dual-optimal (D(p) = OPT: the "
                              f"duals are degenerate, a neighbourhood of p* is optimal when x(p) is balanced); "
                              f"strong duality |D(p*) − OPT|/|OPT| ≤ "
                              f"{strong.max():.2g} (tolerance {STRONG_DUALITY_TOL:g}"
                              + (")" if strong_ok else ", FAILS)"))
    return replace(verdict, holds=verdict.holds and strong_ok, data=df)


# ------------------------------------------------------------------------- claims 4-6: the dynamics
@register_check("alf_lb.monotone_improvement")
def check_monotone_improvement(ctx: CheckContext) -> Verdict:
    """Claim 4 on every step of sign (u = 1e-3, 1e-2, 1e-1) and gradient (η = 1e-5, 1e-4, 1e-3) runs.

    Measured per step: |ΔD − mid|, bound: half-width + rounding tolerance, where mid and half-width are
    those of [⟨δ, g_t⟩, ⟨δ, g_{t+1}⟩]; so the claim holds iff every ΔD lies in the sandwich, and the
    tightness is how close the worst ΔD comes to an end of it (1 = on an end).
    """
    df = _dynamics(ctx)
    df["measured"] = (df["delta_D"] - (df["lower"] + df["upper"]) / 2).abs()
    df["bound"] = (df["upper"] - df["lower"]) / 2 + df["sandwich_tol"]
    moving = df["upper"] > df["lower"]
    decreasing = float(np.mean(df.loc[df["upper"] < 0, "delta_D"] < 0)) if (df["upper"] < 0).any() else math.nan
    detail = (f"{len(df)} steps ({int(moving.sum())} with routing changes); ΔD within [lower, upper] up to "
              f"rounding (≤ {df['sandwich_tol'].max():.1g}); D decreased on {decreasing:.0%} of the steps with "
              "⟨δ, g_{t+1}⟩ < 0; measured |ΔD − mid| vs half-width + tol")
    return per_run_verdict("alf_lb.monotone_improvement", df, "measured", "bound", detail)


@register_check("alf_lb.preference_rule")
def check_preference_rule(ctx: CheckContext) -> Verdict:
    """Claim 5: every token that gains expert k and loses expert i has load_k ≤ load_i (σ_k ≥ σ_i).

    Measured per step: max over the step's moves of load_k/load_i (entering over leaving expert, loads
    before the step), bound 1. For the sign rule load_k ≤ load_i implies σ_k ≥ σ_i, since
    σ = sign(C − load) is monotone, so this is the spec's σ form as well; exact arithmetic gives < 1.
    """
    df = _dynamics(ctx)
    df["one"] = 1.0
    moves, viol, ties = (int(df[c].sum()) for c in ("pref_moves", "pref_violations", "pref_ties"))
    verdict = per_run_verdict("alf_lb.preference_rule", df, "pref_load_ratio", "one",
                              f"{moves} moves over {len(df)} steps: {viol} violations (σ_k < σ_i for sign, "
                              f"load_k > load_i for gradient), {ties} ties (the strict form fails); measured = "
                              "max load_k/load_i")
    return replace(verdict, holds=verdict.holds and viol == 0)


@register_check("alf_lb.telescoping")
def check_telescoping(ctx: CheckContext) -> Verdict:
    """Claim 6(a) at every horizon T' of every run, to machine precision.

    Measured per horizon: max_i |lhs_i − rhs_i| over its first-order rounding bound (see
    :func:`sims.alf_lb.dual.telescoping`), bound 1.
    """
    df = _dynamics(ctx)
    df["one"] = 1.0
    last = df[df["iteration"] == df["iteration"].max()]
    detail = (f"{len(df)} horizons; max |(1/T)Σ g_t − (b_(T+1) − b_1)/(ηT)| = {df['telescoping_dev'].max():.2g} "
              f"(sign: Σ sign g_t, u); bias spread at T stays ≤ {last['bias_spread'].max():.3g}, so the "
              "average imbalance is O(1/T); measured = deviation / rounding bound")
    return per_run_verdict("alf_lb.telescoping", df, "telescoping_ratio", "one", detail)


@register_check("alf_lb.constant_step_gap")
def check_constant_step_gap(ctx: CheckContext) -> Verdict:
    """Claim 6(b) on constant-η gradient runs at every horizon T' = 1, 2, 4, ..., T of every seed.

    Measured: (1/T')Σ_{t≤T'}[D(p_t) − OPT]; bound: ‖p_1 − p*‖²/(2ηT') + (η/(2T'))Σ_{t≤T'}‖g_t‖² with the
    LP's p* shifted to mean(p_1) (:func:`theory.alf_lb.constant_step_gap_bound`).
    """
    df = _dynamics(ctx, rules=("gradient",))
    rows = df[df["iteration"].isin(checkpoints(int(df["iteration"].max())))]
    return per_run_verdict("alf_lb.constant_step_gap", rows, "avg_gap", "gap_bound",
                           f"η ∈ {GRADIENT_ETAS}, count units; average dual gap vs the subgradient bound")


@register_check("alf_lb.sign_limit_cycle")
def check_sign_limit_cycle(ctx: CheckContext) -> Verdict:
    """Claim 6(c): exact cycles, bounded spread, and growth with u of the cycle's MaxVio and gap.

    Every u ∈ {1e-3, 1e-2, 1e-1} runs on the same batch. Per run: the centred lattice state repeats within
    the budget and max_t (max b − min b) ≤ (E−1)(Δ + 2u) + 2u. On seed means, for consecutive u < u':
    cycle-averaged MaxVio and dual gap at u over those at u' and the transient at u' over that at u.
    Measured: the largest of these ratios; bound 1 (holds iff each grows, resp. shrinks, strictly).
    """
    us = list(SIGN_US)
    config = {"n": ctx.pick(256, 512), "E": 16, "K": 2, "us": us, "iters": ctx.pick(20000, 200000)}
    df = _sweep(ctx, "sign_cycle", [config], seeds=ctx.pick(5, 20))
    periodic = bool(df["periodic"].all())
    spread_ratio = float((df["max_spread"] / df["spread_bound"]).max())
    means = df.groupby("u")[["cycle_maxvio", "cycle_gap", "transient"]].mean().sort_index()
    ratios = {}
    for a, b in zip(means.index[:-1], means.index[1:], strict=True):
        ratios[f"MaxVio {a:g}/{b:g}"] = means.loc[a, "cycle_maxvio"] / means.loc[b, "cycle_maxvio"]
        ratios[f"gap {a:g}/{b:g}"] = means.loc[a, "cycle_gap"] / means.loc[b, "cycle_gap"]
        ratios[f"transient {b:g}/{a:g}"] = means.loc[b, "transient"] / means.loc[a, "transient"]
    worst = max(ratios, key=lambda k: ratios[k])
    measured = float(ratios[worst])
    ok = periodic and spread_ratio <= 1.0 and measured < 1.0
    table = ", ".join(f"u = {u:g}: MaxVio {r.cycle_maxvio:.3g}, gap {r.cycle_gap:.3g}, transient {r.transient:.0f}"
                      for u, r in means.iterrows())
    detail = (f"{len(df)} runs, {int(df['periodic'].sum())} exactly periodic (periods "
              f"{sorted(set(df['period'].dropna().astype(int)))}); max spread / claim-6(c) bound = "
              f"{spread_ratio:.3f}; seed means {table}; worst ratio: {worst}")
    return Verdict("alf_lb.sign_limit_cycle", measured, 1.0, ok, detail, df)


@register_check("alf_lb.bias_vs_duals")
def check_bias_vs_duals(ctx: CheckContext) -> Verdict:
    """A long small-u sign run ends with D(−b_T) − OPT ≤ 1e-3·(D(0) − OPT), on every seed.

    The LP duals of a batch are often degenerate (a face of optima), so the verdict is on D values;
    the correlation of the centred bias with the centred b* = −p* and their L∞ distance in units of u
    (after the best shift along 1) are reported in the detail.
    """
    u = ctx.pick(1e-3, 1e-4)
    config = {"n": ctx.pick(256, 512), "E": 16, "K": 2, "us": [u], "iters": ctx.pick(50000, 500000)}
    df = _sweep(ctx, "sign_cycle", [config], seeds=ctx.pick(5, 20))
    df["fraction"] = BIAS_VS_DUALS_FRACTION
    detail = (f"u = {u:g}, {int(df['updates'].max())} updates at most; (D(−b_T) − OPT)/(D(0) − OPT) vs "
              f"{BIAS_VS_DUALS_FRACTION:g}; correlation of centred b_T with centred b*: min "
              f"{df['corr'].min():.5f} (cycle mean {df['corr_cycle'].min():.5f}); L∞ distance {df['linf_u'].min():.1f}"
              f"–{df['linf_u'].max():.1f} u (degenerate duals)")
    return per_run_verdict("alf_lb.bias_vs_duals", df, "gap_fraction", "fraction", detail)
