"""Optimistic OMD in the SEA model: environments, experiments and the check of every claim."""

from sims.omd import checks, experiments
from sims.omd.environments import SEAStream, make_stream
from sims.omd.experiments import METHODS, build_method, checkpoints, regret_experiment
from sims.omd.metrics import ball_lstsq, hindsight, trajectory_metrics

__all__ = [
    "METHODS",
    "SEAStream",
    "ball_lstsq",
    "build_method",
    "checkpoints",
    "checks",
    "experiments",
    "hindsight",
    "make_stream",
    "regret_experiment",
    "trajectory_metrics",
]
