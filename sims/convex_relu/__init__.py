"""Convex two-layer ReLU training by ADMM: datasets, experiments, the check of every claim, and benchmarks.

Importing the package registers the experiments (``boundlab run convex_relu ...``, the practical GPU
experiment included) and the checks; the benchmarks of :mod:`sims.convex_relu.bench` register on import as
well (and through :mod:`sims.benchmarks`).
"""

from sims.convex_relu import bench, checks, data, experiments, practical

__all__ = ["bench", "checks", "data", "experiments", "practical"]
