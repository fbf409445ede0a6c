"""Argument validation of the load-balancing solvers; every error names the argument."""

from __future__ import annotations

import numpy as np

from solvers._checks import check_positive
from solvers._xp import array_namespace

__all__ = ["check_K", "check_bias", "check_capacity", "check_positive", "check_score_batch", "check_scores"]


def check_scores(scores, name: str = "scores"):
    """Return ``scores`` as a finite 2-D float array (numpy or CuPy, as given)."""
    xp = array_namespace(scores)
    scores = xp.asarray(scores)
    if scores.ndim != 2:
        raise ValueError(f"{name} must be 2-D (tokens x experts), got shape {scores.shape}")
    if scores.shape[0] < 1 or scores.shape[1] < 1:
        raise ValueError(f"{name} must have at least one token and one expert, got shape {scores.shape}")
    if scores.dtype.kind not in "fiub":
        raise TypeError(f"{name} must be real, got dtype {scores.dtype}")
    if scores.dtype not in (np.float32, np.float64):  # integers, bools and float16 are widened
        scores = scores.astype(np.float32 if scores.dtype == np.float16 else np.float64)
    if not bool(xp.all(xp.isfinite(scores))):
        raise ValueError(f"{name} must be finite, got non-finite entries")
    return scores


def check_score_batch(scores, name: str = "scores", ndim: int = 3):
    """Return ``scores`` as a finite float array of ``ndim`` dimensions (numpy or CuPy, as given, C-contiguous).

    ``ndim`` = 3: (seeds, tokens, experts); 4: (seeds, batches, tokens, experts). Integers, bools and
    float16 are widened as by :func:`check_scores`.
    """
    xp = array_namespace(scores)
    scores = xp.asarray(scores)
    axes = {3: "seeds x tokens x experts", 4: "seeds x batches x tokens x experts"}[ndim]
    if scores.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D ({axes}), got shape {scores.shape}")
    if min(scores.shape) < 1:
        raise ValueError(f"{name} must have every axis of length >= 1, got shape {scores.shape}")
    if scores.dtype.kind not in "fiub":
        raise TypeError(f"{name} must be real, got dtype {scores.dtype}")
    if scores.dtype not in (np.float32, np.float64):
        scores = scores.astype(np.float32 if scores.dtype == np.float16 else np.float64)
    if not bool(xp.all(xp.isfinite(scores))):
        raise ValueError(f"{name} must be finite, got non-finite entries")
    return xp.ascontiguousarray(scores)


def check_K(K: int, E: int) -> int:
    """Return ``K`` as an int in 1..E."""
    if isinstance(K, bool) or not isinstance(K, int | np.integer):
        raise TypeError(f"K must be an integer, got {type(K).__name__}")
    if not 1 <= K <= E:
        raise ValueError(f"K must satisfy 1 <= K <= E = {E}, got K = {K}")
    return int(K)


def check_bias(bias, E: int, xp=np):
    """Return ``bias`` as a finite float vector of length E (zeros when None)."""
    if bias is None:
        return xp.zeros(E)
    bias = xp.asarray(bias, dtype=float)
    if bias.shape != (E,):
        raise ValueError(f"bias must have shape ({E},) (one entry per expert), got {bias.shape}")
    if not bool(xp.all(xp.isfinite(bias))):
        raise ValueError("bias must be finite, got non-finite entries")
    return bias


def check_capacity(capacity, n: int, K: int, E: int) -> int:
    """Return the per-expert capacity; None means Kn/E, which must then be an integer.

    The assignment is feasible only when E·capacity ≥ K·n (every token places K copies) and
    capacity ≤ n (a token uses an expert at most once).
    """
    if capacity is None:
        if (K * n) % E:
            raise ValueError(f"capacity: K·n/E = {K}·{n}/{E} is not an integer; pass capacity explicitly")
        return K * n // E
    if isinstance(capacity, bool) or not isinstance(capacity, int | np.integer):
        raise TypeError(f"capacity must be an integer, got {type(capacity).__name__}")
    if E * capacity < K * n:
        raise ValueError(f"capacity = {capacity} cannot hold the T·K = {K * n} assignments over E = {E} "
                         f"experts (needs capacity >= {-(-K * n // E)})")
    if capacity > n:
        raise ValueError(f"capacity must be <= n = {n} (a token uses an expert at most once), got {capacity}")
    return int(capacity)
