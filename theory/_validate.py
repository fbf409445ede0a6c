"""Argument checks shared by the theory modules (theory imports nothing outside ``theory``)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["as_count", "as_float", "as_matrix", "scalar_or_array"]


def scalar_or_array(x: ArrayLike) -> float | np.ndarray:
    """A 0-d result as a Python float, anything else as a float array."""
    x = np.asarray(x, dtype=float)
    return float(x) if x.ndim == 0 else x


def as_float(name: str, x: ArrayLike, *, above: float | None = None, at_least: float | None = None,
             at_most: float | None = None, why: str = "") -> np.ndarray:
    """``x`` as a finite float array, > ``above``, ≥ ``at_least`` and ≤ ``at_most`` where given.

    TypeError for a bool or a non-number, ValueError naming ``name`` (and the reason ``why``) otherwise.
    """
    if isinstance(x, bool | np.bool_ | str | bytes):
        raise TypeError(f"{name} must be a real number or an array of them, got {type(x).__name__}")
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged input and the like
        raise TypeError(f"{name} must be a real number or an array of them, got {type(x).__name__}") from exc
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise TypeError(f"{name} must be a real number or an array of them, got dtype {arr.dtype}")
    arr = arr.astype(float)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {x!r}")
    if above is not None and np.any(arr <= above):
        raise ValueError(f"{name} must be > {above:g}{why}, got {x!r}")
    if at_least is not None and np.any(arr < at_least):
        raise ValueError(f"{name} must be ≥ {at_least:g}{why}, got {x!r}")
    if at_most is not None and np.any(arr > at_most):
        raise ValueError(f"{name} must be ≤ {at_most:g}{why}, got {x!r}")
    return arr


def as_count(name: str, x: ArrayLike, low: int = 1) -> np.ndarray:
    """``x`` as an array of integers ≥ ``low`` (floats with integral values are accepted)."""
    arr = as_float(name, x, at_least=low)
    if np.any(arr != np.round(arr)):
        raise ValueError(f"{name} must be an integer ≥ {low}, got {x!r}")
    return arr


def as_matrix(name: str, x: ArrayLike) -> np.ndarray:
    """``x`` as a finite 2-D float array; ValueError naming ``name`` otherwise."""
    arr = np.asarray(x, dtype=float)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got non-finite entries")
    return arr
