"""Argument validation of the SOR solvers; every error names the argument and the rule it broke."""

from __future__ import annotations

import math

import numpy as np

from solvers._checks import check_int, check_positive
from solvers._xp import array_namespace

__all__ = ["check_int", "check_maxiter", "check_omega", "check_omegas", "check_positive", "check_rhs", "check_tol",
           "check_x0", "check_x_inplace", "rhs_and_norm", "rhs_norm"]


def check_omega(omega: float, name: str = "omega") -> float:
    """Return ω as a float, or raise unless it is a real number with 0 < ω < 2 (NaN included)."""
    if isinstance(omega, bool) or not isinstance(omega, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a real number, got {type(omega).__name__}")
    omega = float(omega)
    if not 0.0 < omega < 2.0:  # also false for NaN
        raise ValueError(f"{name} must satisfy 0 < {name} < 2, got {omega!r}")
    return omega


def check_omegas(omegas, name: str = "omegas", *, allow_2d: bool = False) -> np.ndarray:
    """Return a non-empty 1-D (or, with ``allow_2d``, 2-D) float64 array of relaxation parameters in (0, 2)."""
    arr = np.asarray(omegas)
    if arr.dtype.kind not in "fiu" or arr.dtype == bool:
        raise TypeError(f"{name} must be real numbers, got dtype {arr.dtype}")
    arr = np.atleast_1d(arr.astype(np.float64))
    if arr.ndim not in ((1, 2) if allow_2d else (1,)) or arr.size == 0:
        want = "a non-empty 1-D or 2-D array" if allow_2d else "a non-empty 1-D array"
        raise ValueError(f"{name} must be {want}, got shape {np.shape(omegas)}")
    bad = ~((arr > 0.0) & (arr < 2.0))
    if bad.any():
        raise ValueError(f"{name} must lie in (0, 2), got {arr[bad][0]!r}")
    return arr


def check_rhs(b, n: int, name: str = "b", *, batch: bool = False):
    """Return b as a finite float64 vector of length n (numpy or CuPy as given); (T, n) when ``batch``."""
    xp = array_namespace(b)
    if not hasattr(b, "dtype"):
        b = np.asarray(b)
    if b.dtype.kind not in "fiu" or b.dtype == bool:
        raise TypeError(f"{name} must be real, got dtype {b.dtype}")
    b = xp.asarray(b, dtype=xp.float64)
    ok = b.shape == (n,) or (batch and b.ndim == 2 and b.shape[1] == n and b.shape[0] >= 1)
    if not ok:
        want = f"({n},) or (T, {n})" if batch else f"({n},)"
        raise ValueError(f"{name} must have shape {want}, got {b.shape}")
    if not bool(xp.all(xp.isfinite(b))):
        raise ValueError(f"{name} must be finite, got non-finite entries")
    return b


def rhs_and_norm(b, n: int, name: str = "b") -> tuple[np.ndarray, float]:
    """(b, ‖b‖₂) for a numpy right-hand side, checked as in :func:`check_rhs`.

    Fast path for a float64 vector of the right shape: ‖b‖² = b·b is finite iff every entry is (an
    overflow of the square falls through to the full check and a scaled norm).
    """
    from solvers.sor._kernels import sumsq

    if type(b) is np.ndarray and b.dtype == np.float64 and b.shape == (n,) and b.flags.c_contiguous:
        bb = sumsq(b)
        if math.isfinite(bb):
            return b, math.sqrt(bb)
    b = np.ascontiguousarray(check_rhs(b, n, name))
    bb = sumsq(b)
    return b, math.sqrt(bb) if math.isfinite(bb) else float(np.linalg.norm(b))


def check_x0(x0, n: int, xp=np, name: str = "x0"):
    """A fresh float64 copy of the start x0 (zeros when None), checked like b."""
    if x0 is None:
        return xp.zeros(n)
    return xp.array(check_rhs(x0, n, name), dtype=xp.float64, copy=True)


def check_x_inplace(x, n: int, name: str = "x") -> None:
    """x must be a writable, contiguous float64 numpy vector of length n (it is updated in place)."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy array (it is updated in place), got {type(x).__name__}")
    if x.dtype != np.float64:
        raise TypeError(f"{name} must be float64 (it is updated in place), got dtype {x.dtype}")
    if x.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {x.shape}")
    if not (x.flags.writeable and x.flags.c_contiguous):
        raise ValueError(f"{name} must be writable and contiguous (it is updated in place)")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} must be finite, got non-finite entries")


def check_tol(tol: float) -> float:
    """tol > 0, finite."""
    return check_positive("tol", tol)


def check_maxiter(maxiter: int) -> int:
    """An integer ≥ 1."""
    return check_int("maxiter", maxiter, 1)


def rhs_norm(b, xp=np) -> float:
    """‖b‖₂ as a Python float."""
    return float(math.sqrt(float(xp.sum(b * b))))
