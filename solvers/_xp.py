"""The array namespace of the inputs: numpy, or CuPy when any input is a CuPy array.

One namespace per call, never mixed (the POT / scikit-learn convention). CuPy is optional: it is
imported only when an input array comes from it, so a CPU-only install never touches it.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

__all__ = ["array_namespace", "is_cupy", "to_numpy"]


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
