r"""Balance metrics of a routing: MaxVio (Wang et al. 2024, eq. 4).

Over a set of m tokens routed to K of E experts, with per-expert loads Load_i and the balanced load
L̄ = K·m/E,

    MaxVio = (max_i Load_i − L̄) / L̄.

- MaxVio_batch: computed per training batch, then averaged over batches;
- MaxVio_global: the loads of a large held-out set under the current router and bias.

Specialisation is measured by the entropy of a domain's expert usage, −Σ_i u_i ln u_i (nats; ln E when
the domain spreads evenly over all experts, lower when it prefers a few).
"""

from __future__ import annotations

import numpy as np

from solvers._xp import array_namespace

__all__ = ["maxvio", "maxvio_batch", "usage_entropy"]


def maxvio(loads: np.ndarray, K: int) -> np.ndarray:
    """MaxVio of loads (..., E) of K-per-token routings: (max_i Load_i − L̄)/L̄, L̄ = Σ_i Load_i / E.

    Σ_i Load_i = K·m, so L̄ = K·m/E; works on one load vector or a stack (one value per row).
    """
    loads = np.asarray(loads, dtype=float)
    if loads.ndim < 1 or loads.shape[-1] < 1:
        raise ValueError(f"loads must have a trailing expert axis, got shape {loads.shape}")
    if K < 1:
        raise ValueError(f"K must be >= 1, got {K}")
    mean = loads.sum(axis=-1) / loads.shape[-1]
    return (loads.max(axis=-1) - mean) / mean


def maxvio_batch(loads: np.ndarray, K: int) -> float:
    """MaxVio_batch: the mean over batches (rows of ``loads``, shape (B, E)) of each batch's MaxVio."""
    loads = np.asarray(loads)
    if loads.ndim != 2:
        raise ValueError(f"loads must be (batches, experts), got shape {loads.shape}")
    return float(np.mean(maxvio(loads, K)))


def usage_entropy(counts):
    """Entropy −Σ_i u_i ln u_i of the usage shares u = counts/Σcounts along the last axis (numpy or CuPy).

    A row with no tokens has no usage distribution: its entropy is nan.
    """
    xp = array_namespace(counts)
    counts = xp.asarray(counts, dtype=float)
    total = counts.sum(axis=-1, keepdims=True)
    share = counts / xp.where(total > 0, total, 1.0)
    terms = xp.where(share > 0, share * xp.log(xp.where(share > 0, share, 1.0)), 0.0)
    return xp.where(total[..., 0] > 0, -terms.sum(axis=-1), xp.nan)
