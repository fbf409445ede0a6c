r"""Streams of router scores: per-expert popularity plus token noise, optionally drifting.

A batch of n tokens over E experts has scores s_ji = a_i + ε_ji, with a per-expert popularity
a ~ N(0, spread²) (drawn once) and i.i.d. token noise ε (standard Gaussian, or standard Gumbel, which
makes K = 1 routing a softmax draw: the Gumbel testbed of ``theory.alf_lb``, claim 8). Under drift the
popularity follows a Gaussian random walk, a_{t+1} = a_t + τ·ξ_t, one step per batch.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

__all__ = ["Noise", "drifting_scores", "popularity", "popularity_scores"]

Noise = Literal["gaussian", "gumbel"]


def _check_sizes(**sizes: int) -> None:
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


def popularity(E: int, rng: np.random.Generator, spread: float = 1.0) -> np.ndarray:
    """Per-expert popularity a ~ N(0, spread²), shape (E,)."""
    _check_sizes(E=E)
    if not spread >= 0:
        raise ValueError(f"spread must be >= 0, got {spread!r}")
    return spread * rng.standard_normal(E)


def _noise(rng: np.random.Generator, shape: tuple[int, ...], noise: Noise) -> np.ndarray:
    if noise == "gaussian":
        return rng.standard_normal(shape)
    if noise == "gumbel":
        return rng.gumbel(size=shape)
    raise ValueError(f"noise must be 'gaussian' or 'gumbel', got {noise!r}")


def popularity_scores(n: int, a: np.ndarray, rng: np.random.Generator, *, batches: int | None = None,
                      noise: Noise = "gaussian") -> np.ndarray:
    """Scores a + ε of one batch (n, E), or of ``batches`` batches (batches, n, E)."""
    a = np.asarray(a, dtype=float)
    _check_sizes(n=n, **({} if batches is None else {"batches": batches}))
    shape = (n, a.size) if batches is None else (batches, n, a.size)
    return a + _noise(rng, shape, noise)


def drifting_scores(n: int, a0: np.ndarray, batches: int, rng: np.random.Generator, *, tau: float = 1e-3,
                    noise: Noise = "gaussian") -> tuple[np.ndarray, np.ndarray]:
    """Scores (batches, n, E) whose popularity follows a_{t+1} = a_t + τ·ξ_t; returns (scores, a_t)."""
    _check_sizes(n=n, batches=batches)
    if not tau >= 0:
        raise ValueError(f"tau must be >= 0, got {tau!r}")
    a0 = np.asarray(a0, dtype=float)
    steps = tau * rng.standard_normal((batches, a0.size))
    steps[0] = 0.0
    a = a0 + np.cumsum(steps, axis=0)
    return a[:, None, :] + _noise(rng, (batches, n, a0.size), noise), a
