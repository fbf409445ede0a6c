"""Bandit learners over a grid of arms (e.g. SOR relaxation parameters ω), with and without a scalar context.

- :mod:`~solvers.bandits.tsallis`: Tsallis-INF and its distribution by monotone Newton (Algorithms 2, 4);
- :mod:`~solvers.bandits.exp3`: Exp3, the exponential-weights baseline;
- :mod:`~solvers.bandits.contextual`: binned Tsallis-INF (Tsallis-INF-CB, Algorithm 5) and ChebCB
  (SquareCB with Chebyshev regression, Algorithms 3 and 7);
- :mod:`~solvers.bandits.replay`: replay against a full-information cost table; regret helpers;
- :mod:`~solvers.bandits.batched`: :func:`play_batch`, S seeds of Tsallis-INF or Exp3 replayed at once
  (numpy or CuPy).

Every learner has ``select(context=None) -> arm``, ``update(arm, loss, context=None)``,
``probabilities(context=None)``, ``n_arms``, ``K``, ``last_probabilities`` and ``reset(rng=None)``;
losses lie in [0, K]. Arms are grid indices: the caller maps them to ω.

References
----------
Khodak, Chow, Balcan, Talwalkar, "Learning to Relax", ICLR 2024, arXiv:2310.02246; Zimmert & Seldin,
arXiv:1807.07623; Foster & Rakhlin, arXiv:2002.04926; Bubeck & Cesa-Bianchi (2012).
"""

from solvers.bandits._common import Learner
from solvers.bandits.batched import BanditBatch, play_batch
from solvers.bandits.contextual import BinnedContextual, ChebCB, box_least_squares, chebyshev_features
from solvers.bandits.exp3 import Exp3
from solvers.bandits.replay import (
    BanditRun,
    check_costs,
    expected_regret_vs_best_fixed,
    play,
    regret_vs_best_fixed,
    regret_vs_policy,
)
from solvers.bandits.tsallis import FAITHFUL_NEWTON_STEPS, TsallisINF, TsallisSolution, tsallis_probabilities

__all__ = [
    "FAITHFUL_NEWTON_STEPS",
    "BanditBatch",
    "BanditRun",
    "BinnedContextual",
    "ChebCB",
    "Exp3",
    "Learner",
    "TsallisINF",
    "TsallisSolution",
    "box_least_squares",
    "chebyshev_features",
    "check_costs",
    "expected_regret_vs_best_fixed",
    "play",
    "play_batch",
    "regret_vs_best_fixed",
    "regret_vs_policy",
    "tsallis_probabilities",
]
