"""Argument validation shared by the solvers: every error names the argument and the rule it broke."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def check_real(name: str, value: float) -> float:
    """Return ``value`` as a float, or raise (TypeError for a non-number or bool, ValueError if not finite)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


def check_positive(name: str, value: float, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a float, or raise if it is not finite and > 0 (>= 0 with ``allow_zero``)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        rule = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {rule}, got {value!r}")
    return value


def check_vector(name: str, x: np.ndarray, dim: int) -> np.ndarray:
    """Return ``x`` as a finite float vector of length ``dim``, or raise naming ``name``."""
    x = np.asarray(x, dtype=float)
    if x.shape != (dim,):
        raise ValueError(f"{name} must have shape ({dim},), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} must be finite, got non-finite entries")
    return x


def check_int(name: str, value: int, low: int = 1) -> int:
    """Return ``value`` as an int, or raise (TypeError for a non-integer, ValueError below ``low``)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return int(value)


def check_horizon(T: int) -> int:
    """Return ``T`` as an int, or raise if it is not an integer >= 1."""
    return check_int("T", T, 1)


def check_rng(rng: Any, *, allow_none: bool = False) -> Any:
    """``rng`` as a numpy Generator: a Generator as it is, an int seed through ``default_rng``.

    None is returned as None when ``allow_none``; anything else (a bool included) is a TypeError naming ``rng``.
    """
    if isinstance(rng, np.random.Generator) or (allow_none and rng is None):
        return rng
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    allowed = "a numpy Generator, an int seed or None" if allow_none else "a numpy Generator or an int seed"
    raise TypeError(f"rng must be {allowed}, got {type(rng).__name__}")

