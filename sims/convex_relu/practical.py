r"""The practical GPU experiment of convex_relu: ADMM on the convex program with up to n = 10⁵ samples.

``boundlab run convex_relu practical --set scale=gpu --set backend=cupy`` trains a two-layer ReLU network
to the optimum of the sampled convex program C(𝒟) (spec §3.1) by :func:`solvers.convex_relu.admm` on the
arrays of the chosen backend. The data (a random ReLU teacher, :func:`sims.convex_relu.data.teacher`), the
P sampled patterns and β = c_β·β_max are drawn and computed on the host from the run's generator, then
moved to the device once, so the numpy and the CuPy runs solve the same program from the same bits. Every
ADMM iterate stays on the device; the loop reads back a few scalars at each recorded iteration.

With dP < n the u-step is the dense one (a dP × dP system, set up once: O(n(dP)²) on the device), so one
iteration costs O(ndP + (dP)²) and scales linearly in n; the Woodbury path's n × n matrix would need
80 GB at n = 10⁵.

**Scales** (:data:`SCALES`): ``quick``, n = 2000, 150 iterations (a second on one CPU core); ``gpu``,
the issue's n = 10⁵, 1000 iterations. Both: d = 20 (bias included), P = 64 sampled patterns, a teacher
of width 5 with noise 0.1, c_β = 0.1.

**Config keys** (:data:`PRACTICAL_DEFAULTS`): ``scale`` (quick | gpu), ``backend`` (numpy | cupy),
``c_beta`` (β = c_β·β_max), ``teacher_width``, ``noise``, ``rho_scale`` (ρ = rho_scale·λ_max(H); None:
the solver's default rule), ``record_every``, and ``n``, ``d``, ``P``, ``iterations``: None takes the
scale's value, anything else replaces it.

**Columns** (:data:`COLUMNS`), one row per recorded iteration: the history of
:class:`solvers.convex_relu.admm.ADMMHistory` (``iteration``, ``objective`` f(v), ``r_pri``, ``r_dual``,
``eps_pri``, ``eps_dual``, ``rho``, ``violation``, ``restored_objective`` (f at v restored to exact
feasibility: an upper bound on f*(𝒟)), ``flops`` and ``time`` (seconds since the start, setup included)),
then ``train_mse`` (of the recovered network at the end, on every row), ``active_groups``, ``status``,
``size_n``, ``size_d``, ``patterns``, ``beta``, ``setup_time_s``, ``wall_time_s``, ``iteration_time_s`` and
``device``. The times run with one BLAS thread on the CPU and exclude the data and pattern draws and one
discarded warm-up run of 2 iterations (numba's cache load, CuPy's kernel compilation); every other column
is a function of the seed.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from sims.convex_relu.data import teacher
from sims.runner import apply_scale, register_experiment
from solvers._checks import check_int, check_positive
from solvers._xp import to_numpy
from solvers.convex_relu import admm, beta_max, sample_patterns
from solvers.convex_relu.operators import lambda_max_H
from solvers.convex_relu.patterns import Patterns

__all__ = ["COLUMNS", "HISTORY", "PRACTICAL_DEFAULTS", "SCALES", "practical_experiment", "practical_instance",
           "resolve"]

#: The sizes of each scale.
SCALES: dict[str, dict[str, Any]] = {
    "quick": {"n": 2000, "d": 20, "P": 64, "iterations": 150},
    "gpu": {"n": 100_000, "d": 20, "P": 64, "iterations": 1000},
}

PRACTICAL_DEFAULTS: dict[str, Any] = {
    "scale": "quick", "backend": "numpy", "c_beta": 0.1, "teacher_width": 5, "noise": 0.1, "rho_scale": None,
    "record_every": 10, "n": None, "d": None, "P": None, "iterations": None,
}

#: The solver's history columns that the table keeps (f* is unknown at these sizes: no gap columns).
HISTORY: tuple[str, ...] = ("iteration", "objective", "r_pri", "r_dual", "eps_pri", "eps_dual", "rho", "violation",
                            "restored_objective", "flops", "time")
#: The columns of the table, in order (the runner puts the config keys and ``seed`` first).
COLUMNS: tuple[str, ...] = (*HISTORY, "train_mse", "active_groups", "status", "size_n", "size_d", "patterns", "beta",
                            "setup_time_s", "wall_time_s", "iteration_time_s", "device")


def resolve(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` with every None size replaced by the value of its ``scale``, validated."""
    cfg = apply_scale(config, SCALES)
    for key, low in (("n", 2), ("d", 2), ("P", 1), ("iterations", 1), ("record_every", 1), ("teacher_width", 1)):
        check_int(key, cfg[key], low)
    check_positive("c_beta", cfg["c_beta"])
    check_positive("noise", cfg["noise"], allow_zero=True)
    if cfg["rho_scale"] is not None:
        check_positive("rho_scale", cfg["rho_scale"])
    return cfg


def practical_instance(cfg: dict[str, Any], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, Patterns,
                                                                                 float]:
    """(X, y, patterns, β) of a resolved config, drawn on the host."""
    data = teacher(cfg["n"], cfg["d"], cfg["teacher_width"], rng, noise=cfg["noise"])
    patterns = sample_patterns(data.X_train, cfg["P"], rng)
    beta = cfg["c_beta"] * beta_max(data.X_train, data.y_train, patterns)
    return data.X_train, data.y_train, patterns, beta


@register_experiment("convex_relu", "practical", PRACTICAL_DEFAULTS)
def practical_experiment(config: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """ADMM on the sampled convex program of a teacher network's data, on the chosen backend, with times."""
    from sims.backend import array_module, check_backend_name, describe_device, synchronize

    cfg = resolve(config)
    backend = check_backend_name(config["backend"])
    xp = array_module(backend)  # BackendUnavailable (one line) before any work
    X, y, patterns, beta = practical_instance(cfg, rng)
    Xd, yd = xp.asarray(X), xp.asarray(y)
    pd_ = Patterns(xp.asarray(patterns.masks), xp.asarray(patterns.generators))
    with threadpool_limits(limits=1, user_api="blas"):  # one BLAS thread, as in every convex_relu experiment
        rho = None if cfg["rho_scale"] is None else cfg["rho_scale"] * lambda_max_H(Xd, pd_.masks)
        admm(Xd, yd, pd_, beta, rho=rho, max_iter=2, stall_window=None)  # warm-up, discarded
        synchronize(backend)
        start = time.perf_counter()
        result = admm(Xd, yd, pd_, beta, rho=rho, max_iter=cfg["iterations"], record_every=cfg["record_every"],
                      stall_window=None)
        synchronize(backend)
        wall = time.perf_counter() - start
    residual = to_numpy(result.network().forward(Xd)) - y
    history = result.history.as_dict()
    table = pd.DataFrame({key: to_numpy(history[key]) for key in HISTORY})
    table = table.assign(train_mse=float(np.mean(residual ** 2)), active_groups=result.active_groups,
                         status=result.status, size_n=cfg["n"], size_d=cfg["d"], patterns=patterns.P, beta=beta,
                         setup_time_s=result.setup_time, wall_time_s=wall,
                         iteration_time_s=(wall - result.setup_time) / max(result.iterations, 1),
                         device=describe_device(backend))
    return table
