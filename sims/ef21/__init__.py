"""EF21: logistic-regression and least-squares clients, the training experiments and every claim's check.

Importing the package registers the experiments (``boundlab run ef21 ...``) and the checks.
"""

from sims.ef21 import checks, experiments, practical, problems

__all__ = ["checks", "experiments", "practical", "problems"]
