r"""Replay S independent copies of a learner at once, one per seed, on numpy or CuPy arrays.

:func:`play_batch` is S calls of :func:`~solvers.bandits.replay.play` (``play(learner, costs_s, rng=rng_s)``,
a fresh learner per seed) run side by side: the learners' states are rows of (S, d) arrays and one
Python iteration per round updates all of them. It supports the non-contextual learners whose round is
array arithmetic, :class:`~solvers.bandits.tsallis.TsallisINF` (the analysed algorithm, not
``faithful``) and :class:`~solvers.bandits.exp3.Exp3`; the contextual learners keep per-bin state and a
box-constrained regression per round and stay on the CPU, one :func:`play` per seed.

Each round, for all S rows at once:

1. the distribution p_t: Tsallis-INF's monotone Newton iteration (:mod:`solvers.bandits.tsallis`) run
   with a mask of the rows still iterating, or Exp3's exponential weights;
2. the arm: i_t = min{i : p_i > 0, u_t·Σ_j p_j < Σ_{j≤i} p_j} (:func:`~solvers.bandits._common.sample_index`)
   with u_t the t-th uniform of the seed's generator; the T uniforms of each seed are drawn up front,
   ``rng_s.random(T)``, which is the stream of T calls ``rng_s.random()`` that :func:`play` makes;
3. the update k_{i_t} += ℓ_t/p_{t,i_t}, ℓ_t the table entry clipped to [0, K].

Sums over arms are taken in index order (:func:`~solvers._xp.seqsum`, the numba kernels' order), so on
numpy every row equals the single replay bit for bit (arms, losses, probabilities). On CuPy nothing goes
to the host inside the loop except one flag per 4 Newton steps (whether some row still iterates; read
after every step on numpy, where it is free; a finished row's y no longer moves, so when the flag is read
changes the work, not the result); an
overflowing loss estimate (the single replay's FloatingPointError) is recorded per row on the device and
raised at the end, naming the seed and the round.

References
----------
J. Zimmert, Y. Seldin, arXiv:1807.07623 (Tsallis-INF); S. Bubeck, N. Cesa-Bianchi (2012), §3 (Exp3);
M. Khodak et al., "Learning to Relax", ICLR 2024, arXiv:2310.02246, Algorithms 2 and 4.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from solvers._xp import array_namespace, seqsum, to_numpy
from solvers.bandits._common import as_generator
from solvers.bandits.exp3 import Exp3
from solvers.bandits.replay import BanditRun, check_costs
from solvers.bandits.tsallis import TsallisINF

__all__ = ["BanditBatch", "play_batch"]

_CHECK_EVERY = 4  # Newton steps between two host reads of "some row still iterates"


@dataclass(frozen=True)
class BanditBatch:
    """S replays of T rounds, seed axis first (arrays in the namespace of the costs).

    Attributes
    ----------
    arms
        (S, T) int64: the arm each seed played in each round.
    losses
        (S, T) float64: its table entry.
    probabilities
        (S, T, d) the distributions the arms were drawn from, or None.
    learner
        ``repr`` of the learner.
    """

    arms: Any
    losses: Any
    probabilities: Any = None
    learner: str = ""

    @property
    def S(self) -> int:
        """Number of seeds."""
        return int(self.arms.shape[0])

    def run(self, s: int) -> BanditRun:
        """Seed s as the :class:`~solvers.bandits.replay.BanditRun` of a single replay (host arrays)."""
        probs = None if self.probabilities is None else to_numpy(self.probabilities[s])
        return BanditRun(to_numpy(self.arms[s]), to_numpy(self.losses[s]), probs, self.learner)


def _tsallis_p(xp: Any, k: Any, K: float, eta: float, tol: float, max_newton: int) -> Any:
    """Tsallis-INF distributions of the rows of k (S, d): ``_newton_kernel`` with a row mask, from y = 2/η."""
    shift = (k - k.min(axis=1, keepdims=True)) / K
    c = 4.0 / (eta * eta)
    y = xp.full(k.shape[0], 2.0 / eta)
    active = xp.ones(k.shape[0], dtype=bool)
    every = 1 if xp is np else _CHECK_EVERY  # a host read is free on numpy
    for it in range(max_newton):
        if it and it % every == 0 and not bool(xp.any(active)):
            break
        u = shift + y[:, None]
        p = c / (u * u)
        total = seqsum(p)
        slope = seqsum(p / u)
        active &= ~(xp.abs(total - 1.0) < tol)
        y = xp.where(active, y + (total - 1.0) / (2.0 * slope), y)
    u = shift + y[:, None]  # a finished row's y is fixed, so this is the p its last test saw
    p = c / (u * u)
    return p / seqsum(p)[:, None]


def _exp3_p(xp: Any, k: Any, eta: float) -> Any:
    w = xp.exp(-eta * (k - k.min(axis=1, keepdims=True)))
    return w / w.sum(axis=1, keepdims=True)


def _sample(xp: Any, p: Any, u: Any) -> Any:
    """Vectorised :func:`~solvers.bandits._common.sample_index`: one draw per row of p."""
    target = u * seqsum(p)
    positive = p > 0.0
    hit = positive & (target[:, None] < xp.cumsum(p, axis=1))
    last = p.shape[1] - 1 - xp.argmax(positive[:, ::-1].astype(xp.int8), axis=1)
    return xp.where(xp.any(hit, axis=1), xp.argmax(hit.astype(xp.int8), axis=1), last).astype(xp.int64)


def play_batch(learner: TsallisINF | Exp3, costs: Any, rngs: Sequence[np.random.Generator | int], *,
               record_probabilities: bool = False) -> BanditBatch:
    r"""Replay S fresh copies of ``learner``, copy s with generator ``rngs[s]``, all rounds vectorised over S.

    Parameters
    ----------
    learner
        A :class:`~solvers.bandits.tsallis.TsallisINF` (not ``faithful``) or an
        :class:`~solvers.bandits.exp3.Exp3`; only its settings are read (it is not modified).
    costs
        (T, d) one table for every seed, or (S, T, d) a table per seed; losses within [0, K], numpy or
        CuPy (the replay runs in that namespace).
    rngs
        S numpy Generators or integer seeds (one per copy, as the ``rng`` of :func:`play`).
    record_probabilities
        Keep the (S, T, d) sampling distributions.

    Returns
    -------
    BanditBatch
        Row s equals ``play(learner, costs_s, rng=rngs[s], record_probabilities=...)`` (bit for bit on
        numpy; to rounding of the reductions on CuPy, which could flip a draw only at a tie u·Σp = Σ_{j≤i}p).

    Raises
    ------
    FloatingPointError
        A loss estimate overflowed (as in the single replay), naming the seed and the round.
    """
    if isinstance(learner, TsallisINF):
        if learner.faithful:
            raise TypeError("learner: the faithful TsallisINF (the authors' code) has no batched replay; "
                            "use play per seed")
    elif not isinstance(learner, Exp3):
        raise TypeError(f"learner must be a TsallisINF or an Exp3 for a batched replay, got {type(learner).__name__} "
                        "(contextual learners: play per seed)")
    if isinstance(rngs, np.random.Generator | int) or not isinstance(rngs, Sequence) or len(rngs) < 1:
        raise TypeError("rngs must be a non-empty sequence of numpy Generators or integer seeds (one per copy)")
    d, K = int(learner.n_arms), float(learner.K)
    xp = array_namespace(costs)
    table = xp.asarray(costs)
    S = len(rngs)
    if table.ndim == 2:
        table = xp.broadcast_to(check_costs(table, K, d)[None], (S, *table.shape))
    elif table.ndim == 3:
        if table.shape[0] != S:
            raise ValueError(f"costs must have one table per generator ({S}), got {table.shape[0]}")
        table = check_costs(table.reshape(-1, table.shape[-1]), K, d).reshape(table.shape)
    else:
        raise ValueError(f"costs must be a (T, d) table or (S, T, d) tables, got shape {table.shape}")
    T = table.shape[1]
    gens = [as_generator(r, f"rngs[{s}]") for s, r in enumerate(rngs)]
    U = xp.asarray(np.stack([g.random(T) for g in gens]))
    rows = xp.arange(S)
    k = xp.zeros((S, d))
    arms = xp.empty((S, T), dtype=xp.int64)
    losses = xp.empty((S, T))
    probs = xp.empty((S, T, d)) if record_probabilities else None
    first_bad = xp.full(S, -1, dtype=xp.int64)
    tsallis = isinstance(learner, TsallisINF)
    with np.errstate(over="ignore"):  # an overflowing estimate is reported below
        for t in range(1, T + 1):
            if tsallis:
                p = _tsallis_p(xp, k, K, _tsallis_eta(learner, t), learner.tol, learner.max_newton)
            else:
                p = _exp3_p(xp, k, _exp3_eta(learner, t))
            arm = _sample(xp, p, U[:, t - 1])
            raw = table[rows, t - 1, arm]
            arms[:, t - 1], losses[:, t - 1] = arm, raw
            if probs is not None:
                probs[:, t - 1] = p
            k[rows, arm] += xp.clip(raw, 0.0, K) / p[rows, arm]
            first_bad = xp.where((first_bad < 0) & ~xp.isfinite(k[rows, arm]), t, first_bad)
    bad = to_numpy(first_bad)
    if (bad >= 0).any():
        s = int(np.argmax(bad >= 0))
        raise FloatingPointError(f"{type(learner).__name__} diverged: a loss estimate overflowed at round "
                                 f"{int(bad[s])} of seed {s}")
    return BanditBatch(arms, losses, probs, repr(learner))


def _tsallis_eta(learner: TsallisINF, t: int) -> float:
    """Tsallis-INF's η_t (its ``eta`` property at round t)."""
    if learner._fixed_eta is not None:
        return learner._fixed_eta
    return 1.0 / math.sqrt(learner.horizon) if learner.horizon is not None else 2.0 / math.sqrt(t)


def _exp3_eta(learner: Exp3, t: int) -> float:
    """Exp3's η_t (its ``eta`` property at round t)."""
    if learner._fixed_eta is not None:
        return learner._fixed_eta
    d = learner.n_arms
    if learner.horizon is not None:
        return math.sqrt(2.0 * math.log(d) / (d * learner.horizon)) / learner.K
    return math.sqrt(math.log(d) / (d * t)) / learner.K
