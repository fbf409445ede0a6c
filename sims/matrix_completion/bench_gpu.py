r"""GPU-vs-CPU benchmark of the practical matrix completion (``boundlab bench matrix_completion --backend cupy``).

``altmin_round_20000x20000_k20_gpu_vs_cpu``: one AltMin round of :mod:`sims.matrix_completion.practical`
at its GPU scale: m = n = 20000, k = 20, κ = 3, r = 6 (|Ω| ≈ 4.8·10⁶), solver cg(3). One round is the
V-step (three warm-started CGLS steps for each of the n column regressions), its QR, the U-step and its
QR, all from the same spectral start (computed once on the host and copied), so every call does the same
work. Candidate: the round on CuPy arrays (the ``xp`` path of the row solvers: segment sums by
``bincount``, batched small solves); reference: the same round on numpy (numba kernels, one BLAS
thread), 0.6 s on the shared 2-core machine of BENCHMARKS.md. No target: the ratio is reported.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

import solvers.matrix_completion as smc
from sims.bench import Pair, cupy_or_skip, register_benchmark
from sims.matrix_completion import experiments as ex
from sims.matrix_completion.practical import PRACTICAL_DEFAULTS, on_backend, resolve

__all__ = ["bench_instance", "round_workload"]


def bench_instance(**overrides: Any) -> tuple[smc.Observations, np.ndarray, np.ndarray, dict[str, Any]]:
    """(Ω with values, U, warmV of the spectral start, config) at the practical experiment's GPU scale.

    ``overrides`` replace keys of the practical config (e.g. ``m``, ``n``, ``k`` in tests).
    """
    cfg = resolve({**PRACTICAL_DEFAULTS, "scale": "gpu", **overrides})
    g_inst, g_omega, _ = ex._streams(np.random.default_rng(0))
    inst = ex.build_instance(cfg, g_inst)
    obs = ex.observe(inst, g_omega, ratio=cfg["ratio"])
    U, warmV = ex.single_blas(ex.spectral_start)(obs, inst.k)
    return obs, U, warmV, cfg


def round_workload(instance: tuple[smc.Observations, np.ndarray, np.ndarray, dict[str, Any]],
                   xp: ModuleType) -> Callable[[], tuple[Any, Any]]:
    """One AltMin round on namespace ``xp`` from the spectral start of :func:`bench_instance`.

    The call returns (U, warmV) of the next round, as :func:`sims.matrix_completion.experiments.one_round`
    computes them on numpy (the QR factorisations here are those of ``xp``).
    """
    host_obs, U0, warmV0, cfg = instance
    obs = on_backend(host_obs, xp)
    U, warmV = xp.asarray(U0), xp.asarray(warmV0)
    solver = ex.build_solver(cfg["solver"], cfg)

    @ex.single_blas
    def one_round() -> tuple[Any, Any]:
        sv = solver.solve(obs.transpose(), U, warmV)
        V, Rv = xp.linalg.qr(sv.X)
        su = solver.solve(obs, V, U @ Rv.T)
        U_new, Ru = xp.linalg.qr(su.X)
        return U_new, V @ Ru.T

    return one_round


@register_benchmark("matrix_completion", "altmin_round_20000x20000_k20_gpu_vs_cpu",
                    candidate="one AltMin round, cg(3), 20000 × 20000 rank 20, on GPU (CuPy xp path)",
                    reference="the same round on CPU (numba kernels, one BLAS thread)",
                    repeats=3, backend="cupy", target=None)
def _altmin_round() -> Pair:
    xp = cupy_or_skip()
    ex.warm_up()
    instance = bench_instance()
    return round_workload(instance, xp), round_workload(instance, np)
