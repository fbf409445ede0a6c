"""Benchmarks of one forward SOR sweep (``boundlab bench sor_bandit``).

The 5-point Laplacian P_N with N = 1000 (n = 10⁶ unknowns, 4 996 000 stored entries, int32 indices), one
forward sweep x ← x + (D/ω + L)⁻¹(b − Ax) at ω = 1.5, b ~ N(0, I) from a fixed seed:

- ``sweep_csr_n1e6_vs_pyamg``: our CSR kernel (:func:`solvers.sor.sor_sweep_csr`) against PyAMG's
  ``pyamg.relaxation.relaxation.sor(A, x, b, ω, iterations=1, sweep="forward")`` (C++), a true SOR from
  PyAMG 5.3.0 on (issue #410: up to 5.2.1 it was Gauss–Seidel followed by extrapolation). Target: speed-up
  ≥ 1. Without PyAMG ≥ 5.3.0 installed the report lists it as skipped, with the reason.
- ``sweep_csr_n1e6_vs_read``: the same sweep against one pass of reading the CSR arrays: a numba kernel
  (:func:`read_pass`) that reads indptr, indices and data once and gathers x at every stored column,
  s = Σ_ij a_ij x_j, without writing anything: the memory traffic a sweep cannot avoid, less b, the
  diagonal and the write-back of x. Target: sweep ≤ 3× that time (speed-up ≥ 1/3).
- ``sweep_stencil_n1e6_vs_csr``: the matrix-free 5-point kernel (:func:`solvers.sor.sor_sweep_stencil`)
  against our CSR sweep. Target: speed-up > 1.

Each callable sweeps its own iterate in place, so repeats keep sweeping (the time of a sweep does not
depend on the values).
"""

from __future__ import annotations

import numba
import numpy as np

from sims.bench import BenchmarkUnavailable, Pair, register_benchmark
from solvers.sor import Stencil5, laplacian_2d, prepare, sor_sweep_csr, sor_sweep_stencil

__all__ = ["OMEGA", "PYAMG_MIN", "N", "pyamg_sor", "read_pass"]

N = 1000
OMEGA = 1.5
PYAMG_MIN = (5, 3, 0)


@numba.njit(cache=True)
def read_pass(indptr, indices, data, x):
    """s = Σ_i Σ_p data[p]·x[indices[p]]: one read of indptr, indices and data and a gather of x, no writes."""
    s = 0.0
    for i in range(indptr.shape[0] - 1):
        for p in range(indptr[i], indptr[i + 1]):
            s += data[p] * x[indices[p]]
    return s


def _problem():
    A = laplacian_2d(N)
    op = prepare(A)
    b = np.random.default_rng(0).standard_normal(N * N)
    return A, op, b


def _csr_sweep(op, b):
    x = np.zeros(op.n)

    def run():
        sor_sweep_csr(op.indptr, op.indices, op.data, op.diag, b, x, OMEGA)

    return run


def pyamg_sor():
    """PyAMG's SOR, or None (and the reason) when PyAMG is missing or older than 5.3.0."""
    try:
        import pyamg
        from pyamg.relaxation.relaxation import sor
    except ImportError:
        return None, "PyAMG is not installed (pip install 'pyamg>=5.3')"
    version = tuple(int(p) for p in pyamg.__version__.split("+")[0].split(".")[:3] if p.isdigit())
    if version < PYAMG_MIN:
        return None, (f"PyAMG {pyamg.__version__} is older than 5.3.0: its sor() is Gauss–Seidel followed by "
                      "extrapolation, not SOR (pyamg issue #410)")
    return sor, ""


@register_benchmark("sor_bandit", "sweep_csr_n1e6_vs_pyamg", candidate="numba CSR SOR sweep",
                    reference="pyamg.relaxation.relaxation.sor, forward, 1 sweep", target=1)
def _vs_pyamg() -> Pair:
    pyamg_sweep, why = pyamg_sor()
    if pyamg_sweep is None:
        raise BenchmarkUnavailable(why)
    A, op, b = _problem()
    x_ref = np.zeros(op.n)

    def reference():
        pyamg_sweep(A, x_ref, b, OMEGA, iterations=1, sweep="forward")

    return _csr_sweep(op, b), reference


@register_benchmark("sor_bandit", "sweep_csr_n1e6_vs_read", candidate="numba CSR SOR sweep",
                    reference="one read pass over the CSR arrays and x (speed-up ≥ 1/3: within 3x)", target=1 / 3)
def _vs_read() -> Pair:
    _, op, b = _problem()
    x = np.random.default_rng(1).standard_normal(op.n)
    return _csr_sweep(op, b), lambda: read_pass(op.indptr, op.indices, op.data, x)


@register_benchmark("sor_bandit", "sweep_stencil_n1e6_vs_csr", candidate="numba 5-point stencil SOR sweep",
                    reference="numba CSR SOR sweep", target=1)
def _stencil_vs_csr() -> Pair:
    _, op, b = _problem()
    S = Stencil5.laplacian(N)
    x = np.zeros(S.n)

    def candidate():
        sor_sweep_stencil(S.center, S.off, S.N, b, x, OMEGA)

    return candidate, _csr_sweep(op, b)
