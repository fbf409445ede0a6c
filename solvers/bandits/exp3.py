r"""Exp3: exponential weights on importance-weighted loss estimates (the baseline bandit learner).

    p_{t,i} ∝ exp(−η_t (L̂_{t,i} − min_j L̂_{t,j})),   L̂_{t+1,i_t} = L̂_{t,i_t} + ℓ_t/p_{t,i_t},   ℓ_t ∈ [0, K].

Subtracting the minimum leaves p unchanged and keeps exp from underflowing everywhere at once (the best
arm always has weight 1).

Learning rate (losses ℓ/K ∈ [0, 1], hence the 1/K): η = √(2 ln d/(dT))/K with a known horizon T, whose
pseudo-regret is ≤ K√(2Td ln d); the anytime η_t = √(ln d/(td))/K gives ≤ 2K√(Td ln d).

References
----------
S. Bubeck, N. Cesa-Bianchi, "Regret Analysis of Stochastic and Nonstochastic Multi-armed Bandit Problems",
Foundations and Trends in Machine Learning 5(1), 2012, Theorem 3.1 (and its anytime remark).
P. Auer, N. Cesa-Bianchi, Y. Freund, R. Schapire, "The nonstochastic multiarmed bandit problem", SIAM J.
Comput. 32(1), 2002.
"""

from __future__ import annotations

import math

import numpy as np

from solvers._checks import check_int, check_positive
from solvers.bandits._common import Learner

__all__ = ["Exp3"]


class Exp3(Learner):
    r"""Exp3 over ``n_arms`` arms with losses in [0, K].

    Parameters
    ----------
    n_arms
        Number of arms d >= 1.
    K
        Losses lie in [0, K], K > 0.
    horizon
        Known T >= 1: η = √(2 ln d/(dT))/K (Bubeck & Cesa-Bianchi 2012, Thm 3.1: pseudo-regret
        ≤ K√(2Td ln d)). None: the anytime η_t = √(ln d/(td))/K (≤ 2K√(Td ln d)).
    eta
        A fixed learning rate η > 0 instead (overrides the schedule).
    rng
        Generator or integer seed of the arm draws.
    """

    def __init__(self, n_arms: int, K: float, *, horizon: int | None = None, eta: float | None = None,
                 rng: np.random.Generator | int | None = None) -> None:
        self.horizon = None if horizon is None else check_int("horizon", horizon, 1)
        self._fixed_eta = None if eta is None else check_positive("eta", eta)
        super().__init__(n_arms, K, rng)

    @property
    def eta(self) -> float:
        """The learning rate of the current round (0 for a single arm, where nothing is learned)."""
        if self._fixed_eta is not None:
            return self._fixed_eta
        d = self.n_arms
        if self.horizon is not None:
            return math.sqrt(2.0 * math.log(d) / (d * self.horizon)) / self.K
        return math.sqrt(math.log(d) / (d * self.t)) / self.K

    def _reset_state(self) -> None:
        self.cum_loss_est = np.zeros(self.n_arms)

    def _distribution(self, context: float | None) -> np.ndarray:
        w = np.exp(-self.eta * (self.cum_loss_est - self.cum_loss_est.min()))
        return w / w.sum()

    def _learn(self, arm: int, loss: float, p: np.ndarray) -> None:
        self.cum_loss_est[arm] += loss / float(p[arm])  # Python floats: overflow gives inf, checked below
        if not math.isfinite(self.cum_loss_est[arm]):
            raise FloatingPointError(f"Exp3 diverged: the loss estimate of arm {arm} overflowed at round {self.t} "
                                     f"(p = {p[arm]:.3g})")
