"""Argument validation of the convex ReLU solvers; every error names the argument and the rule it broke.

All checks run before any work. Arrays keep their namespace (numpy or CuPy, as given).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from solvers._checks import check_int, check_positive
from solvers._xp import array_namespace

__all__ = ["check_beta", "check_data", "check_eps", "check_gamma", "check_int", "check_loss", "check_patterns",
           "check_positive", "check_rho", "check_weights"]

LOSS_NAMES = ("squared", "hinge")


def check_loss(loss: Any) -> str:
    """``loss`` as one of ``"squared"``, ``"hinge"``, or a ValueError/TypeError naming ``loss``."""
    if not isinstance(loss, str):
        raise TypeError(f"loss must be a string ('squared' or 'hinge'), got {type(loss).__name__}")
    if loss not in LOSS_NAMES:
        raise ValueError(f"loss must be 'squared' or 'hinge', got {loss!r}")
    return loss


def _as_real_array(name: str, a: Any) -> Any:
    xp = array_namespace(a)
    if not hasattr(a, "dtype"):
        try:
            a = np.asarray(a)
        except Exception as exc:  # ragged input and the like
            raise TypeError(f"{name} must be a real array, got {type(a).__name__}") from exc
    if a.dtype == bool or a.dtype.kind not in "fiu":
        raise TypeError(f"{name} must be a real array, got dtype {a.dtype}")
    return xp.asarray(a, dtype=xp.float64)


def check_data(X: Any, y: Any = None, loss: str | None = None) -> tuple[Any, Any]:
    """Validate the data and return ``(X, y)`` as float64 arrays (``y`` is None when not given).

    Rules: X is 2-D with n ≥ 1 rows and d ≥ 2 columns, finite, and its last column is all ones (the
    bias; call :func:`~solvers.convex_relu.patterns.with_bias` to append it). y is 1-D of length n and
    finite; the hinge loss needs y ∈ {−1, +1}. ``loss`` (when given) must be ``"squared"`` or ``"hinge"``.
    """
    if loss is not None:
        loss = check_loss(loss)
    X = _as_real_array("X", X)
    xp = array_namespace(X)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n samples × d features, last column the bias), got shape {X.shape}")
    n, d = X.shape
    if n < 1:
        raise ValueError(f"X must have at least one row, got shape {X.shape}")
    if d < 2:
        raise ValueError(f"X must have d >= 2 columns (features plus the bias column), got shape {X.shape}; "
                         "call with_bias(X) to append the bias column")
    if not bool(xp.all(xp.isfinite(X))):
        raise ValueError("X must be finite, got non-finite entries")
    if not bool(xp.all(X[:, -1] == 1.0)):
        raise ValueError("X must have its last column all ones (the bias); call with_bias(X) to append it")
    if y is None:
        if loss is not None:
            raise ValueError(f"y is required with loss={loss!r}")
        return X, None
    y = _as_real_array("y", y)
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(f"y must be 1-D of length n = {n} (one label per row of X), got shape {y.shape}")
    if not bool(xp.all(xp.isfinite(y))):
        raise ValueError("y must be finite, got non-finite entries")
    if loss == "hinge" and not bool(xp.all((y == 1.0) | (y == -1.0))):
        raise ValueError("y must take values in {-1, +1} for the hinge loss")
    return X, y


def check_beta(beta: Any) -> float:
    """The weight-decay parameter β as a finite float > 0."""
    return check_positive("beta", beta)


def check_rho(rho: Any) -> float:
    """The ADMM penalty ρ as a finite float > 0."""
    return check_positive("rho", rho)


def check_eps(eps: Any) -> float:
    """The ℓ∞ attack radius ε as a finite float ≥ 0."""
    return check_positive("eps", eps, allow_zero=True)


def check_gamma(gamma: Any) -> float:
    """The ADMM dual step γ as a float in (0, 1]."""
    gamma = check_positive("gamma", gamma)
    if gamma > 1.0:
        raise ValueError(f"gamma must lie in (0, 1], got {gamma!r}")
    return gamma


def check_patterns(patterns: Any, n: int, d: int | None = None) -> Any:
    """``patterns`` as a :class:`~solvers.convex_relu.patterns.Patterns` with n rows and P ≥ 1 columns."""
    from solvers.convex_relu.patterns import Patterns

    if not isinstance(patterns, Patterns):
        raise TypeError(f"patterns must be a Patterns object (see sample_patterns), got {type(patterns).__name__}")
    if patterns.P < 1:
        raise ValueError("patterns must hold at least one pattern, got zero patterns")
    if patterns.n != n:
        raise ValueError(f"patterns must have n = {n} rows (one per row of X), got {patterns.n}")
    if d is not None and patterns.generators.shape[0] != d:
        raise ValueError(f"patterns must have generators of dimension d = {d}, got {patterns.generators.shape[0]}")
    return patterns


def check_weights(name: str, V: Any, P: int, d: int) -> Any:
    """A finite (P, d) float weight array (numpy or CuPy, as given), or a ValueError naming ``name``."""
    V = _as_real_array(name, V)
    xp = array_namespace(V)
    if V.shape != (P, d):
        raise ValueError(f"{name} must have shape (P, d) = ({P}, {d}), got {V.shape}")
    if not bool(xp.all(xp.isfinite(V))):
        raise ValueError(f"{name} must be finite, got non-finite entries")
    return V
