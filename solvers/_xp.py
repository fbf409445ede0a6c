"""The array namespace of the inputs: numpy, or CuPy when any input is a CuPy array.

One namespace per call, never mixed (the POT / scikit-learn convention). CuPy is optional: it is
imported only when an input array comes from it, so a CPU-only install never touches it.

The generic ("xp") code paths of the solvers are written with the operations numpy and CuPy share
(elementwise ufuncs, reductions, ``take_along_axis``, ``argsort``, ``bincount``, batched ``linalg``);
on numpy they run on the CPU and are what the tests compare with the numba kernels, on CuPy they run
on the device. Elementwise chains give the same bits on both (each ufunc is one IEEE-rounded kernel);
reductions may not (CuPy sums in a tree), which is why :func:`seqsum` exists. ``cupy.bincount`` reads
the minimum and the maximum of its input on the host (two synchronisations); :func:`bincount` is the
sync-free version for indices known to be in range.
"""

from __future__ import annotations

import functools
from types import ModuleType

import numpy as np

__all__ = ["array_namespace", "bincount", "is_cupy", "seqsum", "to_numpy"]


def is_cupy(x: object) -> bool:
    """True when ``x`` is a CuPy array (checked without importing CuPy)."""
    return type(x).__module__.startswith("cupy")


def array_namespace(*arrays: object) -> ModuleType:
    """``cupy`` if any argument is a CuPy array, else ``numpy``."""
    if any(is_cupy(a) for a in arrays):
        import cupy

        return cupy
    return np


def to_numpy(x: object) -> np.ndarray:
    """A host (numpy) copy of ``x``; numpy arrays are returned as they are."""
    return x.get() if is_cupy(x) else np.asarray(x)


def seqsum(x, axis: int = -1):
    """Σ along ``axis`` in index order: (((x₀ + x₁) + x₂) + …).

    On numpy this is the last entry of ``cumsum``, a serial loop, so it reproduces a numba kernel's
    ``s += x[i]`` bit for bit (``numpy.sum`` is pairwise and may differ in the last bits). On CuPy the
    scan is parallel and the result is the same sum to rounding.
    """
    xp = array_namespace(x)
    return xp.moveaxis(xp.cumsum(x, axis=axis), axis, -1)[..., -1]


@functools.cache
def _cupy_bincount_kernels():  # pragma: no cover - needs CuPy
    import cupy

    count = cupy.ElementwiseKernel("S x", "raw U bins", "atomicAdd(&bins[x], U(1))", "boundlab_bincount")
    weighted = cupy.ElementwiseKernel("S x, T w", "raw U bins", "atomicAdd(&bins[x], (U)w)",
                                      "boundlab_bincount_weighted")
    return count, weighted


def bincount(x, weights=None, *, minlength: int):
    """``numpy.bincount(x, weights, minlength)`` for a 1-D integer ``x`` with every entry in [0, minlength).

    numpy arrays go to ``numpy.bincount``. On CuPy the counts (int64) or weighted sums (float64) are
    accumulated by one atomic-add kernel into ``minlength`` bins, without the host reads with which
    ``cupy.bincount`` checks the range and sizes its output (the caller guarantees the range). Atomic
    float additions land in an unspecified order, so weighted sums on CuPy agree with numpy to rounding.
    """
    if not is_cupy(x):
        return np.bincount(x, weights=weights, minlength=minlength)
    import cupy  # pragma: no cover - needs CuPy

    count, weighted = _cupy_bincount_kernels()  # pragma: no cover
    if weights is None:  # pragma: no cover
        out = cupy.zeros(minlength, dtype=cupy.int64)
        count(x, out)
        return out
    out = cupy.zeros(minlength, dtype=cupy.float64)  # pragma: no cover
    weighted(x, weights.astype(cupy.float64, copy=False), out)
    return out
