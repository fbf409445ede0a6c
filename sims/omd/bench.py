"""Benchmarks of the OMD solvers: numba kernels against the numpy init/update loop."""

from __future__ import annotations

import numpy as np

import solvers.omd as so
from sims.bench import Pair, register_benchmark
from sims.omd import checkpoints, make_stream, trajectory_metrics

_T = 2**15


def _stream(family: str = "quadratic"):
    return make_stream(family, _T, 10, np.random.default_rng(0), rho=0.5)


@register_benchmark("omd", "optimistic_omd_T32768_d10", candidate="numba kernel",
                    reference="numpy init/update loop")
def _optimistic_omd() -> Pair:
    stream = _stream()
    method = so.optimistic_omd(so.Ball(10), so.convex_adaptive(stream.D, stream.G))
    return (lambda: so.run(method, stream.losses, backend="numba"),
            lambda: so.run(method, stream.losses, backend="numpy"))


@register_benchmark("omd", "oftrl_T32768_d10", candidate="numba kernel",
                    reference="numpy init/update loop")
def _oftrl() -> Pair:
    stream = _stream()
    method = so.oftrl(so.Ball(10), nu=stream.D * stream.G + stream.L * stream.D**2)
    return (lambda: so.run(method, stream.losses, backend="numba"),
            lambda: so.run(method, stream.losses, backend="numpy"))


@register_benchmark("omd", "hedge_T32768_d10", candidate="numba kernel",
                    reference="numpy init/update loop")
def _hedge() -> Pair:
    stream = _stream("linear")
    method = so.optimistic_hedge(so.Simplex(10))
    return (lambda: so.run(method, stream.losses, backend="numba"),
            lambda: so.run(method, stream.losses, backend="numpy"))


@register_benchmark("omd", "regret_metrics_T32768_d10",
                    candidate="vectorised trajectory_metrics (numba run)",
                    reference="numpy reference run + the same metrics")
def _metrics() -> Pair:
    stream = _stream()
    method = so.optimistic_omd(so.Ball(10), so.convex_adaptive(stream.D, stream.G))
    cps = checkpoints(_T)
    return (lambda: trajectory_metrics(stream, so.run(method, stream.losses), cps),
            lambda: trajectory_metrics(stream, so.run(method, stream.losses, backend="numpy"),
                                       cps))
