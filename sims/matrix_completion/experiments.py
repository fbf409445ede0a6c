r"""The matrix-completion experiments (spec ``matrix_completion.md`` §5): F1-F5 as tidy tables.

``boundlab run matrix_completion convergence --set solvers='["exact", "cg3"]'`` runs one of them; the checks
of :mod:`sims.matrix_completion.checks`, the benchmarks of :mod:`sims.matrix_completion.bench` and the figures
call the same functions. Every run draws its instance, its mask Ω and its solver randomness from the run's
generator (three children spawned from it), so the rows of one run that differ only in the solver, method,
δ or trimming rule share the same M and the same Ω (common random numbers), and the same seed gives the
same table. The runner adds the config keys and ``seed`` as leading columns, so no experiment writes a
column named like one of its config keys.

Instance keys shared by every experiment (spec §5 generators): ``m, n, k`` (m ≠ n by default: m = n hides
transposition bugs), ``kappa`` (σ runs from κ to 1), ``spectrum`` (linear | geometric), ``basis``
(gaussian | hadamard | fourier), and the sampling ``ratio`` r (p = r·k(m+n−k)/(mn)) or ``p``.
Solver names (:func:`build_solver`): ``exact``, ``cg<s>`` (e.g. ``cg3``: s warm-started CGLS steps),
``sketch`` (sketch_precond with the config's ``sketch``, ``s_factor``, ``eps0``), ``inject<δ>`` (e.g.
``inject0.1``: exact solves plus a relative error δ), ``inject`` (δ and η from the config).

- ``convergence`` (F2). Keys: instance keys, ``ratio``, ``T``, ``solvers`` (list of names), ``split``,
  ``trim`` (entries | rows | none), ``sketch``, ``s_factor``, ``eps0``, ``delta``, ``eta``, ``tol``. One row
  per solver and round t = 0..rounds (t = 0 is the spectral initialisation): ``solver, round, dist_U,
  dist_V, relF, res_omega, mu_U, mu_V, flops`` (cumulative multiply-adds of the row solves), ``time``
  (cumulative seconds, initialisation included), ``q`` (the run's fitted per-round factor of dist_U,
  :func:`fit_rate`), ``rounds, status, nnz, p_hat, r_hat, mu_star, kappa_star``.
- ``phase`` (F1). Keys: instance keys, ``ratio`` or ``p`` (one of them None), ``methods`` (altmin |
  nuclear, a name or a list: all on the same mask), ``splits`` (a bool or a list), ``solver``, ``T`` (50),
  ``success_tol`` (1e-4), ``nuclear_solver`` (SCS | CLARABEL; nuclear needs m, n ≤ 50). One row per
  (method, split): ``method, split, success`` (relF < success_tol after T rounds), ``relF, rounds, status,
  nnz, p_hat, r_hat, under_rows, under_cols`` (lines with fewer than k observations), ``mu_star``.
- ``runtime`` (F3). Keys: instance keys, ``ratio`` or ``per_line`` (|Ω|/(m+n), one of them None),
  ``solvers``, ``rounds`` (timed rounds from the spectral initialisation), ``sketch``, ``s_factor``,
  ``eps0``. One row per solver and timed round: ``solver, round, time`` (seconds of that round: a V-step
  and a U-step with their QR factorisations, numba compiled beforehand), ``flops`` (of that round),
  ``nnz, r_hat``. Exponents in |Ω| and k are fitted in the figure and in ``bench.time_exponents``.
- ``robustness`` (F4). Keys: instance keys, ``ratio``, ``T``, ``mode`` (delta: inject(δ, 0); eta:
  inject(0, η)), ``values`` (the δ or η), ``tail`` (rounds averaged for the plateau), ``record`` (final |
  rounds). Rows per value (the last round only with ``record="final"``): ``value, round, dist_U, relF,
  res_omega, relF_T`` (relF after the run), ``plateau`` (geometric mean of relF over the last ``tail``
  rounds), ``q, rounds, status``. Runs use tol = 0 and no stagnation stop, so every value runs T rounds.
- ``spiky`` (F5, MC8). Keys: ``m, n, k, sigma_spike, kappa, p, T, solver, success_tol``. One row per run:
  ``observed_11`` ((1, 1) ∈ Ω), ``success, relF, rounds, status, nnz, p_hat, mu_star``.
- ``trimming`` (F5). Keys: instance keys of :func:`~sims.matrix_completion.instances.coherence_dial`
  (``m, n, k, kappa, spectrum, alpha, s``), ``ratio``, ``T``, ``solver``, ``trims`` (list of entries |
  rows | none), ``mu`` (None: the true μ). One row per trimming rule and round: ``trim, round, mu_U,
  mu_V, dist_U, relF, trimmed`` (entries or rows changed by trimming), ``status, mu_star``.
"""

from __future__ import annotations

import functools
import math
import re
import time
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, TypeVar

import numpy as np
import pandas as pd

import solvers.matrix_completion as smc
from sims.matrix_completion import instances as ins
from sims.runner import Experiment, register_experiment
from solvers._checks import check_int, check_positive

__all__ = [
    "CONVERGENCE_DEFAULTS",
    "EXPERIMENTS",
    "FIT_FLOOR",
    "PHASE_DEFAULTS",
    "ROBUSTNESS_DEFAULTS",
    "RUNTIME_DEFAULTS",
    "SOLVER_NAMES",
    "SPIKY_DEFAULTS",
    "SUCCESS_TOL",
    "TRIMMING_DEFAULTS",
    "Run",
    "build_instance",
    "build_solver",
    "convergence_experiment",
    "fit_rate",
    "observe",
    "one_round",
    "phase_experiment",
    "robustness_experiment",
    "run_altmin",
    "runtime_experiment",
    "single_blas",
    "spectral_start",
    "spiky_experiment",
    "timed_rounds",
    "trimming_experiment",
    "truth_of",
    "warm_up",
]

TOPIC = "matrix_completion"
#: Success in the sweeps: relF < SUCCESS_TOL after the run (spec §5).
SUCCESS_TOL = 1e-4
#: The per-round factor q is fitted on the rounds t ≥ 1 before dist(U_t, U*) first falls below this (the
#: floating-point floor of dist is O(u√m) ≈ 1e-14; 1e-11 leaves three decades of margin).
FIT_FLOOR = 1e-11
#: Solver names of the experiments (``cg<s>`` and ``inject<δ>`` take any s ≥ 0 and δ ≥ 0).
SOLVER_NAMES: tuple[str, ...] = ("exact", "cg1", "cg2", "cg3", "sketch", "inject0.1", "inject0.5")

_INSTANCE = {"m": 400, "n": 500, "k": 5, "kappa": 3.0, "spectrum": "linear", "basis": "gaussian"}


# ------------------------------------------------------------------------------------------- building
F = TypeVar("F", bound=Callable[..., Any])


@lru_cache(maxsize=1)
def _controller() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def single_blas(func: F) -> F:
    """Run ``func`` with BLAS/LAPACK limited to one thread.

    Every dense operation here is small (k×k solves, QR of m×2k factors, the SVD of a small zero-filled
    matrix): threads gain nothing, and on the shared two-core machine threaded OpenBLAS competing with
    other processes made a 100×120 SVD 50 times slower. The numba kernels are serial anyway.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _controller().limit(limits=1, user_api="blas"):
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def build_instance(config: dict[str, Any], rng: np.random.Generator) -> ins.Instance:
    """The incoherent instance of a config (keys ``m, n, k, kappa, spectrum, basis``)."""
    return ins.incoherent(config["m"], config["n"], config["k"], config["kappa"], config["spectrum"],
                          config["basis"], rng=rng)


def truth_of(inst: ins.Instance) -> smc.Truth:
    """(U*, V*, σ*) in the solvers' :class:`~solvers.matrix_completion.Truth` order."""
    return smc.Truth(np.asarray(inst.U_star), np.asarray(inst.V_star), np.asarray(inst.sigma))


def observe(inst: ins.Instance, rng: np.random.Generator, *, p: float | None = None, ratio: float | None = None,
            omega: ins.Omega | None = None) -> smc.Observations:
    """Ω from the Bernoulli model (``p`` or ``ratio``), or the given ``omega``, with the values of M on it.

    Raises ValueError when Ω is empty (nothing to complete from).
    """
    if omega is None:
        omega = ins.sample(inst.shape, rng, p=p, ratio=ratio, k=inst.k if ratio is not None else None)
    if omega.rows.size == 0:
        raise ValueError(f"the sample Ω is empty (p = {p}, ratio = {ratio}); raise p or the ratio")
    return smc.observations(omega.rows, omega.cols, inst.entries(omega.rows, omega.cols), inst.shape)


_CG = re.compile(r"cg(\d+)$")
_INJECT = re.compile(r"inject(\d+(?:\.\d*)?(?:e-?\d+)?)$")


def build_solver(name: str, config: dict[str, Any] | None = None) -> smc.Solver:
    """The row solver called ``name`` (see the module docstring), its options read from ``config``.

    ``sketch`` reads ``sketch`` (gaussian | countsketch), ``s_factor`` and ``eps0``; ``inject`` reads
    ``delta`` and ``eta``; ``inject<δ>`` sets δ and η = 0. Randomized solvers take the generator that
    :func:`~solvers.matrix_completion.altmin` passes them.
    """
    config = config or {}
    if not isinstance(name, str):
        raise TypeError(f"solver must be a name (str), got {type(name).__name__}")
    if name == "exact":
        return smc.exact()
    if (hit := _CG.match(name)) is not None:
        return smc.cg(int(hit.group(1)))
    if name == "sketch":
        return smc.sketch_precond(config.get("s_factor", 4), config.get("sketch", "gaussian"),
                                  config.get("eps0", 1e-2))
    if name == "inject":
        return smc.inject(config.get("delta", 0.0), config.get("eta", 0.0))
    if (hit := _INJECT.match(name)) is not None:
        return smc.inject(float(hit.group(1)))
    raise ValueError(f"solver must be 'exact', 'cg<s>', 'sketch', 'inject' or 'inject<δ>', got {name!r}")


def _names(value: Any, what: str) -> list:
    """A config value that may be one item or a list of items, as a non-empty list."""
    items = [value] if isinstance(value, str | bool) or not isinstance(value, Sequence) else list(value)
    if not items:
        raise ValueError(f"{what} must not be empty")
    return items


def _trim(value: Any) -> str | None:
    if value in (None, "none"):
        return None
    if value not in ("entries", "rows"):
        raise ValueError(f"trim must be 'entries', 'rows' or 'none', got {value!r}")
    return value


def _streams(rng: np.random.Generator) -> tuple[np.random.Generator, np.random.Generator, int]:
    """The generators of the instance and of Ω, and the seed of the solvers (shared by the run's variants)."""
    g_inst, g_omega, g_alg = rng.spawn(3)
    return g_inst, g_omega, int(g_alg.integers(2**63))


def fit_rate(dist: np.ndarray, floor: float = FIT_FLOOR) -> float:
    """The per-round factor q = exp(slope) of log dist_t against t, fitted on t = 1, 2, … before the floor.

    Uses the rounds t ≥ 1 up to (not including) the first with dist_t ≤ ``floor``; round 0 (the
    initialisation) is left out. NaN when fewer than two rounds qualify.
    """
    d = np.asarray(dist, dtype=float)
    if d.size < 3:
        return math.nan
    d = d[1:]
    below = np.flatnonzero(~(d > floor))
    d = d[: below[0]] if below.size else d
    if d.size < 2:
        return math.nan
    return float(np.exp(np.polyfit(np.arange(d.size, dtype=float), np.log(d), 1)[0]))


class Run:
    """One AltMin run with what produced it: the instance, Ω, the solver name and the result."""

    __slots__ = ("inst", "obs", "result", "solver")

    def __init__(self, inst: ins.Instance, obs: smc.Observations, solver: str, result: smc.AltMinResult) -> None:
        self.inst, self.obs, self.solver, self.result = inst, obs, solver, result

    @property
    def relF(self) -> float:
        """relF of the returned factors (from the last history entry)."""
        return float(self.result.history.relF[-1])

    @property
    def q(self) -> float:
        """The fitted per-round factor of dist(U_t, U*) (:func:`fit_rate`)."""
        return fit_rate(self.result.history.dist_U)


def run_altmin(inst: ins.Instance, obs: smc.Observations, solver: str, config: dict[str, Any], seed: int, *,
               T: int, split: bool = False, trim: Any = "entries", mu: float | None = None, tol: float = 1e-13,
               patience: int | None = 5) -> Run:
    """AltMin on ``obs`` with the named solver, the truth attached for the diagnostics."""
    res = smc.altmin(obs, inst.k, T=T, solver=build_solver(solver, config), mu=mu, trim=_trim(trim), split=split,
                     rng=np.random.default_rng(seed), truth=truth_of(inst), tol=tol, patience=patience)
    return Run(inst, obs, solver, res)


def _summary(inst: ins.Instance, obs: smc.Observations) -> dict[str, Any]:
    return {"nnz": obs.nnz, "p_hat": obs.p_hat, "r_hat": obs.ratio(inst.k), "mu_star": inst.mu,
            "kappa_star": inst.kappa}


def _ratio_or_p(config: dict[str, Any], other: str = "p") -> None:
    if (config.get("ratio") is None) == (config.get(other) is None):
        raise ValueError(f"give exactly one of ratio and {other} (the other None), got ratio={config.get('ratio')!r},"
                         f" {other}={config.get(other)!r}")


# ------------------------------------------------------------------------------------------- F2
CONVERGENCE_DEFAULTS: dict[str, Any] = {
    **_INSTANCE, "ratio": 8.0, "T": 40, "solvers": list(SOLVER_NAMES), "split": False, "trim": "entries",
    "sketch": "gaussian", "s_factor": 4, "eps0": 1e-2, "delta": 0.1, "eta": 0.0, "tol": 1e-13,
}


@register_experiment(TOPIC, "convergence", CONVERGENCE_DEFAULTS)
@single_blas
def convergence_experiment(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """dist(U_t, U*), dist(V_t, V*), relF, res_Ω, μ, flops and time per round of each solver (F2, MC2, MC3)."""
    T = check_int("T", config["T"], 1)
    solvers = _names(config["solvers"], "solvers")
    for name in solvers:
        build_solver(name, config)  # every name valid before any work
    g_inst, g_omega, seed = _streams(rng)
    inst = build_instance(config, g_inst)
    obs = observe(inst, g_omega, ratio=check_positive("ratio", config["ratio"]))
    parts = []
    for name in solvers:
        run = run_altmin(inst, obs, name, config, seed, T=T, split=bool(config["split"]), trim=config["trim"],
                         tol=check_positive("tol", config["tol"], allow_zero=True))
        h = run.result.history
        df = pd.DataFrame({"solver": name, "round": h.round, "dist_U": h.dist_U, "dist_V": h.dist_V, "relF": h.relF,
                           "res_omega": h.res_omega, "mu_U": h.mu_U, "mu_V": h.mu_V, "flops": h.flops,
                           "time": h.time})
        df["q"], df["rounds"], df["status"] = run.q, run.result.rounds, run.result.status
        parts.append(df)
    out = pd.concat(parts, ignore_index=True)
    for key, value in _summary(inst, obs).items():
        out[key] = value
    return out


# ------------------------------------------------------------------------------------------- F1
PHASE_DEFAULTS: dict[str, Any] = {
    "m": 100, "n": 120, "k": 2, "kappa": 2.0, "spectrum": "linear", "basis": "gaussian", "ratio": 3.0, "p": None,
    "methods": ["altmin"], "splits": [False], "solver": "cg3", "T": 50, "success_tol": SUCCESS_TOL,
    "nuclear_solver": "SCS",
}


@register_experiment(TOPIC, "phase", PHASE_DEFAULTS)
@single_blas
def phase_experiment(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """Success (relF < success_tol after T rounds) of AltMin (and nuclear norm) on one mask (F1, MC1, MC8)."""
    _ratio_or_p(config)
    methods = _names(config["methods"], "methods")
    splits = _names(config["splits"], "splits")
    for method in methods:
        if method not in ("altmin", "nuclear"):
            raise ValueError(f"methods must be 'altmin' or 'nuclear', got {method!r}")
    if "nuclear" in methods and max(config["m"], config["n"]) > smc.baselines.NUCLEAR_MAX:
        raise ValueError(f"methods: 'nuclear' needs m, n ≤ {smc.baselines.NUCLEAR_MAX}, got m={config['m']}, "
                         f"n={config['n']}")
    for split in splits:
        if not isinstance(split, bool):
            raise TypeError(f"splits must be bools, got {split!r}")
    T = check_int("T", config["T"], 1)
    tol = check_positive("success_tol", config["success_tol"])
    build_solver(config["solver"], config)
    g_inst, g_omega, seed = _streams(rng)
    inst = build_instance(config, g_inst)
    obs = observe(inst, g_omega, p=config["p"], ratio=config["ratio"])
    under_rows = int(np.count_nonzero(obs.row_counts < inst.k))
    under_cols = int(np.count_nonzero(obs.col_counts < inst.k))
    rows = []
    for method in methods:
        for split in splits if method == "altmin" else [False]:
            if method == "altmin":
                run = run_altmin(inst, obs, config["solver"], config, seed, T=T, split=split)
                relF, rounds, status = run.relF, run.result.rounds, run.result.status
            else:
                res = smc.nuclear_norm(obs, solver=config["nuclear_solver"])
                relF, rounds, status = res.rel_error(truth_of(inst)), 0, res.status
            rows.append({"method": method, "split": split, "success": bool(relF < tol), "relF": relF,
                         "rounds": rounds, "status": status, "under_rows": under_rows, "under_cols": under_cols,
                         **_summary(inst, obs)})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------- F3
RUNTIME_DEFAULTS: dict[str, Any] = {
    "m": 2000, "n": 2500, "k": 8, "kappa": 2.0, "spectrum": "linear", "basis": "gaussian", "ratio": 6.0,
    "per_line": None, "solvers": ["exact", "cg3", "sketch"], "rounds": 3, "sketch": "countsketch", "s_factor": 4,
    "eps0": 1e-2,
}


@lru_cache(maxsize=1)
def warm_up() -> bool:
    """Compile every numba kernel of the row solvers once (on a tiny problem), so timings exclude it."""
    rng = np.random.default_rng(0)
    inst = ins.incoherent(30, 40, 3, 2.0, rng=rng)
    obs = observe(inst, rng, ratio=4.0)
    U, warmV = spectral_start(obs, 3)
    for name, cfg in (("exact", {}), ("cg2", {}), ("inject0.1", {}), ("sketch", {"sketch": "gaussian", "s_factor": 1}),
                      ("sketch", {"sketch": "countsketch", "s_factor": 1})):
        one_round(build_solver(name, cfg), obs, U, warmV, rng)
    smc.sampled_residual(obs, U, warmV)
    return True


def spectral_start(obs: smc.Observations, k: int) -> tuple[np.ndarray, np.ndarray]:
    """AltMin's untrimmed start: U = Q of the top-k left factor of P_Ω(M)/p̂, and warmV = W·S·Rᵀ."""
    U0, S0, W0 = smc.top_k_svd(obs, k, 1.0 / obs.p_hat)
    U, R0 = np.linalg.qr(U0)
    return U, (W0 * S0[None, :]) @ R0.T


def one_round(solver: smc.Solver, obs: smc.Observations, U: np.ndarray, warmV: np.ndarray,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """One AltMin round exactly as :func:`~solvers.matrix_completion.altmin` does it (V-step, QR, U-step, QR).

    Returns (U, warmV, Uf, flops) of the next round: the new orthonormal U, its warm start V·Ruᵀ, the
    unnormalised U-factor Uf (X = Uf·Vᵀ) and the multiply-adds of the two half-steps.
    """
    sv = solver.solve(obs.transpose(), U, warmV, rng=rng)
    V, Rv = np.linalg.qr(sv.X)
    su = solver.solve(obs, V, U @ Rv.T, rng=rng)
    U_new, Ru = np.linalg.qr(su.X)
    return U_new, V @ Ru.T, su.X, int(sv.flops + su.flops)


def timed_rounds(solver: smc.Solver, obs: smc.Observations, U: np.ndarray, warmV: np.ndarray, rounds: int,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Wall time (s) and multiply-adds of each of ``rounds`` consecutive rounds from (U, warmV)."""
    times, flops = np.empty(rounds), np.empty(rounds, dtype=np.int64)
    for t in range(rounds):
        start = time.perf_counter()
        U, warmV, _, f = one_round(solver, obs, U, warmV, rng)
        times[t], flops[t] = time.perf_counter() - start, f
    return times, flops


@register_experiment(TOPIC, "runtime", RUNTIME_DEFAULTS)
@single_blas
def runtime_experiment(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """Per-round wall time and multiply-adds of each solver at one (m, n, k, |Ω|) (F3, MC7)."""
    _ratio_or_p(config, "per_line")
    rounds = check_int("rounds", config["rounds"], 1)
    solvers = _names(config["solvers"], "solvers")
    built = {name: build_solver(name, config) for name in solvers}
    g_inst, g_omega, seed = _streams(rng)
    inst = build_instance(config, g_inst)
    if config["ratio"] is not None:
        obs = observe(inst, g_omega, ratio=check_positive("ratio", config["ratio"]))
    else:
        m, n = inst.shape
        p = check_positive("per_line", config["per_line"]) * (m + n) / (m * n)
        if p > 1:
            raise ValueError(f"per_line must give p = per_line·(m+n)/(mn) ≤ 1, got p = {p:.3g}")
        obs = observe(inst, g_omega, p=p)
    warm_up()
    U, warmV = spectral_start(obs, inst.k)
    parts = []
    for name, solver in built.items():
        times, flops = timed_rounds(solver, obs, U, warmV, rounds, np.random.default_rng(seed))
        parts.append(pd.DataFrame({"solver": name, "round": np.arange(1, rounds + 1), "time": times, "flops": flops}))
    out = pd.concat(parts, ignore_index=True)
    out["nnz"], out["r_hat"] = obs.nnz, obs.ratio(inst.k)
    return out


# ------------------------------------------------------------------------------------------- F4
ROBUSTNESS_DEFAULTS: dict[str, Any] = {
    **_INSTANCE, "ratio": 8.0, "T": 60, "mode": "delta", "values": [0.001, 0.01, 0.1, 0.3, 0.5, 1.0], "tail": 10,
    "record": "final",
}


@register_experiment(TOPIC, "robustness", ROBUSTNESS_DEFAULTS)
@single_blas
def robustness_experiment(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """relF after T rounds against the injected relative error δ, or the plateau against the absolute η (F4)."""
    mode = config["mode"]
    if mode not in ("delta", "eta"):
        raise ValueError(f"mode must be 'delta' or 'eta', got {mode!r}")
    values = [check_positive("values", v, allow_zero=True) for v in _names(config["values"], "values")]
    T = check_int("T", config["T"], 1)
    tail = check_int("tail", config["tail"], 1)
    if tail > T:
        raise ValueError(f"tail must be ≤ T = {T}, got {tail}")
    if config["record"] not in ("final", "rounds"):
        raise ValueError(f"record must be 'final' or 'rounds', got {config['record']!r}")
    g_inst, g_omega, seed = _streams(rng)
    inst = build_instance(config, g_inst)
    obs = observe(inst, g_omega, ratio=check_positive("ratio", config["ratio"]))
    parts = []
    for value in values:
        cfg = {"delta": value, "eta": 0.0} if mode == "delta" else {"delta": 0.0, "eta": value}
        run = run_altmin(inst, obs, "inject", cfg, seed, T=T, tol=0.0, patience=None)
        h = run.result.history
        df = pd.DataFrame({"value": value, "round": h.round, "dist_U": h.dist_U, "relF": h.relF,
                           "res_omega": h.res_omega})
        df["relF_T"] = run.relF
        df["plateau"] = float(np.exp(np.mean(np.log(np.maximum(h.relF[-tail:], 1e-300)))))
        df["q"], df["rounds"], df["status"] = run.q, run.result.rounds, run.result.status
        parts.append(df.iloc[[-1]] if config["record"] == "final" else df)
    return pd.concat(parts, ignore_index=True)


# ------------------------------------------------------------------------------------------- F5
SPIKY_DEFAULTS: dict[str, Any] = {"m": 60, "n": 80, "k": 3, "sigma_spike": 1.0, "kappa": 1.0, "p": 0.3, "T": 50,
                                  "solver": "cg3", "success_tol": SUCCESS_TOL}


@register_experiment(TOPIC, "spiky", SPIKY_DEFAULTS)
@single_blas
def spiky_experiment(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """AltMin on the spiky instance M = σe₁e₁ᵀ + …: success and whether (1, 1) was observed (F5, MC8)."""
    p = check_positive("p", config["p"])
    T = check_int("T", config["T"], 1)
    tol = check_positive("success_tol", config["success_tol"])
    build_solver(config["solver"], config)
    g_inst, g_omega, seed = _streams(rng)
    inst = ins.spiky(config["m"], config["n"], config["k"], config["sigma_spike"], rng=g_inst,
                     kappa=config["kappa"])
    omega = ins.sample(inst.shape, g_omega, p=p)
    observed = bool(np.any((omega.rows == 0) & (omega.cols == 0)))
    obs = observe(inst, g_omega, omega=omega)
    run = run_altmin(inst, obs, config["solver"], config, seed, T=T)
    return pd.DataFrame([{"observed_11": observed, "success": bool(run.relF < tol), "relF": run.relF,
                          "rounds": run.result.rounds, "status": run.result.status, "nnz": obs.nnz,
                          "p_hat": obs.p_hat, "mu_star": inst.mu}])


TRIMMING_DEFAULTS: dict[str, Any] = {
    "m": 400, "n": 500, "k": 5, "kappa": 3.0, "spectrum": "linear", "alpha": 0.0, "s": 10, "ratio": 3.0, "T": 30,
    "solver": "cg3", "trims": ["entries", "rows", "none"], "mu": None,
}


@register_experiment(TOPIC, "trimming", TRIMMING_DEFAULTS)
@single_blas
def trimming_experiment(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """μ(U_t), μ(V_t), dist and relF per round with each trimming rule on a coherence-dial instance (F5)."""
    trims = _names(config["trims"], "trims")
    for trim in trims:
        _trim(trim)
    T = check_int("T", config["T"], 1)
    mu = None if config["mu"] is None else check_positive("mu", config["mu"])
    build_solver(config["solver"], config)
    g_inst, g_omega, seed = _streams(rng)
    inst = ins.coherence_dial(config["m"], config["n"], config["k"], config["alpha"], config["s"], rng=g_inst,
                              kappa=config["kappa"], spectrum=config["spectrum"])
    obs = observe(inst, g_omega, ratio=check_positive("ratio", config["ratio"]))
    parts = []
    for trim in trims:
        run = run_altmin(inst, obs, config["solver"], config, seed, T=T, trim=trim, mu=mu)
        h = run.result.history
        df = pd.DataFrame({"trim": "none" if trim is None else trim, "round": h.round, "mu_U": h.mu_U,
                           "mu_V": h.mu_V, "dist_U": h.dist_U, "relF": h.relF})
        df["trimmed"], df["status"] = run.result.trimmed, run.result.status
        parts.append(df)
    out = pd.concat(parts, ignore_index=True)
    out["mu_star"] = inst.mu
    return out


#: The experiments of the topic by name (the runner's objects, for the checks and the tests).
EXPERIMENTS: dict[str, Experiment] = {
    name: Experiment(TOPIC, name, func, defaults, (func.__doc__ or "").strip().splitlines()[0])
    for name, func, defaults in (
        ("convergence", convergence_experiment, CONVERGENCE_DEFAULTS),
        ("phase", phase_experiment, PHASE_DEFAULTS),
        ("runtime", runtime_experiment, RUNTIME_DEFAULTS),
        ("robustness", robustness_experiment, ROBUSTNESS_DEFAULTS),
        ("spiky", spiky_experiment, SPIKY_DEFAULTS),
        ("trimming", trimming_experiment, TRIMMING_DEFAULTS),
    )
}
