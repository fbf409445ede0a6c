r"""Replay a learner against a full-information cost table, and regret against fixed arms or a policy.

The simulation precomputes cost[t, i] = ℓ_t(g_i) for every round t and grid arm i (losses in [0, K]).
A learner sees only the entry of the arm it played; the comparators see the whole table. Regret of the
first t rounds (prefix regret), for t = 1..T:

    vs the best fixed arm:  R_t = Σ_{s≤t} cost[s, i_s] − min_i Σ_{s≤t} cost[s, i],
    vs a policy π:          R_t = Σ_{s≤t} (cost[s, i_s] − cost[s, π_s]),

and the expected (pseudo-)regret given the sampling distributions p_s: Σ_{s≤t} ⟨p_s, cost[s]⟩ − min_i ….
Regret against a policy or a comparator outside the grid can be negative.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from solvers._xp import array_namespace, to_numpy
from solvers.bandits._common import LOSS_SLACK

__all__ = ["BanditRun", "check_costs", "expected_regret_vs_best_fixed", "play", "regret_vs_best_fixed",
           "regret_vs_policy"]


@dataclass(frozen=True)
class BanditRun:
    """One replay of T rounds.

    Attributes
    ----------
    arms
        (T,) int64: the arm played in each round.
    losses
        (T,) float64: its loss, cost[t, arms[t]].
    probabilities
        (T, d) float64: the distribution each arm was drawn from, or None (``record_probabilities=False``).
    learner
        ``repr`` of the learner.
    """

    arms: np.ndarray
    losses: np.ndarray
    probabilities: np.ndarray | None = None
    learner: str = ""

    @property
    def T(self) -> int:
        """Number of rounds."""
        return int(self.arms.shape[0])

    @property
    def cumulative_loss(self) -> np.ndarray:
        """(T,) Σ_{s≤t} losses[s]."""
        return np.cumsum(self.losses)

    @property
    def total_loss(self) -> float:
        """Σ_t losses[t]."""
        return float(self.losses.sum())


def check_costs(costs, K: float | None = None, n_arms: int | None = None, name: str = "costs"):
    """Return ``costs`` as a finite float64 (T, d) table (numpy or CuPy as given), within [0, K] when K is given."""
    xp = array_namespace(costs)
    costs = xp.asarray(costs)
    if costs.ndim != 2 or costs.shape[0] < 1 or costs.shape[1] < 1:
        raise ValueError(f"{name} must be a non-empty 2-D table (rounds x arms), got shape {costs.shape}")
    if costs.dtype.kind not in "fiu":
        raise TypeError(f"{name} must be real, got dtype {costs.dtype}")
    costs = costs.astype(xp.float64, copy=False)
    if not bool(xp.all(xp.isfinite(costs))):
        raise ValueError(f"{name} must be finite, got non-finite entries")
    if n_arms is not None and costs.shape[1] != n_arms:
        raise ValueError(f"{name} must have one column per arm ({n_arms}), got shape {costs.shape}")
    if K is not None:
        slack = LOSS_SLACK * max(K, 1.0)
        lo, hi = float(xp.min(costs)), float(xp.max(costs))
        if lo < -slack or hi > K + slack:
            raise ValueError(f"{name} must lie within [0, K] = [0, {K}], got entries in [{lo}, {hi}]")
    return costs


def _check_arms(arms, T: int, d: int, xp, name: str):
    arms = xp.asarray(arms)
    if arms.shape != (T,):
        raise ValueError(f"{name} must have shape ({T},) (one arm per round), got {arms.shape}")
    if arms.dtype.kind not in "iu":
        raise TypeError(f"{name} must be integer arm indices, got dtype {arms.dtype}")
    if T and (int(xp.min(arms)) < 0 or int(xp.max(arms)) >= d):
        raise ValueError(f"{name} must be arm indices in 0..{d - 1}")
    return arms.astype(xp.int64)


def play(learner, costs, contexts=None, rng: np.random.Generator | int | None = None, *,
         record_probabilities: bool = False) -> BanditRun:
    r"""Play ``learner`` for T rounds against a full-information table, revealing only the played entry.

    Round t: i_t = learner.select(c_t); ℓ_t = costs[t, i_t]; learner.update(i_t, ℓ_t, c_t).

    Parameters
    ----------
    learner
        A learner (:class:`~solvers.bandits.TsallisINF`, :class:`~solvers.bandits.Exp3`,
        :class:`~solvers.bandits.BinnedContextual`, :class:`~solvers.bandits.ChebCB`, or any object with
        ``select``, ``update``, ``n_arms``, ``K``, ``last_probabilities`` and ``reset``). It continues from its
        current state unless ``rng`` is given.
    costs
        (T, d) losses within [0, K], d = learner.n_arms; numpy or CuPy (copied to the host once).
    contexts
        (T,) finite contexts; required by contextual learners, ignored (but checked) otherwise.
    rng
        When given, ``learner.reset(rng)`` first: a fresh learner with that seed, so the run is a function
        of (learner's settings, costs, contexts, rng).
    record_probabilities
        Keep the (T, d) sampling distributions (for expected regret).

    Returns
    -------
    BanditRun
    """
    n_arms, K = int(learner.n_arms), float(learner.K)
    costs = to_numpy(check_costs(costs, K, n_arms))
    T = costs.shape[0]
    contextual = bool(getattr(learner, "contextual", False))
    if contexts is None:
        if contextual:
            raise ValueError(f"contexts are required by the contextual learner {learner!r}")
        ctx = [None] * T
    else:
        c = to_numpy(contexts)
        if c.shape != (T,):
            raise ValueError(f"contexts must have shape ({T},) (one per round of costs), got {c.shape}")
        if c.dtype.kind not in "fiu":
            raise TypeError(f"contexts must be real, got dtype {c.dtype}")
        c = c.astype(np.float64)
        if not np.all(np.isfinite(c)):
            raise ValueError("contexts must be finite, got non-finite entries")
        ctx = c.tolist() if contextual else [None] * T
    if rng is not None:
        learner.reset(rng)
    arms = np.empty(T, dtype=np.int64)
    probs = np.empty((T, n_arms)) if record_probabilities else None
    select, update = learner.select, learner.update
    for t in range(T):
        c = ctx[t]
        arm = select(c)
        arms[t] = arm
        if probs is not None:
            probs[t] = learner.last_probabilities
        update(arm, costs[t, arm], c)
    losses = costs[np.arange(T), arms]
    return BanditRun(arms, losses, probs, repr(learner))


def regret_vs_best_fixed(costs, arms):
    """Prefix regret against the best fixed arm of each prefix, shape (T,) (numpy or CuPy as ``costs``)."""
    costs = check_costs(costs)
    xp = array_namespace(costs)
    T, d = costs.shape
    arms = _check_arms(arms, T, d, xp, "arms")
    played = xp.cumsum(xp.take_along_axis(costs, arms[:, None], axis=1)[:, 0])
    return played - xp.min(xp.cumsum(costs, axis=0), axis=1)


def expected_regret_vs_best_fixed(costs, probabilities):
    """Prefix pseudo-regret Σ_{s≤t}⟨p_s, cost_s⟩ − min_i Σ_{s≤t} cost[s, i], shape (T,).

    Its expectation equals that of :func:`regret_vs_best_fixed` (for a table fixed in advance) with
    less variance: the conditional expectation given the distributions played.
    """
    costs = check_costs(costs)
    xp = array_namespace(costs)
    p = xp.asarray(probabilities, dtype=xp.float64)
    if p.shape != costs.shape:
        raise ValueError(f"probabilities must have the shape of costs {costs.shape}, got {p.shape}")
    if not bool(xp.all(xp.isfinite(p))) or bool(xp.any(p < 0)):
        raise ValueError("probabilities must be finite and >= 0")
    return xp.cumsum(xp.sum(p * costs, axis=1)) - xp.min(xp.cumsum(costs, axis=0), axis=1)


def regret_vs_policy(costs, arms, policy_arms):
    """Prefix regret Σ_{s≤t}(cost[s, arms_s] − cost[s, policy_arms_s]), shape (T,)."""
    costs = check_costs(costs)
    xp = array_namespace(costs)
    T, d = costs.shape
    arms = _check_arms(arms, T, d, xp, "arms")
    policy_arms = _check_arms(policy_arms, T, d, xp, "policy_arms")
    diff = (xp.take_along_axis(costs, arms[:, None], axis=1)
            - xp.take_along_axis(costs, policy_arms[:, None], axis=1))[:, 0]
    return xp.cumsum(diff)
