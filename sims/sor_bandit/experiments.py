r"""The SOR-tuning experiments (topic ``sor_bandit``): cost curves, bandit runs, regret rates, traces, τ̂ and heat.

Every experiment is ``f(config, rng) -> DataFrame`` of tidy rows (``boundlab run sor_bandit <name> --set key=value``);
the checks (``checks_*.py``) and the figures call the same helpers. Keys shared by several experiments:

- ``N`` (10): grid side of the shifted Laplacians, n = N²;
- ``variance`` ("low" | "high"): B_t ~ Beta(2, 6) or Beta(½, 3/2) in c_t = −0.15 + 0.6·B_t;
- ``T``: number of instances;
- ``stream_seed`` (None | int): None draws the instances from the run's generator (a new stream per seed, as the
  paper's trials); an integer fixes the stream, so that seeds vary only the learners (the expectation of the
  bandit theorems, which hold for every fixed sequence); the table of a fixed stream is computed once per process;
- ``tau`` (None | float): the asymptoticity of the surrogate U; None calibrates τ̂ on a fixed set (shifts
  ``CALIBRATION_SHIFTS`` × ω ∈ [1, 1.95] step 0.05 and ω*(c), one right-hand side each, seed 0), see
  :func:`calibrated_tau`;
- ``eps`` (1e-8), ``maxiter`` (10 000): relative tolerance and cap of every solve.

Learners (spec §3) replay the full-information table of their run: common random numbers across methods.
"Theory" settings are those of the theorems (Tsallis-INF with η = 1/√T on Theorem 2.1's grid
g_i = 1 + (ω_max − 1)i/d and K = log(1/ε)/log(1/α_max)); "faithful" settings are the authors' code (20-point grid
on [1, 1.95], anytime η_t = 2/√t, running-mean normalisation; ChebCB with the code's growing η_t and
L_c = K/width, the value its zero-initialised loss buffer produces; context interval [−0.15, 0.65]).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize

from sims.runner import register_experiment
from sims.sor_bandit.streams import (
    SHIFT_LOW,
    SHIFT_WIDTH,
    HeatStream,
    LaplacianStream,
    dense_laplacian,
    heat_stream,
    laplacian_stream,
    truncated_normal,
)
from sims.sor_bandit.tables import (
    MAXITER,
    TOL,
    CostTable,
    TauCalibration,
    calibrate_tau,
    heat_table,
    laplacian_table,
    merge_grids,
    power_norm,
    single_thread,
)
from solvers._checks import check_int
from solvers.bandits import BinnedContextual, ChebCB, TsallisINF, play
from theory import sor_bandit as th

__all__ = [
    "CALIBRATION_SHIFTS",
    "CONTEXT_LOW",
    "CONTEXT_WIDTH",
    "FAITHFUL_GRID",
    "FIXED_OMEGAS",
    "HEAT_FIXED_OMEGAS",
    "LEARNERS",
    "REGRET_LEARNERS",
    "SETTINGS",
    "StreamTheory",
    "bandit",
    "calibrated_tau",
    "composite_near",
    "cost_vs_omega",
    "divisor_near",
    "fixed_stream",
    "fixed_table",
    "heat",
    "horizons",
    "make_learner",
    "regret_plan",
    "regret_run",
    "regret_vs_T",
    "stream_of",
    "stream_theory",
    "surrogate_matrix",
    "surrogate_min_sum",
    "table_of",
    "tau_beta",
    "tau_of",
    "traces",
]

#: The authors' learner grid: 20 points on [1, 1.95].
FAITHFUL_GRID: np.ndarray = np.round(np.linspace(1.0, 1.95, 20), 12)
#: Fixed-ω baselines of the Laplacian runs (ω = 1 is Gauss–Seidel).
FIXED_OMEGAS: tuple[float, ...] = (1.0, 1.2, 1.4, 1.6, 1.8)
#: Fixed-ω baselines of the heat runs (App. G.2).
HEAT_FIXED_OMEGAS: tuple[float, ...] = (1.0, 1.3, 1.5, 1.75, 1.95)
#: The code's context interval [−0.15, 0.65] for the contextual learners (wider than the support of c).
CONTEXT_LOW, CONTEXT_WIDTH = -0.15, 0.8
#: Shifts of the τ̂ calibration set (spanning the support [−0.15, 0.45] of c_t).
CALIBRATION_SHIFTS: tuple[float, ...] = (-0.15, 0.0, 0.15, 0.3, 0.45)
#: Learner names of the ``bandit`` and ``traces`` experiments.
LEARNERS: tuple[str, ...] = ("tsallis_inf", "tsallis_inf_cb", "chebcb")


# ---------------------------------------------------------------- τ̂, streams and tables
@lru_cache(maxsize=8)
def calibrated_tau(N: int = 10, step: float = 0.05, n_rhs: int = 1, seed: int = 0,
                   shifts: tuple[float, ...] = CALIBRATION_SHIFTS, eps: float = TOL,
                   maxiter: int = MAXITER) -> TauCalibration:
    """τ̂ fitted on shifts × (ω ∈ [1, 1.95] step ``step``, and ω*(c)) × ``n_rhs`` right-hand sides (cached).

    The right-hand sides come from ``default_rng(seed)``, independent of every experiment's stream, so the
    instances of a run are held out from the calibration.
    """
    omegas = np.round(np.arange(1.0, 1.95 + 1e-9, step), 12)
    return calibrate_tau(N, shifts, omegas, n_rhs, np.random.default_rng(seed), tol=eps, maxiter=maxiter)


def tau_of(config: dict[str, Any]) -> float:
    """The config's τ, or the calibrated τ̂ when it is None."""
    if config.get("tau") is not None:
        return float(config["tau"])
    return calibrated_tau(int(config["N"]), eps=float(config["eps"]), maxiter=int(config["maxiter"])).tau_hat


@lru_cache(maxsize=8)
def fixed_stream(variance: str, N: int, T: int, stream_seed: int) -> LaplacianStream:
    """The Generator A stream of ``default_rng(stream_seed)`` (cached: the same object for the same key)."""
    return laplacian_stream(T, np.random.default_rng(stream_seed), N=N, variance=variance)


@lru_cache(maxsize=8)
def fixed_table(variance: str, N: int, T: int, stream_seed: int, grid: tuple[float, ...], eps: float = TOL,
                maxiter: int = MAXITER) -> CostTable:
    """The SOR table of :func:`fixed_stream` on ``grid`` (cached, so that checks and experiments share it)."""
    return laplacian_table(fixed_stream(variance, N, T, stream_seed), np.asarray(grid), tol=eps, maxiter=maxiter)


def stream_of(config: dict[str, Any], rng: np.random.Generator, T: int | None = None) -> LaplacianStream:
    """The run's stream: fixed by ``stream_seed`` or drawn from ``rng``."""
    T = int(config["T"]) if T is None else T
    if config.get("stream_seed") is not None:
        return fixed_stream(str(config["variance"]), int(config["N"]), T, int(config["stream_seed"]))
    return laplacian_stream(T, rng, N=int(config["N"]), variance=config["variance"])


def table_of(config: dict[str, Any], stream: LaplacianStream, grid: np.ndarray) -> CostTable:
    """The table of the run's stream on ``grid`` (from the cache for a fixed stream)."""
    eps, maxiter = float(config["eps"]), int(config["maxiter"])
    if config.get("stream_seed") is not None:
        return fixed_table(str(config["variance"]), int(config["N"]), stream.T, int(config["stream_seed"]),
                           tuple(float(w) for w in merge_grids(grid)), eps, maxiter)
    return laplacian_table(stream, grid, tol=eps, maxiter=maxiter)


# ---------------------------------------------------------------- theory constants of a stream
@dataclass(frozen=True)
class StreamTheory:
    """The constants Theorem 2.1 and its relatives attach to a stream.

    Attributes
    ----------
    tau
        Asymptoticity τ of the surrogates U_t.
    omega_max
        Largest action; Thm 2.1's tuning ω_max = max_t ω*(A_t).
    alphas
        α_t = τ + (1 − τ)·max{β_t², ω_max − 1}, shape (T,).
    lipschitz
        L_t = (1 − τ)log(1/ε)/(α_t log²α_t), the semi-Lipschitz constants of U_t − 1, shape (T,).
    condition
        Whether the derived semi-Lipschitz condition τ + (1 − τ)(ω*_t − 1) ≥ e⁻² holds, shape (T,).
    tuning
        Thm 2.1's K, γ̄, d, α_max and tuned excess.
    """

    tau: float
    omega_max: float
    eps: float
    alphas: np.ndarray
    lipschitz: np.ndarray
    condition: np.ndarray
    tuning: th.Thm21Tuning

    @property
    def K(self) -> float:
        """K = log(1/ε)/log(1/α_max)."""
        return self.tuning.K

    @property
    def grid_size(self) -> int:
        """Thm 2.1's integer grid size, round(d)."""
        return self.tuning.grid_size


def stream_theory(beta: np.ndarray, tau: float, *, eps: float = TOL, omega_max: float | None = None) -> StreamTheory:
    """Thm 2.1's constants for Jacobi radii β_t and asymptoticity τ (ω_max defaults to max_t ω*_t)."""
    beta = np.asarray(beta, dtype=float)
    stars = np.asarray(th.optimal_omega(beta), dtype=float)
    wmax = float(stars.max()) if omega_max is None else float(omega_max)
    alphas = np.asarray(th.alpha_param(beta, tau, wmax), dtype=float)
    lip = np.asarray(th.surrogate_lipschitz(tau, alphas, eps), dtype=float)
    cond = np.asarray(th.semi_lipschitz_condition(tau, stars), dtype=bool)
    return StreamTheory(float(tau), wmax, float(eps), alphas, lip, cond, th.thm21_tuning(beta.size, alphas, eps))


def surrogate_matrix(beta: np.ndarray, omegas: np.ndarray, tau: float, eps: float = TOL) -> np.ndarray:
    """U_t(ω_j) = 1 + log ε/log(ρ_t(ω_j) + τ(1 − ρ_t(ω_j))), shape (T, d)."""
    return np.asarray(th.surrogate_cost(np.asarray(omegas)[None, :], np.asarray(beta)[:, None], tau, eps), dtype=float)


def surrogate_min_sum(beta: np.ndarray, tau: float, omega_max: float, *, low: float = 1e-3, eps: float = TOL,
                      points: int = 2001) -> tuple[float, float]:
    """min over ω ∈ (0, ω_max] of Σ_t U_t(ω), and the minimiser.

    Each U_t decreases on (0, ω*_t], so Σ_t U_t decreases left of min_t ω*_t and the minimum lies in
    [min(min_t ω*_t, ω_max), ω_max]. It is found on a uniform grid of that interval (and ω_max), then refined
    by bounded Brent on the two cells around the best grid point (Σ_t U_t is continuous).
    """
    beta = np.asarray(beta, dtype=float)
    lo = min(float(np.min(th.optimal_omega(beta))), omega_max)
    lo = max(lo, low)
    grid = np.unique(np.append(np.linspace(lo, omega_max, points), omega_max))

    def total(w: np.ndarray | float) -> np.ndarray:
        w = np.atleast_1d(np.asarray(w, dtype=float))
        return surrogate_matrix(beta, w, tau, eps).sum(axis=0)

    vals = total(grid)
    j = int(np.argmin(vals))
    best_w, best = float(grid[j]), float(vals[j])
    a, b = grid[max(j - 1, 0)], grid[min(j + 1, grid.size - 1)]
    if b > a:
        res = optimize.minimize_scalar(lambda w: float(total(w)[0]), bounds=(a, b), method="bounded",
                                       options={"xatol": 1e-10})
        if res.fun < best:
            best_w, best = float(res.x), float(res.fun)
    return best, best_w


def composite_near(d: float, rel: float = 0.1) -> int:
    """The integer within ±max(1, rel·d) of d with the most divisors (the nearest on ties), at least 1.

    Used as the lattice size D, so that the smaller grids of a check nest in Theorem 2.1's grid.
    """
    lo, hi = max(1, math.floor(d - max(1.0, rel * d))), max(1, math.ceil(d + max(1.0, rel * d)))
    cands = np.arange(lo, hi + 1)
    ndiv = np.array([sum(1 for k in range(1, c + 1) if c % k == 0) for c in cands])
    best = cands[ndiv == ndiv.max()]
    return int(best[np.argmin(np.abs(best - d))])


def divisor_near(D: int, target: float) -> int:
    """The divisor of D nearest to ``target`` on a log scale (so that a grid of that size nests in D's)."""
    check_int("D", D, 1)
    divs = np.array([k for k in range(1, D + 1) if D % k == 0])
    return int(divs[np.argmin(np.abs(np.log(divs) - math.log(max(target, 1.0))))])


# ---------------------------------------------------------------- learners
def make_learner(name: str, *, n_arms: int, K: float, horizon: int | None, rng: np.random.Generator,
                 context_low: float = CONTEXT_LOW, context_width: float = CONTEXT_WIDTH, bins: int = 5,
                 degree: int = 5, faithful: bool = False, lipschitz: float | None = None):
    """A learner of the spec's §3 by name.

    - ``tsallis_inf``: Tsallis-INF, η = 1/√T (``horizon`` T) or the anytime rate (``horizon`` None);
      ``faithful``: the authors' learner (η_t = 2/√t, 20 Newton steps, running-mean normalisation);
    - ``tsallis_inf_cb``: Tsallis-INF-CB, ``bins`` bins on [context_low, context_low + context_width], an
      anytime Tsallis-INF per bin (faithful ones with ``faithful``);
    - ``chebcb``: ChebCB of degree ``degree`` with the code's growing η_t; L_c = ``lipschitz`` (default
      K/width, what the code's zero-initialised buffer gives: (max loss − 0)/width).

    K bounds every loss (the learners raise on a larger one); a faithful learner uses it only for that check.
    """
    if name == "tsallis_inf":
        return TsallisINF(n_arms, K, horizon=None if faithful else horizon, rng=rng, faithful=faithful)
    if name == "tsallis_inf_cb":
        if faithful:
            return BinnedContextual(bins, context_low, context_width, _FaithfulBin(n_arms, K), rng=rng)
        return BinnedContextual(bins, context_low, context_width, n_arms=n_arms, K=K, rng=rng)
    if name == "chebcb":
        lip = K / context_width if lipschitz is None else lipschitz
        return ChebCB(n_arms, degree, context_low, context_width, K, lipschitz=lip, rng=rng)
    raise ValueError(f"learner must be one of {LEARNERS}, got {name!r}")


class _FaithfulBin:
    """Bin learner of the faithful Tsallis-INF-CB (a picklable factory)."""

    def __init__(self, n_arms: int, K: float) -> None:
        self.n_arms, self.K = n_arms, K

    def __call__(self, rng: np.random.Generator) -> TsallisINF:
        return TsallisINF(self.n_arms, self.K, rng=rng, faithful=True)


def _check_choice(name: str, value: Any, allowed: Sequence[Any]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)}, got {value!r}")


# ---------------------------------------------------------------- F1: cost vs ω
COST_VS_OMEGA_DEFAULTS: dict[str, Any] = {
    "N": 10, "shifts": [0.0], "omega_min": 1.0, "omega_max": 1.99, "omega_step": 0.01, "eps": TOL,
    "maxiter": MAXITER,
}


@register_experiment("sor_bandit", "cost_vs_omega", COST_VS_OMEGA_DEFAULTS)
def cost_vs_omega(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """F1: SOR count, asymptotic estimate and surrogate U (with τ̂) against ω, per shift c.

    Config: ``N``; ``shifts`` (list of c); the ω grid ``omega_min``..``omega_max`` step ``omega_step`` plus
    ω*(c); ``eps``, ``maxiter``. One right-hand side per shift, from ``rng``.

    Rows (one per c and ω): c, omega, is_omega_star, beta, omega_star, count, capped, rho (Young), rho_eig
    (max |eig C_ω|), asymptotic (log ε/log ρ), norm_root (‖C_ω^{k−1}‖₂^{1/(k−1)}), asymptoticity
    (norm_root − ρ), tau_omega (the τ this entry needs), tau_hat (max over the shift's ω: the τ̂ of the
    figure, fitted on this very b), tau_gap (τ̂(1 − ρ)), surrogate (U(ω) with τ̂).
    """
    from solvers.sor import Stencil5, sor_counts, sor_residual_matrix

    N, eps, maxiter = int(config["N"]), float(config["eps"]), int(config["maxiter"])
    base = np.round(np.arange(float(config["omega_min"]), float(config["omega_max"]) + 1e-9,
                              float(config["omega_step"])), 12)
    frames = []
    for c in config["shifts"]:
        c = float(c)
        beta = float(th.shifted_beta(c, N))
        star = float(th.optimal_omega(beta))
        grid = merge_grids(base, [star])
        b = truncated_normal(1, N * N, rng)[0]
        counts = sor_counts(Stencil5.laplacian(N, c), b, grid, tol=eps, maxiter=maxiter)
        A = dense_laplacian(N, c)
        rho = np.asarray(th.young_radius(grid, beta), dtype=float)
        rho_eig, norms = np.empty(grid.size), np.empty(grid.size)
        with single_thread():
            for j, w in enumerate(grid):
                C = sor_residual_matrix(A, float(w))
                rho_eig[j] = float(np.max(np.abs(np.linalg.eigvals(C))))
                norms[j] = power_norm(C, max(int(counts.iterations[j]) - 1, 0))
        k = counts.iterations.astype(float)
        tau_w = np.asarray(th.tau_required(norms, counts.iterations, rho), dtype=float)
        tau_hat = float(th.tau_hat(norms, counts.iterations, rho))
        root = np.where(k >= 2, norms ** (1.0 / np.maximum(k - 1.0, 1.0)), np.nan)
        frames.append(pd.DataFrame({
            "c": c, "omega": grid, "is_omega_star": np.isclose(grid, star, rtol=0, atol=1e-12), "beta": beta,
            "omega_star": star, "count": counts.iterations, "capped": counts.capped, "rho": rho, "rho_eig": rho_eig,
            "asymptotic": np.asarray(th.asymptotic_estimate(grid, beta, eps), dtype=float), "norm_root": root,
            "asymptoticity": root - rho, "tau_omega": tau_w, "tau_hat": tau_hat, "tau_gap": tau_hat * (1.0 - rho),
            "surrogate": np.asarray(th.surrogate_cost(grid, beta, max(tau_hat, 1e-12), eps), dtype=float)}))
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------- F2: cumulative cost
BANDIT_DEFAULTS: dict[str, Any] = {
    "N": 10, "variance": "low", "T": 5000, "stream_seed": None, "tau": None, "eps": TOL, "maxiter": MAXITER,
    "settings": "faithful", "max_grid": 40, "fixed_omegas": list(FIXED_OMEGAS), "learners": list(LEARNERS),
    "cb_bins": 5, "cheb_degree": 5, "context_low": CONTEXT_LOW, "context_width": CONTEXT_WIDTH,
    "record_every": 50,
}


#: The learner settings of ``bandit`` and ``traces``.
SETTINGS: tuple[str, ...] = ("faithful", "theory", "theory_faithful_grid")


def _learner_setup(config: dict[str, Any], stream: LaplacianStream) -> tuple[np.ndarray, StreamTheory, str]:
    """The learners' grid, the stream's theory constants and the settings label."""
    _check_choice("settings", config["settings"], SETTINGS)
    theory = stream_theory(stream.beta, tau_of(config), eps=float(config["eps"]))
    if config["settings"] != "theory":
        return FAITHFUL_GRID, theory, config["settings"]
    d = min(theory.grid_size, check_int("max_grid", config["max_grid"], 1))
    return th.thm21_grid(theory.omega_max, d), theory, "theory"


def _learner_K(settings: str, theory: StreamTheory, table: CostTable) -> float:
    """K: Thm 2.1's (theory) — raised to the table's largest loss if that exceeds it — or the cap − 1 (faithful)."""
    if settings == "faithful":
        return float(table.maxiter - 1)
    return float(max(theory.K, table.losses.max()))


def _checkpoints(T: int, every: int) -> np.ndarray:
    every = check_int("record_every", every, 1)
    pts = np.arange(every, T + 1, every)
    return pts if pts.size and pts[-1] == T else np.append(pts, T)


@register_experiment("sor_bandit", "bandit", BANDIT_DEFAULTS)
def bandit(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """F2: cumulative SOR iterations against t for fixed ω, comparators and learners on one stream.

    Config (beyond the shared keys): ``settings`` "faithful" (the code's learners on its 20-point grid),
    "theory" (η = 1/√T, Thm 2.1's grid of min(d, ``max_grid``) points on [1, ω_max] and K) or
    "theory_faithful_grid" (η = 1/√T and Thm 2.1's K on the code's 20-point grid); ``fixed_omegas``;
    ``learners`` (subset of ``LEARNERS``); ``cb_bins`` (Tsallis-INF-CB bins); ``cheb_degree``; the contextual
    learners' interval ``context_low``, ``context_width``; ``record_every`` (checkpoint spacing).

    Rows: method, kind ("fixed" | "comparator" | "learner"), omega (fixed ω, best fixed ω; NaN otherwise), t,
    cum_cost (Σ_{s≤t} SOR_s); plus K, grid_size, n_capped (capped solves in the table) and tau_used (τ of U).
    """
    for name in config["learners"]:
        _check_choice("learners", name, LEARNERS)
    T = check_int("T", config["T"], 1)
    stream = stream_of(config, rng)
    grid, theory, settings = _learner_setup(config, stream)
    fixed = np.asarray(config["fixed_omegas"], dtype=float)
    table = table_of(config, stream, merge_grids(grid, fixed))
    learn = table.restrict(grid)
    K = _learner_K(settings, theory, table)
    cps = _checkpoints(T, int(config["record_every"]))
    rows: list[pd.DataFrame] = []

    def add(method: str, kind: str, costs: np.ndarray, omega: float = math.nan) -> None:
        rows.append(pd.DataFrame({"method": method, "kind": kind, "omega": omega, "t": cps,
                                  "cum_cost": np.cumsum(costs)[cps - 1]}))

    for j in table.columns(fixed):
        add(f"ω = {table.omegas[j]:g}", "fixed", table.cost[:, j], float(table.omegas[j]))
    best = learn.best_fixed()
    add("best fixed ω (grid)", "comparator", learn.cost[:, best], float(learn.omegas[best]))
    add("instance-optimal (grid)", "comparator", learn.cost.min(axis=1))
    add("ω*(c_t)", "comparator", table.star_cost)
    streams = rng.spawn(len(config["learners"]))
    for name, g in zip(config["learners"], streams, strict=True):
        learner = make_learner(name, n_arms=learn.d, K=K, horizon=T, rng=g, faithful=settings == "faithful",
                               bins=int(config["cb_bins"]), degree=int(config["cheb_degree"]),
                               context_low=float(config["context_low"]),
                               context_width=float(config["context_width"]))
        run = play(learner, learn.losses, stream.c)
        add(name, "learner", run.losses + 1.0)
    df = pd.concat(rows, ignore_index=True)
    df["K"], df["grid_size"], df["n_capped"], df["tau_used"] = K, learn.d, table.n_capped, theory.tau
    return df


# ---------------------------------------------------------------- F4: action traces
TRACES_DEFAULTS: dict[str, Any] = {**BANDIT_DEFAULTS, "learners": ["tsallis_inf", "chebcb"], "T": 2000,
                                   "with_table": True}


@register_experiment("sor_bandit", "traces", TRACES_DEFAULTS)
def traces(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """F4: ω_t of each learner per round, with the context and the comparators' ω per round.

    Config as ``bandit``, plus ``with_table`` (also return the learners' cost table, for the contour).
    Rows: t, c (the context), method, omega (ω played; the best fixed ω; the instance-optimal grid ω;
    ω*(c_t)), cost (its count); with ``with_table``, method "table" has one row per instance and grid ω.
    """
    for name in config["learners"]:
        _check_choice("learners", name, LEARNERS)
    T = check_int("T", config["T"], 1)
    stream = stream_of(config, rng)
    grid, theory, settings = _learner_setup(config, stream)
    learn = table_of(config, stream, grid)
    K = _learner_K(settings, theory, learn)
    t = np.arange(1, T + 1)
    rows = []
    best = learn.best_fixed()
    inst = learn.instance_optimal()
    rows.append(pd.DataFrame({"t": t, "c": stream.c, "method": "best fixed ω (grid)", "omega": learn.omegas[best],
                              "cost": learn.cost[:, best]}))
    rows.append(pd.DataFrame({"t": t, "c": stream.c, "method": "instance-optimal (grid)",
                              "omega": learn.omegas[inst], "cost": learn.cost[np.arange(T), inst]}))
    rows.append(pd.DataFrame({"t": t, "c": stream.c, "method": "ω*(c_t)", "omega": learn.omega_star,
                              "cost": learn.star_cost}))
    for name, g in zip(config["learners"], rng.spawn(len(config["learners"])), strict=True):
        learner = make_learner(name, n_arms=learn.d, K=K, horizon=T, rng=g, faithful=settings == "faithful",
                               bins=int(config["cb_bins"]), degree=int(config["cheb_degree"]),
                               context_low=float(config["context_low"]),
                               context_width=float(config["context_width"]))
        run = play(learner, learn.losses, stream.c)
        rows.append(pd.DataFrame({"t": t, "c": stream.c, "method": name, "omega": learn.omegas[run.arms],
                                  "cost": run.losses + 1.0}))
    if config["with_table"]:
        rows.append(pd.DataFrame({"t": np.repeat(t, learn.d), "c": np.repeat(stream.c, learn.d), "method": "table",
                                  "omega": np.tile(learn.omegas, T), "cost": learn.cost.ravel().astype(float)}))
    return pd.concat(rows, ignore_index=True)


# ---------------------------------------------------------------- F3: regret vs T
REGRET_DEFAULTS: dict[str, Any] = {
    "N": 10, "variance": "low", "T": 5000, "stream_seed": 0, "tau": None, "eps": TOL, "maxiter": MAXITER,
    "horizons": 5, "T_min": 312, "lattice": None, "fixed_d": None, "cheb_arms": 20, "cheb_degree": 5,
    "learners": ["tsallis_fixed", "tsallis_retuned", "tsallis_cb", "chebcb"],
}

#: F3's learners: (comparator of its regret, the key of its reference slope in ``theory.sor_bandit``).
REGRET_LEARNERS: dict[str, tuple[str, str]] = {
    "tsallis_fixed": ("best arm of its grid", "grid_arm"),
    "tsallis_retuned": ("best fixed ω of the lattice", "fine_grid_retuned"),
    "tsallis_cb": ("instance-optimal ω of the lattice", "contextual_binned"),
    "chebcb": ("instance-optimal ω of the lattice", "chebcb"),
}


def horizons(T: int, count: int, T_min: int) -> np.ndarray:
    """``count`` log-spaced integer horizons from T_min to T (T included)."""
    check_int("horizons", count, 1)
    check_int("T_min", T_min, 1)
    if count == 1 or T_min >= T:
        return np.array([T])
    return np.unique(np.round(np.geomspace(T_min, T, count)).astype(int))


def regret_plan(config: dict[str, Any], stream: LaplacianStream) -> dict[str, Any]:
    """The grids of F3: the lattice thm21_grid(ω_max, D) and, per learner and horizon, (d, m) nested in it.

    D (``lattice``; default: :func:`composite_near` of max{Thm 2.1's d at the full T, (ω_max − 1)/0.01}, a
    spacing of about 0.01) is the finest grid, and the "fine grid" of the continuum comparator; every learner's
    grid is thm21_grid(ω_max, d) with d a divisor of D nearest its tuning, so it is a subset of the lattice and
    one table serves all:

    - tsallis_fixed: d = ``fixed_d`` (default: the divisor of D nearest 20), η = 1/√T_h;
    - tsallis_retuned: d = Thm 2.1's tuning at T_h (∝ T_h^{1/3});
    - tsallis_cb: (d, m) of Thm B.4's tuning at T_h (both ∝ T_h^{1/4}), bins on the support [−0.15, 0.45],
      L_f from Lemma E.1, L̄ the mean semi-Lipschitz constant;
    - chebcb: d ∝ T_h^{2/11} and degree m ∝ T_h^{3/11}, scaled to (``cheb_arms``, ``cheb_degree``) at T.
    """
    T = int(config["T"])
    theory = stream_theory(stream.beta, tau_of(config), eps=float(config["eps"]))
    if config.get("lattice") is None:  # fine: spacing about 0.01, and never coarser than Thm 2.1's grid
        D = composite_near(max(theory.tuning.d, (theory.omega_max - 1.0) / 0.01))
    else:
        D = check_int("lattice", config["lattice"], 1)
    fixed_d = divisor_near(D, 20 if config.get("fixed_d") is None else float(config["fixed_d"]))
    beta_max = float(th.shifted_beta(SHIFT_LOW, int(config["N"])))
    L_f = float(th.lemma_e1_constant(beta_max, 4.0, SHIFT_LOW))
    plan: dict[str, Any] = {"theory": theory, "D": D, "lattice": th.thm21_grid(theory.omega_max, D), "rows": []}
    for Th in horizons(T, int(config["horizons"]), int(config["T_min"])):
        Th = int(Th)
        sub = stream_theory(stream.beta[:Th], theory.tau, eps=theory.eps, omega_max=theory.omega_max)
        cb = th.thm_b4_tuning(theory.K, Th, SHIFT_WIDTH, L_f, theory.omega_max - 1.0, float(sub.lipschitz.mean()))
        scale = Th / T
        plan["rows"] += [
            ("tsallis_fixed", Th, fixed_d, 0),
            ("tsallis_retuned", Th, divisor_near(D, sub.tuning.d), 0),
            ("tsallis_cb", Th, divisor_near(D, cb.d), max(1, round(cb.m))),
            ("chebcb", Th, divisor_near(D, int(config["cheb_arms"]) * scale ** (2.0 / 11.0)),
             max(1, round(int(config["cheb_degree"]) * scale ** (3.0 / 11.0)))),
        ]
    return plan


def regret_run(name: str, table: CostTable, grid: np.ndarray, Th: int, m: int, K: float, rng: np.random.Generator,
               context: np.ndarray) -> tuple[float, float, float]:
    """One F3 run on the first Th rounds: (regret, learner's Σ cost, comparator's Σ cost)."""
    head = table.head(Th)
    sub = head.restrict(grid)
    if name == "tsallis_fixed" or name == "tsallis_retuned":
        learner = TsallisINF(sub.d, K, horizon=Th, rng=rng)
    elif name == "tsallis_cb":
        learner = BinnedContextual(m, SHIFT_LOW, SHIFT_WIDTH, n_arms=sub.d, K=K, rng=rng)
    else:
        learner = ChebCB(sub.d, m, CONTEXT_LOW, CONTEXT_WIDTH, K, lipschitz=K / CONTEXT_WIDTH, rng=rng)
    run = play(learner, sub.losses, context[:Th])
    cost = float(run.losses.sum() + Th)
    if name == "tsallis_fixed":
        comp = float(sub.totals().min())
    elif name == "tsallis_retuned":
        comp = float(head.totals().min())
    else:
        comp = float(head.cost.min(axis=1).sum())
    return cost - comp, cost, comp


@register_experiment("sor_bandit", "regret_vs_T", REGRET_DEFAULTS)
def regret_vs_T(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """F3: regret at log-spaced horizons T_h of each learner against its comparator (see :func:`regret_plan`).

    Config (beyond the shared keys; ``stream_seed`` defaults to 0: the seeds vary the learners): ``horizons``
    (how many T_h), ``T_min``, ``lattice`` (D), ``fixed_d``, ``cheb_arms``, ``cheb_degree``, ``learners``.
    K = Thm 2.1's log(1/ε)/log(1/α_max) (raised to the table's largest loss if that is larger).

    Rows: learner, comparator, reference (the theory's slope), horizon, d, m, regret, cost, comparator_cost,
    K, lattice_size (D), n_capped.
    """
    for name in config["learners"]:
        _check_choice("learners", name, tuple(REGRET_LEARNERS))
    stream = stream_of(config, rng)
    plan = regret_plan(config, stream)
    theory = plan["theory"]
    table = table_of(config, stream, plan["lattice"])
    K = float(max(theory.K, table.losses.max()))
    rows = []
    for name, Th, d, m in plan["rows"]:
        if name not in config["learners"]:
            continue
        grid = th.thm21_grid(theory.omega_max, d)
        regret, cost, comp = regret_run(name, table, grid, Th, m, K, rng.spawn(1)[0], stream.c)
        comparator, key = REGRET_LEARNERS[name]
        rows.append({"learner": name, "comparator": comparator, "reference": th.regret_slope(key), "horizon": Th,
                     "d": d, "m": m, "regret": regret, "cost": cost, "comparator_cost": comp})
    df = pd.DataFrame(rows)
    df["K"], df["lattice_size"], df["n_capped"] = K, plan["D"], table.n_capped
    return df


# ---------------------------------------------------------------- F5: τ̂ and β against c
TAU_BETA_DEFAULTS: dict[str, Any] = {"N": 10, "c_min": -0.15, "c_max": 0.45, "points": 13, "omega_step": 0.01,
                                     "omega_high": 1.9, "eps": TOL, "maxiter": MAXITER}


@register_experiment("sor_bandit", "tau_beta", TAU_BETA_DEFAULTS)
def tau_beta(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """F5: τ̂ (fitted on ω ∈ [1, ``omega_high``] step ``omega_step`` and ω*(c), one b per c) and β against c.

    Rows: c, beta, beta_sq, tau_hat, omega_star, sufficient (the paper's condition τ ≥ e⁻² or β² ≥ 4e⁻²(1−e⁻²)),
    condition (the derived τ + (1−τ)(ω* − 1) ≥ e⁻²), e_minus_2, paper_threshold (4e⁻²(1 − e⁻²)).
    """
    N = int(config["N"])
    shifts = np.linspace(float(config["c_min"]), float(config["c_max"]), check_int("points", config["points"], 1))
    omegas = np.round(np.arange(1.0, float(config["omega_high"]) + 1e-9, float(config["omega_step"])), 12)
    rows = []
    for c in shifts:
        cal = calibrate_tau(N, [float(c)], omegas, 1, rng, tol=float(config["eps"]), maxiter=int(config["maxiter"]))
        beta = float(th.shifted_beta(c, N))
        star = float(th.optimal_omega(beta))
        tau = min(max(cal.tau_hat, 1e-12), 1.0 - 1e-12)
        rows.append({"c": float(c), "beta": beta, "beta_sq": beta * beta, "tau_hat": cal.tau_hat, "omega_star": star,
                     "sufficient": bool(th.semi_lipschitz_sufficient(tau, beta)),
                     "condition": bool(th.semi_lipschitz_condition(tau, star)), "e_minus_2": th.E_MINUS_2,
                     "paper_threshold": th.PAPER_BETA2_THRESHOLD})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- F6: heat
HEAT_DEFAULTS: dict[str, Any] = {
    "nx": 25, "T": 5000, "eps": TOL, "maxiter": MAXITER, "fixed_omegas": list(HEAT_FIXED_OMEGAS),
    "cb_bins": 6, "cheb_degree": 5, "learners": list(LEARNERS),
}


@lru_cache(maxsize=4)
def _heat_problem(nx: int, T: int, grid: tuple[float, ...], eps: float, maxiter: int) -> tuple[HeatStream, CostTable]:
    """The heat stream and its SSOR-PCG table: deterministic, so built once per process and shared by the
    seeds, which differ only in the learners' draws."""
    stream = heat_stream(nx, T)
    return stream, heat_table(stream, np.asarray(grid), tol=eps, maxiter=maxiter)


@register_experiment("sor_bandit", "heat", HEAT_DEFAULTS)
def heat(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """F6: total SSOR-PCG iterations of each method over T heat steps at one resolution n_x.

    The table holds SSOR-PCG counts on the 20-point grid ∪ ``fixed_omegas`` along the exact trajectory (warm
    start u_k), and the CG baseline. Learners are the code's (faithful Tsallis-INF, Tsallis-INF-CB with
    ``cb_bins`` bins and ChebCB with ``cheb_degree`` + 1 features, context κ(t_k) on [min κ, max κ]).

    Rows: nx, n, method, kind, omega, total (Σ_k iterations), n_capped.
    """
    for name in config["learners"]:
        _check_choice("learners", name, LEARNERS)
    fixed = np.asarray(config["fixed_omegas"], dtype=float)
    stream, table = _heat_problem(check_int("nx", config["nx"], 3), check_int("T", config["T"], 1),
                                  tuple(merge_grids(FAITHFUL_GRID, fixed)), float(config["eps"]),
                                  int(config["maxiter"]))
    learn = table.restrict(FAITHFUL_GRID)
    lo, hi = stream.context_range
    K = float(table.maxiter)  # a PCG count from a warm start can be 0, so the loss is the count itself
    rows = [{"method": "CG", "kind": "baseline", "omega": math.nan, "total": float(table.baseline_cost.sum())}]
    for j in table.columns(fixed):
        rows.append({"method": f"ω = {table.omegas[j]:g}", "kind": "fixed", "omega": float(table.omegas[j]),
                     "total": float(table.cost[:, j].sum())})
    best = learn.best_fixed()
    rows.append({"method": "best fixed ω (grid)", "kind": "comparator", "omega": float(learn.omegas[best]),
                 "total": float(learn.totals()[best])})
    rows.append({"method": "instance-optimal (grid)", "kind": "comparator", "omega": math.nan,
                 "total": float(learn.cost.min(axis=1).sum())})
    for name, g in zip(config["learners"], rng.spawn(len(config["learners"])), strict=True):
        learner = make_learner(name, n_arms=learn.d, K=K, horizon=None, rng=g, faithful=True,
                               bins=int(config["cb_bins"]), degree=int(config["cheb_degree"]), context_low=lo,
                               context_width=hi - lo)
        run = play(learner, learn.cost.astype(float), stream.context)
        rows.append({"method": name, "kind": "learner", "omega": math.nan, "total": float(run.losses.sum())})
    df = pd.DataFrame(rows)
    df.insert(0, "n", stream.n)
    df["n_capped"] = table.n_capped
    return df
