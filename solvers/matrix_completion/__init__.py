r"""Matrix completion by robust alternating minimization (topic ``matrix_completion``, spec §3).

- :mod:`~solvers.matrix_completion.observations`: :func:`observations` builds the validated
  :class:`Observations` (CSR order, CSC permutation, no dense mask);
- :mod:`~solvers.matrix_completion.row_solvers`: the batched row regressions :func:`exact`, :func:`cg`,
  :func:`sketch_precond`, :func:`inject`, each counting its multiply-adds exactly (MC7);
- :mod:`~solvers.matrix_completion.altmin`: :func:`altmin`, robust AltMin with spectral initialisation,
  trimming, optional sample splitting and QR-rotated warm starts, with its per-round history;
- :mod:`~solvers.matrix_completion.baselines`: :func:`zero_filled_svd`, :func:`soft_impute`,
  :func:`nuclear_norm` (cvxpy);
- :mod:`~solvers.matrix_completion.metrics`: dist, relF from factors, res_Ω, μ;
- :mod:`~solvers.matrix_completion.cost`: the closed-form operation counts.

References
----------
Y. Gu, Z. Song, J. Yin, L. Zhang, "Low Rank Matrix Completion via Robust Alternating Minimization in
Nearly Linear Time", ICLR 2024, arXiv:2302.11068.
P. Jain, P. Netrapalli, S. Sanghavi, "Low-rank Matrix Completion using Alternating Minimization",
STOC 2013, arXiv:1212.0467.
"""

from solvers.matrix_completion import cost
from solvers.matrix_completion.altmin import AltMinResult, History, altmin, predict, top_k_svd
from solvers.matrix_completion.baselines import (
    LowRank,
    NuclearNormResult,
    SoftImputeResult,
    nuclear_norm,
    soft_impute,
    zero_filled_svd,
)
from solvers.matrix_completion.metrics import Truth, coherence, rel_error, sampled_residual, subspace_dist
from solvers.matrix_completion.observations import Observations, observations
from solvers.matrix_completion.row_solvers import (
    CG,
    Exact,
    Inject,
    RowSolve,
    SketchPrecond,
    Solver,
    cg,
    exact,
    inject,
    row_residuals,
    row_sigma_min,
    sketch_precond,
)

__all__ = [
    "CG",
    "AltMinResult",
    "Exact",
    "History",
    "Inject",
    "LowRank",
    "NuclearNormResult",
    "Observations",
    "RowSolve",
    "SketchPrecond",
    "SoftImputeResult",
    "Solver",
    "Truth",
    "altmin",
    "cg",
    "coherence",
    "cost",
    "exact",
    "inject",
    "nuclear_norm",
    "observations",
    "predict",
    "rel_error",
    "row_residuals",
    "row_sigma_min",
    "sampled_residual",
    "sketch_precond",
    "soft_impute",
    "subspace_dist",
    "top_k_svd",
    "zero_filled_svd",
]
