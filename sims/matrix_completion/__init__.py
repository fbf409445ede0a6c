"""Matrix completion by robust alternating minimization: instances, experiments and the check of every claim.

Importing the package registers the experiments (``boundlab run matrix_completion ...``) and the checks; the
benchmarks of :mod:`sims.matrix_completion.bench` are registered by :mod:`sims.benchmarks`.
"""

from sims.matrix_completion import checks, experiments, instances, practical

__all__ = ["checks", "experiments", "instances", "practical"]
