"""SOR, SSOR and SSOR-preconditioned CG for the bandit tuning of the relaxation parameter (``sor_bandit``).

- :mod:`~solvers.sor.operators`: the 2-D Laplacian (CSR), the matrix-free 5-point :class:`Stencil5`,
  and :func:`prepare` (validate a matrix once);
- :mod:`~solvers.sor.sweeps`: true SOR sweeps, forward and backward, with a fused residual (numba);
- :mod:`~solvers.sor.solve`: :func:`sor` (Algorithm 1), :func:`ssor` (Algorithm 8), :func:`ssor_pcg`,
  :func:`cg`, and the cost tables :func:`sor_counts` / :func:`pcg_counts` (one numba call per table);
- :mod:`~solvers.sor.young`: Young's formula, ω*, the Jacobi radius β and dense iteration matrices;
- :mod:`~solvers.sor.redblack`: :func:`sor_counts_redblack`, red-black SOR cost tables for many
  (instance, ω) jobs at once on numpy or CuPy arrays (the GPU path; natural-order sweeps stay on the CPU).

References
----------
M. Khodak, E. Chow, M.-F. Balcan, A. Talwalkar, "Learning to Relax: Setting Solver Parameters Across a
Sequence of Linear System Instances", ICLR 2024, arXiv:2310.02246.
"""

from solvers.sor.operators import CsrData, Stencil5, laplacian_2d, prepare
from solvers.sor.redblack import sor_counts_redblack
from solvers.sor.solve import CountTable, SolveResult, cg, pcg_counts, sor, sor_counts, ssor, ssor_pcg
from solvers.sor.sweeps import (
    residual_csr,
    residual_stencil,
    sor_sweep,
    sor_sweep_csr,
    sor_sweep_csr_backward,
    sor_sweep_csr_fused,
    sor_sweep_stencil,
    sor_sweep_stencil_backward,
    sor_sweep_stencil_fused,
)
from solvers.sor.young import (
    jacobi_radius,
    optimal_omega,
    sor_iteration_matrix,
    sor_residual_matrix,
    ssor_iteration_matrix,
    young_radius,
)

__all__ = [
    "CountTable",
    "CsrData",
    "SolveResult",
    "Stencil5",
    "cg",
    "jacobi_radius",
    "laplacian_2d",
    "optimal_omega",
    "pcg_counts",
    "prepare",
    "residual_csr",
    "residual_stencil",
    "sor",
    "sor_counts",
    "sor_counts_redblack",
    "sor_iteration_matrix",
    "sor_residual_matrix",
    "sor_sweep",
    "sor_sweep_csr",
    "sor_sweep_csr_backward",
    "sor_sweep_csr_fused",
    "sor_sweep_stencil",
    "sor_sweep_stencil_backward",
    "sor_sweep_stencil_fused",
    "ssor",
    "ssor_iteration_matrix",
    "ssor_pcg",
    "young_radius",
]
