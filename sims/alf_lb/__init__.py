"""ALF-LB: streams of router scores, the Gumbel testbed, experiments and the check of every claim."""

from sims.alf_lb.metrics import maxvio, maxvio_batch

__all__ = ["maxvio", "maxvio_batch"]
