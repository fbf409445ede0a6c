r"""GPU-vs-CPU benchmark of the practical EF21 experiment (``boundlab bench ef21 --backend cupy``).

``ef21w_round_n10000_d20_gpu_vs_cpu``: one EF21-W round of :mod:`sims.ef21.practical` at its GPU scale:
n = 10⁴ least-squares clients of N = 50 samples in d = 20 (ζ = 10⁴, dominant profile), Top1, step γ_AM.
One round is the server step x ← x − γg, every client's gradient at the new point (two batched products
with the (n, N, d) data) and the compression and update of the (n, d) estimators. Candidate: the round on
CuPy arrays (the array path of :mod:`solvers.ef21.methods`); reference: the same round on numpy (the
fused numba update), 8 ms min, 14 ms median on the shared 2-core machine of BENCHMARKS.md. No target: the ratio is
reported. Both sides start from the same host problem and x⁰.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

from sims.bench import Pair, cupy_or_skip, register_benchmark
from sims.ef21 import experiments as ex
from sims.ef21.practical import PRACTICAL_DEFAULTS, training_configs

__all__ = ["bench_instance", "round_workload"]


def bench_instance(**overrides: Any) -> tuple[Any, np.ndarray, Any, float]:
    """(problem, x⁰, EF21-W method, γ_AM) of the practical experiment's GPU scale, on the host.

    ``overrides`` replace keys of the practical config (e.g. ``n_clients`` in tests).
    """
    cfg = training_configs({**PRACTICAL_DEFAULTS, "scale": "gpu", "methods": ["ef21w"], **overrides})[0]
    rng = np.random.default_rng(0)
    problem = ex.build_problem(cfg, rng)
    x0 = rng.standard_normal(problem.dim)
    compressor = ex.build_compressor("top", cfg["k"], problem.dim)
    method = ex.build_method("ef21w", compressor, problem, "gradient", None)
    return problem, x0, method, ex.theory_step("am", problem, float(compressor.alpha(problem.dim)))


def round_workload(instance: tuple[Any, np.ndarray, Any, float], xp: ModuleType) -> tuple[Callable[[], None], dict]:
    """One EF21-W round on namespace ``xp`` from :func:`bench_instance`'s start, and the box of (x, state).

    Each call advances ``box["x"]`` and ``box["state"]`` by one round, exactly as :func:`solvers.ef21.run` does.
    """
    problem, x0, method, gamma = instance
    problem = problem.to(xp)
    x = xp.asarray(x0)
    box = {"x": x, "state": method.init(problem.client_grads(x))}

    def one_round() -> None:
        x_new = box["x"] - method.direction(box["state"], gamma)
        box["state"] = method.update(box["state"], problem.client_grads(x_new))
        box["x"] = x_new

    return one_round, box


@register_benchmark("ef21", "ef21w_round_n10000_d20_gpu_vs_cpu",
                    candidate="one EF21-W round, 10⁴ clients, on GPU (CuPy array path)",
                    reference="the same round on CPU (numpy products + fused numba update)",
                    backend="cupy", target=None)
def _ef21w_round() -> Pair:
    xp = cupy_or_skip()
    instance = bench_instance()
    return round_workload(instance, xp)[0], round_workload(instance, np)[0]
