r"""Convex two-layer ReLU training: patterns, the convex program C(𝒟), ADMM and gated FISTA (topic ``convex_relu``).

- :mod:`~solvers.convex_relu.patterns`: :class:`Patterns`, :func:`with_bias`, :func:`pattern_of`,
  :func:`sample_patterns`, :func:`enumerate_patterns_2d` (exact 2-D arrangement), :func:`beta_max`;
- :mod:`~solvers.convex_relu.network`: :class:`ReLUNetwork`, :func:`recover` (CR3), :func:`lift` (CR2),
  :func:`convex_predict`, :func:`convex_objective`, :func:`cone_violation`;
- :mod:`~solvers.convex_relu.losses`: squared and hinge losses (sums);
- :mod:`~solvers.convex_relu.operators`: F, Fᵀ, G, Gᵀ and the exact u-step solvers (Woodbury, dense; CR9);
- :mod:`~solvers.convex_relu.admm`: :func:`admm`, ADMM for C(𝒟) with squared loss (CR7, CR8), the paper's
  slack splitting or the cone splitting;
- :mod:`~solvers.convex_relu.cones`: :class:`ConeProjector`, :func:`project_groups`, exact projections onto
  the pattern cones (the cone splitting's v-step);
- :mod:`~solvers.convex_relu.gated`: :func:`gated_fista`, the gated-ReLU group lasso (CR5).

Conventions: X is (n, d) float64 whose last column is all ones (the bias, counted in d); weights V, W
are (P, d), row i = v_i, w_i; losses are sums.

References
----------
Y. Bai, T. Gautam, S. Sojoudi, "Efficient Global Optimization of Two-layer ReLU Networks: Quadratic-time
Algorithms and Adversarial Training", SIAM J. Math. Data Sci. 2023, arXiv:2201.01965.
M. Pilanci, T. Ergen, "Neural Networks are Convex Regularizers", ICML 2020, arXiv:2002.10553.
"""

from solvers.convex_relu.admm import ADMMHistory, ADMMResult, admm, default_rho
from solvers.convex_relu.cones import ConeProjector, project_groups
from solvers.convex_relu.gated import (
    GatedHistory,
    GatedNetwork,
    GatedResult,
    gated_fista,
    gated_objective,
    gated_predict,
)
from solvers.convex_relu.losses import LOSSES, loss_grad, loss_value
from solvers.convex_relu.network import (
    ReLUNetwork,
    cone_violation,
    convex_objective,
    convex_predict,
    group_norms,
    lift,
    recover,
    restore_feasible,
)
from solvers.convex_relu.operators import (
    FT,
    GT,
    DenseFactor,
    F,
    G,
    WoodburyFactor,
    block_norm_max,
    dense_factor,
    lambda_max_H,
    woodbury_factor,
)
from solvers.convex_relu.patterns import (
    Patterns,
    beta_max,
    enumerate_patterns_2d,
    pattern_of,
    sample_patterns,
    with_bias,
)

__all__ = [
    "FT",
    "GT",
    "LOSSES",
    "ADMMHistory",
    "ADMMResult",
    "ConeProjector",
    "DenseFactor",
    "F",
    "G",
    "GatedHistory",
    "GatedNetwork",
    "GatedResult",
    "Patterns",
    "ReLUNetwork",
    "WoodburyFactor",
    "admm",
    "beta_max",
    "block_norm_max",
    "cone_violation",
    "convex_objective",
    "convex_predict",
    "default_rho",
    "dense_factor",
    "enumerate_patterns_2d",
    "gated_fista",
    "gated_objective",
    "gated_predict",
    "group_norms",
    "lambda_max_H",
    "lift",
    "loss_grad",
    "loss_value",
    "pattern_of",
    "project_groups",
    "recover",
    "restore_feasible",
    "sample_patterns",
    "with_bias",
    "woodbury_factor",
]
