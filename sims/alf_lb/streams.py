r"""Streams of router scores: per-expert popularity plus token noise, optionally drifting.

A batch of n tokens over E experts has scores s_ji = a_i + ε_ji, with a per-expert popularity
a ~ N(0, spread²) (drawn once) and i.i.d. token noise ε (standard Gaussian, or standard Gumbel, which
makes K = 1 routing a softmax draw: the Gumbel testbed of ``theory.alf_lb``, claim 8). Under drift the
popularity follows a Gaussian random walk, a_{t+1} = a_t + τ·ξ_t, one step per batch.

Domain-clustered streams (spec ``alf_lb.md`` §5) model the data of Qiu et al. (2025): every sequence
of ``seq_len`` tokens comes from one of D domains, and domain d adds +boost to the scores of its E/D
preferred experts, s_ji = a_i + boost·1[i ∈ pref(d_j)] + ε_ji. A micro-batch holds ``seqs_per_micro``
whole sequences and a global batch ``micros`` micro-batches, so a micro-batch sees few domains while a
global batch sees many: the setting where micro- and global-batch counting of the loads differ.

References
----------
Z. Qiu et al., "Demons in the Detail: On Implementing Load Balancing Loss for Training Specialized
Mixture-of-Expert Models", arXiv 2501.11873.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from solvers._checks import check_int

__all__ = [
    "DomainBatches",
    "Noise",
    "domain_clustered",
    "drifting_scores",
    "popularity",
    "popularity_path",
    "popularity_scores",
    "preferred_experts",
]

Noise = Literal["gaussian", "gumbel"]


def _check_sizes(**sizes: int) -> None:
    for name, value in sizes.items():
        check_int(name, value, 1)


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


def popularity_path(a0: np.ndarray, steps: int, rng: np.random.Generator, *, tau: float = 0.0) -> np.ndarray:
    """The popularity of ``steps`` consecutive batches, a_1 = a0 + τ·ξ_1, a_{t+1} = a_t + τ·ξ_{t+1}.

    Unlike :func:`drifting_scores`, the first batch already takes a step, so consecutive calls continue
    one walk (pass the last row as the next ``a0``). τ = 0 draws nothing and repeats a0.
    """
    _check_sizes(steps=steps)
    if not tau >= 0:
        raise ValueError(f"tau must be >= 0, got {tau!r}")
    a0 = np.asarray(a0, dtype=float)
    if a0.ndim != 1 or not np.all(np.isfinite(a0)):
        raise ValueError(f"a0 must be a finite vector (one popularity per expert), got shape {a0.shape}")
    if tau == 0:
        return np.broadcast_to(a0, (steps, a0.size)).copy()
    return a0 + np.cumsum(tau * rng.standard_normal((steps, a0.size)), axis=0)


def preferred_experts(D: int, E: int) -> np.ndarray:
    """(D, E) boolean: domain d prefers the E/D consecutive experts d·E/D, ..., (d+1)·E/D − 1."""
    _check_sizes(D=D, E=E)
    if E % D:
        raise ValueError(f"D must divide E (each domain prefers E/D experts), got D = {D}, E = {E}")
    return np.arange(E)[None, :] // (E // D) == np.arange(D)[:, None]


@dataclass(frozen=True)
class DomainBatches:
    """Batches of a domain-clustered stream.

    Attributes
    ----------
    scores
        (batches, m, E) scores s_ji = a_i + boost·1[i ∈ pref(d_j)] + ε_ji, m = micros·seqs_per_micro·seq_len,
        tokens ordered by micro-batch, then sequence, then position.
    domain
        (batches, m) int64 domain d_j of each token (constant along a sequence).
    micro
        (m,) int64 micro-batch index of each token, 0..micros−1 (the same in every batch).
    preferred
        (D, E) boolean preferred experts of each domain (:func:`preferred_experts`).
    popularity
        (E,) the shared popularity a.
    """

    scores: np.ndarray
    domain: np.ndarray
    micro: np.ndarray
    preferred: np.ndarray
    popularity: np.ndarray


def domain_clustered(batches: int, rng: np.random.Generator, *, D: int = 8, E: int = 16, K: int = 2,
                     seq_len: int = 256, seqs_per_micro: int = 2, micros: int = 8, boost: float = 2.0,
                     a: np.ndarray | None = None, noise: Noise = "gaussian") -> DomainBatches:
    r"""Scores of ``batches`` global batches of single-domain sequences (spec §5).

    Every sequence draws its domain uniformly from 0..D−1, independently; its tokens get

        s_ji = a_i + boost·1[i ∈ pref(d_j)] + ε_ji,    pref(d) = the E/D experts of :func:`preferred_experts`,

    with ε iid standard Gaussian (or Gumbel). A global batch has ``micros`` micro-batches of
    ``seqs_per_micro`` sequences of ``seq_len`` tokens.

    Parameters
    ----------
    batches
        Number of global batches.
    rng
        Source of the domains and the noise.
    D, E, K
        Domains (dividing E), experts, experts per token (1 ≤ K ≤ E; only validated here, the
        routing uses it).
    seq_len, seqs_per_micro, micros
        Tokens per sequence, sequences per micro-batch, micro-batches per global batch.
    boost
        Score bonus of a domain's preferred experts, ≥ 0.
    a
        (E,) popularity shared by all domains (None: zeros).
    noise
        ``"gaussian"`` or ``"gumbel"``.

    Returns
    -------
    DomainBatches

    References
    ----------
    Z. Qiu et al., arXiv 2501.11873 (domain specialisation under global-batch balancing).
    """
    _check_sizes(batches=batches, D=D, E=E, K=K, seq_len=seq_len, seqs_per_micro=seqs_per_micro, micros=micros)
    if K > E:
        raise ValueError(f"K must satisfy 1 <= K <= E = {E}, got K = {K}")
    pref = preferred_experts(D, E)
    if isinstance(boost, bool) or not isinstance(boost, int | float | np.integer | np.floating) \
            or not np.isfinite(boost) or boost < 0:
        raise ValueError(f"boost must be a finite number >= 0, got {boost!r}")
    a = np.zeros(E) if a is None else np.asarray(a, dtype=float)
    if a.shape != (E,) or not np.all(np.isfinite(a)):
        raise ValueError(f"a must be a finite vector of shape ({E},), got shape {a.shape}")
    seqs = micros * seqs_per_micro
    seq_domain = rng.integers(0, D, size=(batches, seqs))
    domain = np.repeat(seq_domain, seq_len, axis=1).astype(np.int64)
    m = seqs * seq_len
    offsets = a + boost * pref
    scores = offsets[domain] + _noise(rng, (batches, m, E), noise)
    micro = np.arange(m, dtype=np.int64) // (seqs_per_micro * seq_len)
    return DomainBatches(scores, domain, micro, pref, a)
