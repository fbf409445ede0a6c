r"""The practical GPU experiment of matrix completion: a 20000 × 20000 rank-20 matrix by robust AltMin.

``boundlab run matrix_completion practical --set scale=gpu --set backend=cupy`` completes an incoherent
rank-k matrix M = U*Σ*V*ᵀ (Gaussian bases, σ linear from κ to 1) from a Bernoulli sample Ω with
𝔼|Ω| = r·k(m + n − k) by :func:`solvers.matrix_completion.altmin` (spectral initialisation, trimming at
the true μ, warm-started row solves, cg(3) by default) on the arrays of the chosen backend. M is never
formed: the observed values are M_ij = Σ_l U*_il σ_l V*_jl over Ω only (O(|Ω|k)), and relF, dist come
from the factors (:mod:`solvers.matrix_completion.metrics`). The instance, Ω and its values are drawn
and sorted on the host from the run's generator (the three streams of
:mod:`sims.matrix_completion.experiments`, so the instance is that of the other experiments at the same
sizes and seed) and moved to the device once; the numpy and the CuPy run start from the same bits.

**Scales** (:data:`SCALES`): ``quick``, m × n = 600 × 800, k = 5 (well under a second on one CPU core);
``gpu``, the issue's 20000 × 20000, k = 20 (|Ω| ≈ 4.8·10⁶ at r = 6). Both: κ = 3, r = 6, at most 40
rounds, stop at res_Ω < 10⁻¹³.

**Config keys** (:data:`PRACTICAL_DEFAULTS`): ``scale`` (quick | gpu), ``backend`` (numpy | cupy),
``kappa``, ``spectrum`` (linear | geometric), ``basis`` (gaussian | hadamard | fourier), ``ratio`` (r),
``solver`` (a name of :func:`sims.matrix_completion.experiments.build_solver`: ``cg3``, ``exact``, ...),
``tol``, and ``m``, ``n``, ``k``, ``T``: None takes the scale's value, anything else replaces it.

**Columns** (:data:`COLUMNS`), one row per round t = 0..rounds (t = 0 is the spectral initialisation):
``round, relF`` (‖X_t − M‖_F/‖M‖_F), ``dist_U, dist_V, res_omega, flops`` (cumulative multiply-adds of
the row solves), ``wall_time_s`` (cumulative seconds of the run, initialisation included),
``round_time_s`` (seconds of this round; the initialisation at t = 0), ``rounds, status``, the resolved
sizes ``size_m, size_n, rank``, ``nnz, r_hat, mu_star`` and ``device``
(:func:`sims.backend.describe_device`). The times exclude building and moving the instance and a
discarded warm-up run on a 256 × 256 instance (numba's cache load, CuPy's kernel compilation); every
other column is a function of the seed.

References
----------
Y. Gu, Z. Song, J. Yin, L. Zhang, "Low Rank Matrix Completion via Robust Alternating Minimization in
Nearly Linear Time", ICLR 2024, arXiv:2302.11068 (Algorithm 1, Theorem 1.1).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

import solvers.matrix_completion as smc
from sims.matrix_completion import experiments as ex
from sims.matrix_completion import instances as ins
from sims.runner import apply_scale, register_experiment
from solvers._checks import check_int, check_positive

__all__ = ["COLUMNS", "PRACTICAL_DEFAULTS", "SCALES", "on_backend", "practical_experiment", "resolve"]

#: The sizes of each scale.
SCALES: dict[str, dict[str, Any]] = {
    "quick": {"m": 600, "n": 800, "k": 5, "T": 40},
    "gpu": {"m": 20_000, "n": 20_000, "k": 20, "T": 40},
}

PRACTICAL_DEFAULTS: dict[str, Any] = {
    "scale": "quick", "backend": "numpy", "kappa": 3.0, "spectrum": "linear", "basis": "gaussian", "ratio": 6.0,
    "solver": "cg3", "tol": 1e-13, "m": None, "n": None, "k": None, "T": None,
}

#: The columns of the table, in order (the runner puts the config keys and ``seed`` first).
COLUMNS: tuple[str, ...] = ("round", "relF", "dist_U", "dist_V", "res_omega", "flops", "wall_time_s", "round_time_s",
                            "rounds", "status", "size_m", "size_n", "rank", "nnz", "r_hat", "mu_star", "device")

_FIELDS = ("rows", "cols", "values", "row_ptr", "csc_perm", "col_ptr")


def resolve(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` with every None size replaced by the value of its ``scale``."""
    return apply_scale(config, SCALES)


def on_backend(obs: smc.Observations, xp: ModuleType) -> smc.Observations:
    """The same observations with their index and value arrays in namespace ``xp`` (one copy each)."""
    return smc.Observations(obs.shape, *(xp.asarray(getattr(obs, name)) for name in _FIELDS))


def _warm_up(xp: ModuleType, solver: str, config: dict[str, Any]) -> None:
    """A short run on a fixed 256 × 256 instance (sparse SVD path: mn > 40 000), its result discarded."""
    rng = np.random.default_rng(0)
    inst = ins.incoherent(256, 256, 3, 2.0, rng=rng)
    obs = on_backend(ex.observe(inst, rng, ratio=6.0), xp)
    smc.altmin(obs, 3, T=2, solver=ex.build_solver(solver, config), mu=inst.mu, rng=rng)


@register_experiment("matrix_completion", "practical", PRACTICAL_DEFAULTS)
@ex.single_blas
def practical_experiment(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """relF, dist, res_Ω and wall time per AltMin round on a large rank-k instance, on numpy or CuPy."""
    from sims.backend import array_module, check_backend_name, describe_device, synchronize

    cfg = resolve(config)
    m, n, k = check_int("m", cfg["m"]), check_int("n", cfg["n"]), check_int("k", cfg["k"])
    if k > min(m, n):
        raise ValueError(f"k must be <= min(m, n) = {min(m, n)}, got {k}")
    T = check_int("T", cfg["T"])
    ratio = check_positive("ratio", cfg["ratio"])
    tol = check_positive("tol", cfg["tol"], allow_zero=True)
    ex.build_solver(cfg["solver"], cfg)  # a valid name before any work
    backend = check_backend_name(cfg["backend"])
    xp = array_module(backend)  # BackendUnavailable (one line) before any work
    device = describe_device(backend)

    g_inst, g_omega, seed = ex._streams(rng)
    inst = ex.build_instance(cfg, g_inst)
    obs = on_backend(ex.observe(inst, g_omega, ratio=ratio), xp)
    truth = smc.Truth(*(xp.asarray(a) for a in ex.truth_of(inst)))
    _warm_up(xp, cfg["solver"], cfg)
    synchronize(backend)
    res = smc.altmin(obs, k, T=T, solver=ex.build_solver(cfg["solver"], cfg), mu=inst.mu,
                     rng=np.random.default_rng(seed), truth=truth, tol=tol)
    h = res.history
    return pd.DataFrame({
        "round": h.round, "relF": h.relF, "dist_U": h.dist_U, "dist_V": h.dist_V, "res_omega": h.res_omega,
        "flops": h.flops, "wall_time_s": h.time, "round_time_s": np.diff(h.time, prepend=0.0),
        "rounds": res.rounds, "status": res.status, "size_m": m, "size_n": n, "rank": k, "nnz": obs.nnz,
        "r_hat": obs.ratio(k), "mu_star": inst.mu, "device": device})[list(COLUMNS)]
