r"""GPU-vs-CPU benchmark of the practical convex_relu experiment (``boundlab bench convex_relu --backend cupy``).

``admm_20_iterations_n100000_d20_P64_gpu_vs_cpu``: 20 ADMM iterations on the sampled convex program of
:mod:`sims.convex_relu.practical` at its GPU scale (n = 10⁵ teacher samples, d = 20 with the bias, P = 64
patterns, β = 0.1·β_max, the solver's default ρ). The u-step factor is built once per backend in the
factory, outside the timings, and passed to :func:`solvers.convex_relu.admm`, so each call times the
iterations alone: O(ndP + (dP)²) each. Candidate: CuPy arrays; reference: numpy (one BLAS pool, numba
kernels). No target: the ratio is reported. Both sides solve the same host-drawn program.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

from sims.bench import Pair, cupy_or_skip, register_benchmark
from sims.convex_relu.practical import PRACTICAL_DEFAULTS, practical_instance, resolve
from solvers.convex_relu import admm, default_rho, dense_factor
from solvers.convex_relu.patterns import Patterns

__all__ = ["ITERATIONS", "iterations_workload"]

#: ADMM iterations per timed call.
ITERATIONS = 20


def iterations_workload(xp: ModuleType, **overrides: Any) -> Callable[[], Any]:
    """A call running :data:`ITERATIONS` ADMM iterations on namespace ``xp`` with a factor built once.

    ``overrides`` replace keys of the practical config (e.g. ``n`` in tests).
    """
    cfg = resolve({**PRACTICAL_DEFAULTS, "scale": "gpu", **overrides})
    X, y, patterns, beta = practical_instance(cfg, np.random.default_rng(0))
    Xd, yd = xp.asarray(X), xp.asarray(y)
    pats = Patterns(xp.asarray(patterns.masks), xp.asarray(patterns.generators))
    rho = default_rho(Xd, pats)
    factor = dense_factor(Xd, pats.masks, rho)

    def run() -> Any:
        return admm(Xd, yd, pats, beta, rho=rho, factor=factor, max_iter=ITERATIONS, record_every=ITERATIONS,
                    stall_window=None)

    return run


@register_benchmark("convex_relu", "admm_20_iterations_n100000_d20_P64_gpu_vs_cpu",
                    candidate="20 ADMM iterations, n = 10⁵, on GPU (CuPy)",
                    reference="the same iterations on CPU (numpy + numba)", repeats=3, backend="cupy", target=None)
def _admm_iterations() -> Pair:
    xp = cupy_or_skip()
    return iterations_workload(xp), iterations_workload(np)
