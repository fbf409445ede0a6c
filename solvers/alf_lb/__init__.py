"""Auxiliary-loss-free load balancing of sparse MoE (ALF-LB) and its baselines.

- :mod:`~solvers.alf_lb.routing`: biased top-K routing of a batch with loads (numba kernel; numpy/CuPy);
- :mod:`~solvers.alf_lb.bias`: the sign and gradient bias updates with their schedules;
- :mod:`~solvers.alf_lb.online`: causal online balancing over a stream of batches (fused kernel; S seeds at
  once with :func:`run_online_batch`, on numpy or CuPy);
- :mod:`~solvers.alf_lb.lp`: the exact assignment LP (HiGHS dual simplex), its dual D(p) and ∂D;
- :mod:`~solvers.alf_lb.aux_loss`: the auxiliary balancing loss with micro- or global-batch counts.

References
----------
L. Wang et al., arXiv 2408.15664; X.Y. Han, Y. Zhong, arXiv 2512.03915; Z. Qiu et al., arXiv 2501.11873.
"""

from solvers.alf_lb.aux_loss import AuxLoss, aux_balance_loss, softmax
from solvers.alf_lb.bias import (
    BiasRule,
    BiasState,
    Schedule,
    bias_step,
    constant,
    gradient_rule,
    init,
    inverse_sqrt,
    inverse_t,
    sign_rule,
    update,
    update_numpy,
    update_xp,
)
from solvers.alf_lb.lp import AssignmentLP, dual_subgradient, dual_value, solve_assignment_lp
from solvers.alf_lb.online import OnlineRun, run_online, run_online_batch, run_online_numpy
from solvers.alf_lb.routing import Routing, route, route_batch, topk_insert

__all__ = [
    "AssignmentLP",
    "AuxLoss",
    "BiasRule",
    "BiasState",
    "OnlineRun",
    "Routing",
    "Schedule",
    "aux_balance_loss",
    "bias_step",
    "constant",
    "dual_subgradient",
    "dual_value",
    "gradient_rule",
    "init",
    "inverse_sqrt",
    "inverse_t",
    "route",
    "route_batch",
    "run_online",
    "run_online_batch",
    "run_online_numpy",
    "sign_rule",
    "softmax",
    "solve_assignment_lp",
    "topk_insert",
    "update",
    "update_numpy",
    "update_xp",
]
