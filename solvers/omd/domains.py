"""Feasible sets of online convex optimisation: the centred Euclidean ball and the simplex."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from solvers._checks import check_positive, check_vector

__all__ = ["Ball", "Simplex"]


@dataclass(frozen=True)
class Ball:
    r"""The Euclidean ball :math:`B(R) = \{x \in \mathbb{R}^d : \|x\|_2 \le R\}`.

    Its diameter is :math:`D = 2R`; the mirror map is :math:`\psi(x) = \tfrac12\|x\|^2`, so the
    Bregman divergence is :math:`\tfrac12\|x - y\|^2` and the mirror step is the Euclidean projection
    :math:`\Pi(y) = y \min(1, R/\|y\|)`.
    """

    dim: int
    radius: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.dim, int | np.integer) or self.dim < 1:
            raise ValueError(f"dim must be a positive integer, got {self.dim!r}")
        check_positive("radius", self.radius)

    @property
    def diameter(self) -> float:
        """D = 2R."""
        return 2.0 * float(self.radius)

    @property
    def center(self) -> np.ndarray:
        """The origin, where every method starts."""
        return np.zeros(self.dim)

    def project(self, y: np.ndarray) -> np.ndarray:
        """Euclidean projection onto the ball, row-wise for a 2-D array."""
        y = np.asarray(y, dtype=float)
        norm = np.linalg.norm(y, axis=-1, keepdims=True)
        scale = np.minimum(1.0, self.radius / np.maximum(norm, self.radius))  # no R/0 overflow
        return y * scale

    def contains(self, x: np.ndarray, tol: float = 1e-9) -> bool:
        """Whether ``x`` lies in the ball (up to a relative tolerance)."""
        return bool(np.linalg.norm(x) <= self.radius * (1.0 + tol))

    def check_point(self, name: str, x: np.ndarray) -> np.ndarray:
        """Validate that ``x`` is a finite point of the ball; return it as a float array."""
        x = check_vector(name, x, self.dim)
        if not self.contains(x):
            raise ValueError(f"{name} must lie in the ball of radius {self.radius}, has norm "
                             f"{np.linalg.norm(x):.6g}")
        return x


@dataclass(frozen=True)
class Simplex:
    r"""The probability simplex :math:`\Delta_d` with the negative-entropy mirror map.

    :math:`\psi(x) = \sum_i x_i \ln x_i` is 1-strongly convex in :math:`\ell_1`, so gradients are
    measured in :math:`\ell_\infty` and the squared diameter :math:`D^2` of the Euclidean analysis is
    replaced by :math:`\ln d` (the range of :math:`\psi`).
    """

    dim: int

    def __post_init__(self) -> None:
        if not isinstance(self.dim, int | np.integer) or self.dim < 2:
            raise ValueError(f"dim must be an integer >= 2 for a simplex, got {self.dim!r}")

    @property
    def log_dim(self) -> float:
        """ln d, the entropic 'squared diameter'."""
        return math.log(self.dim)

    @property
    def center(self) -> np.ndarray:
        """The uniform distribution."""
        return np.full(self.dim, 1.0 / self.dim)

    def contains(self, x: np.ndarray, tol: float = 1e-9) -> bool:
        """Whether ``x`` is a probability vector (up to ``tol``)."""
        x = np.asarray(x, dtype=float)
        return bool(np.all(x >= -tol) and abs(x.sum() - 1.0) <= tol * self.dim)

    def check_point(self, name: str, x: np.ndarray) -> np.ndarray:
        """Validate that ``x`` is a finite point of the simplex with positive entries."""
        x = check_vector(name, x, self.dim)
        if not self.contains(x) or np.any(x <= 0):
            raise ValueError(f"{name} must be a probability vector with positive entries")
        return x
