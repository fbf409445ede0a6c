"""Bandit tuning of the SOR relaxation parameter: instance streams, cost tables, experiments, every claim's check.

Importing the package registers the experiments (``boundlab run sor_bandit ...``) and the checks; the benchmark
of :mod:`sims.sor_bandit.bench_bandit` is registered by :mod:`sims.benchmarks`.
"""

from sims.sor_bandit import checks, checks_learning, checks_spectral, experiments, streams, tables
from sims.sor_bandit.streams import HeatStream, LaplacianStream, heat_stream, laplacian_stream
from sims.sor_bandit.tables import CostTable, TauCalibration, calibrate_tau, heat_table, laplacian_table

__all__ = [
    "CostTable",
    "HeatStream",
    "LaplacianStream",
    "TauCalibration",
    "calibrate_tau",
    "checks",
    "checks_learning",
    "checks_spectral",
    "experiments",
    "heat_stream",
    "heat_table",
    "laplacian_stream",
    "laplacian_table",
    "streams",
    "tables",
]
