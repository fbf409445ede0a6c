"""Shared machinery of the bandit learners: argument checks, the random stream and the select/update protocol."""

from __future__ import annotations

import copy
import math

import numba
import numpy as np

from solvers._checks import check_int, check_positive, check_real

__all__ = ["Learner", "as_generator", "check_context", "check_loss", "sample_index"]

# Relative slack for losses computed in floating point just outside [0, K].
LOSS_SLACK = 1e-9


def as_generator(rng: np.random.Generator | int | None, name: str = "rng") -> np.random.Generator:
    """``rng`` itself when it is a Generator, else a new one seeded by the integer (fresh entropy for None)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, bool) or not isinstance(rng, int | np.integer):
        raise TypeError(f"{name} must be a numpy Generator, an integer seed or None, got {type(rng).__name__}")
    if rng < 0:
        raise ValueError(f"{name} must be a non-negative integer seed, got {rng}")
    return np.random.default_rng(int(rng))


def check_loss(loss: float, K: float) -> float:
    """Return ``loss`` as a float clipped to [0, K]; raise unless finite and within [0, K] up to a tiny slack."""
    if isinstance(loss, bool) or not isinstance(loss, int | float | np.integer | np.floating):
        raise TypeError(f"loss must be a real number, got {type(loss).__name__}")
    loss = float(loss)
    slack = LOSS_SLACK * max(K, 1.0)
    if not math.isfinite(loss) or loss < -slack or loss > K + slack:
        raise ValueError(f"loss must be finite and within [0, K] = [0, {K}], got {loss!r}")
    return min(max(loss, 0.0), K)


def check_context(context: float | None, *, required: bool) -> float | None:
    """Return the context as a float (None stays None unless ``required``)."""
    if context is None:
        if required:
            raise ValueError("context is required by a contextual learner, got None")
        return None
    return check_real("context", context)


@numba.njit(cache=True)
def sample_index(p, u):
    """The index i with P_{i−1} ≤ u·P_d < P_i (P the partial sums of ``p``): a draw from p/Σp.

    Scaling u by the total makes the draw land on an entry with p_i > 0, even when p sums to 1 − 1e-16.
    """
    total = 0.0
    for i in range(p.shape[0]):
        total += p[i]
    target = u * total
    acc = 0.0
    last = 0
    for i in range(p.shape[0]):
        if p[i] > 0.0:
            last = i
            acc += p[i]
            if target < acc:
                return i
    return last


class Learner:
    """Base of the learners: the select → update protocol, the arm and loss checks and the random stream.

    A subclass implements ``_reset_state()``, ``_distribution(context)`` (the sampling distribution
    now) and ``_learn(arm, loss, p)`` (the update after playing ``arm`` drawn from ``p``).

    ``reset(rng=None)`` returns the learner to its state right after construction, *including* its
    random stream, so a reset learner replays the same arms on the same table; ``reset(rng)`` starts
    afresh with a new stream instead.
    """

    contextual: bool = False

    def __init__(self, n_arms: int, K: float, rng: np.random.Generator | int | None) -> None:
        self.n_arms = check_int("n_arms", n_arms, 1)
        self.K = check_positive("K", K)
        self._set_rng(rng)
        self.reset()

    def _set_rng(self, rng: np.random.Generator | int | None) -> None:
        self.rng = as_generator(rng)
        self._rng_state = copy.deepcopy(self.rng.bit_generator.state)

    def reset(self, rng: np.random.Generator | int | None = None) -> None:
        """Forget everything learned; restore the construction-time random stream, or use ``rng``."""
        if rng is not None:
            self._set_rng(rng)
        else:
            self.rng.bit_generator.state = copy.deepcopy(self._rng_state)
        self.t = 1  # the round about to be played
        self.last_arm: int | None = None
        self.last_probabilities: np.ndarray | None = None
        self.last_context: float | None = None
        self._pending = False  # a select awaits its update
        self._reset_state()

    def select(self, context: float | None = None) -> int:
        """Draw the arm to play this round; remember it and its distribution for :meth:`update`."""
        context = check_context(context, required=self.contextual)
        p = self._distribution(context)
        arm = int(sample_index(p, self.rng.random()))
        self.last_arm, self.last_probabilities, self.last_context, self._pending = arm, p, context, True
        return arm

    def update(self, arm: int, loss: float, context: float | None = None) -> None:
        """Learn from the loss of ``arm`` (drawn by the last :meth:`select`); ``context`` is not needed again."""
        if not self._pending:
            raise RuntimeError("update must follow a select (one update per select): no pending draw to weight")
        if isinstance(arm, bool) or not isinstance(arm, int | np.integer):
            raise TypeError(f"arm must be an integer, got {type(arm).__name__}")
        if not 0 <= arm < self.n_arms:
            raise ValueError(f"arm must be in 0..{self.n_arms - 1}, got {arm}")
        loss = check_loss(loss, self.K)
        p = self.last_probabilities
        if p[arm] <= 0.0:
            raise ValueError(f"arm {arm} had probability 0 at the last select; its loss cannot be importance-weighted")
        self._learn(int(arm), loss, p)
        self._pending = False
        self.t += 1

    def probabilities(self, context: float | None = None) -> np.ndarray:
        """The distribution the next :meth:`select` (with this context) draws from (a copy)."""
        return self._distribution(check_context(context, required=self.contextual)).copy()

    # --- to implement -------------------------------------------------------------------------
    def _reset_state(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _distribution(self, context: float | None) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _learn(self, arm: int, loss: float, p: np.ndarray) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n_arms={self.n_arms}, K={self.K})"
