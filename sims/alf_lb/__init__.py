"""ALF-LB: score streams, the Gumbel testbed, fixed-batch dynamics, the tiny MoE, and every claim's check.

Importing the package registers the experiments (``boundlab run alf_lb ...``) and the checks.
"""

from sims.alf_lb import balance, checks_balance, checks_dual, checks_regret, dual, gumbel, moe, practical
from sims.alf_lb.metrics import maxvio, maxvio_batch

__all__ = ["balance", "checks_balance", "checks_dual", "checks_regret", "dual", "gumbel", "maxvio",
           "maxvio_batch", "moe", "practical"]
