r"""The check of every EF21 claim (``theory.ef21``), at the theorem's own constants.

With full gradients and TopK every run is deterministic, so claims 4-7 are asserted on every run and
at every horizon T: every round is evaluated in memory and the verdict's table keeps, per run, the
log-spaced checkpoints and the worst T (with a count of violating T, which must be 0). Runs use the
experiments' own functions and the runner's seed derivation, so the run of seed index i of a config
is the one ``run_sweep`` makes (a failing run can be replayed with ``boundlab run``).

- ``compressor_contraction``: TopK on Gaussian, sparse, tied, heavy-tailed, one-hot and equal-magnitude
  vectors (the last attain (1 − K/d)‖v‖², so the tightness is 1); RandK (unscaled, and scaled with
  K > d/2) by exact enumeration of the K-subsets for small d (an equality: tightness 1), and by Monte
  Carlo with a one-sided 99.9% family-wise margin for d ∈ {20, 64};
- ``constants``: the identities and inequalities of claim 2 on a grid of α (relative error ≤ 1e-12);
- ``means``: L ≤ L_AM ≤ L_QM < √n·L_AM on every kind of instance the experiments generate;
- ``nonconvex_rate``, ``ef21w_rate``, ``ef21_am_rate``: running average (and min) of ‖∇f(x^t)‖² ≤ the
  bound at every T; Top1 and a larger K, both initialisations, several ζ and seeds; claim 4 also with
  RandK on the seed mean;
- ``lyapunov_descent``: (γ/2)‖∇f(x^t)‖² ≤ Ψ^t − Ψ^{t+1} at every step, as the fraction of the decrease;
- ``pl_rate``, ``pl_rate_am``: Ψ^T ≤ (1 − γμ)^TΨ^0 at every T ≥ 1 on least squares, as a ratio;
- ``speedup_prediction``: 1 ≤ S_pred ≤ H on the ζ sweep; the measured speed-up is reported, not judged;
- ``econtrol_reduction``: EControl (η = 0, h_i^0 = ∇f_i(x^0)) against EF21, round by round.

Differences of Lyapunov values near convergence fall to the float64 floor; there the bound gets a
stated rounding allowance of ROUNDING_ULPS·u times the magnitudes involved (:func:`lyapunov_ratio`,
:func:`pl_ratio`), never a relative loosening. Scales: ``quick`` (d = 10, n = 10, T ≤ 1500; all eleven
checks together take about 20 s on two cores, numba compilation included) and ``full`` (the spec's
d = 20, n = 20, N_i = 50, more ζ, the spread profile, the bundled datasets, one run of T = 5·10⁴;
about 2.5 minutes).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy import stats

import solvers.ef21 as se
from sims.checks import (
    FLOAT_SLACK,
    CheckContext,
    Verdict,
    combine_verdicts,
    expectation_verdict,
    per_run_verdict,
    register_check,
)
from sims.ef21 import experiments as ex
from sims.runner import checkpoints, derive_seed
from theory import ef21 as th

__all__ = [
    "IDENTITY_TOL",
    "MC_CONFIDENCE",
    "ROUNDING_ULPS",
    "check_compressor_contraction",
    "check_constants",
    "check_econtrol_reduction",
    "check_ef21_am_rate",
    "check_ef21w_rate",
    "check_lyapunov_descent",
    "check_means",
    "check_nonconvex_rate",
    "check_pl_rate",
    "check_pl_rate_am",
    "check_speedup_prediction",
]

#: Relative tolerance of identities evaluated in floating point.
IDENTITY_TOL = 1e-12
#: One-sided confidence of the Monte Carlo margin of RandK (family-wise over the check's rows).
MC_CONFIDENCE = 0.999
#: Rounding allowance of a difference of two Lyapunov values, in units of u·(Ψ^t + Ψ^{t+1}): f is a sum
#: of positive terms evaluated in float64, so each Ψ carries a relative error of a few u.
ROUNDING_ULPS = 64.0
_U = float(np.finfo(float).eps)


# ---------------------------------------------------------------------------------------- helpers
def _map_runs(ctx: CheckContext, func: Callable[[dict[str, Any], np.random.Generator], pd.DataFrame],
              configs: Sequence[dict[str, Any]], seeds: int) -> pd.DataFrame:
    """``func(config, rng)`` on every config and seed index, with the runner's seeds; stacked rows.

    The generator of (config, i) is ``derive_seed(ctx.base_seed, config, i)``, the one
    :func:`sims.runner.run_sweep` gives the same experiment config, so a failing run can be replayed
    with ``boundlab run``.
    """
    tasks = [(dict(c), i) for c in configs for i in range(seeds)]

    def one(config: dict[str, Any], index: int) -> pd.DataFrame:
        df = func(config, np.random.default_rng(derive_seed(ctx.base_seed, config, index)))
        df.insert(0, "seed", index)
        for key in reversed(list(config)):
            if key not in df.columns:
                value = config[key]
                df.insert(0, key, value if np.isscalar(value) or value is None else str(value))
        return df

    if ctx.jobs > 1 and len(tasks) > 1:
        parts = Parallel(n_jobs=ctx.jobs)(delayed(one)(c, i) for c, i in tasks)
    else:
        parts = [one(c, i) for c, i in tasks]
    return pd.concat(parts, ignore_index=True)


def _kept_rounds(rounds: int, worst: int, first: int = 1) -> np.ndarray:
    """Log-spaced checkpoints of 1..rounds (or 0..rounds with ``first=0``) plus the worst index."""
    pts = checkpoints(max(rounds, 1), 1)
    if first == 0:
        pts = np.concatenate([[0], pts])
    return np.unique(np.concatenate([pts[pts <= rounds], [worst]]))


def _worst_index(measured: np.ndarray, bound: np.ndarray) -> int:
    """Index of the largest relative excess (measured − bound)/|bound| (the row a verdict reports)."""
    excess = (measured - bound) / np.maximum(np.abs(bound), np.finfo(float).tiny)
    return int(np.nanargmax(excess))


# ---------------------------------------------------------------------------------------- claim 1
def _topk_vectors(d: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Families of test vectors, 200 each (rows): Gaussian, sparse, tied, heavy-tailed, one-hot, equal."""
    m = 200
    sparse = rng.standard_normal((m, d)) * (rng.random((m, d)) < 0.2)
    sparse[np.arange(m), rng.integers(0, d, m)] = 1.0  # at least one non-zero per row
    return {
        "gaussian": rng.standard_normal((m, d)),
        "sparse": sparse,
        "tied": rng.integers(-2, 3, (m, d)).astype(float) + (rng.integers(-2, 3, (m, 1)) == 0),
        "heavy": rng.standard_cauchy((m, d)),
        "onehot": np.eye(d)[rng.integers(0, d, m)] * rng.choice([-3.0, 1.0], (m, 1)),
        "equal": rng.choice([-1.0, 1.0], (m, d)),  # |v_j| all equal: TopK attains (1 − K/d)‖v‖²
    }


def _topk_part(ctx: CheckContext) -> Verdict:
    rng = np.random.default_rng(derive_seed(ctx.base_seed, {"check": "topk"}, 0))
    rows = []
    for d in ctx.pick((1, 2, 5, 10, 33), (1, 2, 3, 5, 10, 33, 100, 257)):
        for k in sorted({1, 2, max(1, d // 3), max(1, d - 1), d}):
            if k > d:
                continue
            comp = se.TopK(k)
            alpha = float(comp.alpha(d))
            for family, V in _topk_vectors(d, rng).items():
                V = V[np.linalg.norm(V, axis=1) > 0]
                err = np.sum((comp.compress(V, rng) - V) ** 2, axis=1)
                rhs = (1.0 - alpha) * np.sum(V**2, axis=1)
                if k == d:  # α = 1: the compressor must return v itself
                    ratio = np.where(err == 0, 0.0, np.inf)
                else:
                    ratio = err / rhs
                rows.append({"d": d, "k": k, "family": family, "vectors": len(V),
                             "max_ratio": float(ratio.max()), "one": 1.0})
            zero = comp.compress(np.zeros((1, d)), rng)
            rows.append({"d": d, "k": k, "family": "zero", "vectors": 1,
                         "max_ratio": 0.0 if np.all(zero == 0) else np.inf, "one": 1.0})
    return per_run_verdict("ef21.compressor_contraction", pd.DataFrame(rows), "max_ratio", "one",
                           "TopK: max over vectors of ‖C(v) − v‖²/((1 − K/d)‖v‖²)")


def _subsets_error(v: np.ndarray, k: int, scaled: bool) -> float:
    """E‖C(v) − v‖² of RandK by enumerating all (d choose k) subsets (uniform)."""
    d = v.size
    total, count = 0.0, 0
    factor = d / k if scaled else 1.0
    for S in itertools.combinations(range(d), k):
        c = np.zeros(d)
        c[list(S)] = factor * v[list(S)]
        total += float(np.sum((c - v) ** 2))
        count += 1
    return total / count


def _randk_enumeration_part(ctx: CheckContext) -> Verdict:
    rng = np.random.default_rng(derive_seed(ctx.base_seed, {"check": "randk_enum"}, 0))
    rows = []
    for d in ctx.pick((2, 4, 6, 8), (2, 3, 4, 5, 6, 8, 10, 12)):
        for k in range(1, d + 1):
            for scaled in (False, True):
                if scaled and 2 * k <= d:
                    continue  # not contractive: claim 1 says so, and the EF methods refuse it
                alpha = float(se.RandK(k, scaled=scaled).alpha(d))
                predicted = (d / k - 1.0) if scaled else (1.0 - k / d)
                for _ in range(3):
                    v = rng.standard_normal(d)
                    exact = _subsets_error(v, k, scaled)
                    vsq = float(v @ v)
                    formula = float(se.randk_expected_error(v, k, scaled))
                    rows.append({
                        "d": d, "k": k, "scaled": scaled, "alpha": alpha,
                        # E‖C(v) − v‖² against (1 − α)‖v‖²: the claim, an equality for RandK
                        "ratio": exact / ((1.0 - alpha) * vsq) if alpha < 1 else (0.0 if exact < 1e-30 else np.inf),
                        "one": 1.0,
                        "identity_err": max(abs(exact - predicted * vsq), abs(formula - exact),
                                            abs((1.0 - alpha) - predicted)) / max(vsq, 1.0),
                    })
    df = pd.DataFrame(rows)
    df["tol"] = IDENTITY_TOL
    ratio = per_run_verdict("ef21.compressor_contraction", df, "ratio", "one",
                            "RandK exact E‖C(v) − v‖²/((1 − α)‖v‖²) by enumeration")
    ident = per_run_verdict("ef21.compressor_contraction", df, "identity_err", "tol",
                            "enumeration = (1 − K/d)‖v‖² or (d/K − 1)‖v‖² = randk_expected_error")
    return combine_verdicts("ef21.compressor_contraction", [("enumeration", ratio), ("identities", ident)])


def _randk_mc_part(ctx: CheckContext) -> Verdict:
    rng = np.random.default_rng(derive_seed(ctx.base_seed, {"check": "randk_mc"}, 0))
    M = ctx.pick(4000, 40000)
    cases = [(d, k, scaled) for d in (20, 64) for k in (1, d // 4, d // 2 + 1, d - 1) for scaled in (False, True)
             if not (scaled and 2 * k <= d)]
    z = float(stats.norm.ppf(1.0 - (1.0 - MC_CONFIDENCE) / (2 * len(cases))))
    rows = []
    for d, k, scaled in cases:
        comp = se.RandK(k, scaled=scaled)
        alpha = float(comp.alpha(d))
        v = rng.standard_normal(d) * rng.exponential(1.0, d)
        V = np.tile(v, (M, 1))
        C = comp.compress(V, rng)
        kept = np.count_nonzero(C, axis=1)
        err = np.sum((C - V) ** 2, axis=1) / ((1.0 - alpha) * float(v @ v))
        mean, se_ = float(err.mean()), float(err.std(ddof=1)) / math.sqrt(M)
        rows.append({"d": d, "k": k, "scaled": scaled, "alpha": alpha, "samples": M, "mean_ratio": mean,
                     "margin": 1.0 + z * se_, "two_sided_z": abs(mean - 1.0) / se_ if se_ > 0 else 0.0,
                     "kept_ok": bool(np.all(kept <= k))})
    df = pd.DataFrame(rows)
    verdict = per_run_verdict("ef21.compressor_contraction", df, "mean_ratio", "margin",
                              f"RandK Monte Carlo mean of ‖C(v) − v‖²/((1 − α)‖v‖²), {M} draws, one-sided "
                              f"{MC_CONFIDENCE:.1%} family-wise margin; max |z| of mean − 1: "
                              f"{df['two_sided_z'].max():.2f}")
    if not df["kept_ok"].all():
        verdict = replace(verdict, holds=False, detail=verdict.detail + "; a draw kept more than K entries")
    return verdict


@register_check("ef21.compressor_contraction")
def check_compressor_contraction(ctx: CheckContext) -> Verdict:
    """Claim 1: TopK on every test vector; RandK by enumeration and Monte Carlo."""
    return combine_verdicts("ef21.compressor_contraction", [("TopK", _topk_part(ctx)),
                                                    ("RandK exact", _randk_enumeration_part(ctx)),
                                                    ("RandK MC", _randk_mc_part(ctx))])


# ---------------------------------------------------------------------------------------- claim 2
@register_check("ef21.constants")
def check_constants(ctx: CheckContext) -> Verdict:
    r"""Claim 2: Young-parameter identities, ξ's closed form and bound, Top1 asymptotics, α = 1.

    Relative errors of: 1 − θ = (1−α)(1+s) and β = (1−α)(1+1/s) with s = 1/√(1−α) − 1 (computed here
    from its definition, not from the theory module); ξ = √(β/θ) = (√(1−α) + 1 − α)/α; violations of
    ξ ≤ 2/α − 1; s minimising β(s)/θ(s) over a grid of s ∈ (0, α/(1−α)); for Top1 (α = 1/d, d ≥ 2)
    violations of 1/(8d) ≤ (2d − 3/2) − ξ ≤ 1/(2d); α = 1: θ = 1, β = ξ = 0, γ_QM = γ_AM = 1/L.
    measured = the largest of these errors, bound = 1e-12.
    """
    alphas = np.concatenate([np.logspace(-6, 0, ctx.pick(200, 2000), endpoint=False), [0.5, 0.9, 0.99]])
    rows = []
    for a in alphas:
        s = math.expm1(-0.5 * math.log1p(-a))  # 1/√(1−α) − 1 without cancellation for small α
        t, b, x = th.theta(a), th.beta(a), th.xi(a)
        grid = s * np.logspace(-2, 2, 401)
        grid = grid[grid < a / (1.0 - a)]
        ratios = (1.0 - a) * (1.0 + 1.0 / grid) / (a - grid * (1.0 - a))  # 1 − (1−α)(1+s), stably
        errs = {
            "1−θ = (1−α)(1+s)": abs((1.0 - t) - (1.0 - a) * (1.0 + s)) / (1.0 - t),
            "β = (1−α)(1+1/s)": abs(b - (1.0 - a) * (1.0 + 1.0 / s)) / b,
            "ξ = √(β/θ)": abs(x - math.sqrt(b / t)) / x,
            "ξ closed form": abs(x - (math.sqrt(1.0 - a) + 1.0 - a) / a) / x,
            "s = young_parameter": abs(th.young_parameter(a) - s) / s,
            "ξ ≤ 2/α − 1": max(0.0, x - (2.0 / a - 1.0)) / x,
            "s minimises β/θ": max(0.0, x * x - float(ratios.min())) / (x * x),
        }
        rows += [{"alpha": a, "identity": k, "err": v} for k, v in errs.items()]
    for d in range(2, ctx.pick(2001, 100_001), ctx.pick(1, 7)):
        gap = (2 * d - 1.5) - th.xi(1.0 / d)
        # violations of 1/(8d) ≤ gap ≤ 1/(2d), relative to 1/(8d); rounding of ξ ≈ 2d is ~4d·u
        viol = max(0.0, 1.0 / (8 * d) - gap - 8 * d * _U, gap - 1.0 / (2 * d) - 8 * d * _U) * 8 * d
        rows.append({"alpha": 1.0 / d, "identity": "Top1: 1/(8d) ≤ 2d − 3/2 − ξ ≤ 1/(2d)", "err": viol})
    for L, L_QM in ((1.0, 1.0), (2.5, 7.0), (0.3, 100.0)):
        rows.append({"alpha": 1.0, "identity": "α = 1: θ = 1, β = ξ = 0, γ = 1/L",
                     "err": max(abs(th.theta(1.0) - 1.0), abs(th.beta(1.0)), abs(th.xi(1.0)),
                                abs(th.step_qm(L, L_QM, 1.0) * L - 1.0), abs(th.step_am(L, L_QM, 1.0) * L - 1.0))})
    df = pd.DataFrame(rows)
    df["tol"] = IDENTITY_TOL
    worst = df.loc[df["err"].idxmax()]
    return per_run_verdict("ef21.constants", df, "err", "tol",
                           f"{df['identity'].nunique()} identities/inequalities, {len(df)} rows; "
                           f"largest error: {worst['identity']} at α = {worst['alpha']:.3g}")


# ---------------------------------------------------------------------------------------- claim 3
#: The heterogeneity sweep of spec §5 per profile ("spread" has s_n = e^ζ and stops at ζ = 300).
ZETAS = {"dominant": (0.0, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0),
         "spread": (0.0, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0)}


def _sweep(ctx: CheckContext) -> list[tuple[str, float]]:
    """(profile, ζ) pairs: the full sweep at full scale, every other value at quick scale."""
    return [(p, z) for p, zs in ZETAS.items() for z in ctx.pick(tuple(dict.fromkeys(zs[::2] + zs[-1:])), zs)]


def _instance_configs(ctx: CheckContext) -> list[dict[str, Any]]:
    """Every kind of instance the experiments generate, across the ζ sweep and both profiles."""
    configs = [{"dataset": "synthetic", "n_clients": n, "d": 10, "samples_per_client": 20,
                "heterogeneity": z, "profile": p}
               for n in ctx.pick((2, 20), (2, 5, 20, 100)) for p, z in _sweep(ctx)]
    configs += [{"dataset": ds, "n_clients": n, "heterogeneity": z, "profile": p}
                for ds in ("breast_cancer", "digits") for n in ctx.pick((10,), (10, 50)) for p, z in _sweep(ctx)]
    configs += [{"dataset": "least_squares", "n_clients": 20, "d": 10, "samples_per_client": 20,
                 "heterogeneity": z, "profile": p} for p, z in _sweep(ctx)]
    return [{**ex.TRAINING_DEFAULTS, **c} for c in configs]


def _means_rows(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """One row per inequality of claim 3 on one instance: lhs, rhs and ratio = lhs/rhs."""
    problem = ex.build_problem(config, rng)
    L_i = np.asarray(problem.smoothness, dtype=float)
    n = L_i.size
    am, qm = float(np.mean(L_i)), float(np.sqrt(np.mean(L_i**2)))
    t_am, t_qm = th.smoothness_means(L_i)
    ident = max(abs(t_am - am) / am, abs(t_qm - qm) / qm, abs(th.heterogeneity(L_i) - qm / am) / (qm / am))
    L = float(problem.L)
    df = pd.DataFrame([
        {"inequality": "L ≤ L_AM", "lhs": L, "rhs": am},
        {"inequality": "L_AM ≤ L_QM", "lhs": am, "rhs": qm},
        {"inequality": "L_QM < √n·L_AM", "lhs": qm, "rhs": math.sqrt(n) * am},
        {"inequality": "means = theory.smoothness_means (rel. error ≤ 1e-12)", "lhs": ident, "rhs": IDENTITY_TOL},
    ])
    df["ratio"], df["one"] = df["lhs"] / df["rhs"], 1.0
    return df.assign(clients=n, H=qm / am, L_i_max=float(L_i.max()))


@register_check("ef21.means")
def check_means(ctx: CheckContext) -> Verdict:
    """Claim 3 on every instance the experiments generate: synthetic, bundled datasets, least squares.

    n ≥ 2 everywhere; measured/bound per row is lhs/rhs of one inequality (and the relative error of
    ``theory.ef21.smoothness_means`` against direct means). L_QM < √n·L_AM is strict in exact arithmetic
    (every L_i > 0); in float64 it is judged as ≤, and the smallest relative margin is reported.
    """
    df = _map_runs(ctx, _means_rows, _instance_configs(ctx), seeds=ctx.pick(1, 3))
    strict = df[df["inequality"] == "L_QM < √n·L_AM"]
    margin = 1.0 - strict["ratio"]
    return per_run_verdict("ef21.means", df, "ratio", "one",
                           f"{len(df) // 4} instances, H up to {df['H'].max():.4f} (√n up to "
                           f"{math.sqrt(df['clients'].max()):.2f}); 1 − H/√n from {margin.min():.2e} "
                           f"(float64 cannot resolve the strict '<' once one client dominates: e.g. n = 2, "
                           f"spread ζ = 300) to {margin.max():.3f}")


# ---------------------------------------------------------------------------------------- claims 4-6
def _run_sweep(ctx: CheckContext) -> list[tuple[str, float]]:
    """(profile, ζ) of the runs of claims 4-7: H ≈ 1 and a dominant client; at full scale a third ζ and
    the spread profile (up to ζ = 30: e^30 already spans 13 decades of L_i)."""
    quick = [("dominant", 0.0), ("dominant", 100.0)]
    return ctx.pick(quick, [("dominant", z) for z in (0.0, 10.0, 1000.0)] + [("spread", z) for z in (3.0, 30.0)])


def _rate_configs(ctx: CheckContext, method: str, step: str, datasets: bool = True) -> list[dict[str, Any]]:
    """Synthetic runs (quick: d = 10, n = 10, N_i = 20, T = 1500; full: the spec's d = 20, n = 20, N_i = 50,
    T = 4000), Top1 and a larger K, both initialisations; at full scale also the bundled datasets (Top1,
    n = 20, ζ = 100, T = 2·10⁴) and one run of T = 5·10⁴ (breast cancer, g_i^0 = 0)."""
    base = {"dataset": "synthetic", "n_clients": ctx.pick(10, 20), "samples_per_client": ctx.pick(20, 50),
            "d": ctx.pick(10, 20), "method": method, "step": step, "step_multiplier": 1.0, "compressor": "top",
            "T": ctx.pick(1500, 4000), "tol": None, "record": "log"}
    configs = [{**base, "k": k, "init": init, "heterogeneity": z, "profile": p}
               for k in (1, ctx.pick(3, 5)) for init in ("gradient", "zero") for p, z in _run_sweep(ctx)]
    if ctx.scale == "full" and datasets:
        configs += [{**base, "dataset": ds, "n_clients": 20, "k": 1, "init": init, "heterogeneity": 100.0,
                     "profile": "dominant", "T": 20_000}
                    for ds in ("breast_cancer", "digits") for init in ("gradient", "zero")]
        configs += [{**base, "dataset": "breast_cancer", "n_clients": 20, "k": 1, "init": "zero",
                     "heterogeneity": 0.0, "profile": "dominant", "T": 50_000}]
    return [{**ex.TRAINING_DEFAULTS, **c} for c in configs]


def _rate_rows(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """Per run: running average and min of ‖∇f‖² against the bound at every T = 1..rounds; kept rows are
    the log-spaced checkpoints and the worst T, and ``violations`` counts every T that exceeds it."""
    run = ex.run_training(config, rng)
    if run.claim is None:
        raise ValueError(f"no claim covers {config['method']} with step {config['step']}")
    rounds = int(run.traj.rounds)
    avg, mins, bound = run.avg_grad_sq[1:], run.min_grad_sq[1:], run.bound[1:]
    worst = 1 + _worst_index(avg, bound)
    idx = _kept_rounds(rounds, worst)
    df = pd.DataFrame({"round": idx, "avg_grad_sq": run.avg_grad_sq[idx], "min_grad_sq": run.min_grad_sq[idx],
                       "bound": run.bound[idx], "worst": idx == worst})
    df["claim"], df["gamma"], df["alpha"] = run.claim, run.gamma, run.alpha
    df["E0"] = float(ex.claim_error(run.claim, run.traj)[0])
    df["H"], df["rounds"], df["status"] = float(run.problem.heterogeneity), rounds, run.traj.status
    slack = bound + FLOAT_SLACK * np.maximum(1.0, np.abs(bound))  # per_run_verdict's float slack
    df["violations"] = int(np.sum(avg > slack)) + int(np.sum(mins > slack))
    return df


def _rate_check(ctx: CheckContext, claim_id: str, method: str, step: str, label: str) -> Verdict:
    configs = _rate_configs(ctx, method, step)
    synthetic = [c for c in configs if c["dataset"] == "synthetic"]
    df = _map_runs(ctx, _rate_rows, synthetic, seeds=2)
    if len(configs) > len(synthetic):
        df = pd.concat([df, _map_runs(ctx, _rate_rows, configs[len(synthetic):], seeds=1)], ignore_index=True)
    wrong = set(df["claim"]) - {claim_id}
    if wrong:
        raise RuntimeError(f"{claim_id}: runs covered by {wrong} instead")
    per_run = df.groupby(["k", "init", "heterogeneity", "profile", "dataset", "T", "seed"])
    violations = int(per_run["violations"].first().sum())
    diverged = int((per_run["status"].first() == "diverged").sum())
    verdict = per_run_verdict(claim_id, df, "avg_grad_sq", "bound",
                              f"{label}; {per_run.ngroups} runs, every T ≤ {int(df['rounds'].max())} "
                              f"({violations} (run, T) above the bound by the mean or the min); "
                              f"{diverged} diverged; H up to {df['H'].max():.2f}")
    return replace(verdict, holds=verdict.holds and violations == 0 and diverged == 0)


def _checkpoint_rows(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """Running average of ‖∇f‖² and the bound at the checkpoints T = 1, 2, 4, ..., of one run."""
    run = ex.run_training(config, rng)
    idx = checkpoints(int(run.traj.rounds))
    return pd.DataFrame({"round": idx, "avg_grad_sq": run.avg_grad_sq[idx], "bound": run.bound[idx],
                         "claim": run.claim})


def _randk_part(ctx: CheckContext) -> Verdict:
    """Claim 4 in expectation: unscaled Rand2 (α = K/d in expectation), one fixed instance per config,
    the seeds differ only in the compressor's draws; seed mean of the running average vs the bound."""
    base = {**ex.TRAINING_DEFAULTS, "n_clients": 10, "samples_per_client": 20, "d": 10, "compressor": "rand",
            "k": 2, "T": ctx.pick(600, 3000), "tol": None, "instance_seed": 1000 + ctx.base_seed}
    configs = [{**base, "init": init, "heterogeneity": z} for init in ("gradient", "zero") for z in (0.0, 100.0)]
    df = _map_runs(ctx, _checkpoint_rows, configs, seeds=ctx.pick(8, 12))
    return expectation_verdict("ef21.nonconvex_rate", df, "avg_grad_sq", "bound",
                               ["init", "heterogeneity", "round"],
                               "RandK (unscaled, K = 2, d = 10): seed mean of (1/T)Σ‖∇f(x^t)‖² vs the bound, "
                               "checkpoints T = 2^j")


@register_check("ef21.nonconvex_rate")
def check_nonconvex_rate(ctx: CheckContext) -> Verdict:
    """Claim 4: EF21, γ = γ_QM, G^0; TopK (Top1 and a larger K, g_i^0 ∈ {∇f_i(x^0), 0}) on every run and
    every T; RandK on the seed mean (one-sided 95%), since its bound is in expectation."""
    return combine_verdicts("ef21.nonconvex_rate", [
        ("TopK, per run", _rate_check(ctx, "ef21.nonconvex_rate", "ef21", "qm", "EF21, γ_QM, G^0")),
        ("RandK, seed mean", _randk_part(ctx))])


@register_check("ef21.ef21w_rate")
def check_ef21w_rate(ctx: CheckContext) -> Verdict:
    """Claim 5: EF21-W, γ = γ_AM, G_W^0; Top1 and a larger K, both initialisations, every T."""
    return _rate_check(ctx, "ef21.ef21w_rate", "ef21w", "am", "EF21-W, γ_AM, G_W^0")


@register_check("ef21.ef21_am_rate")
def check_ef21_am_rate(ctx: CheckContext) -> Verdict:
    """Claim 6: plain EF21, γ = γ_AM, G̃^0; Top1 and a larger K, both initialisations, every T."""
    return _rate_check(ctx, "ef21.ef21_am_rate", "ef21", "am", "EF21, γ_AM, G̃^0")


def lyapunov_ratio(loss: np.ndarray, f_low: float, E: np.ndarray, grad_sq: np.ndarray, gamma: float,
                   alpha: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Per step t: r_t = (γ/2)‖∇f(x^t)‖² / (Ψ^t − Ψ^{t+1} + ε_t), the fraction of the Lyapunov decrease
    the claim needs (the claim ⇔ r_t ≤ 1), with ε_t = ROUNDING_ULPS·u·(Ψ^t + Ψ^{t+1}) the rounding
    allowance of the difference. A non-positive denominator with a positive numerator gives r_t = inf.

    Returns (r, decrease Ψ^t − Ψ^{t+1}, guaranteed decrease (γ/2)‖∇f(x^t)‖²), t = 0..rounds − 1.
    """
    psi = np.asarray(th.lyapunov(np.asarray(loss) - f_low, E, gamma, alpha), dtype=float)
    need = np.asarray(th.lyapunov_decrease(gamma, np.asarray(grad_sq)[:-1]), dtype=float)
    dec = psi[:-1] - psi[1:]
    denom = dec + ROUNDING_ULPS * _U * (np.abs(psi[:-1]) + np.abs(psi[1:]))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(denom > 0, need / np.where(denom > 0, denom, 1.0), np.where(need > 0, np.inf, 0.0))
    return r, dec, need


def _lyapunov_rows(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    run = ex.run_training(config, rng)
    traj = run.traj
    E = ex.claim_error(run.claim, traj)
    r, dec, need = lyapunov_ratio(traj.loss, run.problem.f_low, E, traj.grad_sq, run.gamma, run.alpha)
    worst = int(np.argmax(r))
    idx = _kept_rounds(int(traj.rounds) - 1, worst, first=0)
    idx = idx[idx < r.size]
    return pd.DataFrame({"round": idx, "ratio": r[idx], "decrease": dec[idx], "needed": need[idx],
                         "worst": idx == worst, "one": 1.0, "claim": run.claim, "gamma": run.gamma,
                         "steps": r.size, "H": float(run.problem.heterogeneity)})


@register_check("ef21.lyapunov_descent")
def check_lyapunov_descent(ctx: CheckContext) -> Verdict:
    r"""Claim 4's per-step form Ψ^{t+1} ≤ Ψ^t − (γ/2)‖∇f(x^t)‖², and its L_AM forms (claims 5-6).

    Ψ^t = f(x^t) − f_low + (γ/(2θ))E^t with (method, γ, E) = (EF21, γ_QM, G), (EF21-W, γ_AM, G_W) and
    (EF21, γ_AM, G̃). Judged as r_t = (γ/2)‖∇f(x^t)‖²/(Ψ^t − Ψ^{t+1} + ε_t) ≤ 1 at every step t of every
    run (:func:`lyapunov_ratio`): measured is the largest fraction of the realised decrease that the
    claim's guaranteed decrease uses.
    """
    configs = []
    for method, step in (("ef21", "qm"), ("ef21w", "am"), ("ef21", "am")):
        configs += [{**c, "T": ctx.pick(1000, c["T"])} for c in _rate_configs(ctx, method, step, datasets=False)]
    seeds = 1
    df = _map_runs(ctx, _lyapunov_rows, configs, seeds=seeds)
    steps = int(df.groupby(["claim", "k", "init", "heterogeneity", "profile", "seed"])["steps"].first().sum())
    by_claim = ", ".join(f"{k.split('.')[1]} {v:.3g}" for k, v in df.groupby("claim")["ratio"].max().items())
    return per_run_verdict("ef21.lyapunov_descent", df, "ratio", "one",
                           f"r_t = (γ/2)‖∇f(x^t)‖²/(Ψ^t − Ψ^{{t+1}} + δ_t), {len(configs) * seeds} runs, {steps} "
                           f"steps; max r_t per Ψ (by the claim of its step): {by_claim}")


# ---------------------------------------------------------------------------------------- claim 7
RUN_KEYS = ["method", "mean", "k", "init", "heterogeneity", "profile"]


def _pl_configs(ctx: CheckContext, pairs: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    return [{**ex.PL_DEFAULTS, "method": m, "mean": mean, "k": k, "init": init, "heterogeneity": z,
             "profile": p, "d": ctx.pick(10, 20), "n_clients": ctx.pick(10, 20),
             "samples_per_client": ctx.pick(30, 50), "T": ctx.pick(1000, 4000)}
            for m, mean in pairs for k in (1, ctx.pick(3, 5)) for init in ("gradient", "zero")
            for p, z in _run_sweep(ctx)]


def pl_ratio(run: ex.PLRun) -> tuple[np.ndarray, np.ndarray]:
    r"""Per T: Ψ^T / ((1 − γμ)^TΨ^0 + δ_T), the claim ⇔ ratio ≤ 1, and the allowance δ_T.

    δ_T = ROUNDING_ULPS·u·(|f(x^T)| + |f*| + (γ/θ)E^T) is the rounding of Ψ^T = (f(x^T) − f*) + (γ/θ)E^T:
    f − f* is a difference of two O(f*) numbers, so once the bound falls below ~u·f* (the linear rate
    reaches the float64 floor within a few thousand rounds) the computed Ψ^T is rounding noise and
    only δ_T can be asserted.
    """
    loss = np.asarray(run.traj.loss, dtype=float)
    rest = run.psi - (loss - run.problem.f_star)  # (γ/θ)E^T
    delta = ROUNDING_ULPS * _U * (np.abs(loss) + abs(run.problem.f_star) + np.abs(rest))
    return run.psi / (run.bound + delta), delta


def _pl_rows(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """Rows T ≥ 1 (T = 0 is Ψ^0 ≤ Ψ^0): log-spaced checkpoints and the worst T."""
    run = ex.run_pl(config, rng)
    ratio, delta = pl_ratio(run)
    worst = 1 + int(np.argmax(ratio[1:]))
    idx = _kept_rounds(int(run.traj.rounds), worst)
    return pd.DataFrame({"round": idx, "psi": run.psi[idx], "bound": run.bound[idx], "rounding": delta[idx],
                         "ratio": ratio[idx], "one": 1.0, "worst": idx == worst, "gamma": run.gamma,
                         "mu": run.mu, "gamma_mu": run.gamma * run.mu, "rounds": int(run.traj.rounds),
                         "resolved": int(np.sum(run.bound > delta)), "H": float(run.problem.heterogeneity)})


def _pl_check(ctx: CheckContext, claim_id: str, pairs: Sequence[tuple[str, str]], label: str) -> Verdict:
    df = _map_runs(ctx, _pl_rows, _pl_configs(ctx, pairs), seeds=2)
    first = df[df["round"] == 1].set_index(["seed", *RUN_KEYS])
    runs = len(first)
    return per_run_verdict(claim_id, df, "ratio", "one",
                           f"{label}: Ψ^T/((1 − γμ)^TΨ^0 + δ_T) at every T ≤ {int(df['rounds'].max())}, "
                           f"{runs} runs, γμ from {df['gamma_mu'].min():.2e} to {df['gamma_mu'].max():.2e}; "
                           f"the bound is above the rounding allowance δ_T on "
                           f"{int(first['resolved'].sum())}/{int((first['rounds'] + 1).sum())} (run, T ≥ 0)")


@register_check("ef21.pl_rate")
def check_pl_rate(ctx: CheckContext) -> Verdict:
    """Claim 7: EF21 with min{1/(L + L_QM√(2β/θ)), θ/(2μ)} on least squares, Ψ with G, every T."""
    return _pl_check(ctx, "ef21.pl_rate", [("ef21", "qm")], "EF21, PL step (L_QM), Ψ with G")


@register_check("ef21.pl_rate_am")
def check_pl_rate_am(ctx: CheckContext) -> Verdict:
    """Claim 7's L_AM analogue: EF21 with G̃ and EF21-W with G_W, step min{1/(L + L_AM√(2β/θ)), θ/(2μ)}."""
    return _pl_check(ctx, "ef21.pl_rate_am", [("ef21", "am"), ("ef21w", "am")],
                     "EF21 (G̃) and EF21-W (G_W), PL step (L_AM)")


# ---------------------------------------------------------------------------------------- claim 8
def _speedup_rows(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """Per K: S_pred − 1 against H − 1, the identity S_pred = γ_AM/γ_QM and S_pred ≥ 1."""
    problem = ex.build_problem(config, rng)
    L, (L_AM, L_QM) = float(problem.L), th.smoothness_means(problem.smoothness)
    H = L_QM / L_AM
    rows = []
    for k in sorted({1, 2, max(1, problem.dim // 4), problem.dim}):
        alpha = k / problem.dim
        S = float(th.predicted_speedup(L, L_QM, L_AM, alpha))
        steps = float(th.step_am(L, L_AM, alpha) / th.step_qm(L, L_QM, alpha))
        rows.append({"k": k, "alpha": alpha, "H": H, "S_pred": S, "gain": S - 1.0, "max_gain": H - 1.0,
                     "identity_err": abs(S - steps) / S, "at_least_one": S >= 1.0})
    return pd.DataFrame(rows)


@register_check("ef21.speedup_prediction")
def check_speedup_prediction(ctx: CheckContext) -> Verdict:
    """Claim 8: 1 ≤ S_pred ≤ H and S_pred = γ_AM/γ_QM on every instance of the ζ sweep and several K.

    measured/bound = (S_pred − 1)/(H − 1), the fraction of the heterogeneity gain the theory steps
    predict (holds ⇔ S_pred ≤ H); S_pred ≥ 1 and the identity (relative error ≤ 1e-12) are required on
    top. The measured speed-up (rounds of EF21 at γ_QM over EF21-W at γ_AM to ‖∇f‖² ≤ 10⁻⁴‖∇f(x^0)‖², the
    ``speedup`` experiment) is reported in the detail next to S_pred; it is not judged, since S_pred is a
    ratio of upper bounds.
    """
    df = _map_runs(ctx, _speedup_rows, _instance_configs(ctx), seeds=1)
    ok_low, ok_id = bool(df["at_least_one"].all()), bool((df["identity_err"] <= IDENTITY_TOL).all())
    verdict = per_run_verdict("ef21.speedup_prediction", df, "gain", "max_gain",
                              f"{len(df)} (instance, K) pairs, H up to {df['H'].max():.3f}; S_pred ≥ 1: "
                              f"{'yes' if ok_low else 'NO'}; S_pred = γ_AM/γ_QM to "
                              f"{df['identity_err'].max():.1e}")
    cfg = {**ex.SPEEDUP_DEFAULTS, "d": 10, "n_clients": 10, "samples_per_client": 20, "k": ctx.pick(2, 1),
           "heterogeneity": list(ctx.pick((0.0, 1000.0), ZETAS["dominant"])), "T": ctx.pick(50_000, 200_000)}
    sp = _map_runs(ctx, ex.speedup_experiment, [cfg], seeds=1)
    measured = ", ".join(
        f"H={r.H:.2f}: {r.measured_speedup:.3f}/{r.predicted_speedup:.3f}"
        + ("" if r.reached_ef21 and r.reached_ef21w else " (target not reached)")
        for r in sp.itertuples())
    return replace(verdict, holds=verdict.holds and ok_low and ok_id,
                   detail=verdict.detail + f"; measured/predicted speed-up, Top{cfg['k']}, d = 10, n = 10 "
                   f"(not judged): {measured}",
                   data=pd.concat([df.assign(part="structural"), sp.assign(part="measured")], ignore_index=True))


# ---------------------------------------------------------------------------------------- claim 9
def _econtrol_rows(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    problem = ex.build_problem(config, rng)
    x0 = rng.standard_normal(problem.dim)
    comp = ex.build_compressor("top", config["k"], problem.dim)
    alpha = float(comp.alpha(problem.dim))
    gamma = config["step_multiplier"] * float(th.step_qm(problem.L, problem.L_QM, alpha))
    T = int(config["T"])
    ef = ex.solve(problem, se.ef21(comp, init="gradient"), gamma, T, x0, 0, None, None)
    ec = ex.solve(problem, se.econtrol(comp, 0.0, init="gradient"), gamma, T, x0, 0, None, None)
    same = ef.rounds == ec.rounds and ef.status == ec.status
    x_diff = float(np.max(np.abs(np.asarray(ef.x) - np.asarray(ec.x)))) if same else math.inf
    scale = max(1.0, float(np.max(np.abs(np.asarray(ef.x)))))
    n = min(ef.rounds, ec.rounds) + 1
    rel = {key: float(np.max(np.abs(getattr(ef, key)[:n] - getattr(ec, key)[:n])
                             / np.maximum(np.abs(getattr(ef, key)[:n]), np.finfo(float).tiny)))
           for key in ("grad_sq", "loss", "G")}
    return pd.DataFrame([{"x_diff": x_diff, "tol": IDENTITY_TOL * scale, "grad_sq_rel_diff": rel["grad_sq"],
                          "loss_rel_diff": rel["loss"], "G_rel_diff": rel["G"], "rounds": int(ef.rounds),
                          "gamma": gamma, "H": float(problem.heterogeneity)}])


@register_check("ef21.econtrol_reduction")
def check_econtrol_reduction(ctx: CheckContext) -> Verdict:
    """Claim 9: EControl with η = 0, h_i^0 = ∇f_i(x^0) against EF21 with g_i^0 = ∇f_i(x^0).

    Same problem, x^0, TopK (K ∈ {1, 3}) and γ (γ_QM and 8γ_QM), H ≈ 1 and a dominant client.
    measured = max |x_EControl − x_EF21| at the last round (the solver keeps the last iterate), bound =
    1e-12·max(1, ‖x‖_∞); every round is compared through f(x^t), ‖∇f(x^t)‖² and the estimator errors
    (EControl's ‖h_i^{t+1} − ∇f_i(x^t)‖² is EF21's G^t), reported in the detail.
    """
    configs = [{**ex.TRAINING_DEFAULTS, "d": 10, "n_clients": 10, "samples_per_client": 20, "k": k,
                "heterogeneity": z, "step_multiplier": m, "T": ctx.pick(300, 2000)}
               for k in (1, 3) for z in (0.0, 100.0) for m in (1.0, 8.0)]
    df = _map_runs(ctx, _econtrol_rows, configs, seeds=ctx.pick(2, 3))
    rel = max(df["grad_sq_rel_diff"].max(), df["loss_rel_diff"].max(), df["G_rel_diff"].max())
    ok = bool(rel <= IDENTITY_TOL)
    verdict = per_run_verdict("ef21.econtrol_reduction", df, "x_diff", "tol",
                              f"{len(df)} runs of {int(df['rounds'].max())} rounds; largest relative difference "
                              f"of f(x^t), ‖∇f(x^t)‖², G^t over every round: {rel:.2e} (≤ 1e-12: "
                              f"{'yes' if ok else 'NO'})")
    return replace(verdict, holds=verdict.holds and ok)
