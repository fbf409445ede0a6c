"""Error feedback under contractive compression: GD, EF14, EF21, EF21-W and EControl.

Compressors (:mod:`solvers.ef21.compressors`), the problem protocol (:mod:`solvers.ef21.problem`),
the methods as ``init`` / ``direction`` / ``update`` over a state (:mod:`solvers.ef21.methods`, fused
numba kernels on numpy, the same array code on CuPy), and the round loop with its history and bit
counters (:mod:`solvers.ef21.run`; :func:`run_batch` for S seeds at once). Spec: ``ef21.md``.
"""

from solvers.ef21.compressors import (
    Compressor,
    Identity,
    RandK,
    TopK,
    contraction_ratio,
    randk_error_closed_form,
    randk_expected_error,
)
from solvers.ef21.methods import (
    EControlState,
    EF14State,
    EF21State,
    GDState,
    Method,
    copy_state,
    econtrol,
    ef14,
    ef21,
    ef21w,
    gd,
)
from solvers.ef21.problem import Problem
from solvers.ef21.run import StepSizeWarning, Trajectory, bits_per_round, initial_bits, run, run_batch

__all__ = [
    "Compressor",
    "EControlState",
    "EF14State",
    "EF21State",
    "GDState",
    "Identity",
    "Method",
    "Problem",
    "RandK",
    "StepSizeWarning",
    "TopK",
    "Trajectory",
    "bits_per_round",
    "contraction_ratio",
    "copy_state",
    "econtrol",
    "ef14",
    "ef21",
    "ef21w",
    "gd",
    "initial_bits",
    "randk_error_closed_form",
    "randk_expected_error",
    "run",
    "run_batch",
]
