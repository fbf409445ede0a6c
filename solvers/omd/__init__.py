"""Online convex optimisation in the SEA model: OGD, (optimistic) OMD, OFTRL, OFTL, Hedge, ONS.

Methods are ``init``/``update`` pairs (:mod:`solvers.omd.first_order`); :func:`run` plays one against a
:class:`LossSequence`, on a fused numba kernel, on the numpy reference loop or on the array path (numpy or
CuPy); :func:`run_batch` plays it against S sequences at once (:mod:`solvers.omd.batched`).
"""

from solvers.omd.batched import BatchTrajectory, LossBatch, run_batch
from solvers.omd.domains import Ball, Simplex
from solvers.omd.ensemble import SwordState, sword_pp
from solvers.omd.first_order import (
    EuclidState,
    FTRLState,
    HedgeState,
    OnlineMethod,
    entropic_omd,
    oftl,
    oftrl,
    ogd,
    optimistic_hedge,
    optimistic_omd,
)
from solvers.omd.losses import LossSequence
from solvers.omd.newton import NewtonState, online_newton
from solvers.omd.run import Trajectory, run
from solvers.omd.steps import (
    StepRule,
    constant,
    convex_adaptive,
    ogd_inv_t,
    ogd_sqrt,
    step_size,
    strongly_convex,
)

__all__ = [
    "Ball",
    "BatchTrajectory",
    "EuclidState",
    "FTRLState",
    "HedgeState",
    "LossBatch",
    "LossSequence",
    "NewtonState",
    "OnlineMethod",
    "Simplex",
    "StepRule",
    "SwordState",
    "Trajectory",
    "constant",
    "convex_adaptive",
    "entropic_omd",
    "oftl",
    "oftrl",
    "ogd",
    "ogd_inv_t",
    "ogd_sqrt",
    "online_newton",
    "optimistic_hedge",
    "optimistic_omd",
    "run",
    "run_batch",
    "step_size",
    "strongly_convex",
    "sword_pp",
]
