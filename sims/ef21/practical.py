r"""The practical GPU experiment of EF21: EF21 against EF21-W with up to 10⁴ heterogeneous clients.

``boundlab run ef21 practical --set scale=gpu --set backend=cupy`` plays EF21 at its theory step
γ_QM = 1/(L + L_QM ξ) and EF21-W at γ_AM = 1/(L + L_AM ξ) (claims 4 and 5, ``theory.ef21``) with Top-k
compression on one heterogeneous problem, through :func:`solvers.ef21.run` on the arrays of the chosen
backend: the client data (n, N, d) and the per-client estimators g_i, one (n, d) array, live on the
device, and the round loop reads back a few scalars per round (f(x^t) and the stop flags). The problem
(least squares, the PL instance of spec §6, or logistic regression with the non-convex regulariser of
spec §5, on synthetic data) and x⁰ ~ N(0, I_d) are drawn on the host from the run's generator, and the
problem's constants L, L_i, μ are computed there (:mod:`sims.ef21.problems`), so the numpy and the CuPy
run start from the same bits.

Several starting points x⁰_1..x⁰_S (``starts`` = S) are played at once by :func:`solvers.ef21.run_batch`,
with the estimators of all of them in one (S, n, d) array; S = 1 plays :func:`solvers.ef21.run`, and its
x⁰ is the first of any larger S (the same draws).

Smoothness heterogeneity is the ``dominant`` profile by default: client 1's curvature is multiplied by
1 + ζ, which drives H = L_QM/L_AM towards √(n)/2 when ζ ≈ n. The step ratio γ_AM/γ_QM then grows like H
and EF21-W makes visibly more progress per round (claim 8 predicts the speed-up).

**Scales** (:data:`SCALES`): ``quick``, n = 100 clients, ζ = 100, 300 rounds (well under a second on one
CPU core); ``gpu``, the issue's n = 10⁴ clients, ζ = 10⁴, 2000 rounds. Both: N = 50 samples per
client, d = 20, Top1 (α = 1/20).

**Config keys** (:data:`PRACTICAL_DEFAULTS`): ``scale`` (quick | gpu), ``backend`` (numpy | cupy),
``problem`` (least_squares | logistic), ``methods`` (a list of ef21 | ef21w), ``profile`` (dominant |
spread), ``k`` (Top-k), ``noise`` (target noise of least squares, label noise of the synthetic classes),
``lam`` (logistic regulariser λ), ``starts`` (S ≥ 1), ``record`` (log | all, the stored rounds of
:func:`sims.ef21.experiments.record_rounds`), and ``n_clients``, ``samples_per_client``, ``d``,
``heterogeneity`` (ζ) and ``T``: None takes the scale's value, anything else replaces it.

**Columns** (:data:`COLUMNS`), one row per method, start and stored round: ``method``, ``start``
(s = 0..S−1), ``round``, ``grad_sq`` (‖∇f(x^t)‖²), ``loss`` (f(x^t)), ``f_gap`` (f(x^t) − f*, least squares
only, NaN for logistic), ``G`` (G^t for EF21, G_W^t for EF21-W), ``bits_values`` (cumulative uplink bits per
client, 32 per value), ``gamma``, ``H``, ``clients``, ``dim``, ``rounds`` (rounds played), ``status``
(horizon | target | diverged), ``wall_time_s`` (seconds of the whole run of this method, all starts
together, on every row of it), ``round_time_s`` (wall_time_s / the most rounds of a start) and ``device``
(:func:`sims.backend.describe_device`). The times exclude the problem's construction and one discarded
warm-up round (numba's cache load, CuPy's kernel compilation); every other column is a function of the
seed.

References
----------
P. Richtárik, I. Sokolov, I. Fatkhullin, "EF21", NeurIPS 2021, arXiv 2106.05203 (Algorithm 1, Theorem 1).
P. Richtárik, E. Gasanov, K. Burlachenko, "Error Feedback Reloaded", ICLR 2024, arXiv 2402.10774 (EF21-W).
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import pandas as pd

import solvers.ef21 as se
from sims.ef21 import experiments as ex
from sims.runner import apply_scale, register_experiment
from solvers._checks import check_int

__all__ = ["COLUMNS", "PRACTICAL_DEFAULTS", "SCALES", "STEP_OF", "practical_experiment", "resolve", "training_configs"]

#: The sizes of each scale.
SCALES: dict[str, dict[str, Any]] = {
    "quick": {"n_clients": 100, "samples_per_client": 50, "d": 20, "heterogeneity": 100.0, "T": 300},
    "gpu": {"n_clients": 10_000, "samples_per_client": 50, "d": 20, "heterogeneity": 10_000.0, "T": 2000},
}

PRACTICAL_DEFAULTS: dict[str, Any] = {
    "scale": "quick", "backend": "numpy", "problem": "least_squares", "methods": ["ef21", "ef21w"],
    "profile": "dominant", "k": 1, "noise": 0.5, "lam": 0.1, "starts": 1, "record": "log",
    "n_clients": None, "samples_per_client": None, "d": None, "heterogeneity": None, "T": None,
}

#: The columns of the table, in order (the runner puts the config keys and ``seed`` first).
COLUMNS: tuple[str, ...] = ("method", "start", "round", "grad_sq", "loss", "f_gap", "G", "bits_values", "gamma", "H",
                            "clients", "dim", "rounds", "status", "wall_time_s", "round_time_s", "device")

#: The theory step of each method: γ_QM for EF21 (claim 4), γ_AM for EF21-W (claim 5).
STEP_OF: dict[str, str] = {"ef21": "qm", "ef21w": "am"}
_DATASET = {"least_squares": "least_squares", "logistic": "synthetic"}


def resolve(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` with every None size replaced by the value of its ``scale``."""
    return apply_scale(config, SCALES)


def training_configs(config: dict[str, Any]) -> list[dict[str, Any]]:
    """One config of the ``training`` experiment per method (validated there, before any work)."""
    cfg = resolve(config)
    if cfg["problem"] not in _DATASET:
        raise ValueError(f"problem must be one of {sorted(_DATASET)}, got {cfg['problem']!r}")
    methods = [cfg["methods"]] if isinstance(cfg["methods"], str) else list(cfg["methods"])
    if not methods or any(m not in STEP_OF for m in methods):
        raise ValueError(f"methods must be a non-empty list of {sorted(STEP_OF)}, got {cfg['methods']!r}")
    out = []
    for method in methods:
        training = {**ex.TRAINING_DEFAULTS, "dataset": _DATASET[cfg["problem"]], "method": method,
                    "step": STEP_OF[method], "compressor": "top", "tol": None,
                    **{key: cfg[key] for key in ("n_clients", "samples_per_client", "d", "lam", "noise",
                                                 "heterogeneity", "profile", "k", "T", "record")}}
        ex.check_training_config(training)
        out.append(training)
    return out


def _play(problem: Any, method: se.Method, gamma: float, T: int, x0: Any, seed: np.random.SeedSequence) -> list:
    """The trajectories of the S rows of ``x0``: :func:`solvers.ef21.run` for S = 1, else one batched run."""
    if x0.shape[0] == 1:
        return [ex.solve(problem, method, gamma, T, x0[0], seed, None, gamma)]
    return se.run_batch(problem, method, gamma, T, x0=x0, theorem_step=gamma)


@register_experiment("ef21", "practical", PRACTICAL_DEFAULTS)
def practical_experiment(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """EF21 (γ_QM) against EF21-W (γ_AM) on one heterogeneous problem with many clients, with wall times."""
    from sims.backend import array_module, check_backend_name, describe_device, synchronize

    configs = training_configs(config)
    starts = check_int("starts", config["starts"])
    backend = check_backend_name(config["backend"])
    xp = array_module(backend)  # BackendUnavailable (one line) before any work
    device = describe_device(backend)
    problem = ex.build_problem(configs[0], rng)
    x0 = rng.standard_normal((starts, problem.dim))
    seed = np.random.SeedSequence(int(rng.integers(2**63)))
    on_device, x0_device = problem.to(xp), xp.asarray(x0)
    f_star = float(getattr(problem, "f_star", math.nan))
    parts = []
    for cfg in configs:
        compressor = ex.build_compressor("top", cfg["k"], problem.dim)
        method = ex.build_method(cfg["method"], compressor, problem, "gradient", None)
        gamma = ex.theory_step(cfg["step"], problem, float(compressor.alpha(problem.dim)))
        _play(on_device, method, gamma, 1, x0_device, seed)  # warm-up, discarded
        synchronize(backend)
        start = time.perf_counter()
        trajectories = _play(on_device, method, gamma, cfg["T"], x0_device, seed)
        synchronize(backend)
        wall = time.perf_counter() - start
        most = max(max(traj.rounds for traj in trajectories), 1)
        for s, traj in enumerate(trajectories):
            idx = ex.record_rounds(int(traj.rounds), cfg["record"])
            parts.append(pd.DataFrame({
                "method": cfg["method"], "start": s, "round": idx, "grad_sq": traj.grad_sq[idx],
                "loss": traj.loss[idx], "f_gap": traj.loss[idx] - f_star, "G": traj.G[idx],
                "bits_values": traj.bits_values[idx], "gamma": gamma, "H": problem.heterogeneity,
                "clients": problem.n_clients, "dim": problem.dim, "rounds": traj.rounds, "status": traj.status,
                "wall_time_s": wall, "round_time_s": wall / most, "device": device}))
    return pd.concat(parts, ignore_index=True)[list(COLUMNS)]
